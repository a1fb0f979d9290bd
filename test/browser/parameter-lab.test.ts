// <llm-parameter-lab> against a fake of its labs slice that answers fresh random
// breakdowns: the table, the share sentence, the stacked bar, memory, the
// active model's buffer check, the custom shape, the context control, stale
// answers and errors.
import { expect } from 'chai';
import type { EngineClient } from '../../src/client.ts';
import '../../src/elements/parameter-lab.ts';
import type { ParameterLab, ParameterLabClient } from '../../src/elements/parameter-lab.ts';
import type { ActiveModelCount, GPTConfig, NamedConfig, ParameterBreakdown, ParameterRow } from '../../workers/api/index.ts';
import { random, randomInt } from './seeded.ts';
import { waitFor } from './wait-for.ts';

// The playground hands its EngineClient to the element: it must have every method the element calls.
const engineClientFits: EngineClient extends ParameterLabClient ? true : never = true;

const CATEGORIES: ParameterRow['category'][] = [
  'embedding',
  'query',
  'key',
  'value',
  'output',
  'mlpUp',
  'mlpDown',
  'unembedding',
];
const WORDS = ['Otter', 'Lantern', 'Harbour', 'Quartz', 'Meadow', 'Cobalt', 'Fable', 'Juniper'];

const randomWord = (): string => WORDS[randomInt(0, WORDS.length)]!;
const count = (value: number): string => value.toLocaleString('en-US');

function randomConfig(): GPTConfig {
  const nHead = randomInt(2, 40);
  return {
    vocabSize: randomInt(1000, 90_000),
    blockSize: randomInt(64, 4096),
    nLayer: randomInt(2, 100),
    nHead,
    nEmbd: nHead * randomInt(16, 200),
    tied: random() < 0.5,
  };
}

/**
 * A breakdown with the given counts per category (random ones by default); shares are count / sum. The attention
 * figures follow the config (T² per head, L·H·T² per model) so the context ratio can be checked.
 */
function randomBreakdown(config: GPTConfig, given?: Record<ParameterRow['category'], number>): ParameterBreakdown {
  const counts =
    given ??
    (Object.fromEntries(CATEGORIES.map((category) => [category, randomInt(1e5, 1e9)])) as Record<
      ParameterRow['category'],
      number
    >);
  const categoriesTotal = CATEGORIES.reduce((sum, category) => sum + counts[category], 0);
  const rest = randomInt(1000, 1e6);
  return {
    config,
    rows: CATEGORIES.map((category) => ({
      category,
      label: `${randomWord()} ${category}`,
      count: counts[category],
      formula: `${randomInt(2, 99)} ${randomWord().toLowerCase()} × ${count(randomInt(100, 20000))}`,
      share: counts[category] / categoriesTotal,
    })),
    counts: { ...counts, rest, total: categoriesTotal + rest },
    categoriesTotal,
    memory: { float32: randomInt(1e6, 1e12), float16: randomInt(1e6, 1e12), int4: randomInt(1e6, 1e12) },
    attentionPerHead: config.blockSize ** 2,
    attentionPerModel: config.nLayer * config.nHead * config.blockSize ** 2,
  };
}

/** Attention matrices of `matrix` numbers each, MLP matrices four times that, embeddings of `embedding` each. */
function shapedCounts(matrix: number, embedding: number): Record<ParameterRow['category'], number> {
  return {
    embedding,
    query: matrix,
    key: matrix,
    value: matrix,
    output: matrix,
    mlpUp: 4 * matrix,
    mlpDown: 4 * matrix,
    unembedding: embedding,
  };
}

type Labs = ParameterLabClient['labs'];
type Method = keyof Labs;

/** Answers the parameter lab's calls with fresh random breakdowns; records calls; fails or holds them on request. */
class FakeLabs implements Labs {
  readonly calls: { method: Method; args: unknown[] }[] = [];
  readonly failures: Partial<Record<Method, string>> = {};
  readonly configs: NamedConfig[];
  readonly activeConfig = randomConfig();
  /** Every breakdown answered, in order. */
  readonly breakdowns: ParameterBreakdown[] = [];
  /** The active model's buffer length minus its count. */
  bufferDifference = 0;
  /** Counts to answer with instead of random ones. */
  counts: Record<ParameterRow['category'], number> | undefined;
  /** While holding, each parameterBreakdown waits for its own release. */
  holding = false;
  readonly held: (() => void)[] = [];

  constructor() {
    const names = ['GPT-2 small', 'GPT-2 medium', 'GPT-2 large', 'GPT-2 XL', 'GPT-3 175B'];
    this.configs = names.map((label) => ({ id: `id-${randomInt(0, 36 ** 6).toString(36)}`, label, config: randomConfig() }));
  }

  get gpt3(): NamedConfig {
    return this.configs.at(-1)!;
  }

  lastBreakdownCall(): GPTConfig {
    return this.calls.filter((call) => call.method === 'parameterBreakdown').at(-1)!.args[0] as GPTConfig;
  }

  private record(method: Method, ...args: unknown[]): void {
    this.calls.push({ method, args });
    const failure = this.failures[method];
    if (failure) throw new Error(failure);
  }

  async knownConfigs(): Promise<NamedConfig[]> {
    this.record('knownConfigs');
    return this.configs;
  }

  async parameterBreakdown(config: GPTConfig): Promise<ParameterBreakdown> {
    this.record('parameterBreakdown', config);
    const breakdown = randomBreakdown(config, this.counts);
    if (this.holding) await new Promise<void>((release) => this.held.push(release));
    this.breakdowns.push(breakdown);
    return breakdown;
  }

  async activeModelCount(): Promise<ActiveModelCount> {
    this.record('activeModelCount');
    const breakdown = randomBreakdown(this.activeConfig);
    this.breakdowns.push(breakdown);
    return { breakdown, bufferLength: breakdown.counts.total + this.bufferDifference };
  }
}

const mounted: ParameterLab[] = [];

async function mount(fake: FakeLabs): Promise<ParameterLab> {
  const lab = document.createElement('llm-parameter-lab');
  lab.client = { labs: fake };
  document.body.append(lab);
  mounted.push(lab);
  await lab.updateComplete;
  return lab;
}

const all = (lab: ParameterLab, selector: string): HTMLElement[] => [...lab.shadowRoot!.querySelectorAll<HTMLElement>(selector)];
const one = (lab: ParameterLab, selector: string): HTMLElement | null => lab.shadowRoot!.querySelector<HTMLElement>(selector);
const text = (element: Element | null | undefined): string => (element?.textContent ?? '').replace(/\s+/g, ' ').trim();
const percent = (share: number): string => `${(share * 100).toFixed(share * 100 >= 10 ? 1 : 2)}%`;

/** The table's rows as shown. */
function shownRows(lab: ParameterLab) {
  return all(lab, 'tr[part~="row"]').map((row) => ({
    category: row.dataset['category'],
    cells: [...row.children].map((cell) => text(cell)),
  }));
}

/** Waits until the table shows `breakdown`'s rows. */
async function showing(lab: ParameterLab, breakdown: ParameterBreakdown): Promise<void> {
  await waitFor(() => shownRows(lab)[0]?.cells[1] === count(breakdown.rows[0]!.count), 'the breakdown in the table');
}

function choose(lab: ParameterLab, label: string): void {
  const model = all(lab, 'label[part~="model"]').find((element) => text(element) === label);
  if (!model) throw new Error(`no model '${label}'`);
  model.querySelector('input')!.click();
}

/** Types a value into a number field and leaves it. */
function type(input: HTMLInputElement, value: number): void {
  input.value = String(value);
  input.dispatchEvent(new Event('input'));
  input.dispatchEvent(new Event('change'));
}

const sameConfig = (a: GPTConfig, b: GPTConfig): boolean =>
  (Object.keys(b) as (keyof GPTConfig)[]).every((key) => a[key] === b[key]) && Object.keys(a).length === Object.keys(b).length;

/** The tried-context answer: the breakdown asked for with `blockSize`. */
const triedWith = (fake: FakeLabs, blockSize: number): ParameterBreakdown | undefined =>
  fake.breakdowns.find((breakdown) => breakdown.config.blockSize === blockSize);

describe('<llm-parameter-lab>', () => {
  afterEach(() => {
    for (const lab of mounted.splice(0)) lab.remove();
  });

  it('has every method it calls on the EngineClient', () => {
    expect(engineClientFits).to.equal(true);
  });

  it('counts GPT-3 175B first and shows its rows: count, formula and share, and the eight categories total', async () => {
    const fake = new FakeLabs();
    const lab = await mount(fake);
    await waitFor(() => fake.breakdowns.length >= 1, 'a breakdown');
    const breakdown = fake.breakdowns[0]!;
    expect(breakdown.config).to.deep.equal(fake.gpt3.config);
    await showing(lab, breakdown);
    const checked = all(lab, 'label[part~="model"]').find((label) => label.querySelector('input')!.checked);
    expect(text(checked)).to.equal('GPT-3 175B');
    expect(shownRows(lab)).to.deep.equal(
      breakdown.rows.map((row) => ({
        category: row.category,
        cells: [row.label, count(row.count), row.formula, percent(row.share)],
      })),
    );
    expect(text(one(lab, '[part~="total-row"]'))).to.contain(count(breakdown.categoriesTotal));
    const rest = text(one(lab, '[part~="rest"]'));
    expect(rest).to.contain(count(breakdown.counts.rest));
    expect(rest).to.contain(count(breakdown.counts.total));
  });

  it('sums attention and the MLP from the shares: about a third and two thirds when that is what they are', async () => {
    const fake = new FakeLabs();
    const matrix = randomInt(1e6, 1e8);
    // As in GPT-3: the embeddings a sliver beside the layers.
    fake.counts = shapedCounts(matrix, randomInt(1, matrix / 100));
    const lab = await mount(fake);
    await waitFor(() => fake.breakdowns.length >= 1, 'a breakdown');
    const sized = fake.breakdowns[0]!;
    await showing(lab, sized);
    const shareOf = (categories: string[]) =>
      sized.rows.filter((row) => categories.includes(row.category)).reduce((sum, row) => sum + row.share, 0);
    const summary = text(one(lab, '[part~="share-summary"]'));
    expect(summary).to.contain(percent(shareOf(['query', 'key', 'value', 'output'])));
    expect(summary).to.contain(percent(shareOf(['mlpUp', 'mlpDown'])));
    expect(summary).to.contain(percent(shareOf(['embedding', 'unembedding'])));
    expect(summary).to.match(/attention[^;]*about a third/i);
    expect(summary).to.match(/MLP[^;]*about two thirds/);

    // Embeddings as big as an MLP matrix each: attention 4 of 20 parts, the MLP 8 of 20.
    fake.counts = shapedCounts(matrix, 4 * matrix);
    choose(lab, 'GPT-2 small');
    await waitFor(() => text(one(lab, '[part~="share-summary"]')).includes('about a fifth'), 'a fifth in words');
    const words = text(one(lab, '[part~="share-summary"]'));
    expect(words).to.contain('20.0%');
    expect(words).to.contain('40.0%');
    expect(words).not.to.contain('third');
  });

  it('draws one block per category, as wide as its share, side by side, with the values as its text', async () => {
    const fake = new FakeLabs();
    const lab = await mount(fake);
    await waitFor(() => fake.breakdowns.length >= 1, 'a breakdown');
    const breakdown = fake.breakdowns[0]!;
    await showing(lab, breakdown);
    const svg = one(lab, 'svg[part~="picture"]')!;
    const full = svg.getAttribute('viewBox')!.split(' ').map(Number)[2]!;
    const blocks = all(lab, 'rect[part~="block"]');
    expect(blocks.map((block) => block.dataset['category'])).to.deep.equal(breakdown.rows.map((row) => row.category));
    let x = 0;
    blocks.forEach((block, index) => {
      const share = breakdown.rows[index]!.share;
      expect(Number(block.getAttribute('width')) / full).to.be.closeTo(share, 1e-9);
      expect(Number(block.getAttribute('x'))).to.be.closeTo(x, 1e-6);
      x += share * full;
    });
    expect(x).to.be.closeTo(full, 1e-6);
    const label = svg.getAttribute('aria-label')!;
    for (const row of breakdown.rows) expect(label).to.contain(`${row.label} ${percent(row.share)}`);
    expect(svg.getAttribute('role')).to.equal('img');
  });

  it('shows the memory at float32, float16 and int4', async () => {
    const fake = new FakeLabs();
    const lab = await mount(fake);
    await waitFor(() => fake.breakdowns.length >= 1, 'a breakdown');
    const breakdown = fake.breakdowns[0]!;
    await showing(lab, breakdown);
    const units: Record<string, number> = { TB: 1e12, GB: 1e9, MB: 1e6, kB: 1e3 };
    for (const precision of ['float32', 'float16', 'int4'] as const) {
      const shown = text(one(lab, `[part~="memory"] [data-precision="${precision}"]`));
      const [, value, unit] = shown.match(/^([\d.]+) (TB|GB|MB|kB)$/) ?? [];
      expect(unit, shown).to.be.a('string');
      const bytes = breakdown.memory[precision];
      expect(Number(value) * units[unit!]!).to.be.closeTo(bytes, 0.051 * units[unit!]!);
      expect(bytes).to.be.at.least(units[unit!]!);
    }
  });

  it("checks the playground's model against its parameter buffer: a check mark when equal, a warning when not", async () => {
    const fake = new FakeLabs();
    const lab = await mount(fake);
    await waitFor(() => fake.breakdowns.length >= 1, 'a breakdown');
    choose(lab, 'The model in this playground');
    await waitFor(() => one(lab, '[part~="buffer-check"]'), 'the buffer check');
    const active = fake.breakdowns.find((breakdown) => breakdown.config === fake.activeConfig)!;
    await showing(lab, active);
    const check = one(lab, '[part~="buffer-check"]')!;
    expect(text(check)).to.contain('✓');
    expect(text(check).split(count(active.counts.total)).length).to.equal(3);
    expect(check.getAttribute('role')).to.equal(null);

    fake.bufferDifference = randomInt(1, 500);
    choose(lab, 'Custom');
    await waitFor(() => !one(lab, '[part~="buffer-check"]'), 'no check for a custom shape');
    choose(lab, 'The model in this playground');
    await waitFor(() => one(lab, '[part~="buffer-check"][role="alert"]'), 'the warning');
    const differing = fake.breakdowns.filter((breakdown) => breakdown.config === fake.activeConfig).at(-1)!;
    const warning = text(one(lab, '[part~="buffer-check"]'));
    expect(warning).to.contain(count(differing.counts.total));
    expect(warning).to.contain(count(differing.counts.total + fake.bufferDifference));
    expect(warning).not.to.contain('✓');
  });

  it('counts a custom shape typed in its fields', async () => {
    const fake = new FakeLabs();
    const lab = await mount(fake);
    await waitFor(() => fake.breakdowns.length >= 1, 'a breakdown');
    choose(lab, 'Custom');
    await waitFor(() => one(lab, '[part~="custom"]'), 'the custom fields');
    const wanted = randomConfig();
    const fields: [string, keyof GPTConfig][] = [
      ['n-layer', 'nLayer'],
      ['n-head', 'nHead'],
      ['n-embd', 'nEmbd'],
      ['block-size', 'blockSize'],
      ['vocab-size', 'vocabSize'],
    ];
    for (const [part, key] of fields) {
      type(one(lab, `[part~="custom"] [part~="${part}"] input`) as HTMLInputElement, wanted[key] as number);
      await lab.updateComplete;
    }
    const tied = one(lab, 'input[part~="tied"]') as HTMLInputElement;
    if (tied.checked !== wanted.tied) tied.click();
    await waitFor(
      () => sameConfig(fake.lastBreakdownCall(), { ...wanted, blockSize: 2 * wanted.blockSize }),
      'the custom shape counted',
    );
    const customCall = fake.calls.filter((call) => call.method === 'parameterBreakdown').at(-2)!.args[0];
    expect(customCall).to.deep.equal(wanted);
    expect(lab.custom).to.deep.equal(wanted);
    const counted = fake.breakdowns.find((breakdown) => breakdown.config === customCall)!;
    await showing(lab, counted);
  });

  it('tries twice the context, then any typed one: the scores grow with the square', async () => {
    const fake = new FakeLabs();
    const lab = await mount(fake);
    await waitFor(() => fake.breakdowns.length >= 2, 'the model and its doubled context');
    const base = fake.breakdowns[0]!;
    const T = base.config.blockSize;
    expect(fake.lastBreakdownCall()).to.deep.equal({ ...base.config, blockSize: 2 * T });
    await waitFor(() => one(lab, '[part~="ratio"]'), 'the ratio');
    expect(text(one(lab, '[part~="scores-per-head"]'))).to.contain(count(base.attentionPerHead));
    expect(text(one(lab, '[part~="scores-per-model"]'))).to.contain(count(base.attentionPerModel));
    expect(text(one(lab, '[part~="ratio"]'))).to.contain('2× the context, 4× the scores');
    const doubled = triedWith(fake, 2 * T)!;
    expect(text(one(lab, '[part~="tried"]'))).to.contain(count(doubled.attentionPerHead));

    const factor = randomInt(3, 9);
    type(one(lab, '[part~="context-try"] input') as HTMLInputElement, factor * T);
    await waitFor(() => text(one(lab, '[part~="ratio"]')).includes(`${factor}× the context`), 'the new ratio');
    expect(fake.lastBreakdownCall()).to.deep.equal({ ...base.config, blockSize: factor * T });
    expect(text(one(lab, '[part~="ratio"]'))).to.contain(`${factor}× the context, ${factor * factor}× the scores`);
    const tried = triedWith(fake, factor * T)!;
    expect(text(one(lab, '[part~="tried"]'))).to.contain(count(tried.attentionPerModel));
    expect(text(one(lab, '[part~="ratio"]'))).to.contain(count(tried.counts.total));
  });

  it('shows the newest choice when an older answer comes last', async () => {
    const fake = new FakeLabs();
    const lab = await mount(fake);
    await waitFor(() => fake.breakdowns.length >= 2, 'the first breakdowns');
    await waitFor(() => one(lab, '[part~="ratio"]'), 'the first ratio');
    fake.holding = true;
    choose(lab, 'GPT-2 small');
    await waitFor(() => fake.held.length === 1, 'GPT-2 small asked');
    choose(lab, 'GPT-2 XL');
    await waitFor(() => fake.held.length === 2, 'GPT-2 XL asked');
    fake.held[1]!();
    await waitFor(() => fake.held.length === 3, 'GPT-2 XL context asked');
    fake.held[2]!();
    const xl = fake.configs[3]!;
    const shown = await waitFor(() => fake.breakdowns.find((breakdown) => breakdown.config === xl.config), 'GPT-2 XL counted');
    await showing(lab, shown);
    fake.held[0]!();
    await waitFor(
      () => fake.breakdowns.some((breakdown) => breakdown.config === fake.configs[0]!.config),
      'GPT-2 small answered',
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    await showing(lab, shown);
    expect(fake.held.length).to.equal(3);
  });

  it('shows what went wrong: listing the models, counting one, the active model, a tried context', async () => {
    const fake = new FakeLabs();
    fake.failures.knownConfigs = `no list ${randomInt(1, 1e6)}`;
    const lab = await mount(fake);
    await waitFor(() => one(lab, '[part~="error"][role="alert"]'), 'the listing error');
    expect(text(one(lab, '[part~="error"]'))).to.contain(fake.failures.knownConfigs);

    fake.failures.activeModelCount = `no model ${randomInt(1, 1e6)}`;
    choose(lab, 'The model in this playground');
    await waitFor(() => text(one(lab, '[part~="error"]')).includes(fake.failures.activeModelCount!), 'the active model error');

    const broken = new FakeLabs();
    const second = await mount(broken);
    await waitFor(() => one(second, '[part~="ratio"]'), 'a first count');
    broken.failures.parameterBreakdown = `config.nEmbd (${randomInt(5, 99)}) must be divisible`;
    type(one(second, '[part~="context-try"] input') as HTMLInputElement, randomInt(10, 99));
    await waitFor(() => text(one(second, '[part~="error"]')).includes(broken.failures.parameterBreakdown!), 'the context error');
    broken.failures.parameterBreakdown = `config.nHead must be a positive integer, got ${-randomInt(1, 99)}`;
    choose(second, 'GPT-2 medium');
    await waitFor(
      () => text(one(second, '[part~="error"][role="alert"]')).includes(broken.failures.parameterBreakdown!),
      'the count error',
    );
    expect(text(one(second, '[part~="status"]'))).to.equal('');
  });
});
