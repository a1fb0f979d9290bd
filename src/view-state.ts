/**
 * Where in the playground to look: the open section, its tab, and what the tab focuses on. A tour step, a link
 * (the URL, where the host allows it) and a click on the pipeline strip all say where to go in these terms.
 */
import type { SECTIONS } from './playground-sections.ts';

/** The property that opens a collapsible section: 'inspect', 'train', 'tune', 'library', 'labs', 'chat'. */
export type SectionFlag = (typeof SECTIONS)[number]['flag'];

export interface PanelTarget {
  section: SectionFlag;
  /**
   * The tab inside it: the inspector's (e.g. 'attention', 'matrices'), the lab (e.g. 'softmax', 'training-step'), or
   * the tuning panel's ('dialogues', 'choices').
   */
  tab?: string;
  /** A tab's own sub-tab, e.g. the embeddings' 'neighbours'. */
  sub?: string;
}

/** What the open tab looks at. Positions index the prompt's tokens as the inspector reads them. */
export interface PanelFocus {
  layer?: number;
  head?: number;
  /** The attention inspector's stage. */
  stage?: 'scores' | 'masked' | 'pattern';
  /** A query position and a key position (one cell of a head's scores). */
  query?: number;
  key?: number;
}
