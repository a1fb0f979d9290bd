// Training runs in the worker: while the page's main thread is blocked (a busy
// loop of two seconds, so it runs no task at all), training still takes a step,
// until its next report waits for the page (a step of this tiny model takes
// milliseconds). Training on the main thread could take none. No bound on time,
// so a busy machine passes too; how long the main thread's tasks take while
// training is a figure of `npm run bench` (bench/RESULTS.md, "Main thread").
import { expect } from 'chai';
import type { TrainingProgress } from '../../workers/api/index.ts';
import type { LlmEvent } from '../../src/events.ts';
import type { LlmPlayground } from '../../src/llm-playground.ts';
import { addPlayground, trainingPanel } from './playground-drives.ts';
import { waitFor } from './wait-for.ts';

const BLOCK_MS = 2000;

describe('main thread while the worker trains', function () {
  let playground: LlmPlayground;

  before(async () => {
    playground = await addPlayground({ model: 'random', train: '', prompt: 'The fluffy' });
  });
  after(() => playground.remove());

  it('keeps training while the main thread is blocked', async () => {
    const { panel, playButton } = await trainingPanel(playground);
    const reports: TrainingProgress[] = [];
    const record = (event: Event) => reports.push((event as LlmEvent<'llm-training-progress'>).detail);
    document.addEventListener('llm-training-progress', record);
    try {
      playButton.click();
      await waitFor(() => reports.length > 0, 'the first progress report', 60_000);
      // The worker waits for the page to take each report. A task later, the page has answered the
      // latest one (in the same task as it took it), so the worker is free to train on.
      await new Promise((resolve) => setTimeout(resolve));
      const before = reports.at(-1)!.step;
      const blockedUntil = performance.now() + BLOCK_MS;
      while (performance.now() < blockedUntil) {
        // Nothing: the main thread runs no other task meanwhile.
      }
      // Asked before the main thread runs any other task: the steps it finds were taken during the block.
      const after = await panel.client!.training.state();
      expect(after!.step, 'steps while the main thread was blocked').to.be.greaterThan(before);
      // The reports held back by the block then reach the page.
      await waitFor(() => reports.at(-1)!.step >= after!.step, 'the reports of those steps', 60_000);
    } finally {
      document.removeEventListener('llm-training-progress', record);
      playButton.click();
      await waitFor(() => playButton.textContent!.trim() === 'Play', 'training to pause', 60_000);
    }
  });
});
