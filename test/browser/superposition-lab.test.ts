// <llm-superposition-lab> against a fake of its labs slice with fresh random
// histograms: the bars are the counts (heights in proportion, a table of the
// bins), mean and spread are shown, the dimension, count and seed chosen are the
// ones asked for, each dimension's spread stays in a list, packing frames
// replace the histogram and the within-ε count as they arrive, Run is disabled
// while running, stale answers are dropped, and errors show.
import { expect } from 'chai';
import type { EngineClient } from '../../src/client.ts';
import '../../src/elements/superposition-lab.ts';
import type { SuperpositionLab, SuperpositionLabClient } from '../../src/elements/superposition-lab.ts';
import { type AngleHistogram, DEFAULT_PACKING, type PackingFrame, type PackingRequest } from '../../workers/api/index.ts';
import { random, randomIn, randomInt } from './seeded.ts';
import { waitFor } from './wait-for.ts';

// The playground hands its EngineClient to the element: it must have every method the element calls.
const engineClientFits: EngineClient extends SuperpositionLabClient ? true : never = true;

/** A histogram of `bins` bins with random counts (some empty), its statistics random too. */
function randomHistogram(bins: number): AngleHistogram {
  const edges = Array.from({ length: bins + 1 }, (_, i) => (180 * i) / bins);
  const counts = Array.from({ length: bins }, () => (random() < 0.2 ? 0 : randomInt(1, 500)));
  return {
    edges,
    counts,
    pairs: counts.reduce((sum, pairs) => sum + pairs, 0),
    meanDegrees: randomIn(85, 95),
    spreadDegrees: randomIn(0.3, 50),
    maxDeviation: randomIn(1, 90),
  };
}

const randomFrame = (step: number): PackingFrame => ({
  step,
  histogram: randomHistogram(randomInt(20, 90)),
  withinTolerance: random(),
});

interface Held<T> {
  resolve: (value: T) => void;
  reject: (error: Error) => void;
}

type Labs = SuperpositionLabClient['labs'];

/** Random answers for the superposition methods; holds each call until the test answers it; records every call. */
class FakeLabs implements Labs {
  readonly angleCalls: { args: [number, number, number, number]; answer: Held<AngleHistogram> }[] = [];
  readonly packCalls: { request: PackingRequest; onFrame: (frame: PackingFrame) => void; answer: Held<PackingFrame> }[] = [];

  randomAngles(dimension: number, count: number, seed: number, bins: number): Promise<AngleHistogram> {
    return new Promise((resolve, reject) =>
      this.angleCalls.push({ args: [dimension, count, seed, bins], answer: { resolve, reject } }),
    );
  }

  packVectors(request: PackingRequest, onFrame: (frame: PackingFrame) => void): Promise<PackingFrame> {
    return new Promise((resolve, reject) =>
      this.packCalls.push({ request: { ...request }, onFrame, answer: { resolve, reject } }),
    );
  }

  /** Answers the newest angles call with a fresh histogram of the bins asked for. */
  answerAngles(call = this.angleCalls.at(-1)!): AngleHistogram {
    const histogram = randomHistogram(call.args[3]);
    call.answer.resolve(histogram);
    return histogram;
  }
}

async function makeLab(client: FakeLabs): Promise<SuperpositionLab> {
  const lab = document.createElement('llm-superposition-lab');
  lab.client = { labs: client };
  document.body.append(lab);
  await lab.updateComplete;
  return lab;
}

const part = (lab: SuperpositionLab, name: string): HTMLElement | null => lab.shadowRoot!.querySelector(`[part~="${name}"]`);
const parts = (lab: SuperpositionLab, name: string): HTMLElement[] => [
  ...lab.shadowRoot!.querySelectorAll<HTMLElement>(`[part~="${name}"]`),
];
const text = (lab: SuperpositionLab, name: string): string => part(lab, name)?.textContent?.replace(/\s+/g, ' ').trim() ?? '';

/** Settles the answer's promise chain, then the render. */
async function settle(lab: SuperpositionLab): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 0));
  await lab.updateComplete;
}

/** The bars of one histogram equal its counts: one per bin, heights in proportion, and the hidden table lists them. */
function expectBars(chart: Element, table: Element, histogram: AngleHistogram): void {
  const heights = [...chart.querySelectorAll('[part~="bar"]')].map((bar) => Number(bar.getAttribute('height')));
  expect(heights).to.have.length(histogram.counts.length);
  const tallest = Math.max(...histogram.counts);
  const full = heights[histogram.counts.indexOf(tallest)]!;
  expect(full).to.be.greaterThan(0);
  histogram.counts.forEach((pairs, bin) => expect(heights[bin]! / full).to.be.closeTo(pairs / tallest, 1e-6));
  const rows = [...table.querySelectorAll('tbody tr')].map((row) =>
    [...row.querySelectorAll('td')].map((cell) => cell.textContent),
  );
  expect(rows).to.have.length(histogram.counts.length);
  rows.forEach(([, pairs], bin) => expect(pairs).to.equal(histogram.counts[bin]!.toLocaleString('en-US')));
  expect(rows[0]![0]).to.equal(`0°–${Number(histogram.edges[1]!.toFixed(1))}°`);
}

/** Moves the dimension slider to a stop as a user does (input while dragging, change on release). */
async function chooseDimension(lab: SuperpositionLab, dimension: number): Promise<void> {
  const slider = part(lab, 'dimension-slider') as HTMLInputElement;
  const stops = Number(slider.max) + 1;
  for (let stop = 0; stop < stops; stop++) {
    slider.value = String(stop);
    slider.dispatchEvent(new Event('input'));
    await lab.updateComplete;
    if (text(lab, 'dimension-value') === dimension.toLocaleString('en-US')) {
      slider.dispatchEvent(new Event('change'));
      await lab.updateComplete;
      return;
    }
  }
  throw new Error(`the slider has no stop at ${dimension}`);
}

async function typeNumber(lab: SuperpositionLab, id: string, value: number): Promise<void> {
  const input = lab.shadowRoot!.getElementById(id) as HTMLInputElement;
  input.value = String(value);
  input.dispatchEvent(new Event('change'));
  await lab.updateComplete;
}

describe('<llm-superposition-lab>', () => {
  afterEach(() => document.querySelectorAll('llm-superposition-lab').forEach((lab) => lab.remove()));

  it('has every method it calls on the EngineClient', () => {
    expect(engineClientFits).to.equal(true);
  });

  it('draws random angles on connecting: the bars are the counts, with the mean and spread', async () => {
    const client = new FakeLabs();
    const lab = await makeLab(client);
    expect(client.angleCalls).to.have.length(1);
    const [dimension, count, seed, bins] = client.angleCalls[0]!.args;
    expect(bins).to.equal(90);
    expect(text(lab, 'dimension-value')).to.equal(dimension.toLocaleString('en-US'));
    expect((lab.shadowRoot!.getElementById('angles-count') as HTMLInputElement).valueAsNumber).to.equal(count);
    expect((lab.shadowRoot!.getElementById('angles-seed') as HTMLInputElement).valueAsNumber).to.equal(seed);
    expect(text(lab, 'angles-status')).to.contain(`${dimension.toLocaleString('en-US')} dimensions`);
    expect(part(lab, 'angles-histogram')).to.equal(null);

    const histogram = client.answerAngles();
    await settle(lab);
    expect(text(lab, 'angles-status')).to.equal('');
    expectBars(part(lab, 'angles-histogram')!, part(lab, 'histogram-table')!, histogram);
    const summary = text(lab, 'angles-summary');
    expect(summary).to.contain(`${histogram.pairs.toLocaleString('en-US')} pairs`);
    expect(summary).to.contain(`mean ${histogram.meanDegrees.toFixed(2)}°`);
    const spread = histogram.spreadDegrees < 10 ? histogram.spreadDegrees.toFixed(2) : histogram.spreadDegrees.toFixed(1);
    expect(summary).to.contain(`±${spread}°`);
    expect(part(lab, 'angles-histogram')!.getAttribute('aria-label')).to.contain(`mean ${histogram.meanDegrees.toFixed(2)}°`);
    // 90° is marked in the middle of the axis.
    const mark = part(lab, 'right-angle')!;
    const bars = parts(lab, 'bar');
    const middle =
      (Number(bars[0]!.getAttribute('x')) + Number(bars.at(-1)!.getAttribute('x')) + Number(bars.at(-1)!.getAttribute('width'))) /
      2;
    expect(Number(mark.getAttribute('x1'))).to.be.closeTo(middle, 1);
  });

  it('asks for the dimension, count and seed chosen, and keeps each dimension’s spread in a list', async () => {
    const client = new FakeLabs();
    const lab = await makeLab(client);
    const first = client.answerAngles();
    await settle(lab);
    const firstDimension = client.angleCalls[0]!.args[0];
    expect(part(lab, 'spreads')).to.equal(null);

    const spreads = new Map<number, number>([[firstDimension, first.spreadDegrees]]);
    for (const dimension of [2, 10_000, 10]) {
      await chooseDimension(lab, dimension);
      expect(client.angleCalls.at(-1)!.args[0]).to.equal(dimension);
      const histogram = client.answerAngles();
      await settle(lab);
      spreads.set(dimension, histogram.spreadDegrees);
      expectBars(part(lab, 'angles-histogram')!, part(lab, 'histogram-table')!, histogram);
      const entries = parts(lab, 'spread').map((entry) => entry.textContent!.replace(/\s+/g, ' ').trim());
      const expected = [...spreads].sort(([a], [b]) => a - b);
      expect(entries).to.have.length(expected.length);
      entries.forEach((entry, i) => expect(entry).to.contain(`d = ${expected[i]![0].toLocaleString('en-US')}`));
      // Bar widths in proportion to the spreads.
      const widest = Math.max(...expected.map(([, spread]) => spread));
      parts(lab, 'spread-bar').forEach((bar, i) =>
        expect(parseFloat(bar.style.width)).to.be.closeTo((100 * expected[i]![1]) / widest, 1e-3),
      );
    }

    const count = randomInt(10, 301);
    await typeNumber(lab, 'angles-count', count);
    expect(client.angleCalls.at(-1)!.args.slice(0, 2)).to.deep.equal([10, count]);
    client.answerAngles();
    await settle(lab);
    const seed = randomInt(2, 1e6);
    await typeNumber(lab, 'angles-seed', seed);
    expect(client.angleCalls.at(-1)!.args).to.deep.equal([10, count, seed, 90]);
    client.answerAngles();
    await settle(lab);
    // The same dimension drawn again replaces its entry.
    expect(parts(lab, 'spread')).to.have.length(4);
  });

  it('drops an older answer that arrives after a newer one', async () => {
    const client = new FakeLabs();
    const lab = await makeLab(client);
    await chooseDimension(lab, 1000);
    const newer = client.answerAngles();
    await settle(lab);
    client.answerAngles(client.angleCalls[0]!);
    await settle(lab);
    expectBars(part(lab, 'angles-histogram')!, part(lab, 'histogram-table')!, newer);
    expect(parts(lab, 'spread')).to.have.length(0);
  });

  it('streams packing frames: the histogram, step, largest deviation and pairs within ε follow each one', async () => {
    const client = new FakeLabs();
    const lab = await makeLab(client);
    client.answerAngles();
    await settle(lab);
    expect(text(lab, 'pack-explanation')).to.contain(
      `${DEFAULT_PACKING.count} directions in ${DEFAULT_PACKING.dimension} dimensions`,
    );

    const request: PackingRequest = {
      dimension: randomInt(4, 64),
      count: randomInt(70, 300),
      tolerance: randomInt(2, 20),
      steps: randomInt(100, 2000),
      seed: randomInt(2, 1e6),
    };
    for (const key of ['dimension', 'count', 'tolerance', 'steps', 'seed'] as const)
      await typeNumber(lab, `pack-${key}`, request[key]);
    expect(text(lab, 'pack-explanation')).to.contain(`${request.count} directions in ${request.dimension} dimensions`);
    const run = part(lab, 'run-button') as HTMLButtonElement;
    expect(run.disabled).to.equal(false);
    run.click();
    await lab.updateComplete;
    expect(client.packCalls).to.have.length(1);
    expect(client.packCalls[0]!.request).to.deep.equal(request);
    expect(run.disabled).to.equal(true);
    expect(text(lab, 'pack-status')).to.not.equal('');
    expect((lab.shadowRoot!.getElementById('pack-count') as HTMLInputElement).disabled).to.equal(true);

    const { onFrame, answer } = client.packCalls[0]!;
    const pairsWithin = (frame: PackingFrame) =>
      `${Math.round(frame.withinTolerance * frame.histogram.pairs).toLocaleString('en-US')} of ${frame.histogram.pairs.toLocaleString('en-US')} pairs within 90° ± ${request.tolerance}°`;
    const expectFrame = (frame: PackingFrame) => {
      expectBars(
        part(lab, 'pack-histogram')!,
        lab.shadowRoot!.querySelectorAll('[part~="histogram-table"]')[1]!,
        frame.histogram,
      );
      expect(text(lab, 'pack-progress')).to.equal(
        `Step ${frame.step.toLocaleString('en-US')} of ${request.steps.toLocaleString('en-US')}`,
      );
      const deviation = frame.histogram.maxDeviation;
      expect(text(lab, 'pack-deviation')).to.contain(`${deviation < 10 ? deviation.toFixed(2) : deviation.toFixed(1)}°`);
      expect(text(lab, 'pack-within')).to.contain(pairsWithin(frame));
      expect(text(lab, 'pack-within')).to.contain(`(${(100 * frame.withinTolerance).toFixed(1)}%)`);
      // 90° ± ε is shaded.
      const band = part(lab, 'tolerance-band')!;
      const mark = Number(part(lab, 'pack-histogram')!.querySelector('[part~="right-angle"]')!.getAttribute('x1'));
      const left = Number(band.getAttribute('x'));
      expect(mark - left).to.be.closeTo(Number(band.getAttribute('width')) / 2, 1e-6);
    };
    for (let step = 0; step < request.steps; step += randomInt(10, 100)) {
      const frame = randomFrame(step);
      onFrame(frame);
      await lab.updateComplete;
      expectFrame(frame);
      expect(run.disabled).to.equal(true);
    }
    const last = randomFrame(request.steps);
    answer.resolve(last);
    await settle(lab);
    expectFrame(last);
    expect(run.disabled).to.equal(false);
    expect(text(lab, 'pack-status')).to.equal('');
  });

  it('shows errors from either part in role=alert and can try again', async () => {
    const client = new FakeLabs();
    const lab = await makeLab(client);
    const message = `No room for ${randomInt(2, 999)} vectors`;
    client.angleCalls[0]!.answer.reject(new Error(message));
    await settle(lab);
    expect(part(lab, 'angles-error')!.getAttribute('role')).to.equal('alert');
    expect(text(lab, 'angles-error')).to.contain(message);
    expect(text(lab, 'angles-status')).to.equal('');
    await chooseDimension(lab, 3);
    expect(part(lab, 'angles-error')).to.equal(null);
    const histogram = client.answerAngles();
    await settle(lab);
    expectBars(part(lab, 'angles-histogram')!, part(lab, 'histogram-table')!, histogram);

    const run = part(lab, 'run-button') as HTMLButtonElement;
    run.click();
    await lab.updateComplete;
    client.packCalls[0]!.onFrame(randomFrame(0));
    const packMessage = `Worker stopped at step ${randomInt(1, 99)}`;
    client.packCalls[0]!.answer.reject(new Error(packMessage));
    await settle(lab);
    expect(part(lab, 'pack-error')!.getAttribute('role')).to.equal('alert');
    expect(text(lab, 'pack-error')).to.contain(packMessage);
    expect(run.disabled).to.equal(false);
    run.click();
    await lab.updateComplete;
    expect(part(lab, 'pack-error')).to.equal(null);
    expect(client.packCalls).to.have.length(2);
    await waitFor(() => run.disabled, 'Run disabled again');
  });
});
