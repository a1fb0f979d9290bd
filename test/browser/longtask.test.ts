// Training runs in the worker: while it trains, the page's main thread has no
// long tasks (over 50 ms). The page is otherwise idle, so any long task in the
// window would come from our own handling of the progress (rendering the chart,
// the progress bar, the samples, the refreshed next-token bars).
import { expect } from 'chai';
import '../../src/llm-playground.ts';
import type { LlmPlayground } from '../../src/llm-playground.ts';
import { waitFor } from './wait-for.ts';

const TRAINING_MS = 4000;

describe('main thread while the worker trains', function () {
  let playground: LlmPlayground;

  before(async () => {
    playground = document.createElement('llm-playground');
    playground.setAttribute('model', 'random');
    playground.setAttribute('database', `test-${crypto.randomUUID()}`);
    playground.setAttribute('train', '');
    playground.setAttribute('prompt', 'The fluffy');
    document.body.append(playground);
    await waitFor(() => playground.status === 'ready', 'the playground');
  });
  after(() => playground.remove());

  it('records no long task over 50 ms during seconds of training', async () => {
    const panel = await waitFor(() => playground.shadowRoot!.querySelector('llm-training-panel'), 'the panel');
    const part = (name: string) => panel.shadowRoot!.querySelector<HTMLButtonElement>(`[part~="${name}"]`);
    await waitFor(
      () => panel.shadowRoot!.querySelector('llm-corpus-picker')?.shadowRoot!.querySelector('[part~="corpus-summary"]'),
      'the corpus summary',
      60000,
    );
    const sampleEvery = panel.shadowRoot!.querySelector<HTMLInputElement>('#train-sampleInterval')!;
    sampleEvery.value = '2';
    sampleEvery.dispatchEvent(new Event('change'));

    const longTasks: PerformanceEntry[] = [];
    const observer = new PerformanceObserver((list) => longTasks.push(...list.getEntries()));
    observer.observe({ type: 'longtask', buffered: true });
    let reports = 0;
    const count = () => reports++;
    document.addEventListener('llm-training-progress', count);

    const start = performance.now();
    part('play-button')!.click();
    await waitFor(() => reports > 0, 'the first progress report', 60000);
    await new Promise((resolve) => setTimeout(resolve, TRAINING_MS));
    part('play-button')!.click();
    await waitFor(() => part('play-button')!.textContent!.trim() === 'Play', 'training to pause');
    // Let the last updates render inside the window too.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const end = performance.now();
    observer.disconnect();
    document.removeEventListener('llm-training-progress', count);

    expect(reports).to.be.greaterThan(5);
    const during = longTasks.filter((task) => task.startTime >= start && task.startTime <= end);
    const over = during
      .filter((task) => task.duration > 50)
      .map((task) => `${task.duration.toFixed(0)} ms at ${(task.startTime - start).toFixed(0)} ms`);
    expect(over, 'long tasks while training').to.deep.equal([]);
  });
});
