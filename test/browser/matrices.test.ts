// <llm-head-matrices> (issue 17, "the vectors and matrices, shown") on the shipped model through the real worker,
// and on a GPT-2-shaped random model (768 wide, 12 heads of 64) through the inspector area: every part is drawn with
// the worker's numbers, the dot product ÷ √d_head shown equals the attention inspector's score cell (the capture of
// inspect() for the same prompt, head and pair), the pickers follow panelFocus, the user's picks (a select, the
// scores grid by keyboard) send llm-focus-change, the strips read their numbers by keyboard, and the inspector
// panel has the tab.
import { sendKeys } from '@web/test-runner-commands';
import { expect } from 'chai';
import { EngineClient } from '../../src/client.ts';
import '../../src/elements/head-matrices.ts';
import type { HeadMatricesView } from '../../src/elements/head-matrices.ts';
import { formatValue, scaleColor } from '../../src/elements/heatmap.ts';
import '../../src/elements/inspector-panel.ts';
import type { MatrixView } from '../../src/elements/matrix-view.ts';
import type { LlmEvent } from '../../src/events.ts';
import { ADJECTIVES_EXAMPLE } from '../../src/panel-examples.ts';
import { ADJECTIVE_HEAD, type GPTConfig, type Inspection } from '../../workers/api/index.ts';
import { ActiveModel } from '../../workers/areas/active-model.ts';
import { InspectorArea } from '../../workers/areas/inspector.ts';
import type { TrainingArea } from '../../workers/areas/training.ts';
import { noTransfer } from '../../workers/areas/transfer.ts';
import { createParameters } from '../../workers/engine/params.ts';
import { CharTokenizer } from '../../workers/engine/tokenizer.ts';
import { randomizeParameters } from './engine-reference.ts';
import { randomFor } from './seeded.ts';
import { waitFor } from './wait-for.ts';

const PARTS = [
  'pickers',
  'layer-pick',
  'head-pick',
  'query-pick',
  'key-pick',
  'embedding-strip',
  'wq',
  'wk',
  'wv',
  'value-down',
  'query-input',
  'key-input',
  'query-vector',
  'key-vector',
  'dot-product',
  'dot-terms',
  'scores',
  'score-cell',
  'value-vector',
  'value-up',
  'value-counts',
  'output-matrix',
  'unembedding-pick',
  'unembedding-row',
];

const part = <T extends Element = HTMLElement>(element: HeadMatricesView, name: string): T =>
  element.shadowRoot!.querySelector<T>(`[part~="${name}"]`)!;
const view = (element: HeadMatricesView, name: string) => part<MatrixView>(element, name);
const picked = (element: HeadMatricesView, name: string) => part<HTMLSelectElement>(element, `${name}-pick`)?.value;
/** A number as the element writes it (true minus sign) read back. */
const numberIn = (text: string) => Number(text.replace('−', '-'));
/** The scaled score the element shows for its pair: the score cell's bold figure. */
const shownScore = (element: HeadMatricesView) => numberIn(part(element, 'score-cell').querySelector('strong')!.textContent!);

function mount(client: HeadMatricesView['client'], text: string, start: HeadMatricesView['start'] = null): HeadMatricesView {
  const element = document.createElement('llm-head-matrices');
  Object.assign(element, { client, text, start });
  document.body.append(element);
  return element;
}

/** The capture's scaled score of (query, key) in a head, as the attention inspector shows it. */
const captureScore = ({ capture, ids }: Inspection, layer: number, head: number, query: number, key: number) => {
  const T = ids.length;
  return capture.layers[layer]!.scores[(head * T + query) * T + key]!;
};

describe('<llm-head-matrices> on the shipped model', function () {
  this.timeout(120_000);
  let client: EngineClient;
  let element: HeadMatricesView;
  const text = ADJECTIVES_EXAMPLE.text;

  beforeEach(() => {
    client = new EngineClient({ database: `test-${crypto.randomUUID()}` });
  });
  afterEach(() => {
    element?.remove();
    client.terminate();
  });

  it("opens on the adjective head and shows every part with the worker's numbers; its score is the score cell's", async () => {
    element = mount(client, text, ADJECTIVE_HEAD);
    await waitFor(() => picked(element, 'layer') === '1' && part(element, 'score-cell'), 'the adjective head');
    const inspection = await client.inspector.inspect(text);
    const T = inspection.ids.length;
    const m = await client.inspector.headMatrices(text, ADJECTIVE_HEAD);
    const { width: C, headSize: hs } = m;
    for (const name of PARTS) expect(part(element, name), name).to.exist;
    expect([picked(element, 'layer'), picked(element, 'head'), picked(element, 'query')]).to.deep.equal([
      '1',
      '0',
      String(T - 1),
    ]);
    // The most attended key: the largest weight of the last row of the head's pattern.
    const row = Array.from(inspection.capture.layers[1]!.pattern.subarray((0 * T + T - 1) * T, (0 * T + T) * T));
    expect(picked(element, 'key')).to.equal(String(row.indexOf(Math.max(...row))));
    expect(shownScore(element)).to.be.closeTo(captureScore(inspection, 1, 0, m.query, m.key), 1e-4);
    expect(part(element, 'dot-product').textContent).to.include(`÷ √${hs}`).and.include(formatValue(m.dot));
    expect(part(element, 'dot-terms').querySelectorAll('li')).to.have.length(hs);

    // Every matrix and strip: its shape, and the worker's numbers (the scores grid: the capture's, this pair's filled in).
    const grid = m.scores.slice();
    grid[m.query * T + m.key] = m.score;
    const drawn: Record<string, [number, number, Float32Array]> = {
      'embedding-strip': [1, C, m.embedding],
      wq: [hs, C, m.wq],
      wk: [hs, C, m.wk],
      wv: [hs, C, m.wv],
      'query-input': [1, C, m.queryInput],
      'key-input': [1, C, m.keyInput],
      'query-vector': [1, hs, m.queryVector],
      'key-vector': [1, hs, m.keyVector],
      'value-vector': [1, hs, m.valueVector],
      'value-up': [C, hs, m.valueUp],
      'output-matrix': [C, C, m.output],
      'unembedding-row': [1, C, m.unembedding.row],
      scores: [T, T, grid],
    };
    for (const [name, [rows, cols, values]] of Object.entries(drawn)) {
      const shown = view(element, name);
      expect([shown.rows, shown.cols], name).to.deep.equal([rows, cols]);
      expect(Array.from(shown.values), name).to.deep.equal(Array.from(values));
    }
    expect(Array.from(view(element, 'scores').masked!)).to.deep.equal(
      Array.from(inspection.capture.layers[1]!.mask.subarray(0, T * T)),
    );
    const counts = part(element, 'value-counts').textContent!.replace(/\s+/g, ' ');
    expect(counts)
      .to.include(`${C} → ${hs} → ${C}`)
      .and.include((2 * C * hs).toLocaleString('en-US'))
      .and.include((C * C).toLocaleString('en-US'));
    expect(counts).to.include('12,288 → 128 → 12,288').and.include('3,145,728').and.include('150,994,944');
    expect(element.shadowRoot!.textContent).to.include('its unembedding is the token embedding matrix itself');
    expect(picked(element, 'unembedding')).to.equal(String(m.top[0]!.id));
  });

  it('follows panelFocus, and says what the user picks: a select, or a cell of the scores by keyboard', async () => {
    element = mount(client, text);
    await waitFor(() => part(element, 'score-cell'), 'the first answer');
    expect([picked(element, 'layer'), picked(element, 'head')], 'layer 1, head 1 without a start').to.deep.equal(['0', '0']);
    element.panelFocus = { layer: 2, head: 3, query: 2, key: 1 };
    await waitFor(
      () => ['layer', 'head', 'query', 'key'].map((name) => picked(element, name)).join() === '2,3,2,1',
      'the pickers to follow the focus',
    );
    const inspection = await client.inspector.inspect(text);
    expect(shownScore(element)).to.be.closeTo(captureScore(inspection, 2, 3, 2, 1), 1e-4);

    const events: LlmEvent<'llm-focus-change'>['detail'][] = [];
    element.addEventListener('llm-focus-change', (event) => events.push(event.detail));
    const head = part<HTMLSelectElement>(element, 'head-pick');
    head.value = '1';
    head.dispatchEvent(new Event('change'));
    expect(events.at(-1)).to.deep.equal({ layer: 2, head: 1, query: 2, key: 1 });
    await waitFor(() => shownScore(element) === numberIn(formatValue(captureScore(inspection, 2, 1, 2, 1))), 'head 2');

    // The scores grid: focus opens on the chosen cell; the arrow keys move, Enter picks (a masked cell too).
    view(element, 'scores').shadowRoot!.querySelector('canvas')!.focus();
    await sendKeys({ press: 'ArrowRight' });
    await sendKeys({ press: 'ArrowDown' });
    await sendKeys({ press: 'Enter' });
    expect(events.at(-1)).to.deep.equal({ layer: 2, head: 1, query: 3, key: 2 });
    await waitFor(() => picked(element, 'query') === '3' && picked(element, 'key') === '2', 'the picked pair');
    await waitFor(() => shownScore(element) === numberIn(formatValue(captureScore(inspection, 2, 1, 3, 2))), 'its score');
    // A key after the query: its cell is masked, and the score is still worked out.
    await sendKeys({ press: 'ArrowUp' });
    await sendKeys({ press: 'ArrowRight' });
    await sendKeys({ press: 'Enter' });
    await waitFor(() => part(element, 'score-cell').textContent!.includes('masked'), 'a masked pair');
    expect(view(element, 'scores').shadowRoot!.querySelector('[part="readout"]')!.textContent).to.match(
      /^query '␣blue', key '␣creature': .* \(masked\)$/,
    );
    expect(shownScore(element)).to.be.closeTo(captureScore(inspection, 2, 1, 2, 3), 1e-4);
    expect(events.at(-1)).to.deep.equal({ layer: 2, head: 1, query: 2, key: 3 });
  });

  it('reads a strip and a matrix number by number with the arrow keys', async () => {
    element = mount(client, text);
    await waitFor(() => part(element, 'score-cell'), 'the first answer');
    const strip = view(element, 'embedding-strip');
    const readout = () => strip.shadowRoot!.querySelector('[part="readout"]')!.textContent!;
    const C = strip.cols;
    expect(readout()).to.match(new RegExp(`^${C} numbers, from `));
    strip.shadowRoot!.querySelector('canvas')!.focus();
    await sendKeys({ press: 'ArrowRight' });
    await waitFor(() => readout().startsWith(`number 2 of ${C}: `), 'the second number');
    expect(readout()).to.equal(`number 2 of ${C}: ${formatValue(strip.values[1]!)}`);
    await sendKeys({ press: 'End' });
    await waitFor(() => readout() === `number ${C} of ${C}: ${formatValue(strip.values[C - 1]!)}`, 'the last number');

    const wq = view(element, 'wq');
    wq.shadowRoot!.querySelector('canvas')!.focus();
    await sendKeys({ press: 'PageDown' });
    await sendKeys({ press: 'ArrowRight' });
    const read = () => wq.shadowRoot!.querySelector('[part="readout"]')!.textContent!;
    await waitFor(() => read().startsWith(`row ${wq.rows}, column 2: `), 'the last row');
    expect(read()).to.equal(`row ${wq.rows}, column 2: ${formatValue(wq.values[(wq.rows - 1) * wq.cols + 1]!)}`);
  });

  it("is a tab of the inspector panel, which opens it on the notes' example at the adjective head", async () => {
    const panel = document.createElement('llm-inspector-panel');
    Object.assign(panel, { client, text: '', tab: 'matrices', model: await client.model.info() });
    document.body.append(panel);
    try {
      const tab = await waitFor(() => panel.shadowRoot!.querySelector('[part~="tab-matrices"]'), 'the tab');
      expect(tab.textContent).to.include('Vectors and matrices');
      const shown = await waitFor(() => panel.shadowRoot!.querySelector('llm-head-matrices'), 'the element');
      expect(shown.text).to.equal(text);
      expect(panel.shadowRoot!.querySelector('[part~="example-note"]')!.textContent).to.include(text);
      await waitFor(
        () => picked(shown, 'layer') === String(ADJECTIVE_HEAD.layer) && part(shown, 'score-cell'),
        'the adjective head',
      );
      expect(picked(shown, 'head')).to.equal(String(ADJECTIVE_HEAD.head));
      panel.text = 'the king';
      // The typed prompt's tokens, its last one the query.
      const options = () => [...part(shown, 'query-pick').querySelectorAll('option')];
      await waitFor(() => options().at(-1)?.textContent?.includes('␣king'), 'the typed prompt');
      expect(picked(shown, 'query')).to.equal(String(options().length - 1));
    } finally {
      panel.remove();
    }
  });
});

describe('<llm-head-matrices> on a GPT-2-shaped model', function () {
  this.timeout(120_000);

  it('draws every part of a 768-wide model with 12 heads of 64', async () => {
    const CHARS = 'abcdefghijklmnopqrstuvwxyz .';
    const config: GPTConfig = { vocabSize: CHARS.length + 1, blockSize: 32, nLayer: 2, nHead: 12, nEmbd: 768, tied: true };
    const params = randomizeParameters(createParameters(config), randomFor('gpt-2 shaped element'), 0.3);
    const tokenizer = new CharTokenizer(['\u{FFFD}', ...CHARS]);
    const active = new ActiveModel({ name: 'gpt-2 shaped', config, params, tokenizer, seed: 1 });
    const inspector = new InspectorArea(active, {} as TrainingArea, noTransfer);
    const element = mount({ inspector }, 'the cat sat on the mat');
    try {
      await waitFor(() => part(element, 'score-cell'), 'the numbers');
      element.panelFocus = { layer: 1, head: 11 };
      await waitFor(() => picked(element, 'layer') === '1' && picked(element, 'head') === '11', 'the last head');
      for (const name of PARTS) expect(part(element, name), name).to.exist;
      expect([view(element, 'wq').rows, view(element, 'wq').cols]).to.deep.equal([64, 768]);
      expect([view(element, 'output-matrix').rows, view(element, 'output-matrix').cols]).to.deep.equal([768, 768]);
      expect(view(element, 'output-matrix').marked).to.deep.equal({ row: 0, col: 11 * 64, rows: 768, cols: 64 });
      expect(part(element, 'head-pick').querySelectorAll('option')).to.have.length(12);
      const m = await inspector.headMatrices('the cat sat on the mat', { layer: 1, head: 11 });
      expect(shownScore(element)).to.equal(numberIn(formatValue(m.score)));
      // A canvas of one pixel per cell, shown in a box of at most 480 CSS pixels.
      const canvas = view(element, 'output-matrix').shadowRoot!.querySelector('canvas')!;
      expect([canvas.width, canvas.height]).to.deep.equal([768, 768]);
      expect(canvas.getBoundingClientRect().width).to.be.at.most(482);
      // Drawn in bands, the last one too; a cell's pixel is its value's colour on a scale symmetric about 0.
      const context = canvas.getContext('2d')!;
      await waitFor(
        () => context.getImageData(0, 767, 768, 1).data.every((value, i) => i % 4 !== 3 || value === 255),
        'the last band',
      );
      const reach = m.output.reduce((largest, value) => Math.max(largest, Math.abs(value)), 0);
      for (const [row, col] of [
        [0, 0],
        [767, 767],
        [400, 123],
      ] as const) {
        const value = m.output[row * 768 + col]!;
        const expected = scaleColor('diverging', Math.round(((value + reach) / (2 * reach)) * 255) / 255);
        expect(Array.from(context.getImageData(col, row, 1, 1).data), `cell ${row}, ${col}`).to.deep.equal([...expected, 255]);
      }
    } finally {
      element.remove();
    }
  });
});
