// <llm-fact-mlp-lab> against a fake client that computes nothing real: each
// factMlp call records its setup and answers with fresh random numbers. The
// setups the element sends (names, directions, up, bias, down, activation,
// four combinations per change), what it shows (the chosen result and the
// truth table equal the fake's answers), the newest answer winning, debounced
// edits, reset, keyboard use and errors.
import { sendKeys } from '@web/test-runner-commands';
import { expect } from 'chai';
import type { EngineClient } from '../../src/client.ts';
import { formatNumber, type FactMlpLab, type FactMlpLabClient } from '../../src/elements/fact-mlp-lab.ts';
import '../../src/elements/fact-mlp-lab.ts';
import { defaultFactMlp, type FactMlpResult, type FactMlpSetup } from '../../workers/api/index.ts';
import { random, randomInt } from './seeded.ts';
import { waitFor } from './wait-for.ts';

// The playground hands its EngineClient to the element.
const engineClientFits: EngineClient extends FactMlpLabClient ? true : never = true;

/** A random number in ±2, two decimals, never 0. */
const randomValue = (): number => (random() < 0.5 ? -1 : 1) * (0.01 + randomInt(0, 200) / 100);
const randomVector = (length: number): number[] => Array.from({ length }, randomValue);

function randomResult(dimension: number): FactMlpResult {
  return {
    input: randomVector(dimension),
    pre: randomValue(),
    post: randomValue(),
    output: randomVector(dimension),
    residual: randomVector(dimension),
    basketball: randomValue(),
  };
}

interface Call {
  setup: FactMlpSetup;
  answer: FactMlpResult;
  release: () => void;
}

type Labs = FactMlpLabClient['labs'];

/** Records each setup; answers with fresh random numbers; can hold answers until released; fails on request. */
class FakeLabs implements Labs {
  readonly calls: Call[] = [];
  holding = false;
  failure = '';

  async factMlp(setup: FactMlpSetup): Promise<FactMlpResult> {
    const answer = randomResult(setup.up.length);
    let release = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    this.calls.push({ setup: structuredClone(setup), answer, release });
    if (!this.holding) release();
    await released;
    if (this.failure) throw new Error(this.failure);
    return answer;
  }

  /** The newest call for one combination of names. */
  last(input: FactMlpSetup['input']): Call {
    return this.calls
      .filter((call) => call.setup.input.michael === input.michael && call.setup.input.jordan === input.jordan)
      .at(-1)!;
  }
}

const COMBINATIONS: FactMlpSetup['input'][] = [
  { michael: false, jordan: false },
  { michael: true, jordan: false },
  { michael: false, jordan: true },
  { michael: true, jordan: true },
];

/** The setup with its names taken out, to compare the weights of calls for different combinations. */
const weightsOf = ({ input: _, ...rest }: FactMlpSetup) => rest;

describe('<llm-fact-mlp-lab>', function () {
  let element: FactMlpLab;
  let fake: FakeLabs;
  const root = () => element.shadowRoot!;
  const part = <E extends Element = HTMLElement>(name: string, within: ParentNode = root()) =>
    within.querySelector<E>(`[part~="${name}"]`)!;
  const parts = <E extends Element = HTMLElement>(name: string, within: ParentNode = root()) => [
    ...within.querySelectorAll<E>(`[part~="${name}"]`),
  ];
  const text = (name: string, within?: ParentNode) => part(name, within).textContent!.trim();
  const vectorRow = (name: string) => root().querySelector<HTMLElement>(`[part~="vector"][part~="${name}"]`)!;
  const biasField = () => part<HTMLInputElement>('bias');
  const cells = (vector: string) => parts<HTMLInputElement>('cell', vectorRow(vector));
  /** No run pending or waiting for the debounce, and the last answers drawn. */
  const settled = async () => {
    await waitFor(
      () => element.shadowRoot && part('result')?.getAttribute('aria-busy') === 'false' && fake.calls.length > 0,
      'the lab to settle',
    );
    await element.updateComplete;
  };
  /** Waits for `count` calls in all. */
  const callsReach = (count: number) => waitFor(() => fake.calls.length >= count, `${count} calls`);

  /** The values a result row shows as text, and its bars' text alternative. */
  const shownVector = (name: string) => ({
    values: parts('cell', vectorRow(name)).map((cell) => cell.textContent!.trim()),
    label: part('bars', vectorRow(name)).getAttribute('aria-label'),
  });
  const expectedVector = (label: string, values: number[]) => ({
    values: values.map(formatNumber),
    label: `${label}: ${values.map(formatNumber).join(', ')}`,
  });

  function expectShown(answer: FactMlpResult) {
    expect(text('pre')).to.equal(formatNumber(answer.pre));
    expect(text('post')).to.equal(formatNumber(answer.post));
    expect(text('basketball-added')).to.equal(formatNumber(answer.basketball));
    expect(shownVector('input')).to.deep.equal(expectedVector('Input', answer.input));
    expect(shownVector('output')).to.deep.equal(expectedVector('Output', answer.output));
    expect(shownVector('residual')).to.deep.equal(expectedVector('Residual after', answer.residual));
  }

  /** The last four calls: one per combination, all with the same weights. */
  function lastBatch(): FactMlpSetup[] {
    const batch = fake.calls.slice(-4).map((call) => call.setup);
    expect(batch.map((setup) => setup.input)).to.have.deep.members(COMBINATIONS);
    for (const setup of batch) expect(weightsOf(setup)).to.deep.equal(weightsOf(batch[0]!));
    return batch;
  }

  /** Types a number into a field with the keyboard and leaves it with Tab. */
  async function typeInto(input: HTMLInputElement, value: number) {
    input.focus();
    input.select();
    await sendKeys({ type: String(value) });
    await sendKeys({ press: 'Tab' });
  }

  beforeEach(async function () {
    fake = new FakeLabs();
    element = document.createElement('llm-fact-mlp-lab');
    element.client = { labs: fake };
    document.body.append(element);
    await settled();
  });

  afterEach(function () {
    element.remove();
  });

  it('starts from the story: six dimensions, michael, jordan and basketball on their own axes, up = both names, bias −1, ReLU', function () {
    expect(engineClientFits).to.equal(true);
    expect(fake.calls).to.have.length(4);
    const batch = lastBatch();
    expect(weightsOf(batch[0]!)).to.deep.equal(weightsOf(defaultFactMlp()));
    // The chosen combination goes first, so its answer is not kept waiting.
    expect(batch[0]!.input).to.deep.equal({ michael: true, jordan: true });
    expect(cells('michael').map((cell) => cell.valueAsNumber)).to.deep.equal([1, 0, 0, 0, 0, 0]);
    expect(cells('up').map((cell) => cell.valueAsNumber)).to.deep.equal([1, 1, 0, 0, 0, 0]);
    expect(biasField().valueAsNumber).to.equal(-1);
    expect(part<HTMLInputElement>('activation-relu').checked).to.equal(true);
    expect(part<HTMLInputElement>('name-michael').checked).to.equal(true);
    expect(part<HTMLInputElement>('name-jordan').checked).to.equal(true);
    expect(text('explanation')).to.contain('MLP as fact storage');
  });

  it('shows the answer for the chosen names: input, pre, post, output, residual and basketball added', function () {
    expectShown(fake.last({ michael: true, jordan: true }).answer);
  });

  it('toggling a name sends the new input and shows its answer', async function () {
    part<HTMLInputElement>('name-michael').click();
    await callsReach(8);
    await settled();
    expect(lastBatch()[0]!.input).to.deep.equal({ michael: false, jordan: true });
    expect(element.setup.input).to.deep.equal({ michael: false, jordan: true });
    expectShown(fake.last({ michael: false, jordan: true }).answer);
    expect(text('result')).to.contain('Jordan only');

    // The keyboard toggles too.
    part<HTMLInputElement>('name-jordan').focus();
    await sendKeys({ press: 'Space' });
    await callsReach(12);
    await settled();
    expect(lastBatch()[0]!.input).to.deep.equal({ michael: false, jordan: false });
    expectShown(fake.last({ michael: false, jordan: false }).answer);
  });

  for (const vector of ['michael', 'jordan', 'basketball', 'up', 'down'] as const) {
    it(`typing into ${vector} sends the new entry`, async function () {
      const index = randomInt(0, 6);
      const value = randomValue();
      await typeInto(cells(vector)[index]!, value);
      await settled();
      // A copy through JSON: in defaultFactMlp, down and basketball may be one array.
      const expected: FactMlpSetup = JSON.parse(JSON.stringify(defaultFactMlp()));
      const entries = vector === 'up' || vector === 'down' ? expected[vector] : expected.directions[vector];
      entries[index] = value;
      for (const setup of lastBatch()) expect(weightsOf(setup)).to.deep.equal(weightsOf(expected));
      expect(element.setup).to.deep.equal(expected);
      expectShown(fake.last(expected.input).answer);
    });
  }

  it('the bias and the activation are sent', async function () {
    const bias = randomValue();
    await typeInto(biasField(), bias);
    await settled();
    expect(lastBatch().map((setup) => setup.bias)).to.deep.equal([bias, bias, bias, bias]);

    // Arrow keys move through the radio group.
    part<HTMLInputElement>('activation-relu').focus();
    await sendKeys({ press: 'ArrowRight' });
    await waitFor(() => lastBatch()[0]!.activation === 'gelu', 'a GELU run');
    await settled();
    expect(part<HTMLInputElement>('activation-gelu').checked).to.equal(true);
    for (const setup of lastBatch()) expect(setup).to.include({ activation: 'gelu', bias });
    expect(text('result')).to.contain(`GELU(${formatNumber(fake.last(element.setup.input).answer.pre)})`);
    expectShown(fake.last(element.setup.input).answer);
  });

  it('the truth table shows all four answers, the chosen input marked', async function () {
    const rows = parts('truth-row');
    expect(rows).to.have.length(4);
    COMBINATIONS.forEach((input, index) => {
      const { answer } = fake.last(input);
      const row = rows[index]!;
      const marks = [...row.querySelectorAll('td')].slice(0, 2).map((cell) => cell.getAttribute('aria-label'));
      expect(marks).to.deep.equal([input.michael ? 'yes' : 'no', input.jordan ? 'yes' : 'no']);
      expect(text('truth-pre', row)).to.equal(formatNumber(answer.pre));
      expect(text('truth-post', row)).to.equal(formatNumber(answer.post));
      expect(text('truth-basketball', row)).to.equal(formatNumber(answer.basketball));
      expect(row.getAttribute('aria-current')).to.equal(index === 3 ? 'true' : null);
    });
    expect(parts('current').map((row) => rows.indexOf(row))).to.deep.equal([3]);
  });

  it('the neuron lights up as far as its post reaches toward the largest of the four', function () {
    const posts = COMBINATIONS.map((input) => fake.last(input).answer.post);
    const brightest = Math.max(1, ...posts);
    const lit = (neuron: HTMLElement) => Number(neuron.style.getPropertyValue('--lit'));
    const expected = posts.map((post) => Math.min(1, Math.max(0, post / brightest)));
    const table = parts('truth-row').map((row) => lit(part('neuron', row)));
    table.forEach((value, index) => expect(value).to.be.closeTo(expected[index]!, 1e-3));
    expect(lit(part('neuron', part('result')))).to.be.closeTo(expected[3]!, 1e-3);
  });

  it('quick edits run once, with the last of them', async function () {
    const before = fake.calls.length;
    const value = randomValue();
    const cell = cells('up')[2]!;
    for (const typed of [randomValue(), randomValue(), value]) {
      cell.value = String(typed);
      cell.dispatchEvent(new Event('input'));
    }
    await callsReach(before + 4);
    await settled();
    expect(fake.calls).to.have.length(before + 4);
    expect(lastBatch()[0]!.up[2]).to.equal(value);
  });

  it('an older answer arriving last is dropped', async function () {
    fake.holding = true;
    part<HTMLInputElement>('name-michael').click();
    await callsReach(8);
    const older = fake.calls.slice(4, 8);
    part<HTMLInputElement>('name-michael').click();
    await callsReach(12);
    expect(part('result').getAttribute('aria-busy')).to.equal('true');
    expect(text('status')).to.not.equal('');
    for (const call of fake.calls.slice(8)) call.release();
    await settled();
    for (const call of older) call.release();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await element.updateComplete;
    expectShown(fake.last({ michael: true, jordan: true }).answer);
    expect(text('truth-pre', parts('truth-row')[1]!)).to.equal(
      formatNumber(fake.calls.slice(8).find((call) => call.setup.input.michael && !call.setup.input.jordan)!.answer.pre),
    );
  });

  it('values out of range are clamped when the field is left, unreadable ones restored', async function () {
    const cell = cells('down')[0]!;
    await typeInto(cell, 250);
    await settled();
    expect(cell.valueAsNumber).to.equal(10);
    expect(lastBatch()[0]!.down[0]).to.equal(10);
    const calls = fake.calls.length;
    cell.value = '';
    cell.dispatchEvent(new Event('change'));
    expect(cell.valueAsNumber).to.equal(10);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(fake.calls).to.have.length(calls);
  });

  it('a negative number under 1 keeps its minus while it is typed', async function () {
    const bias = -(0.01 + randomInt(0, 99) / 100);
    const entry = -(0.01 + randomInt(0, 99) / 100);
    await typeInto(biasField(), bias);
    await typeInto(cells('up')[0]!, entry);
    await waitFor(() => lastBatch()[0]!.up[0] === entry, 'a run with the new entry');
    await settled();
    expect(biasField().valueAsNumber).to.equal(bias);
    expect(cells('up')[0]!.valueAsNumber).to.equal(entry);
    for (const setup of lastBatch()) expect(setup).to.deep.include({ bias, up: [entry, 1, 0, 0, 0, 0] });
  });

  it('reset brings back the first numbers', async function () {
    await typeInto(cells('jordan')[4]!, randomValue());
    part<HTMLInputElement>('activation-gelu').click();
    await settled();
    part<HTMLButtonElement>('reset').click();
    await waitFor(() => lastBatch()[0]!.activation === 'relu', 'a run with the first numbers');
    await settled();
    expect(weightsOf(lastBatch()[0]!)).to.deep.equal(weightsOf(defaultFactMlp()));
    expect(cells('jordan')[4]!.valueAsNumber).to.equal(0);
  });

  it('a setup from the page is shown and sent as it is', async function () {
    const setup: FactMlpSetup = {
      directions: { michael: randomVector(4), jordan: randomVector(4), basketball: randomVector(4) },
      input: { michael: true, jordan: false },
      up: randomVector(4),
      bias: randomValue(),
      down: randomVector(4),
      activation: 'gelu',
    };
    element.setup = setup;
    await waitFor(() => fake.calls.at(-1)!.setup.up.length === 4, 'a run with the new setup');
    await settled();
    for (const sent of lastBatch()) expect(weightsOf(sent)).to.deep.equal(weightsOf(setup));
    expect(cells('basketball').map((cell) => cell.valueAsNumber)).to.deep.equal(setup.directions.basketball);
    expect(part<HTMLInputElement>('activation-gelu').checked).to.equal(true);
    expectShown(fake.last(setup.input).answer);
  });

  it("shows the worker's error, and clears it on the next answer", async function () {
    fake.failure = 'the labs are closed';
    part<HTMLInputElement>('name-jordan').click();
    await waitFor(() => root().querySelector('[role="alert"]'), 'the error');
    expect(text('error')).to.contain('the labs are closed');
    fake.failure = '';
    part<HTMLInputElement>('name-jordan').click();
    await waitFor(() => !root().querySelector('[role="alert"]'), 'the error to clear');
    await settled();
    expectShown(fake.last({ michael: true, jordan: true }).answer);
  });
});
