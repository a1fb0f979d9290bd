// The "look inside" panels in the real playground with its real worker and the
// shipped model (4 layers × 4 heads): the attention numbers shown are the
// engine's captured arrays, masked cells read −∞, and every panel is drawn for a
// 64-token prompt. How long the main thread's tasks take meanwhile is a figure of
// `npm run bench` (bench/RESULTS.md, "Main thread"), not a test: it depends on the load.
import { expect } from 'chai';
import { EngineClient } from '../../src/client.ts';
import type { LlmPlayground } from '../../src/llm-playground.ts';
import type { InspectorPanelClient } from '../../src/elements/inspector-panel.ts';
import {
  addPlayground,
  goThroughInspectorPanels,
  inspectorPanel,
  insideInspector,
  openInspectorTab,
  PROMPT_64,
} from './playground-drives.ts';
import { waitFor } from './wait-for.ts';

// The playground hands its EngineClient to the panel, which hands it to every panel of its own.
const engineClientFits: EngineClient extends InspectorPanelClient ? true : never = true;

describe('<llm-playground> inspector', function () {
  this.timeout(180_000);
  let playground: LlmPlayground;

  before(async () => {
    playground = await addPlayground({ inspect: '', prompt: PROMPT_64 });
  });
  after(() => playground.remove());

  it("fits the playground's EngineClient", () => {
    expect(engineClientFits).to.equal(true);
  });

  it("shows the engine's own attention numbers for the selected head, masked cells as −∞", async () => {
    await openInspectorTab(playground, 'attention');
    const big = (await insideInspector(
      playground,
      ['llm-attention-inspector'],
      '[part~="head-heatmap"]',
      'the large heatmap',
    )) as HTMLElement & {
      updateComplete: Promise<boolean>;
    };
    const inspector = inspectorPanel(playground).shadowRoot!.querySelector('llm-attention-inspector')!;
    await waitFor(() => inspector.shadowRoot!.querySelectorAll('[part~="thumbnail"]').length === 16, '16 thumbnails');

    const reference = new EngineClient({ database: `test-${crypto.randomUUID()}` });
    try {
      const { capture, ids } = await reference.model.forward(PROMPT_64, { capture: true });
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

  it('draws every panel for a 64-token prompt', async () => {
    await goThroughInspectorPanels(playground);
  });
});
