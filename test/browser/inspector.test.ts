// The "look inside" panels in the real playground with its real worker and the
// shipped model (4 layers × 4 heads): the attention numbers shown are the
// engine's captured arrays, masked cells read −∞, and going through every panel
// with a 64-token prompt leaves the main thread without a task over 50 ms.
import { expect } from 'chai';
import { EngineClient } from '../../src/client.ts';
import '../../src/llm-playground.ts';
import type { LlmPlayground } from '../../src/llm-playground.ts';
import type { InspectorPanelClient, InspectorTab } from '../../src/elements/inspector-panel.ts';
import { waitFor } from './wait-for.ts';

// The playground hands its EngineClient to the panel, which hands it to every panel of its own.
const engineClientFits: EngineClient extends InspectorPanelClient ? true : never = true;

/** Sentences of the built-in corpus's kind: characters the shipped model knows. */
const PROMPT = 'the fluffy blue creature sat by the river. mara pell plays tennis';

describe('<llm-playground> inspector', function () {
  this.timeout(180_000);
  let playground: LlmPlayground;
  const database = `test-${crypto.randomUUID()}`;

  before(async () => {
    playground = document.createElement('llm-playground');
    playground.setAttribute('database', database);
    playground.setAttribute('inspect', '');
    playground.prompt = PROMPT.slice(0, 64);
    document.body.append(playground);
    await waitFor(() => playground.status === 'ready', 'the playground', 60_000);
  });
  after(() => playground.remove());

  const panel = () => playground.shadowRoot!.querySelector('llm-inspector-panel')!;
  const open = async (tab: InspectorTab) => {
    const button = await waitFor(() => panel().shadowRoot!.querySelector<HTMLButtonElement>(`#tab-${tab}`), `the ${tab} tab`);
    button.click();
  };
  /** An element inside the shadow root of the open panel (tags: it, then any element of its own holding the element), once there. */
  const inside = (tags: string[], selector: string, what: string) =>
    waitFor(
      () => {
        let root: ShadowRoot | null | undefined = panel().shadowRoot;
        for (const tag of tags) root = root?.querySelector(tag)?.shadowRoot;
        return root?.querySelector(selector);
      },
      what,
      60_000,
    );

  it("fits the playground's EngineClient", () => {
    expect(engineClientFits).to.equal(true);
  });

  it("shows the engine's own attention numbers for the selected head, masked cells as −∞", async () => {
    await open('attention');
    const big = (await inside(['llm-attention-inspector'], '[part~="head-heatmap"]', 'the large heatmap')) as HTMLElement & {
      updateComplete: Promise<boolean>;
    };
    const inspector = panel().shadowRoot!.querySelector('llm-attention-inspector')!;
    await waitFor(() => inspector.shadowRoot!.querySelectorAll('[part~="thumbnail"]').length === 16, '16 thumbnails');

    const reference = new EngineClient({ database: `test-${crypto.randomUUID()}` });
    try {
      const { capture, ids } = await reference.model.forward(PROMPT.slice(0, 64), { capture: true });
      const T = ids.length;
      const stages = [...inspector.shadowRoot!.querySelectorAll<HTMLInputElement>('[part~="stage"]')];
      expect(stages).to.have.length(3);
      // The first head of the first layer is selected at first; each stage shows its array.
      for (const [index, stage] of stages.entries()) {
        stage.click();
        await waitFor(() => (big.shadowRoot!.querySelector('[part~="table"]')?.textContent ?? '').length > 0, 'the table');
        await big.updateComplete;
        const cells = [...big.shadowRoot!.querySelectorAll('[part~="table"] td')].map((cell) => cell.textContent!.trim());
        expect(cells).to.have.length(T * T);
        const layer = capture!.layers[0]!;
        for (let q = 0; q < T; q++) {
          for (let k = 0; k < T; k++) {
            const shown = cells[q * T + k]!;
            if (index === 0) expect(Number(shown.replace('−', '-'))).to.be.closeTo(layer.scores[q * T + k]!, 5e-5);
            else if (k > q) expect(shown, `query ${q}, key ${k}`).to.equal(index === 1 ? '−∞' : '0.0000');
            else
              expect(Number(shown.replace('−', '-'))).to.be.closeTo(
                index === 1 ? layer.scores[q * T + k]! : layer.pattern[q * T + k]!,
                5e-5,
              );
          }
        }
      }
    } finally {
      reference.terminate();
    }
  });

  it('goes through every panel with a 64-token prompt and no main-thread task over 50 ms', async () => {
    const ready: [InspectorTab, string[], string][] = [
      ['attention', ['llm-attention-inspector'], '[part~="thumbnail"]'],
      ['experiments', ['llm-attention-experiments'], '[part~="head"]'],
      ['mlp', ['llm-mlp-neurons'], '[part~="neuron"]'],
      ['embeddings', ['llm-embedding-explorer', 'llm-embedding-neighbours'], '[part~="neighbour"]'],
      ['lens', ['llm-logit-lens'], '[part~="layer-row"]'],
      ['timelapse', ['llm-training-timelapse'], '[part~="slider"], [part~="empty"]'],
    ];
    const longTasks: PerformanceEntry[] = [];
    const observer = new PerformanceObserver((list) => longTasks.push(...list.getEntries()));
    observer.observe({ type: 'longtask', buffered: false });
    const start = performance.now();
    for (const [tab, tags, selector] of ready) {
      await open(tab);
      await inside(tags, selector, `the ${tab} panel`);
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    const end = performance.now();
    observer.disconnect();
    const over = longTasks
      .filter((task) => task.startTime >= start && task.startTime <= end && task.duration > 50)
      .map((task) => `${task.duration.toFixed(0)} ms at ${(task.startTime - start).toFixed(0)} ms`);
    expect(over, 'long tasks').to.deep.equal([]);
  });
});
