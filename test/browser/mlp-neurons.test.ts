// <llm-mlp-neurons> against an in-memory client of its slice with fresh random
// numbers: the neurons listed are the client's, choosing a token or a layer asks
// for the right neurons, the GELU point sits on the curve where the formula puts
// it, the facts view reads the name's neurons in every layer and marks the
// tokens that start the answer, and busy and error states show.
import { sendKeys } from '@web/test-runner-commands';
import { expect } from 'chai';
import type { EngineClient } from '../../src/client.ts';
import '../../src/elements/mlp-neurons.ts';
import type { MlpNeurons, MlpNeuronsClient } from '../../src/elements/mlp-neurons.ts';
import { formatPercent, visibleToken } from '../../src/visible-token.ts';
import type { FactPrompt, GPTConfig, Neuron, NeuronReport, PromptOdds, TokenScore } from '../../workers/api/index.ts';
import { pick, randomIn, randomInt } from './seeded.ts';
import { waitFor } from './wait-for.ts';

// The inspector panel hands its EngineClient to the element.
const engineClientFits: EngineClient extends MlpNeuronsClient ? true : never = true;

// Characters, and one word piece (a word-piece model's answer token).
const VOCAB = [' ', '\n', ...'abcdefghijklmnopqrstuvwxyz', ...'ABCDEFGHIJKLMNOPQRSTUVWXYZ', '.', ',', ' basketball'];
const WORDS = ['tennis', 'rugby', 'golf', 'cricket', 'hockey', 'polo', 'squash', 'darts'];

const LETTERS = [...'abcdefghijklmnopqrstuvwxyz'];
const randomWord = (length: number): string => Array.from({ length }, () => pick(LETTERS)).join('');
const randomPrompt = (): string => Array.from({ length: randomInt(3, 6) }, () => randomWord(randomInt(2, 6))).join(' ');
const capitalized = (word: string): string => word[0]!.toUpperCase() + word.slice(1);

/** The reference GELU (GPT-2's tanh form written as x·σ(2√(2/π)·(x + 0.044715x³))). */
const geluReference = (x: number): number => x / (1 + Math.exp(-1.5957691 * (x + 0.044715 * x ** 3)));

/** A promoted token starts the answer when the answer's first letter is it. */
/** A token starts the answer when the answer begins with it, with or without the answer's leading space; a blank one never does. */
const startsAnswerReference = (token: string, answer: string): boolean =>
  /\S/.test(token) && [answer, answer.replace(/^\s+/, '')].some((text) => text.slice(0, token.length) === token);

type Method = 'odds' | 'topNeurons' | 'factPrompts';
interface Call {
  method: Method;
  args: unknown[];
}

/** Answers with fresh random numbers; records every call and what it returned; fails a method on request; can hold answers. */
class FakeInspector implements MlpNeuronsClient {
  readonly calls: Call[] = [];
  readonly reports: { args: [string, number, number, number]; report: NeuronReport }[] = [];
  readonly inspections = new Map<string, PromptOdds>();
  readonly failures: Partial<Record<Method, string>> = {};
  readonly config: GPTConfig = {
    vocabSize: VOCAB.length,
    blockSize: 48,
    nLayer: randomInt(2, 6),
    nHead: 2,
    nEmbd: 8 * randomInt(2, 6),
    tied: true,
  };
  readonly facts: FactPrompt[] = Array.from({ length: randomInt(3, 6) }, () => {
    const name = `${capitalized(randomWord(randomInt(3, 6)))} ${capitalized(randomWord(randomInt(3, 6)))}`;
    return { prompt: `${name} plays`, answer: ` ${pick(WORDS)}`, namePosition: name.length - 1 };
  });
  /** Tokens every report's first neuron promotes (in the facts view: one to mark, one not to). */
  promoteAlso: string[] = [];
  private gate: Promise<void> = Promise.resolve();
  private open = () => {};

  hold(): void {
    this.gate = new Promise((resolve) => (this.open = resolve));
  }

  release(): void {
    this.open();
    this.gate = Promise.resolve();
  }

  private async answer<T>(method: Method, args: unknown[], make: () => T): Promise<T> {
    this.calls.push({ method, args });
    await this.gate;
    const failure = this.failures[method];
    if (failure) throw new Error(failure);
    return make();
  }

  readonly inspector = {
    odds: (text: string) => this.odds(text),
    topNeurons: (text: string, position: number, layer: number, count: number) => this.topNeurons(text, position, layer, count),
    factPrompts: () => this.answer('factPrompts', [], () => this.facts),
  };

  private odds(text: string): Promise<PromptOdds> {
    return this.answer('odds', [text], () => {
      const tokens = [...(text || '\n')].slice(-this.config.blockSize);
      let left = 1;
      const top = distinctTokens(5).map((score) => {
        const probability = left * randomIn(0.2, 0.7);
        left -= probability;
        return { ...score, score: probability };
      });
      const inspection: PromptOdds = {
        ids: tokens.map((token) => VOCAB.indexOf(token)),
        tokens,
        config: this.config,
        next: new Float32Array(VOCAB.length).fill(0.001),
        top,
      };
      this.inspections.set(text, inspection);
      return inspection;
    });
  }

  private topNeurons(text: string, position: number, layer: number, count: number): Promise<NeuronReport> {
    return this.answer('topNeurons', [text, position, layer, count], () => {
      const indices = new Set<number>();
      while (indices.size < count) indices.add(randomInt(0, 4 * this.config.nEmbd));
      const neurons: Neuron[] = [...indices].map((index) => {
        const pre = randomIn(-2.5, 4.5);
        return { index, pre, post: geluReference(pre), promotes: distinctTokens(randomInt(3, 6)) };
      });
      neurons.sort((a, b) => b.post - a.post);
      neurons[0]!.promotes = distinctTokens(neurons[0]!.promotes.length, this.promoteAlso);
      const report = { layer, position, neurons };
      this.reports.push({ args: [text, position, layer, count], report });
      return report;
    });
  }

  callsOf(method: Method): unknown[][] {
    return this.calls.filter((call) => call.method === method).map((call) => call.args);
  }

  lastReport(): NeuronReport {
    return this.reports.at(-1)!.report;
  }
}

/** Distinct random tokens (`include` among them) with scores, highest first. */
function distinctTokens(count: number, include: readonly string[] = []): TokenScore[] {
  const ids = new Set(include.map((token) => VOCAB.indexOf(token)));
  while (ids.size < count) ids.add(randomInt(0, VOCAB.length));
  return [...ids].map((id) => ({ id, token: VOCAB[id]!, score: randomIn(-1, 6) })).sort((a, b) => b.score - a.score);
}

const parts = (root: ParentNode, name: string): HTMLElement[] => [...root.querySelectorAll<HTMLElement>(`[part~="${name}"]`)];
const part = (root: ParentNode, name: string): HTMLElement | null => root.querySelector<HTMLElement>(`[part~="${name}"]`);
const shadow = (element: MlpNeurons): ShadowRoot => element.shadowRoot!;
const idle = (element: MlpNeurons): boolean => !!shadow(element).querySelector('section[aria-busy="false"]');

/** What a neuron row shows, read back from its parts. */
function shownNeuron(row: HTMLElement) {
  return {
    index: Number(part(row, 'neuron-index')!.textContent),
    pre: Number(part(row, 'neuron-pre')!.textContent),
    post: Number(part(row, 'neuron-post')!.textContent),
    promotes: parts(row, 'promote').map((chip) => ({
      token: part(chip, 'promote-token')!.textContent,
      score: Number(part(chip, 'promote-score')!.textContent),
    })),
  };
}

/** The neurons shown equal the report: same neurons in the same order, numbers as printed (3 and 2 decimals). */
function expectShown(rows: HTMLElement[], report: NeuronReport): void {
  expect(rows.length).to.equal(report.neurons.length);
  rows.forEach((row, i) => {
    const shown = shownNeuron(row);
    const neuron = report.neurons[i]!;
    expect(shown.index, `neuron ${i}`).to.equal(neuron.index);
    expect(shown.pre).to.be.closeTo(neuron.pre, 5e-4);
    expect(shown.post).to.be.closeTo(neuron.post, 5e-4);
    expect(shown.promotes.map(({ token }) => token)).to.deep.equal(neuron.promotes.map(({ token }) => visibleToken(token)));
    shown.promotes.forEach(({ score }, k) => expect(score).to.be.closeTo(neuron.promotes[k]!.score, 5e-3));
  });
}

const elements: MlpNeurons[] = [];

async function mount(fake: FakeInspector, text: string, view?: 'facts'): Promise<MlpNeurons> {
  const element = document.createElement('llm-mlp-neurons');
  if (view) element.view = view;
  element.client = fake;
  element.text = text;
  document.body.append(element);
  elements.push(element);
  await waitFor(
    () => idle(element) && (view || parts(shadow(element), 'neuron').length > 0 || part(shadow(element), 'error')),
    'the first neurons',
  );
  return element;
}

/** Waits until the panel shows the report of the newest topNeurons call. */
async function settled(element: MlpNeurons, fake: FakeInspector): Promise<void> {
  // A task first: by then the panel shows the read it started (busy, or done), not the one before it.
  await new Promise((resolve) => setTimeout(resolve));
  await waitFor(() => idle(element) && fake.reports.length > 0, 'the neurons');
  await element.updateComplete;
}

afterEach(() => {
  for (const element of elements.splice(0)) element.remove();
});

describe('<llm-mlp-neurons>', () => {
  it('fits the EngineClient', () => {
    expect(engineClientFits).to.equal(true);
  });

  it('lists the neurons the client reports for the last token in layer 1: indices, values, promoted tokens, in order', async () => {
    const fake = new FakeInspector();
    const text = randomPrompt();
    const element = await mount(fake, text);
    expect(fake.callsOf('odds')).to.deep.equal([[text]]);
    expect(fake.callsOf('topNeurons')).to.deep.equal([[text, text.length - 1, 0, 8]]);
    expectShown(parts(shadow(element), 'neuron'), fake.lastReport());
    const chips = parts(shadow(element), 'token');
    expect(chips.map((chip) => chip.textContent)).to.deep.equal([...text].map(visibleToken));
    expect(parts(shadow(element), 'token-chosen')).to.deep.equal([chips.at(-1)]);
    const options = [...shadow(element).querySelectorAll('[part~="layer-select"] option')];
    expect(options.length).to.equal(fake.config.nLayer);
    expect(part(shadow(element), 'status')!.textContent).to.contain(`of its ${4 * fake.config.nEmbd} neurons`);
    expect(part(shadow(element), 'explanation')!.textContent).to.match(/reads one direction.*adds its own direction/s);
  });

  it('asks for the clicked token and the chosen layer, and shows what comes back', async () => {
    const fake = new FakeInspector();
    const text = randomPrompt();
    const element = await mount(fake, text);
    let layer = 0;
    for (let round = 0; round < 4; round++) {
      const position = randomInt(0, text.length);
      parts(shadow(element), 'token')[position]!.click();
      await settled(element, fake);
      expect(fake.reports.at(-1)!.args).to.deep.equal([text, position, layer, 8]);
      expectShown(parts(shadow(element), 'neuron'), fake.lastReport());

      layer = randomInt(0, fake.config.nLayer);
      const select = part(shadow(element), 'layer-select') as HTMLSelectElement;
      select.value = String(layer);
      select.dispatchEvent(new Event('change'));
      await settled(element, fake);
      expect(fake.reports.at(-1)!.args).to.deep.equal([text, position, layer, 8]);
      expectShown(parts(shadow(element), 'neuron'), fake.lastReport());
      expect(part(shadow(element), 'status')!.textContent)
        .to.contain(`Layer ${layer + 1}, at`)
        .and.contain(`(position ${position})`);
    }
    expect(fake.callsOf('odds').length, 'the prompt is read once').to.equal(1);
  });

  it('moves the chosen token with the arrow keys, Home and End, focus following', async () => {
    const fake = new FakeInspector();
    const text = randomPrompt();
    const last = text.length - 1;
    const element = await mount(fake, text);
    part(shadow(element), 'token-chosen')!.focus();
    const steps: [string, number][] = [
      ['ArrowLeft', last - 1],
      ['ArrowLeft', last - 2],
      ['Home', 0],
      ['ArrowLeft', 0],
      ['ArrowRight', 1],
      ['ArrowDown', 2],
      ['ArrowUp', 1],
      ['End', last],
    ];
    for (const [key, position] of steps) {
      const before = fake.reports.length;
      await sendKeys({ press: key });
      await settled(element, fake);
      const chosen = part(shadow(element), 'token-chosen')!;
      expect(parts(shadow(element), 'token').indexOf(chosen), key).to.equal(position);
      expect(shadow(element).activeElement).to.equal(chosen);
      expect(chosen.getAttribute('aria-checked')).to.equal('true');
      if (fake.reports.length > before) expect(fake.reports.at(-1)!.args[1]).to.equal(position);
      expectShown(parts(shadow(element), 'neuron'), fake.lastReport());
    }
    expect(fake.reports.map(({ args }) => args[1])).to.deep.equal([last, last - 1, last - 2, 0, 1, 2, 1, last]);
  });

  it("draws each neuron's point on the GELU curve where x·σ(1.5957691·(x + 0.044715x³)) puts it", async () => {
    const fake = new FakeInspector();
    const element = await mount(fake, randomPrompt());
    const report = fake.lastReport();
    const rows = parts(shadow(element), 'neuron');
    rows.forEach((row, i) => {
      const neuron = report.neurons[i]!;
      const svg = part(row, 'gelu') as unknown as SVGSVGElement;
      const curve = part(row, 'gelu-curve') as unknown as SVGPathElement;
      const point = part(row, 'gelu-point') as unknown as SVGCircleElement;
      // The curve's vertices, in data coordinates, are the formula's values.
      const vertices = curve
        .getAttribute('d')!
        .slice(1)
        .split('L')
        .map((pair) => pair.split(',').map(Number) as [number, number]);
      expect(vertices.length).to.be.greaterThan(30);
      for (const [x, y] of vertices) expect(y, `gelu(${x})`).to.be.closeTo(geluReference(x), 1e-3);
      expect(vertices[0]![0]).to.be.below(neuron.pre);
      expect(vertices.at(-1)![0]).to.be.above(neuron.pre);
      // The point, in pixels, is (pre, gelu(pre)) taken through the curve's own transform.
      const matrix = (curve.parentNode as SVGGElement).transform.baseVal.consolidate()!.matrix;
      const expected = new DOMPoint(neuron.pre, geluReference(neuron.pre)).matrixTransform(matrix);
      expect(point.cx.baseVal.value).to.be.closeTo(expected.x, 0.01);
      expect(point.cy.baseVal.value).to.be.closeTo(expected.y, 0.01);
      // And it is inside the picture.
      const box = svg.viewBox.baseVal;
      expect(expected.x).to.be.within(box.x, box.x + box.width);
      expect(expected.y).to.be.within(box.y, box.y + box.height);
      expect(svg.getAttribute('role')).to.equal('img');
      expect(svg.getAttribute('aria-label')).to.contain(neuron.pre.toFixed(3)).and.contain(neuron.post.toFixed(3));
    });
  });

  it('reads a new prompt, follows its last token until one is chosen, then keeps the choice', async () => {
    const fake = new FakeInspector();
    const element = await mount(fake, randomPrompt());
    let text = randomPrompt();
    element.text = text;
    await waitFor(() => fake.callsOf('odds').length === 2 && idle(element), 'the new prompt');
    await element.updateComplete;
    expect(fake.reports.at(-1)!.args).to.deep.equal([text, text.length - 1, 0, 8]);
    expect(parts(shadow(element), 'token').length).to.equal(text.length);
    expectShown(parts(shadow(element), 'neuron'), fake.lastReport());

    parts(shadow(element), 'token')[1]!.click();
    await settled(element, fake);
    text = `${text} ${randomWord(3)}`;
    element.text = text;
    await waitFor(() => fake.callsOf('odds').length === 3 && idle(element), 'the longer prompt');
    expect(fake.reports.at(-1)!.args).to.deep.equal([text, 1, 0, 8]);
  });

  it("shows the newest prompt's neurons when older answers arrive late", async () => {
    const fake = new FakeInspector();
    const element = await mount(fake, randomPrompt());
    fake.hold();
    element.text = randomPrompt();
    await element.updateComplete;
    const newest = randomPrompt();
    element.text = newest;
    await element.updateComplete;
    fake.release();
    await waitFor(() => idle(element) && fake.reports.at(-1)!.args[0] === newest, 'the newest prompt');
    await element.updateComplete;
    expect(parts(shadow(element), 'token').map((chip) => chip.textContent)).to.deep.equal([...newest].map(visibleToken));
    expectShown(parts(shadow(element), 'neuron'), fake.lastReport());
  });

  it('says it is reading while the client works, the old neurons dimmed', async () => {
    const fake = new FakeInspector();
    const element = await mount(fake, randomPrompt());
    fake.hold();
    parts(shadow(element), 'token')[0]!.click();
    await element.updateComplete;
    expect(shadow(element).querySelector('section')!.getAttribute('aria-busy')).to.equal('true');
    expect(part(shadow(element), 'status')!.textContent).to.contain('Reading');
    expect(part(shadow(element), 'neurons')!.classList.contains('stale')).to.equal(true);
    fake.release();
    await settled(element, fake);
    expect(part(shadow(element), 'neurons')!.classList.contains('stale')).to.equal(false);
    expect(part(shadow(element), 'status')!.textContent).to.contain('(position 0)');
  });

  it("shows the client's error, and clears it when a later read works", async () => {
    const fake = new FakeInspector();
    fake.failures.odds = `No model loaded ${randomInt(1, 1e6)}`;
    const element = await mount(fake, randomPrompt());
    expect(part(shadow(element), 'error')!.textContent).to.equal(fake.failures.odds);
    expect(part(shadow(element), 'error')!.getAttribute('role')).to.equal('alert');

    delete fake.failures.odds;
    element.text = randomPrompt();
    await waitFor(() => idle(element) && parts(shadow(element), 'neuron').length > 0, 'neurons after the error');
    expect(part(shadow(element), 'error')).to.equal(null);

    fake.failures.topNeurons = `Layer out of range ${randomInt(1, 1e6)}`;
    parts(shadow(element), 'token')[0]!.click();
    await waitFor(() => part(shadow(element), 'error'), 'the error');
    expect(part(shadow(element), 'error')!.textContent).to.equal(fake.failures.topNeurons);
    delete fake.failures.topNeurons;
    parts(shadow(element), 'token')[1]!.click();
    await settled(element, fake);
    expect(part(shadow(element), 'error')).to.equal(null);
    expectShown(parts(shadow(element), 'neuron'), fake.lastReport());
  });

  describe('facts view', () => {
    /** Every layer's neurons for the fact, read at the name's end, shown per layer; answer-starting tokens marked. */
    async function expectFact(element: MlpNeurons, fake: FakeInspector, fact: FactPrompt): Promise<void> {
      await waitFor(
        () => idle(element) && fake.reports.filter(({ args }) => args[0] === fact.prompt).length === fake.config.nLayer,
        'every layer',
      );
      await element.updateComplete;
      const reports = fake.reports.filter(({ args }) => args[0] === fact.prompt);
      expect(reports.map(({ args }) => [args[1], args[3]])).to.deep.equal(reports.map(() => [fact.namePosition, 4]));
      expect(reports.map(({ args }) => args[2]).sort()).to.deep.equal(Array.from({ length: fake.config.nLayer }, (_, l) => l));

      const layers = parts(shadow(element), 'fact-layer');
      expect(layers.length).to.equal(fake.config.nLayer);
      let marked = 0;
      let unmarkedSpaces = 0;
      layers.forEach((row, layer) => {
        expect(row.querySelector('h5')!.textContent).to.equal(`Layer ${layer + 1}`);
        const report = reports.find(({ args }) => args[2] === layer)!.report;
        expectShown(parts(row, 'fact-neuron'), report);
        const chips = parts(row, 'promote');
        const tokens = report.neurons.flatMap((neuron) => neuron.promotes.map(({ token }) => token));
        chips.forEach((chip, k) => {
          const starts = startsAnswerReference(tokens[k]!, fact.answer);
          expect(chip.part.contains('answer'), `${JSON.stringify(tokens[k])} for ${JSON.stringify(fact.answer)}`).to.equal(
            starts,
          );
          if (starts) marked++;
          if (tokens[k] === ' ' && !starts) unmarkedSpaces++;
        });
      });
      expect(marked, 'answer-starting tokens marked').to.be.at.least(fake.config.nLayer);
      expect(unmarkedSpaces, 'the space before the answer is not its start').to.be.at.least(fake.config.nLayer);

      const inspection = fake.inspections.get(fact.prompt)!;
      const name = part(shadow(element), 'name')!;
      expect(parts(shadow(element), 'fact-token').indexOf(name)).to.equal(fact.namePosition);
      expect(parts(shadow(element), 'prediction').map((row) => row.textContent!.replace(/\s+/g, ' ').trim())).to.deep.equal(
        inspection.top.map(({ token, score }) => `${visibleToken(token)} ${formatPercent(score)}`),
      );
    }

    it("reads the first fact's name neurons in every layer, marks answer-starting tokens, shows the prediction", async () => {
      const fake = new FakeInspector();
      const fact = fake.facts[0]!;
      fake.promoteAlso = [fact.answer.trim()[0]!, ' '];
      const element = await mount(fake, randomPrompt());
      part(shadow(element), 'facts-view-button')!.click();
      await element.updateComplete;
      expect(element.getAttribute('view')).to.equal('facts');
      await expectFact(element, fake, fact);
      expect(fake.callsOf('factPrompts').length).to.equal(1);
      expect(fake.callsOf('odds').at(-1)).to.deep.equal([fact.prompt]);
      const options = [...shadow(element).querySelectorAll('[part~="fact-select"] option')];
      expect(options.map((option) => option.textContent)).to.deep.equal(fake.facts.map((f) => `${f.prompt} →${f.answer}`));
    });

    it('opens on the seed\'s fact, "Michael Jordan plays the sport of", when the facts have it', async () => {
      const fake = new FakeInspector();
      const index = randomInt(1, fake.facts.length + 1);
      const prompt = 'Michael Jordan plays the sport of';
      // A word-piece model's answer keeps its leading space: " basketball" is one token, and starts it.
      const fact = { prompt, answer: ' basketball', namePosition: 1 };
      fake.facts.splice(index, 0, fact);
      fake.promoteAlso = [' basketball', ' '];
      const element = await mount(fake, randomPrompt(), 'facts');
      await expectFact(element, fake, fact);
      expect((part(shadow(element), 'fact-select') as HTMLSelectElement).value).to.equal(String(index));
    });

    it('reads another fact when one is chosen, and goes back to the prompt without reading it again', async () => {
      const fake = new FakeInspector();
      const element = await mount(fake, randomPrompt(), 'facts');
      const index = randomInt(1, fake.facts.length);
      const fact = fake.facts[index]!;
      fake.promoteAlso = [fact.answer.trim()[0]!, ' '];
      const select = part(shadow(element), 'fact-select') as HTMLSelectElement;
      select.value = String(index);
      select.dispatchEvent(new Event('change'));
      await expectFact(element, fake, fact);
      expect(fake.callsOf('factPrompts').length).to.equal(1);

      const promptReads = fake.callsOf('odds').length;
      part(shadow(element), 'prompt-view-button')!.click();
      await waitFor(() => idle(element) && parts(shadow(element), 'neuron').length > 0, 'the prompt view');
      expect(fake.callsOf('odds').length).to.equal(promptReads + 1);
      part(shadow(element), 'facts-view-button')!.click();
      await element.updateComplete;
      expect(fake.callsOf('factPrompts').length, 'facts are read once').to.equal(1);
      expect(parts(shadow(element), 'fact-layer').length).to.equal(fake.config.nLayer);
    });

    it("shows the client's error for the facts", async () => {
      const fake = new FakeInspector();
      fake.failures.factPrompts = `No fact corpus ${randomInt(1, 1e6)}`;
      const element = await mount(fake, randomPrompt(), 'facts');
      await waitFor(() => part(shadow(element), 'error'), 'the error');
      expect(part(shadow(element), 'error')!.textContent).to.equal(fake.failures.factPrompts);
      expect(part(shadow(element), 'error')!.getAttribute('role')).to.equal('alert');

      const other = new FakeInspector();
      other.failures.topNeurons = `Worker stopped ${randomInt(1, 1e6)}`;
      element.client = other;
      await waitFor(() => part(shadow(element), 'error')?.textContent === other.failures.topNeurons, 'the neuron error');
      expect(other.callsOf('factPrompts').length, 'a new client: its facts').to.equal(1);
    });
  });
});
