/**
 * Page actions that tests check and `npm run bench` times (bench/main-thread.ts):
 * a playground of its own, its training panel ready to play, every inspector
 * panel in turn, and a workout of the attention inspector.
 */
import '../../src/llm-playground.ts';
import type { AttentionInspector } from '../../src/elements/attention-inspector.ts';
import type { Heatmap } from '../../src/elements/heatmap.ts';
import type { InspectorTab } from '../../src/elements/inspector-panel.ts';
import type { TrainingPanel } from '../../src/elements/training-panel.ts';
import type { LlmPlayground } from '../../src/llm-playground.ts';
import { waitFor } from './wait-for.ts';

const part = <E extends Element = HTMLElement>(root: Element, name: string) =>
  root.shadowRoot!.querySelector<E>(`[part~="${name}"]`);
const parts = <E extends Element = HTMLElement>(root: Element, name: string) => [
  ...root.shadowRoot!.querySelectorAll<E>(`[part~="${name}"]`),
];

/** A playground with a database of its own and these attributes, added to the page, once its model is ready. */
export async function addPlayground(attributes: Record<string, string>): Promise<LlmPlayground> {
  const playground = document.createElement('llm-playground');
  playground.setAttribute('database', `test-${crypto.randomUUID()}`);
  for (const [name, value] of Object.entries(attributes)) playground.setAttribute(name, value);
  document.body.append(playground);
  await waitFor(() => playground.status === 'ready', 'the playground', 60_000);
  return playground;
}

/** The training panel of a playground with `train`, its corpus read, drawing a sample every 2 steps; and its Play/Pause button. */
export async function trainingPanel(playground: LlmPlayground): Promise<{ panel: TrainingPanel; playButton: HTMLButtonElement }> {
  const panel = await waitFor(() => playground.shadowRoot!.querySelector('llm-training-panel'), 'the training panel');
  await waitFor(
    () => panel.shadowRoot!.querySelector('llm-corpus-picker')?.shadowRoot!.querySelector('[part~="corpus-summary"]'),
    'the corpus summary',
    60_000,
  );
  const sampleEvery = panel.shadowRoot!.querySelector<HTMLInputElement>('#train-sampleInterval')!;
  sampleEvery.value = '2';
  sampleEvery.dispatchEvent(new Event('change'));
  return { panel, playButton: part<HTMLButtonElement>(panel, 'play-button')! };
}

/** Sentences of the built-in corpus's kind that are 64 tokens of the shipped model: a full context. */
export const PROMPT_64 =
  'The fluffy blue creature sat by the river. Michael Jordan plays the sport of basketball. In chemistry class, ' +
  'we weighed one mole of carbon dioxide. The king and the queen walked in the garden. By the fire, two cats sleep. User: Hello!';

/** Each inspector panel: its tab, the elements holding it (each inside the shadow root of the one before), and what shows it is drawn. */
export const INSPECTOR_PANELS: [InspectorTab, string[], string][] = [
  ['attention', ['llm-attention-inspector'], '[part~="thumbnail"]'],
  ['matrices', ['llm-head-matrices'], '[part~="score-cell"]'],
  ['experiments', ['llm-attention-experiments'], '[part~="head"]'],
  ['mlp', ['llm-mlp-neurons'], '[part~="neuron"]'],
  ['embeddings', ['llm-embedding-explorer', 'llm-embedding-neighbours'], '[part~="neighbour"]'],
  ['lens', ['llm-logit-lens'], '[part~="layer-row"]'],
  ['timelapse', ['llm-training-timelapse'], '[part~="slider"], [part~="empty"]'],
];

/** The inspector panel of a playground with `inspect`. */
export const inspectorPanel = (playground: LlmPlayground) => playground.shadowRoot!.querySelector('llm-inspector-panel')!;

/** Opens a tab of the inspector panel. */
export async function openInspectorTab(playground: LlmPlayground, tab: InspectorTab): Promise<void> {
  const button = await waitFor(
    () => inspectorPanel(playground).shadowRoot!.querySelector<HTMLButtonElement>(`#tab-${tab}`),
    `the ${tab} tab`,
  );
  button.click();
}

/** An element inside the open inspector panel (tags: the elements holding it, see INSPECTOR_PANELS), once there. */
export const insideInspector = (playground: LlmPlayground, tags: string[], selector: string, what: string) =>
  waitFor(
    () => {
      let root: ShadowRoot | null | undefined = inspectorPanel(playground).shadowRoot;
      for (const tag of tags) root = root?.querySelector(tag)?.shadowRoot;
      return root?.querySelector(selector);
    },
    what,
    60_000,
  );

/** Opens every inspector panel in turn, each until it is drawn and a little after (its later updates land too). */
export async function goThroughInspectorPanels(playground: LlmPlayground): Promise<void> {
  for (const [tab, tags, selector] of INSPECTOR_PANELS) {
    await openInspectorTab(playground, tab);
    await insideInspector(playground, tags, selector, `the ${tab} panel`);
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

/** The large heatmap of the chosen head. */
export const bigHeatmap = (inspector: AttentionInspector) => part<Heatmap>(inspector, 'head-heatmap')!;

/** Shows a stage (scores, masked, pattern) in the large heatmap, once painted. */
export async function chooseStage(inspector: AttentionInspector, stage: string): Promise<void> {
  parts<HTMLInputElement>(inspector, 'stage')
    .find((input) => input.value === stage)!
    .click();
  await inspector.updateComplete;
  await bigHeatmap(inspector).updateComplete;
}

/**
 * Every stage, a change to the last head and a query at the last token, each a
 * full redraw of the large view; done once the query's head updates are listed.
 */
export async function workOutAttention(inspector: AttentionInspector): Promise<void> {
  await chooseStage(inspector, 'scores');
  await chooseStage(inspector, 'masked');
  await chooseStage(inspector, 'pattern');
  const thumbnails = parts<Heatmap>(inspector, 'thumbnail');
  // The canvas takes the click (the element around it does not select).
  part(thumbnails.at(-1)!, 'canvas')!.click();
  await inspector.updateComplete;
  await bigHeatmap(inspector).updateComplete;
  parts(bigHeatmap(inspector), 'row-label').at(-1)!.click();
  await waitFor(() => parts(inspector, 'update-row').length === thumbnails.length, 'the head updates');
}
