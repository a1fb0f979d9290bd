// <llm-attention-inspector> against an in-memory client of its slice with fresh
// random captures (4 layers × 4 heads, up to 64 tokens): the thumbnails, the
// three stages' numbers (table and readout) equal the capture's arrays, masked
// cells read −∞ and are hatched, keyboard selection, the chosen query's head
// updates sorted by norm, the newest prompt winning, errors, and 64 tokens drawn
// to canvas without a DOM element per cell. How long the main thread's tasks take
// at 64 tokens is a figure of `npm run bench` (bench/RESULTS.md, "Main thread").
import { sendKeys } from '@web/test-runner-commands';
import { expect } from 'chai';
import type { EngineClient } from '../../src/client.ts';
import '../../src/elements/attention-inspector.ts';
import type { AttentionInspectorClient } from '../../src/elements/attention-inspector.ts';
import { formatValue, type Heatmap } from '../../src/elements/heatmap.ts';
import { visibleToken } from '../../src/visible-token.ts';
import type { Capture, GPTConfig, HeadUpdate, Inspection } from '../../workers/api/index.ts';
import { bigHeatmap, chooseStage, workOutAttention } from './playground-drives.ts';
import { random, randomInt } from './seeded.ts';
import { waitFor } from './wait-for.ts';

// The inspector panel hands its EngineClient to the element.
const engineClientFits: EngineClient extends AttentionInspectorClient ? true : never = true;

const L = 4;
const NH = 4;
const C = 32;
const BLOCK = 64;
const CHARS = 'abcdefghijklmnopqrstuvwxyz .,\n';

const randomArray = (length: number, spread = 1): Float32Array =>
  Float32Array.from({ length }, () => (random() - 0.5) * 2 * spread);
const randomText = (length: number): string => Array.from({ length }, () => CHARS[randomInt(0, CHARS.length)]).join('');

/** [NH, T, T] causal scores → mask and softmax pattern, as the engine keeps them. */
function randomAttention(T: number) {
  const scores = randomArray(NH * T * T, 4);
  const mask = new Uint8Array(NH * T * T);
  const pattern = new Float32Array(NH * T * T);
  for (let h = 0; h < NH; h++) {
    for (let q = 0; q < T; q++) {
      const row = (h * T + q) * T;
      let max = -Infinity;
      for (let k = 0; k <= q; k++) max = Math.max(max, scores[row + k]!);
      let sum = 0;
      for (let k = 0; k <= q; k++) sum += pattern[row + k] = Math.exp(scores[row + k]! - max);
      for (let k = 0; k <= q; k++) pattern[row + k]! /= sum;
      mask.fill(1, row + q + 1, row + T);
    }
  }
  return { scores, mask, pattern };
}

class FakeInspector implements AttentionInspectorClient {
  readonly inspectCalls: string[] = [];
  readonly updateCalls: [string, number][] = [];
  readonly inspections = new Map<string, Inspection>();
  readonly updates = new Map<string, HeadUpdate[]>();
  failure = '';
  /** Milliseconds each inspect answer waits, per text. */
  delays = new Map<string, number>();
  readonly config: GPTConfig = { vocabSize: CHARS.length, blockSize: BLOCK, nLayer: L, nHead: NH, nEmbd: C, tied: true };

  readonly inspector = {
    inspect: async (text: string): Promise<Inspection> => {
      this.inspectCalls.push(text);
      const inspection = this.randomInspection(text);
      // The answer comes in a later task, as a worker's message would.
      await new Promise((resolve) => setTimeout(resolve, this.delays.get(text) ?? 0));
      if (this.failure) throw new Error(this.failure);
      this.inspections.set(text, inspection);
      return inspection;
    },
    headUpdates: async (text: string, position: number): Promise<HeadUpdate[]> => this.headUpdates(text, position),
  };

  private randomInspection(text: string): Inspection {
    const tokens = text === '' ? ['\n'] : [...text].slice(-BLOCK);
    const T = tokens.length;
    const capture: Capture = {
      tokenEmbedding: randomArray(T * C),
      positionEmbedding: randomArray(T * C),
      layers: Array.from({ length: L }, () => ({
        ...randomAttention(T),
        mlpPre: randomArray(T * 4 * C),
        mlpPost: randomArray(T * 4 * C),
        residAfterAttn: randomArray(T * C),
        residAfterMlp: randomArray(T * C),
      })),
    };
    const next = Float32Array.from({ length: CHARS.length }, random);
    return {
      ids: tokens.map((token) => CHARS.indexOf(token)),
      tokens,
      config: this.config,
      capture,
      next,
      top: [{ id: 0, token: 'a', score: next[0]! }],
    };
  }

  private headUpdates(text: string, position: number): HeadUpdate[] {
    this.updateCalls.push([text, position]);
    const inspection = this.inspections.get(text)!;
    const T = inspection.tokens.length;
    const updates: HeadUpdate[] = [];
    for (let layer = 0; layer < L; layer++) {
      for (let head = 0; head < NH; head++) {
        const start = (head * T + position) * T;
        const update = randomArray(C);
        updates.push({
          layer,
          head,
          weights: inspection.capture.layers[layer]!.pattern.slice(start, start + T),
          update,
          norm: Math.hypot(...update),
          promotes: Array.from({ length: 5 }, () => {
            const id = randomInt(0, CHARS.length);
            return { id, token: CHARS[id]!, score: random() * 3 };
          }),
        });
      }
    }
    this.updates.set(`${text}@${position}`, updates);
    return updates;
  }
}

const part = <E extends Element = HTMLElement>(root: Element, name: string) =>
  root.shadowRoot!.querySelector<E>(`[part~="${name}"]`);
const parts = <E extends Element = HTMLElement>(root: Element, name: string) => [
  ...root.shadowRoot!.querySelectorAll<E>(`[part~="${name}"]`),
];

async function inspectorWith(text: string, client = new FakeInspector(), start: { layer: number; head: number } | null = null) {
  const inspector = document.createElement('llm-attention-inspector');
  inspector.client = client;
  inspector.text = text;
  inspector.start = start;
  document.body.append(inspector);
  const heatmap = await waitFor(() => part<Heatmap>(inspector, 'head-heatmap'), 'the large heatmap');
  await inspector.updateComplete;
  await heatmap.updateComplete;
  return { inspector, client, inspection: client.inspections.get(text)! };
}

/** The hidden table's cells as text, row by row. */
function tableCells(heatmap: Heatmap): string[][] {
  const table = part<HTMLTableElement>(heatmap, 'table')!;
  return [...table.tBodies[0]!.rows].map((row) => [...row.cells].slice(1).map((cell) => cell.textContent!));
}

/** The [T, T] slice of one head's array. */
function headSlice<A extends Float32Array | Uint8Array>(array: A, head: number, T: number): A {
  return array.subarray(head * T * T, (head + 1) * T * T) as A;
}

describe('<llm-attention-inspector>', () => {
  afterEach(() => document.querySelectorAll('llm-attention-inspector').forEach((element) => element.remove()));

  it('fits the EngineClient', () => {
    expect(engineClientFits).to.equal(true);
  });

  it('shows one labelled thumbnail per head, layers down and heads across, the first chosen', async () => {
    const { inspector } = await inspectorWith(randomText(randomInt(10, 40)));
    const thumbnails = parts<Heatmap>(inspector, 'thumbnail');
    expect(thumbnails).to.have.length(L * NH);
    expect(parts(inspector, 'layer-label').map((label) => label.textContent)).to.deep.equal(['L1', 'L2', 'L3', 'L4']);
    expect(parts(inspector, 'head-label').map((label) => label.textContent)).to.deep.equal(['H1', 'H2', 'H3', 'H4']);
    expect(thumbnails.map((thumbnail) => thumbnail.label)).to.deep.equal(
      Array.from({ length: L * NH }, (_, i) => `Layer ${Math.floor(i / NH) + 1}, head ${(i % NH) + 1}`),
    );
    expect(parts(inspector, 'selected').filter((element) => element.matches('llm-heatmap'))).to.deep.equal([thumbnails[0]]);
    expect(part(inspector, 'head-title')!.textContent).to.equal('Layer 1, head 1');
  });

  it("each stage's table and readout equal the capture's arrays, masked cells −∞", async () => {
    const text = randomText(randomInt(6, 14));
    const { inspector, inspection } = await inspectorWith(text);
    const T = inspection.tokens.length;
    const { scores, mask, pattern } = inspection.capture.layers[0]!;
    const heatmap = bigHeatmap(inspector);
    const number = (cell: string) => Number(cell.replace('−', '-'));
    const readoutAfter = async (keys: string[]) => {
      for (const press of keys) await sendKeys({ press });
      await heatmap.updateComplete;
      return part(heatmap, 'readout')!.textContent!;
    };
    const tokenAt = (position: number) => visibleToken(inspection.tokens[position]!);

    await chooseStage(inspector, 'scores');
    expect(heatmap.masked).to.equal(null);
    tableCells(heatmap).forEach((row, q) =>
      row.forEach((cell, k) => expect(number(cell)).to.be.closeTo(scores[q * T + k]!, 5e-5)),
    );
    part(heatmap, 'canvas')!.focus();
    // Row 2 looking at key 4: later than the query, yet scored in this stage.
    expect(await readoutAfter(['ArrowDown', 'ArrowDown', 'ArrowRight', 'ArrowRight', 'ArrowRight', 'ArrowRight'])).to.equal(
      `query '${tokenAt(2)}' ← key '${tokenAt(4)}': ${formatValue(scores[2 * T + 4]!)}`,
    );

    await chooseStage(inspector, 'masked');
    expect(heatmap.masked).to.deep.equal(headSlice(mask, 0, T));
    tableCells(heatmap).forEach((row, q) =>
      row.forEach((cell, k) => {
        if (k > q) expect(cell).to.equal('−∞');
        else expect(number(cell)).to.be.closeTo(scores[q * T + k]!, 5e-5);
      }),
    );
    expect(part(heatmap, 'readout')!.textContent).to.equal(`query '${tokenAt(2)}' ← key '${tokenAt(4)}': −∞ (masked)`);
    expect(await readoutAfter(['ArrowLeft', 'ArrowLeft'])).to.equal(
      `query '${tokenAt(2)}' ← key '${tokenAt(2)}': ${formatValue(scores[2 * T + 2]!)}`,
    );

    await chooseStage(inspector, 'pattern');
    expect(part(inspector, 'stage-caption')!.textContent).to.contain('Each row sums to 1');
    tableCells(heatmap).forEach((row, q) => {
      row.forEach((cell, k) => expect(number(cell)).to.be.closeTo(pattern[q * T + k]!, 5e-5));
      expect(row.reduce((sum, cell) => sum + number(cell), 0)).to.be.closeTo(1, T * 5e-5);
    });
    expect(await readoutAfter(['ArrowDown'])).to.equal(
      `query '${tokenAt(3)}' ← key '${tokenAt(2)}': ${formatValue(pattern[3 * T + 2]!)}`,
    );
  });

  it('draws masked cells hatched, not in a colour of the scale', async () => {
    const { inspector, inspection } = await inspectorWith(randomText(8));
    await chooseStage(inspector, 'masked');
    const heatmap = bigHeatmap(inspector);
    const canvas = part<HTMLCanvasElement>(heatmap, 'canvas')!;
    const T = inspection.tokens.length;
    const cell = canvas.width / T;
    // The top-right cell: key 7 for query 0, masked. Its inside shows both stripe colours.
    const data = canvas
      .getContext('2d')!
      .getImageData(Math.ceil((T - 1) * cell) + 1, 1, Math.floor(cell) - 2, Math.floor(cell) - 2).data;
    const colours = new Set<string>();
    for (let i = 0; i < data.length; i += 4) colours.add(`${data[i]},${data[i + 1]},${data[i + 2]}`);
    const probe = document.createElement('canvas').getContext('2d')!;
    const rgb = (name: string) => {
      probe.fillStyle = getComputedStyle(heatmap).getPropertyValue(name).trim();
      probe.fillRect(0, 0, 1, 1);
      return [...probe.getImageData(0, 0, 1, 1).data.slice(0, 3)].join(',');
    };
    expect(colours).to.include(rgb('--_background'));
    expect(colours).to.include(rgb('--_muted'));
  });

  it('starts on the head it is given with the last token as the query, unless the model lacks that head', async () => {
    const text = randomText(randomInt(4, 20));
    const layer = randomInt(0, L);
    const head = randomInt(0, NH);
    const { inspector, client, inspection } = await inspectorWith(text, new FakeInspector(), { layer, head });
    const T = inspection.tokens.length;
    expect(part(inspector, 'head-title')!.textContent).to.equal(`Layer ${layer + 1}, head ${head + 1}`);
    await waitFor(() => part(inspector, 'updates'), "the heads' updates");
    expect(client.updateCalls).to.deep.equal([[text, T - 1]]);
    expect(parts(inspector, 'query').map((chip) => chip.getAttribute('aria-checked'))).to.deep.equal(
      inspection.tokens.map((_, i) => String(i === T - 1)),
    );
    inspector.remove();

    const missing = await inspectorWith(text, new FakeInspector(), { layer: L, head: 0 });
    expect(part(missing.inspector, 'head-title')!.textContent).to.equal('Layer 1, head 1');
    expect(missing.client.updateCalls).to.deep.equal([]);
  });

  it('chooses a head with the keyboard and shows it large', async () => {
    const { inspector, inspection } = await inspectorWith(randomText(randomInt(5, 20)));
    const T = inspection.tokens.length;
    const [layer, head] = [randomInt(1, L), randomInt(1, NH)];
    const thumbnail = parts<Heatmap>(inspector, 'thumbnail')[layer * NH + head]!;
    part(thumbnail, 'canvas')!.focus();
    await sendKeys({ press: 'Enter' });
    await inspector.updateComplete;
    expect(part(inspector, 'head-title')!.textContent).to.equal(`Layer ${layer + 1}, head ${head + 1}`);
    expect(thumbnail.selected).to.equal(true);
    expect(thumbnail.getAttribute('part')).to.equal('thumbnail selected');
    const heatmap = bigHeatmap(inspector);
    await heatmap.updateComplete;
    const pattern = headSlice(inspection.capture.layers[layer]!.pattern, head, T);
    expect(heatmap.values).to.deep.equal(pattern);
    tableCells(heatmap).forEach((row, q) =>
      row.forEach((cell, k) => expect(Number(cell)).to.be.closeTo(pattern[q * T + k]!, 5e-5)),
    );
  });

  it("lists the chosen query's head updates by norm, and a head there becomes the large one", async () => {
    const text = randomText(randomInt(8, 30));
    const { inspector, client, inspection } = await inspectorWith(text);
    const position = randomInt(2, inspection.tokens.length);
    parts(bigHeatmap(inspector), 'row-label')[position]!.click();
    await waitFor(() => parts(inspector, 'update-row').length === L * NH, 'the head updates');
    expect(client.updateCalls).to.deep.equal([[text, position]]);
    expect(bigHeatmap(inspector).selectedRow).to.equal(position);

    const expected = [...client.updates.get(`${text}@${position}`)!].sort((a, b) => b.norm - a.norm);
    const rows = parts(inspector, 'update-row');
    rows.forEach((row, i) => {
      const update = expected[i]!;
      expect(row.querySelector('[part~="update-head"]')!.textContent).to.equal(`L${update.layer + 1} H${update.head + 1}`);
      const cells = row.querySelectorAll('td');
      expect(cells[1]!.textContent).to.equal(formatValue(update.norm));
      // The most-attended earlier token comes first, with its weight.
      let best = 0;
      for (let key = 0; key <= position; key++) if (update.weights[key]! > update.weights[best]!) best = key;
      expect(cells[0]!.textContent).to.contain(`(${best + 1}) ${formatValue(update.weights[best]!)}`);
      expect(cells[2]!.textContent!.replace(/\s+/g, '')).to.equal(update.promotes.map((p) => visibleToken(p.token)).join(','));
    });

    const pick = randomInt(1, rows.length);
    rows[pick]!.querySelector<HTMLButtonElement>('[part~="update-head"]')!.click();
    await inspector.updateComplete;
    expect(part(inspector, 'head-title')!.textContent).to.equal(
      `Layer ${expected[pick]!.layer + 1}, head ${expected[pick]!.head + 1}`,
    );
  });

  it('moves the query along the token chips with the arrow keys', async () => {
    const text = randomText(12);
    const { inspector, client } = await inspectorWith(text);
    const chips = parts<HTMLButtonElement>(inspector, 'query');
    expect(chips).to.have.length(12);
    expect(chips.map((chip) => chip.tabIndex)).to.deep.equal([0, ...Array(11).fill(-1)]);
    chips[0]!.focus();
    await sendKeys({ press: 'ArrowRight' });
    await sendKeys({ press: 'ArrowRight' });
    await waitFor(() => client.updateCalls.length === 2 && parts(inspector, 'update-row').length, 'two queries');
    expect(client.updateCalls).to.deep.equal([
      [text, 1],
      [text, 2],
    ]);
    const selected = inspector.shadowRoot!.querySelector<HTMLElement>('[part~="query"][part~="selected"]')!;
    expect(selected.getAttribute('aria-checked')).to.equal('true');
    expect(selected.dataset['position']).to.equal('2');
    expect(inspector.shadowRoot!.activeElement).to.equal(selected);
  });

  it('runs the prompt once typing pauses, and shows the newest answer', async () => {
    const client = new FakeInspector();
    const { inspector } = await inspectorWith('first', client);
    client.inspectCalls.length = 0;
    inspector.text = 'firs';
    await new Promise((resolve) => setTimeout(resolve, 40));
    inspector.text = 'first one';
    await waitFor(() => client.inspectCalls.length > 0, 'the next run');
    expect(client.inspectCalls).to.deep.equal(['first one']);

    // A slow answer for an older text arrives after the newer one: the newer stays.
    client.delays.set('slow text', 600);
    inspector.text = 'slow text';
    await waitFor(() => client.inspectCalls.includes('slow text'), 'the slow run');
    inspector.text = 'quick';
    await waitFor(() => part(bigHeatmap(inspector), 'table')?.querySelector('tbody')?.rows.length === 5, 'the quick answer');
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect(bigHeatmap(inspector).rows).to.equal(5);
    expect(bigHeatmap(inspector).rowLabels).to.deep.equal([...'quick']);
    expect(part(inspector, 'status')).to.equal(null);
  });

  it("shows the client's error", async () => {
    const client = new FakeInspector();
    client.failure = `no model loaded ${randomInt(0, 1000)}`;
    const inspector = document.createElement('llm-attention-inspector');
    inspector.client = client;
    inspector.text = 'hello';
    document.body.append(inspector);
    const alert = await waitFor(() => part(inspector, 'error'), 'the error');
    expect(alert.getAttribute('role')).to.equal('alert');
    expect(alert.textContent).to.contain(client.failure);
  });

  it('gives every chart a text alternative', async () => {
    const { inspector, inspection } = await inspectorWith(randomText(10));
    for (const thumbnail of parts<Heatmap>(inspector, 'thumbnail')) {
      expect(part(thumbnail, 'canvas')!.getAttribute('aria-label')).to.match(/^Layer \d, head \d$/);
    }
    const heatmap = bigHeatmap(inspector);
    const table = part<HTMLTableElement>(heatmap, 'table')!;
    expect(table.caption!.textContent).to.equal('Layer 1, head 1: after softmax');
    expect(table.tBodies[0]!.rows).to.have.length(inspection.tokens.length);
    expect(part(heatmap, 'canvas')!.getAttribute('aria-label')).to.contain('Layer 1, head 1');
  });

  it('renders 64 tokens × 4 layers × 4 heads on canvas, with no DOM element per cell', async () => {
    const { inspector, inspection } = await inspectorWith(randomText(BLOCK));
    await workOutAttention(inspector);
    const heatmap = bigHeatmap(inspector);
    await heatmap.updateComplete;
    expect(heatmap.rows).to.equal(BLOCK);
    expect(part(inspector, 'head-title')!.textContent).to.equal(`Layer ${L}, head ${NH}`);
    expect(heatmap.values).to.deep.equal(headSlice(inspection.capture.layers[L - 1]!.pattern, NH - 1, BLOCK));
    // The cells are pixels of a canvas: the thumbnails hold nothing else, and the large view's
    // elements outside its screen-reader table grow with the side (labels), not with the cells.
    for (const thumbnail of parts<Heatmap>(inspector, 'thumbnail')) {
      expect([...thumbnail.shadowRoot!.querySelectorAll('*')].map((element) => element.localName)).to.deep.equal(['canvas']);
    }
    const table = part(heatmap, 'table')!;
    const outsideTable = [...heatmap.shadowRoot!.querySelectorAll('*')].filter((element) => !table.contains(element));
    expect(part(heatmap, 'canvas')).to.not.equal(null);
    expect(outsideTable.length).to.be.lessThan(4 * BLOCK);
  });
});
