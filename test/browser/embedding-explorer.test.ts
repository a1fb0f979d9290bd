// <llm-embedding-explorer> against an in-memory client of its slice that answers
// with fresh random numbers: each section asks for the right tokens, shows
// exactly what came back, draws every token on the map, hands the position
// matrix to <llm-heatmap>, and shows the client's errors.
import { sendKeys } from '@web/test-runner-commands';
import { expect } from 'chai';
import type { EngineClient } from '../../src/client.ts';
import '../../src/elements/embedding-explorer.ts';
import type { EmbeddingExplorer, EmbeddingExplorerClient, EmbeddingSectionId } from '../../src/elements/embedding-explorer.ts';
import type { Heatmap } from '../../src/elements/heatmap.ts';
import type {
  ContextualSimilarity,
  EmbeddingMap,
  Neighbour,
  TokenAngle,
  TokenDirections,
  Tokenization,
} from '../../workers/api/index.ts';
import { random, randomInt } from './seeded.ts';
import { waitFor } from './wait-for.ts';

// The inspector panel hands its EngineClient to the element, which hands it to its sections.
const engineClientFits: EngineClient extends EmbeddingExplorerClient ? true : never = true;

const VOCABULARY = ['\uFFFD', '\n', ' ', '.', ...'ABCDEFGHIJKLMNOPQRSTUVWXYZ', ...'abcdefghijklmnopqrstuvwxyz'];
const BLOCK_SIZE = 24;
const LAYERS = 4;

const randomCosine = (): number => random() * 2 - 1;
/** How the element writes a number: fixed digits, a real minus sign. */
const shown = (value: number, digits: number): string => value.toFixed(digits).replace('-', '−');

type Used = keyof EmbeddingExplorerClient['inspector'] | 'tokenize';

/** A character model's pieces: one per character. */
const characters = (text: string): string[] => [...text];

/** Answers the embedding methods with fresh random numbers and remembers each call and its answer; fails on request. */
class FakeInspector implements EmbeddingExplorerClient {
  readonly calls: { method: Used; args: unknown[] }[] = [];
  readonly failures: Partial<Record<Used, string>> = {};
  readonly answers: unknown[] = [];
  /** While set, calls wait until the hold that set it is released. */
  private gate: Promise<void> | null = null;

  /** `split`: how the fake tokenizer cuts a text into pieces (the model reads the last BLOCK_SIZE). */
  constructor(
    readonly vocabulary: string[] = VOCABULARY,
    private readonly split: (text: string) => string[] = characters,
  ) {}

  called(method: Used): unknown[][] {
    return this.calls.filter((call) => call.method === method).map((call) => call.args);
  }

  lastAnswer<T>(): T {
    return this.answers.at(-1) as T;
  }

  /** Holds the calls from now on (until the next hold); the function returned lets them answer (a released hold holds nothing). */
  hold(): () => void {
    let release = () => {};
    this.gate = new Promise((resolve) => (release = resolve));
    return release;
  }

  private async answer<T>(method: Used, args: unknown[], make: () => T): Promise<T> {
    this.calls.push({ method, args });
    if (this.gate) await this.gate;
    const failure = this.failures[method];
    if (failure) throw new Error(failure);
    const value = make();
    this.answers.push(value);
    return value;
  }

  private neighbours(count: number, leaveOut: number[]): Neighbour[] {
    const ids = this.vocabulary.map((_, id) => id).filter((id) => !leaveOut.includes(id));
    return Array.from({ length: Math.min(count, ids.length) }, () => {
      const id = ids.splice(randomInt(0, ids.length), 1)[0]!;
      return { id, token: this.vocabulary[id]!, cosine: randomCosine() };
    }).sort((a, b) => b.cosine - a.cosine);
  }

  readonly model = {
    tokenize: (text: string): Promise<Tokenization> =>
      this.answer('tokenize', [text], () => {
        const all = this.split(text);
        const pieces = all.slice(-BLOCK_SIZE);
        const ids = pieces.map((piece) => Math.max(0, this.vocabulary.indexOf(piece)));
        const dropped = all.length - pieces.length;
        return { ids, tokens: ids.map((id) => this.vocabulary[id]!), pieces, unknown: [], dropped, truncated: dropped > 0 };
      }),
  };

  readonly inspector = {
    nearestTokens: (token: number, count: number): Promise<Neighbour[]> =>
      this.answer('nearestTokens', [token, count], () => this.neighbours(count, [token])),

    tokenArithmetic: (a: number, b: number, c: number, count: number): Promise<Neighbour[]> =>
      this.answer('tokenArithmetic', [a, b, c, count], () => this.neighbours(count, [a, b, c])),

    tokenAngle: (a: number, b: number): Promise<TokenAngle> =>
      this.answer('tokenAngle', [a, b], () => {
        const cosine = randomCosine();
        return { dot: cosine * (1 + random() * 20), cosine, degrees: (Math.acos(cosine) * 180) / Math.PI };
      }),

    tokenDirections: (a: number, b: number, c: number, d: number, count: number): Promise<TokenDirections> =>
      this.answer('tokenDirections', [a, b, c, d, count], () => ({
        cosine: randomCosine(),
        lengths: [random() * 5, random() * 5] as [number, number],
        applied: [this.neighbours(count, [a, b, d]), this.neighbours(count, [c, d, b])] as [Neighbour[], Neighbour[]],
      })),

    embeddingMap: (): Promise<EmbeddingMap> =>
      this.answer('embeddingMap', [], () => {
        const first = 0.2 + random() * 0.5;
        return {
          ids: this.vocabulary.map((_, id) => id),
          tokens: [...this.vocabulary],
          points: Float32Array.from({ length: 2 * this.vocabulary.length }, () => (random() - 0.5) * 6),
          explained: [first, random() * (1 - first)] as [number, number],
          limit: this.vocabulary.length,
        };
      }),

    positionSimilarity: (): Promise<Float32Array> =>
      this.answer('positionSimilarity', [], () => Float32Array.from({ length: BLOCK_SIZE * BLOCK_SIZE }, randomCosine)),

    contextualSimilarity: (
      first: { text: string; position: number },
      second: { text: string; position: number },
    ): Promise<ContextualSimilarity> =>
      this.answer('contextualSimilarity', [first, second], () => ({
        tokens: [first, second].map(({ text, position }) => this.split(text).slice(-BLOCK_SIZE)[position] ?? '') as [
          string,
          string,
        ],
        cosines: Array.from({ length: LAYERS + 1 }, randomCosine),
      })),
  };
}

describe('<llm-embedding-explorer>', function () {
  let explorer: EmbeddingExplorer;
  let client: FakeInspector;
  const root = () => explorer.shadowRoot!;
  /** The open section: an element of its own in the explorer's panel. */
  const section = () => root().querySelector('#panel > [active]')!.shadowRoot!;
  /** A part of the explorer's own (its tabs), else of the open section. */
  const part = <E extends Element = HTMLElement>(name: string) =>
    root().querySelector<E>(`[part~="${name}"]`) ?? section().querySelector<E>(`[part~="${name}"]`);
  const text = (element: Element | null) => element?.textContent!.replace(/\s+/g, ' ').trim() ?? '';
  const settled = async () => {
    await waitFor(() => !text(part('status')), 'the answer');
    await explorer.updateComplete;
  };
  /** A token picker lists every token once used (it holds only the chosen one before): focused, as a user would. */
  const used = (name: string) => {
    const select = part<HTMLSelectElement>(name)!;
    select.focus();
    return select;
  };
  const choose = async (name: string, value: number) => {
    const select = used(name);
    select.value = String(value);
    select.dispatchEvent(new Event('change', { bubbles: true }));
    await explorer.updateComplete;
  };
  /** Types into a prompt field, then waits until its tokens are read (its position list is filled). */
  const type = async (name: 'first' | 'second' | 'third', value: string) => {
    const field = part<HTMLTextAreaElement>(`context-${name}`)!;
    field.value = value;
    field.dispatchEvent(new Event('input'));
    await waitFor(() => !value || part<HTMLSelectElement>(`context-${name}-position`)!.options.length > 0, 'the tokens');
    await explorer.updateComplete;
  };
  const open = async (id: EmbeddingSectionId) => {
    part<HTMLButtonElement>(`tab-${id}`)!.click();
    await explorer.updateComplete;
  };
  /** A token as shown in a list: its text without the id beside it. */
  const tokenShown = (label: Element) => {
    const copy = label.cloneNode(true) as Element;
    copy.querySelector('.id')!.remove();
    return copy.textContent!;
  };
  /** The rows of a cosine list as shown: id, visible token, cosine text, bar width. */
  const listed = (name: string) =>
    [...part(name)!.querySelectorAll('[part~="neighbour"]')].map((row) => ({
      id: Number(row.querySelector('.id')!.textContent),
      token: tokenShown(row.querySelector('[part~="neighbour-token"]')!),
      value: text(row.querySelector('[part~="neighbour-value"]')),
      width: parseFloat(row.querySelector<HTMLElement>('[part~="neighbour-bar"]')!.style.width),
    }));
  const expected = (neighbours: Neighbour[]) =>
    neighbours.map(({ id, token, cosine }) => ({
      id,
      token: token.replaceAll(' ', '␣').replaceAll('\n', '⏎'),
      value: shown(cosine, 4),
      width: Number((Math.abs(cosine) * 100).toFixed(2)),
    }));

  async function mount(fake = new FakeInspector(), prompt = 'The bank of the river. I went to the bank', blockSize = BLOCK_SIZE) {
    client = fake;
    explorer = document.createElement('llm-embedding-explorer');
    explorer.client = fake;
    explorer.vocabulary = fake.vocabulary;
    explorer.text = prompt;
    explorer.blockSize = blockSize;
    document.body.append(explorer);
    await explorer.updateComplete;
  }

  afterEach(() => explorer?.remove());

  it('fits the EngineClient', () => {
    expect(engineClientFits).to.equal(true);
  });

  it('opens on the neighbours of a token and shows the cosines the client gave, as bars', async () => {
    await mount();
    await settled();
    const e = VOCABULARY.indexOf('e');
    expect(client.called('nearestTokens')).to.deep.equal([[e, 10]]);
    expect(listed('neighbours')).to.deep.equal(expected(client.lastAnswer<Neighbour[]>()));

    await choose('token-picker', 2);
    await settled();
    expect(client.called('nearestTokens').at(-1)).to.deep.equal([2, 10]);
    const answer = client.lastAnswer<Neighbour[]>();
    expect(listed('neighbours')).to.deep.equal(expected(answer));
    const labels = [...part('neighbours')!.querySelectorAll('[part~="neighbour"]')].map((row) => row.getAttribute('aria-label'));
    expect(labels[0]).to.contain(`id ${answer[0]!.id}: cosine ${shown(answer[0]!.cosine, 4)}`);
  });

  it("keeps a section's pick and answer while another section is open", async () => {
    await mount();
    await settled();
    const token = randomInt(1, VOCABULARY.length);
    await choose('token-picker', token);
    await settled();
    const shown = listed('neighbours');
    await open('angle');
    await settled();
    await open('neighbours');
    expect(client.called('nearestTokens')).to.have.length(2);
    expect(part<HTMLSelectElement>('token-picker')!.value).to.equal(String(token));
    expect(listed('neighbours')).to.deep.equal(shown);
  });

  it('shows invisible tokens visibly in the token picker', async () => {
    await mount();
    expect(part<HTMLSelectElement>('token-picker')!.options, 'the chosen token only, before the picker is used').to.have.length(
      1,
    );
    const options = [...used('token-picker').options].map((option) => option.text);
    expect(options).to.have.length(VOCABULARY.length);
    expect(options[1]).to.match(/^⏎ line break · 1$/);
    expect(options[2]).to.match(/^␣ space · 2$/);
    expect(options[VOCABULARY.indexOf('q')]).to.equal(`q · ${VOCABULARY.indexOf('q')}`);
  });

  it('moves between sections with the arrow keys, Home and End', async () => {
    await mount();
    part<HTMLButtonElement>('tab-neighbours')!.focus();
    await sendKeys({ press: 'ArrowRight' });
    await explorer.updateComplete;
    expect(explorer.section).to.equal('arithmetic');
    expect(root().activeElement?.id).to.equal('tab-arithmetic');
    await sendKeys({ press: 'End' });
    await explorer.updateComplete;
    expect(explorer.section).to.equal('context');
    await sendKeys({ press: 'ArrowRight' });
    await explorer.updateComplete;
    expect(explorer.section).to.equal('neighbours');
    await sendKeys({ press: 'ArrowLeft' });
    await sendKeys({ press: 'Home' });
    await explorer.updateComplete;
    expect(explorer.section).to.equal('neighbours');
    expect(part('tab-neighbours')!.getAttribute('aria-selected')).to.equal('true');
    expect(part('tab-neighbours')!.getAttribute('tabindex')).to.equal('0');
    expect(part('tab-map')!.getAttribute('tabindex')).to.equal('-1');
  });

  it('does a − b + c with the tokens picked (a case analogy to start) and shows the results', async () => {
    await mount();
    await open('arithmetic');
    await settled();
    const id = (token: string) => VOCABULARY.indexOf(token);
    expect(client.called('tokenArithmetic')).to.deep.equal([[id('A'), id('a'), id('b'), 10]]);
    expect(listed('arithmetic-results')).to.deep.equal(expected(client.lastAnswer<Neighbour[]>()));

    const [a, b, c] = [randomInt(1, VOCABULARY.length), randomInt(1, VOCABULARY.length), randomInt(1, VOCABULARY.length)];
    await choose('arithmetic-a', a);
    await choose('arithmetic-b', b);
    await choose('arithmetic-c', c);
    await settled();
    expect(client.called('tokenArithmetic').at(-1)).to.deep.equal([a, b, c, 10]);
    expect(listed('arithmetic-results')).to.deep.equal(expected(client.lastAnswer<Neighbour[]>()));
  });

  it('shows the dot product, cosine and angle of two tokens, with the angle drawn', async () => {
    await mount();
    await open('angle');
    await settled();
    expect(client.called('tokenAngle')).to.deep.equal([[VOCABULARY.indexOf('a'), VOCABULARY.indexOf('e')]]);
    await choose('angle-b', VOCABULARY.indexOf(' '));
    await settled();
    expect(client.called('tokenAngle').at(-1)).to.deep.equal([VOCABULARY.indexOf('a'), VOCABULARY.indexOf(' ')]);
    const { dot, cosine, degrees } = client.lastAnswer<TokenAngle>();
    const values = [...part('angle-values')!.querySelectorAll('dd')].map((dd) => dd.textContent);
    expect(values).to.deep.equal([shown(dot, 4), shown(cosine, 4), `${shown(degrees, 1)}°`]);

    const drawing = part('angle-drawing')!;
    expect(drawing.getAttribute('aria-label')).to.equal(`"a" and space ${shown(degrees, 1)} degrees apart`);
    const [along, turned] = [...drawing.querySelectorAll('line.ray')];
    const direction = (line: Element) => {
      const [x1, y1, x2, y2] = ['x1', 'y1', 'x2', 'y2'].map((name) => Number(line.getAttribute(name)));
      return Math.atan2(y1! - y2!, x2! - x1!);
    };
    expect(((direction(turned!) - direction(along!)) * 180) / Math.PI).to.be.closeTo(degrees, 0.05);
    expect([...drawing.querySelectorAll('text')].map((label) => label.textContent)).to.include.members(['a', '␣']);
  });

  it('maps every token: one table row per token with the coordinates given, the variance shares, a canvas at device resolution', async () => {
    await mount();
    await open('map');
    await settled();
    expect(client.called('embeddingMap')).to.deep.equal([[]]);
    const { tokens, points, explained } = client.lastAnswer<EmbeddingMap>();
    const rows = [...part('scatter-table')!.querySelectorAll('tbody tr')];
    expect(rows).to.have.length(VOCABULARY.length);
    rows.forEach((row, id) => {
      const cells = [...row.querySelectorAll('td')].map((cell) => cell.textContent);
      expect(cells).to.deep.equal([String(id), shown(points[2 * id]!, 3), shown(points[2 * id + 1]!, 3)]);
    });
    expect(text(rows[2]!.querySelector('th'))).to.equal('space');
    expect(text(part('explained'))).to.contain(`${(explained[0] * 100).toFixed(1)}%`);
    expect(text(part('explained'))).to.match(new RegExp(`up: ${(explained[1] * 100).toFixed(explained[1] >= 0.1 ? 1 : 2)}%`));

    const canvas = part<HTMLCanvasElement>('scatter')!;
    await waitFor(() => canvas.width > 0, 'the canvas to be drawn');
    expect(canvas.width).to.equal(Math.round(canvas.clientWidth * devicePixelRatio));
    expect(canvas.height).to.equal(Math.round(canvas.clientHeight * devicePixelRatio));
    expect(tokens).to.have.length(VOCABULARY.length);
  });

  it('names the token under the pointer on the map, and steps through tokens with the arrow keys', async () => {
    // Every token inside the square ±1 (two on its top and bottom edges), one far out to the right: it is drawn
    // alone at the canvas's right edge, less the 28 px the map keeps clear, half-way down.
    const fake = new FakeInspector();
    const loner = randomInt(3, VOCABULARY.length);
    const points = Float32Array.from({ length: 2 * VOCABULARY.length }, () => random() * 2 - 1);
    points.set([-1, -1, -1, 1], 0);
    points.set([10, 0], 2 * loner);
    fake.inspector.embeddingMap = () =>
      Promise.resolve({
        ids: VOCABULARY.map((_, id) => id),
        tokens: [...VOCABULARY],
        points,
        explained: [0.5, 0.25],
        limit: VOCABULARY.length,
      });
    await mount(fake);
    await open('map');
    await settled();
    const canvas = part<HTMLCanvasElement>('scatter')!;
    const bounds = canvas.getBoundingClientRect();
    canvas.dispatchEvent(
      new PointerEvent('pointermove', {
        clientX: bounds.left + canvas.clientWidth - 30,
        clientY: bounds.top + canvas.clientHeight / 2 + 3,
      }),
    );
    await waitFor(() => text(part('scatter-readout')).includes('id'), 'the readout of the point');
    expect(text(part('scatter-readout'))).to.equal(`${VOCABULARY[loner]} · id ${loner}: (10.000, 0.000)`);

    canvas.dispatchEvent(new PointerEvent('pointerleave'));
    await explorer.updateComplete;
    expect(text(part('scatter-readout'))).to.match(/Point at a dot/);

    canvas.focus();
    await sendKeys({ press: 'ArrowRight' });
    await sendKeys({ press: 'ArrowRight' });
    await sendKeys({ press: 'ArrowRight' });
    await explorer.updateComplete;
    expect(text(part('scatter-readout'))).to.equal(`␣ space · id 2: (${shown(points[4]!, 3)}, ${shown(points[5]!, 3)})`);
    await sendKeys({ press: 'ArrowUp' });
    await explorer.updateComplete;
    expect(text(part('scatter-readout'))).to.match(/^⏎ line break · id 1:/);
  });

  it('hands the position similarity matrix to a diverging heatmap with position axes', async () => {
    await mount();
    await open('positions');
    await settled();
    expect(client.called('positionSimilarity')).to.deep.equal([[]]);
    const heatmap = part<Heatmap>('position-heatmap')!;
    const values = client.lastAnswer<Float32Array>();
    expect(heatmap.values).to.equal(values);
    expect(heatmap.values.length).to.equal(BLOCK_SIZE * BLOCK_SIZE);
    expect([heatmap.rows, heatmap.cols]).to.deep.equal([BLOCK_SIZE, BLOCK_SIZE]);
    expect(heatmap.rowLabels).to.deep.equal(Array.from({ length: BLOCK_SIZE }, (_, i) => String(i)));
    expect(heatmap.scale).to.equal('diverging');
    expect([heatmap.min, heatmap.max]).to.deep.equal([-1, 1]);
    expect([heatmap.rowAxis, heatmap.colAxis]).to.deep.equal(['position', 'position']);
  });

  it('compares a word in two prompts at its last occurrence and shows the cosine per layer', async () => {
    // 24 characters of context: the first prompt loses its first 17, so "bank" ends at position 23 of what the model reads.
    const prompt = 'The bank of the river. I went to the bank';
    await mount(new FakeInspector(), prompt);
    await open('context');
    await settled();
    expect(part<HTMLInputElement>('context-word')!.value).to.equal('bank');
    expect(part<HTMLTextAreaElement>('context-first')!.value).to.equal(prompt);
    expect(part<HTMLSelectElement>('context-first-position')!.options).to.have.length(BLOCK_SIZE);
    expect(client.called('contextualSimilarity')).to.deep.equal([
      [
        { text: prompt, position: 23 },
        { text: 'bank', position: 3 },
      ],
    ]);

    const second = 'Money in the bank, a bank by the sea';
    await type('second', second);
    const bankEnd = second.lastIndexOf('bank') + 3 - (second.length - BLOCK_SIZE);
    expect(part<HTMLSelectElement>('context-second-position')!.value).to.equal(String(bankEnd));
    const option = part<HTMLSelectElement>('context-second-position')!.selectedOptions[0]!;
    expect(option.text).to.equal(`${bankEnd}: ank,␣a␣ban[k]␣by␣`);

    const word = part<HTMLInputElement>('context-word')!;
    word.value = 'the';
    word.dispatchEvent(new Event('input'));
    await explorer.updateComplete;
    const kept = (full: string) => full.slice(-BLOCK_SIZE);
    const firstAt = kept(prompt).lastIndexOf('the') + 2;
    const secondAt = kept(second).lastIndexOf('the') + 2;
    expect(part<HTMLSelectElement>('context-first-position')!.value).to.equal(String(firstAt));
    await choose('context-second-position', 5);
    part<HTMLButtonElement>('compare-button')!.click();
    await settled();
    expect(client.called('contextualSimilarity').at(-1)).to.deep.equal([
      { text: prompt, position: firstAt },
      { text: second, position: 5 },
    ]);
    expect(secondAt).to.not.equal(5);

    const { cosines } = client.lastAnswer<ContextualSimilarity>();
    const rows = [...part('context-table')!.querySelectorAll('tr')].map((row) => [
      text(row.querySelector('th')),
      text(row.querySelector('td')),
    ]);
    expect(rows).to.deep.equal(
      cosines.map((cosine, layer) => [layer === 0 ? 'embeddings' : `after layer ${layer}`, shown(cosine, 4)]),
    );
    expect(part('context-chart')!.querySelectorAll('rect.bar')).to.have.length(LAYERS + 1);
    const summary = text(part('context-summary'));
    expect(summary).to.contain(
      `cosine ${shown(cosines[0]!, 4)} in the embeddings, ${shown(cosines[LAYERS]!, 4)} after layer ${LAYERS}`,
    );
    const [first, last] = [cosines[0]!, cosines[LAYERS]!];
    const drift = last < first - 0.05 ? 'pull the two apart' : last > first + 0.05 ? 'bring the two closer' : 'about as alike';
    expect(summary).to.contain(drift);
  });

  it('cannot compare until both prompts have a character', async () => {
    await mount(new FakeInspector(), '');
    await open('context');
    await explorer.updateComplete;
    expect(part<HTMLButtonElement>('compare-button')!.disabled).to.equal(true);
    expect(client.called('contextualSimilarity')).to.deep.equal([]);
    await type('first', 'a cat');
    expect(part<HTMLButtonElement>('compare-button')!.disabled).to.equal(true);
    await type('second', 'cat');
    expect(part<HTMLButtonElement>('compare-button')!.disabled).to.equal(false);
  });

  const failing: [EmbeddingSectionId, Used][] = [
    ['neighbours', 'nearestTokens'],
    ['arithmetic', 'tokenArithmetic'],
    ['directions', 'tokenDirections'],
    ['angle', 'tokenAngle'],
    ['map', 'embeddingMap'],
    ['positions', 'positionSimilarity'],
    ['context', 'contextualSimilarity'],
  ];
  for (const [section, method] of failing) {
    it(`shows the client's error in ${section} (${method})`, async () => {
      const fake = new FakeInspector();
      const message = `${method} failed ${random().toString(36).slice(2)}`;
      fake.failures[method] = message;
      await mount(fake);
      await open(section);
      await waitFor(() => part('error'), 'the error');
      expect(part('error')!.getAttribute('role')).to.equal('alert');
      expect(text(part('error'))).to.equal(message);
    });
  }

  it('drops an answer that came too late, and asks again for new weights or a new model', async () => {
    await mount();
    await settled();
    const releaseFirst = client.hold();
    await choose('token-picker', 5);
    const releaseSecond = client.hold();
    await choose('token-picker', 7);
    expect(text(part('status'))).to.equal('Asking the model…');
    releaseSecond();
    await settled();
    const second = client.lastAnswer<Neighbour[]>();
    expect(listed('neighbours')).to.deep.equal(expected(second));
    releaseFirst();
    await waitFor(() => client.answers.length === 3, 'the late answer');
    await explorer.updateComplete;
    expect(client.called('nearestTokens').slice(1)).to.deep.equal([
      [5, 10],
      [7, 10],
    ]);
    expect(listed('neighbours')).to.deep.equal(expected(second));

    // New weights, the same tokens: asked again for the token picked.
    explorer.vocabulary = [...VOCABULARY];
    await explorer.updateComplete;
    await settled();
    expect(client.called('nearestTokens').at(-1)).to.deep.equal([7, 10]);
    expect(listed('neighbours')).to.deep.equal(expected(client.lastAnswer<Neighbour[]>()));

    // Another model with other tokens: the picks start over.
    const fresh = new FakeInspector(['\uFFFD', ...'xyzea']);
    explorer.client = fresh;
    explorer.vocabulary = fresh.vocabulary;
    client = fresh;
    await explorer.updateComplete;
    await settled();
    expect(fresh.called('nearestTokens')).to.deep.equal([[4, 10]]);
    expect(listed('neighbours')).to.deep.equal(expected(fresh.lastAnswer<Neighbour[]>()));
  });

  describe('on word pieces', () => {
    /** A word-piece vocabulary with the seed's example words (each with its leading space), some letters and marks. */
    const WORDS = [
      ...['\uFFFD', '.', ',', ' ', 'a', 'b', 'In', 'The', 'With', 'At'],
      ...[' tower', ' towers', ' Tower', ' king', ' queen', ' man', ' woman', ' cats', ' cat', ' dogs', ' dog'],
      ...[' mole', ' Harry', ' the', ' garden', ' a', ' dug', ' in', ' of', ' Paris', ' Prince', ' wizard', ' Potter'],
    ];
    /** GPT-2's pre-tokenisation in short: a word keeps its leading space. */
    const wordPieces = (text: string): string[] => text.match(/ ?\p{L}+| ?[^\s\p{L}]+|\s+/gu) ?? [];
    const id = (token: string) => WORDS.indexOf(token);

    it('opens on the seed examples: neighbours of " tower", king − man + woman, shown with a space mark', async () => {
      await mount(new FakeInspector(WORDS, wordPieces), '');
      await settled();
      expect(client.called('nearestTokens')).to.deep.equal([[id(' tower'), 10]]);
      const answer = client.lastAnswer<Neighbour[]>();
      expect(listed('neighbours')).to.deep.equal(expected(answer));
      // A word piece's space is a dimmed mark, and said as "space".
      const piece = answer.findIndex(({ token }) => /^ \S/.test(token));
      const row = part('neighbours')!.querySelectorAll('[part~="neighbour"]')[piece]!;
      expect(row.querySelector('[part~="neighbour-token"] .space-mark')!.textContent).to.equal('␣');
      expect(row.getAttribute('aria-label')).to.equal(
        `space then "${answer[piece]!.token.slice(1)}", id ${answer[piece]!.id}: cosine ${shown(answer[piece]!.cosine, 4)}`,
      );

      await open('arithmetic');
      await settled();
      expect(client.called('tokenArithmetic')).to.deep.equal([[id(' king'), id(' man'), id(' woman'), 10]]);
      expect(text(part('explanation'))).to.contain('space then "king" − space then "man" + space then "woman"');

      await open('angle');
      await settled();
      expect(client.called('tokenAngle')).to.deep.equal([[id(' king'), id(' queen')]]);
    });

    it('finds a token by typing in the picker; Enter picks the best match', async () => {
      await mount(new FakeInspector(WORDS, wordPieces), '');
      await settled();
      const search = part<HTMLInputElement>('token-picker-search')!;
      search.focus();
      await sendKeys({ type: 'dog' });
      await explorer.updateComplete;
      const options = [...part<HTMLSelectElement>('token-picker')!.options].map((option) => option.text);
      // The chosen token stays listed first, then " dog" (the word itself) before " dogs".
      expect(options).to.deep.equal([`␣tower · ${id(' tower')}`, `␣dog · ${id(' dog')}`, `␣dogs · ${id(' dogs')}`]);
      expect(text(part('token-picker-found'))).to.equal('2 matches');
      await sendKeys({ press: 'Enter' });
      await settled();
      expect(client.called('nearestTokens').at(-1)).to.deep.equal([id(' dog'), 10]);
      expect(part<HTMLSelectElement>('token-picker')!.value).to.equal(String(id(' dog')));
    });

    it('compares cats − cat with dogs − dog: the cosine of the two differences, and each applied to the other pair', async () => {
      const fake = new FakeInspector(WORDS, wordPieces);
      await mount(fake, '');
      await open('directions');
      await settled();
      const [cats, cat, dogs, dog] = [' cats', ' cat', ' dogs', ' dog'].map(id);
      expect(client.called('tokenDirections')).to.deep.equal([[cats, cat, dogs, dog, 10]]);
      const { cosine, lengths, applied } = client.answers.at(-1) as TokenDirections;
      expect(text(part('directions-cosine'))).to.contain(
        `: ${shown(cosine, 4)} (lengths ${shown(lengths[0], 3)} and ${shown(lengths[1], 3)})`,
      );
      expect(listed('directions-first')).to.deep.equal(expected(applied[0]));
      expect(listed('directions-second')).to.deep.equal(expected(applied[1]));
    });

    it('"In context" opens on mole: the first prompt against one in the same sense and one in another', async () => {
      await mount(new FakeInspector(WORDS, wordPieces), '');
      await open('context');
      await settled();
      const buttons = [...section().querySelectorAll<HTMLButtonElement>('[part~="example"]')];
      expect(buttons.map((button) => text(button))).to.deep.equal(['mole', 'tower', 'Harry']);
      expect(buttons[0]!.getAttribute('aria-pressed')).to.equal('true');
      const prompts = ['first', 'second', 'third'].map((which) => part<HTMLTextAreaElement>(`context-${which}`)!.value);
      expect(prompts[0]).to.equal('In the meadow, a tiny mole dug a tunnel under the lawn.');
      expect(prompts[2]).to.equal('In chemistry class, we weighed one mole of carbon dioxide.');
      const at = (prompt: string) => ({ text: prompt, position: wordPieces(prompt).indexOf(' mole') });
      expect(client.called('contextualSimilarity')).to.deep.equal([
        [at(prompts[0]!), at(prompts[1]!)],
        [at(prompts[0]!), at(prompts[2]!)],
      ]);
      const [same, other] = client.answers.slice(-2) as ContextualSimilarity[];
      const rows = [...part('context-table')!.querySelectorAll('tbody tr')].map((row) =>
        [...row.querySelectorAll('td')].map((cell) => cell.textContent),
      );
      expect(rows).to.deep.equal(same!.cosines.map((cosine, layer) => [shown(cosine, 4), shown(other!.cosines[layer]!, 4)]));
      expect(part('context-chart')!.querySelectorAll('rect.bar')).to.have.length(2 * (LAYERS + 1));
      const columns = [...part('context-table')!.querySelectorAll('thead th')].map((heading) => heading.textContent);
      expect(columns).to.deep.equal(['same sense', 'other sense']);
      const closer = same!.cosines[LAYERS]! >= other!.cosines[LAYERS]! ? 'second' : 'third';
      expect(text(part('context-summary'))).to.contain(
        `After layer ${LAYERS} the first prompt's vector is closer to the ${closer} prompt's`,
      );

      buttons[2]!.click();
      await waitFor(() => client.called('contextualSimilarity').length === 4, 'the Harry comparisons');
      const harry = client.called('contextualSimilarity').slice(-2) as { text: string; position: number }[][];
      expect(harry.map(([, other]) => other!.text)).to.deep.equal([
        'With a wand in his hand, the wizard Harry Potter cast a spell.',
        'At the palace, Prince Harry greeted the crowd.',
      ]);
      for (const pair of harry)
        for (const { text: prompt, position } of pair) expect(wordPieces(prompt)[position]).to.equal(' Harry');
      expect(text(part('example-note'))).to.equal(
        '"Harry" means the wizard in the first and second prompts, the prince in the third.',
      );
    });

    it('a map of many tokens labels only the example words, and says so', async () => {
      const many = [...WORDS, ...Array.from({ length: 200 }, (_, i) => ` w${i}`)];
      const drawn: string[] = [];
      const fillText = CanvasRenderingContext2D.prototype.fillText;
      CanvasRenderingContext2D.prototype.fillText = function (label: string, ...rest: [number, number]) {
        drawn.push(label);
        return fillText.call(this, label, ...rest);
      };
      try {
        await mount(new FakeInspector(many, wordPieces), '');
        await open('map');
        await settled();
        await waitFor(() => drawn.length > 0, 'the labels');
        const labelled = [' tower', ' towers', ' king', ' queen', ' man', ' woman', ' cats', ' cat', ' dogs', ' dog'];
        expect([...new Set(drawn)].sort()).to.deep.equal(labelled.map((word) => word.replace(' ', '␣')).sort());
        expect(text(part('explained'))).to.contain(`Of the ${many.length} dots, only the ${labelled.length} words of pairs`);
      } finally {
        CanvasRenderingContext2D.prototype.fillText = fillText;
      }
    });

    it('a character model gets no word examples', async () => {
      await mount(new FakeInspector(), '');
      await open('context');
      await explorer.updateComplete;
      expect(part('examples')).to.equal(null);
      expect(part<HTMLTextAreaElement>('context-first')!.value).to.equal('');
    });
  });
});
