// The "look inside" panels in the real playground with its real worker and the
// shipped model (4 layers × 4 heads): the attention numbers shown are the
// engine's captured arrays, masked cells read −∞, every panel is drawn for a
// long prompt, and with an empty prompt attention opens on the seed's example.
// How long the main thread's tasks take meanwhile is a figure of `npm run bench`
// (bench/RESULTS.md, "Main thread"), not a test: it depends on the load. Then the
// inspector panel on a stand-in client: which example each tab opens on.
import { expect } from 'chai';
import { EngineClient } from '../../src/client.ts';
import type { LlmPlayground } from '../../src/llm-playground.ts';
import type { InspectorPanel, InspectorPanelClient, InspectorTab } from '../../src/elements/inspector-panel.ts';
import { ADJECTIVE_HEAD, type ModelInfo } from '../../workers/api/index.ts';
import { countParameters } from '../../workers/engine/params.ts';
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

  it('draws every panel for a 64-character prompt', async () => {
    await goThroughInspectorPanels(playground);
  });

  it('with an empty prompt, the shipped model opens attention on "a fluffy blue creature" at its adjective head', async () => {
    const empty = await addPlayground({ inspect: '' });
    try {
      await openInspectorTab(empty, 'attention');
      await insideInspector(empty, ['llm-attention-inspector'], '[part~="update-row"]', "the heads' updates");
      const inspector = inspectorPanel(empty).shadowRoot!.querySelector('llm-attention-inspector')!.shadowRoot!;
      const queries = [...inspector.querySelectorAll('[part~="query"]')];
      expect(queries.map((query) => query.textContent)).to.deep.equal(['a', '␣fluffy', '␣blue', '␣creature']);
      expect(queries.at(-1)!.getAttribute('aria-checked')).to.equal('true');
      expect(inspector.querySelector('[part~="head-title"]')!.textContent).to.equal(
        `Layer ${ADJECTIVE_HEAD.layer + 1}, head ${ADJECTIVE_HEAD.head + 1}`,
      );
    } finally {
      empty.remove();
    }
  });
});

describe('<llm-inspector-panel> examples while the prompt is empty', () => {
  /** A client whose answers never come: these tests look only at what each panel is asked about. */
  const never = new Proxy({}, { get: () => () => new Promise(() => {}) });
  const silent = { inspector: never, model: never, training: never } as unknown as InspectorPanelClient;
  const modelWith = (vocabulary: string[]): ModelInfo => {
    const config = { vocabSize: vocabulary.length, blockSize: 16, nLayer: 2, nHead: 2, nEmbd: 8, tied: true };
    const tokenizer = vocabulary.some((token) => token.length > 1) ? 'bpe' : 'char';
    return {
      name: 'test',
      config,
      parameters: countParameters(config),
      tokenizer,
      vocabulary,
      seed: 1,
      weights: 'random',
      step: 0,
    };
  };
  const WORDS = [
    '\uFFFD',
    'a',
    'Michael',
    ' Jordan',
    ' plays',
    ' the',
    ' sport',
    ' of',
    ' basketball',
    ' fluffy',
    ' blue',
    ' creature',
  ];
  let panel: InspectorPanel;

  async function mount(vocabulary: string[], text: string, tab: InspectorTab) {
    panel = document.createElement('llm-inspector-panel');
    panel.client = silent;
    panel.model = modelWith(vocabulary);
    panel.text = text;
    panel.tab = tab;
    document.body.append(panel);
    await panel.updateComplete;
  }
  const note = () => panel.shadowRoot!.querySelector('[part~="example-note"]')?.textContent!.replace(/\s+/g, ' ').trim();
  afterEach(() => panel.remove());

  it('a word-piece model opens attention on "a fluffy blue creature" with the adjective head, and says so', async () => {
    await mount(WORDS, '', 'attention');
    const attention = panel.shadowRoot!.querySelector('llm-attention-inspector')!;
    expect(attention.text).to.equal('a fluffy blue creature');
    expect(attention.start).to.deep.equal(ADJECTIVE_HEAD);
    expect(note()).to.equal(
      'The prompt box is empty, so this shows the example "a fluffy blue creature". Type a prompt to see yours.',
    );
  });

  it('the logit lens, the experiments and the MLP neurons open on the fact prompt', async () => {
    for (const [tab, tag] of [
      ['lens', 'llm-logit-lens'],
      ['experiments', 'llm-attention-experiments'],
      ['mlp', 'llm-mlp-neurons'],
    ] as const) {
      await mount(WORDS, '', tab);
      expect(panel.shadowRoot!.querySelector(tag)!.text, tab).to.equal('Michael Jordan plays the sport of');
      panel.remove();
    }
  });

  it("the user's prompt wins, and a character model keeps the empty prompt", async () => {
    await mount(WORDS, 'a blue', 'attention');
    let attention = panel.shadowRoot!.querySelector('llm-attention-inspector')!;
    expect([attention.text, attention.start, note()]).to.deep.equal(['a blue', null, undefined]);
    panel.remove();
    await mount(['\uFFFD', ...'abcdefghijklmnopqrstuvwxyz '], '', 'attention');
    attention = panel.shadowRoot!.querySelector('llm-attention-inspector')!;
    expect([attention.text, attention.start, note()]).to.deep.equal(['', null, undefined]);
  });
});
