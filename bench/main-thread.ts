/**
 * The page's main thread while the real <llm-playground> trains, while its
 * inspector draws and while the tour goes through its steps. Each case is a window between two performance marks; run.mjs
 * records a Chromium trace meanwhile (window.benchTracing) and reads the page's
 * main-thread tasks in each window from it: the browser's long-task entries
 * leave out every task under 50 ms, so they cannot give the longest one.
 * The page actions are those the tests check (test/browser/playground-drives.ts);
 * the tests hold no time bound, which would fail on a busy machine.
 */
import type { AttentionInspector } from '../src/elements/attention-inspector.ts';
import {
  addPlayground,
  goThroughInspectorPanels,
  inspectorPanel,
  insideInspector,
  openInspectorTab,
  PROMPT_64,
  trainingPanel,
  workOutAttention,
} from '../test/browser/playground-drives.ts';
import { goThroughTour } from '../test/browser/tour-drives.ts';
import { waitFor } from '../test/browser/wait-for.ts';

const TRAINING_MS = 4000;

declare global {
  interface Window {
    /** Given by bench/run.mjs: starts and stops the trace it reads the main thread's tasks from. */
    benchTracing?: (on: boolean) => Promise<void>;
  }
}

/** A case: its marks in the trace are `${mark} start` and `${mark} end`. */
export interface MainThreadCase {
  mark: string;
  name: string;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `action` between the case's two marks. */
async function marked(mark: string, name: string, action: () => Promise<void>): Promise<MainThreadCase> {
  performance.mark(`${mark} start`);
  await action();
  performance.mark(`${mark} end`);
  return { mark, name };
}

/** Seconds of training, as a user would start and pause it, with a sample every 2 steps (a random model). */
async function training(): Promise<MainThreadCase> {
  const playground = await addPlayground({ model: 'random', train: '', prompt: 'The fluffy' });
  try {
    const { playButton } = await trainingPanel(playground);
    let reports = 0;
    const count = () => reports++;
    document.addEventListener('llm-training-progress', count);
    const result = await marked(
      'training',
      `training for ${TRAINING_MS / 1000} s (random model, a sample every 2 steps)`,
      async () => {
        playButton.click();
        await waitFor(() => reports > 0, 'the first progress report', 60_000);
        await pause(TRAINING_MS);
        playButton.click();
        await waitFor(() => playButton.textContent!.trim() === 'Play', 'training to pause', 60_000);
        // The last updates render inside the window too.
        await pause(300);
      },
    );
    document.removeEventListener('llm-training-progress', count);
    return result;
  } finally {
    playground.remove();
  }
}

/** Every inspector panel in turn, for a 64-token prompt on the shipped model. */
async function inspectorPanels(): Promise<MainThreadCase> {
  const playground = await addPlayground({ inspect: '', prompt: PROMPT_64 });
  try {
    return await marked('inspector', 'every inspector panel in turn (shipped model, 64 tokens)', () =>
      goThroughInspectorPanels(playground),
    );
  } finally {
    playground.remove();
  }
}

/** The attention inspector from its first drawing: all stages, a head change, a query. */
async function attentionInspector(): Promise<MainThreadCase> {
  const playground = await addPlayground({ inspect: '', prompt: PROMPT_64 });
  try {
    return await marked(
      'attention',
      'attention inspector, 4 layers × 4 heads × 64 tokens: first drawing, every stage, a head, a query',
      async () => {
        await openInspectorTab(playground, 'attention');
        await insideInspector(playground, ['llm-attention-inspector'], '[part~="head-heatmap"]', 'the large heatmap');
        const inspector = inspectorPanel(playground).shadowRoot!.querySelector<AttentionInspector>('llm-attention-inspector')!;
        await workOutAttention(inspector);
      },
    );
  } finally {
    playground.remove();
  }
}

/** Every step of the tour in turn, each until its element is highlighted (shipped model). */
async function tour(): Promise<MainThreadCase> {
  const playground = await addPlayground({});
  try {
    return await marked('tour', 'stepping through the tour (every step, shipped model)', () => goThroughTour(playground));
  } finally {
    playground.remove();
  }
}

const CASES = { training, inspector: inspectorPanels, attention: attentionInspector, tour };

/**
 * The cases one after the other (`only`: those named, e.g. ['tour']), each in a playground of its own, while run.mjs
 * traces the page.
 */
export async function mainThreadCases(
  progress: (line: string) => void,
  only: string[] = Object.keys(CASES),
): Promise<MainThreadCase[]> {
  if (!window.benchTracing) throw new Error('no trace to read the main thread from: run this page with `npm run bench`');
  const cases: MainThreadCase[] = [];
  await window.benchTracing(true);
  try {
    for (const measure of Object.entries(CASES).flatMap(([id, measure]) => (only.includes(id) ? [measure] : []))) {
      const result = await measure();
      progress(`main thread: ${result.name}: done`);
      cases.push(result);
    }
  } finally {
    await window.benchTracing(false);
  }
  return cases;
}
