/**
 * Every event the playground's elements send, with its detail's type, and the
 * one way to send them: emit(). They all bubble out of shadow roots (composed),
 * so a page can listen on <llm-playground> or any ancestor. The README lists the
 * public ones.
 */
import type {
  BackendInfo,
  CorpusSource,
  ModelInfo,
  ModelShape,
  PlayOutcome,
  PretrainedModels,
  SavedModels,
  StreamedToken,
  TokenizerChoice,
  TrainingProgress,
  TuningOutcome,
  TuningProgress,
  TuningState,
} from '../workers/api/index.ts';
import type { CellDetail } from './elements/heatmap.ts';
import type { SamplingSettings } from './elements/sampling-controls.ts';
import type { PanelFocus, PanelTarget } from './view-state.ts';

export interface LlmEvents {
  /** The model is in place and answers. */
  'llm-ready': ModelInfo;
  /** A token Step or Generate appended to the prompt. */
  'llm-token': StreamedToken;
  /** The worker failed. */
  'llm-error': { message: string };
  /** The backend was switched (by the user or the `backend` attribute). */
  'llm-backend-change': BackendInfo;
  /** Another model is in use (new, reset, opened, imported). */
  'llm-model-change': ModelInfo;
  /** The saved models changed. */
  'llm-models-change': SavedModels;
  /** What this browser keeps of the pretrained models (GPT-2) changed: a download, a cancel, a delete. */
  'llm-pretrained-change': PretrainedModels;
  /** A few times a second while the training panel trains. */
  'llm-training-progress': TrainingProgress;
  /** A training run stopped. */
  'llm-training-end': PlayOutcome;
  /** A few times a second while the model in use is tuned (fine-tuning or tuning on choices). */
  'llm-tuning-progress': TuningProgress;
  /** A tuning run stopped (paused, finished or diverged). */
  'llm-tuning-end': TuningOutcome;
  /** What tuning holds changed: it began, a run or step, a choice or verdict added or removed, a reset. */
  'llm-tuning-change': TuningState;
  /** The worker died and a new one reopened the last saved model (model: null when none could be). */
  'llm-restart': { message: string; model: ModelInfo | null };
  /** The sampling controls changed. */
  'llm-sampling-change': SamplingSettings;
  /** The training panel's corpus changed. */
  'llm-corpus-change': CorpusSource;
  /** Cancel while the corpus is read. */
  'llm-corpus-cancel': Record<string, never>;
  /** Characters, or word pieces of a vocabulary size. */
  'llm-tokenizer-change': TokenizerChoice;
  /** A preset's id, or a custom shape. */
  'llm-size-change': string | ModelShape;
  /** A heatmap cell got focus (arrow keys). */
  'llm-cell-focus': CellDetail;
  /** A heatmap cell was picked (click, Enter). */
  'llm-cell-select': CellDetail;
  /** A heatmap thumbnail was picked. */
  'llm-heatmap-select': Record<string, never>;
  /** A heatmap row's label was picked. */
  'llm-row-select': { row: number };
  /** Open a section's panel (and its tab), focused as asked: from the pipeline strip and the tour. */
  'llm-open-panel': PanelTarget & { focus?: PanelFocus };
  /** A panel's tab (or an embeddings section) was picked by the user: the playground's link follows. */
  'llm-tab-change': { tab: string };
  /** The user picked what a tab looks at (a layer, a head, a stage, a query or key token): a link can follow. */
  'llm-focus-change': PanelFocus;
  /** The tour shows step `index` (from 0). */
  'llm-tour-step': { index: number };
  /** The tour was left (or finished) at step `index`. */
  'llm-tour-leave': { index: number };
}

export type LlmEvent<K extends keyof LlmEvents> = CustomEvent<LlmEvents[K]>;

/** Sends one of the playground's events from `element`: it bubbles and crosses shadow roots. */
export function emit<K extends keyof LlmEvents>(element: EventTarget, type: K, detail: LlmEvents[K]): void {
  element.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
}

type LlmEventMap = { [K in keyof LlmEvents]: LlmEvent<K> };

declare global {
  // addEventListener('llm-…') on any element knows the detail's type.
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  interface HTMLElementEventMap extends LlmEventMap {}
}
