// <llm-attention-experiments> against an in-memory client that records the
// interventions it is asked for and answers each odds() with a fresh random
// distribution: the mask toggle, the head grid (single heads, whole layers,
// clear, keys), both charts' numbers, the change sentence, busy state, the
// newest answer winning, a new model's heads and errors.
import { sendKeys } from '@web/test-runner-commands';
import { expect } from 'chai';
import type { EngineClient } from '../../src/client.ts';
import '../../src/elements/attention-experiments.ts';
import type { AttentionExperiments, ExperimentsClient } from '../../src/elements/attention-experiments.ts';
import { describeToken, formatPercent } from '../../src/visible-token.ts';
import type { GPTConfig, Interventions, PromptOdds } from '../../workers/api/index.ts';
import { random, randomInt } from './seeded.ts';
import { waitFor } from './wait-for.ts';

// The inspector panel hands its EngineClient to the element.
const engineClientFits: EngineClient extends ExperimentsClient ? true : never = true;

const randomConfig = (): GPTConfig => ({
  vocabSize: randomInt(24, 60),
  blockSize: 64,
  nLayer: randomInt(2, 5),
  nHead: randomInt(2, 5),
  nEmbd: 16,
  tied: true,
});
const LETTERS = 'abcdefghijklmnopqrstuvwxyz ';
const randomText = (): string => Array.from({ length: randomInt(5, 20) }, () => LETTERS[randomInt(0, LETTERS.length)]).join('');
const TOP = 6;

/** A made-up vocabulary: letters, a space and a line break first, then more symbols. */
const vocabularyOf = (size: number): string[] =>
  Array.from({ length: size }, (_, i) => (i < 27 ? LETTERS[i]! : i === 27 ? '\n' : String.fromCharCode(0x41 + i - 28)));

/** A peaked random distribution, so the top tokens are well apart. */
function randomNext(size: number): Float32Array {
  const logits = Array.from({ length: size }, () => random() * 6);
  const peak = Math.max(...logits);
  const weights = logits.map((logit) => Math.exp(logit - peak));
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  return Float32Array.from(weights, (weight) => weight / total);
}

function inspectionOf(text: string, config: GPTConfig, next: Float32Array): PromptOdds {
  const vocabulary = vocabularyOf(config.vocabSize);
  const tokens = [...text].slice(-config.blockSize);
  const order = [...next.keys()].sort((a, b) => next[b]! - next[a]!);
  return {
    ids: tokens.map((token) => vocabulary.indexOf(token)),
    tokens,
    config,
    next,
    top: order.slice(0, TOP).map((id) => ({ id, token: vocabulary[id]!, score: next[id]! })),
  };
}

interface Call {
  text: string;
  interventions: Interventions | undefined;
  answer: PromptOdds;
  release: () => void;
}

/** Answers odds() with fresh random odds; records each call; can hold answers until released; fails on request. */
class FakeInspector implements ExperimentsClient {
  readonly calls: Call[] = [];
  config = randomConfig();
  failure = '';
  holding = false;
  /** Shapes the next answers' distribution (to force a case); fresh random when null. */
  shape: ((size: number) => Float32Array) | null = null;

  readonly inspector = {
    odds: async (text: string, interventions?: Interventions): Promise<PromptOdds> => {
      const answer = inspectionOf(text, this.config, (this.shape ?? randomNext)(this.config.vocabSize));
      let release = () => {};
      const released = new Promise<void>((resolve) => (release = resolve));
      this.calls.push({ text, interventions: structuredClone(interventions), answer, release });
      if (!this.holding) release();
      await released;
      if (this.failure) throw new Error(this.failure);
      return answer;
    },
  };

  /** The newest call of one kind: 'normal' (no interventions), 'unmasked' or 'ablated'. */
  last(kind: 'normal' | 'unmasked' | 'ablated'): Call | undefined {
    const matches = ({ interventions }: Call) =>
      kind === 'normal'
        ? interventions === undefined
        : kind === 'unmasked'
          ? interventions?.causalMask === false
          : !!interventions?.ablate;
    return this.calls.filter(matches).at(-1);
  }
}

describe('<llm-attention-experiments>', function () {
  let element: AttentionExperiments;
  let fake: FakeInspector;
  const root = () => element.shadowRoot!;
  const part = <E extends Element = HTMLElement>(name: string) => root().querySelector<E>(`[part~="${name}"]`);
  const parts = <E extends Element = HTMLElement>(name: string) => [...root().querySelectorAll<E>(`[part~="${name}"]`)];
  const headButton = (layer: number, head: number) =>
    root().querySelector<HTMLButtonElement>(`[part~="head"][data-layer="${layer}"][data-head="${head}"]`)!;
  const pressed = (button: Element) => button.getAttribute('aria-pressed') === 'true';
  /** No run pending, and the charts drawn. */
  const settled = async () => {
    await waitFor(() => !root().querySelector('[aria-busy="true"]') && fake.calls.length > 0, 'the element to settle');
    await element.updateComplete;
    await Promise.all([...root().querySelectorAll('llm-next-token-chart')].map((chart) => chart.updateComplete));
  };

  /** What a chart shows: for each bar, the token id, its label and its value, and the rest bar. */
  function chartRows(name: string) {
    const chart = part(name)!.shadowRoot!;
    const bars = [...chart.querySelectorAll('[part~="bar"]:not([part~="rest"])')];
    return {
      ids: bars.map((bar) => Number(bar.querySelector('.id')!.textContent)),
      values: bars.map((bar) => bar.querySelector('[part~="bar-value"]')!.textContent!.trim()),
      labels: bars.map((bar) => bar.getAttribute('aria-label')),
      rest: chart.querySelector('[part~="rest"] [part~="bar-value"]')!.textContent!.trim(),
    };
  }

  /** Both charts show the same tokens (those in either top list, likeliest in either first), each with its own odds. */
  function expectCharts(beforeChart: string, afterChart: string, before: PromptOdds, after: PromptOdds): void {
    const union = new Set([...before.top, ...after.top].map(({ id }) => id));
    const larger = (id: number) => Math.max(before.next[id]!, after.next[id]!);
    const expectedIds = [...union].sort((a, b) => larger(b) - larger(a));
    const token = (id: number) => [...before.top, ...after.top].find((entry) => entry.id === id)!.token;
    for (const [name, inspection] of [
      [beforeChart, before],
      [afterChart, after],
    ] as const) {
      const rows = chartRows(name);
      expect(rows.ids, name).to.deep.equal(expectedIds);
      expect(rows.values, name).to.deep.equal(expectedIds.map((id) => formatPercent(inspection.next[id]!)));
      expect(rows.labels, name).to.deep.equal(
        expectedIds.map((id) => `${describeToken(token(id))}: ${formatPercent(inspection.next[id]!)}`),
      );
      const shown = expectedIds.reduce((sum, id) => sum + inspection.next[id]!, 0);
      expect(rows.rest, name).to.equal(formatPercent(1 - shown));
    }
  }

  /** The change sentence names the top token before and after, their odds, and the total variation distance. */
  function expectChange(partName: string, subject: string, before: PromptOdds, after: PromptOdds): void {
    let moved = 0;
    for (let i = 0; i < before.next.length; i++) moved += Math.abs(before.next[i]! - after.next[i]!);
    moved /= 2;
    const was = before.top[0]!;
    const now = after.top[0]!;
    const odds = (id: number) => `${formatPercent(before.next[id]!)} → ${formatPercent(after.next[id]!)}`;
    const text = part(partName)!.textContent!.replace(/\s+/g, ' ').trim();
    expect(text).to.contain(subject);
    expect(text).to.contain(`${formatPercent(moved)} of the probability moved (total variation distance)`);
    if (was.id === now.id) {
      expect(text).to.contain(`the top token stays ${describeToken(was.token)} (${odds(was.id)})`);
    } else {
      expect(text).to.contain(
        `the top token changes from ${describeToken(was.token)} (${odds(was.id)}) to ${describeToken(now.token)} (${odds(now.id)})`,
      );
    }
  }

  /** Chosen heads as the client should get them: [layer, head] pairs in order. */
  const pairsOf = (chosen: Set<string>): [number, number][] =>
    [...chosen].map((key) => key.split(',').map(Number) as [number, number]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);

  beforeEach(async () => {
    fake = new FakeInspector();
    element = document.createElement('llm-attention-experiments');
    element.client = fake;
    element.text = randomText();
    document.body.append(element);
    await waitFor(() => part('heads'), 'the head grid');
  });

  afterEach(() => element.remove());

  it('fits the EngineClient', () => {
    expect(engineClientFits).to.equal(true);
  });

  it('runs the prompt once as trained, and draws a layer × head grid of unpressed toggles', () => {
    expect(fake.calls).to.have.length(1);
    expect(fake.calls[0]!.text).to.equal(element.text);
    expect(fake.calls[0]!.interventions).to.equal(undefined);
    const { nLayer, nHead } = fake.config;
    expect(parts('head')).to.have.length(nLayer * nHead);
    expect(parts('layer-all')).to.have.length(nLayer);
    expect(parts('head').every((button) => !pressed(button))).to.equal(true);
    expect(headButton(nLayer - 1, nHead - 1).getAttribute('aria-label')).to.equal(`layer ${nLayer}, head ${nHead}`);
    expect(part<HTMLButtonElement>('clear')!.disabled).to.equal(true);
    expect(part('ablate-after-chart')).to.equal(null);
    expect(part('mask-off-chart')).to.equal(null);
  });

  it('the mask toggle says its state ("Causal mask: on" / "off"), keeps its name, and works from the keyboard', async () => {
    const toggle = part<HTMLButtonElement>('mask-toggle')!;
    const shows = () => ({ text: toggle.textContent!.trim(), name: toggle.getAttribute('aria-label'), pressed: pressed(toggle) });
    expect(toggle.tagName).to.equal('BUTTON');
    expect(shows()).to.deep.equal({ text: 'Causal mask: on', name: 'Causal mask', pressed: true });
    toggle.focus();
    await sendKeys({ press: 'Space' });
    await settled();
    expect(shows()).to.deep.equal({ text: 'Causal mask: off', name: 'Causal mask', pressed: false });
    expect(fake.last('unmasked')).to.not.equal(undefined);
    expect(part('mask-off-chart')).to.not.equal(null);
    await sendKeys({ press: 'Enter' });
    await element.updateComplete;
    expect(shows()).to.deep.equal({ text: 'Causal mask: on', name: 'Causal mask', pressed: true });
    expect(part('mask-off-chart')).to.equal(null);
  });

  it('mask off: asks for causalMask false, shows both predictions over the same tokens and what changed', async () => {
    part('mask-toggle')!.click();
    await settled();
    expect(pressed(part('mask-toggle')!)).to.equal(false);
    expect(fake.calls).to.have.length(2);
    expect(fake.calls[1]!.interventions).to.deep.equal({ causalMask: false });
    expect(fake.calls[1]!.text).to.equal(element.text);
    const before = fake.last('normal')!.answer;
    const after = fake.last('unmasked')!.answer;
    expectCharts('mask-normal-chart', 'mask-off-chart', before, after);
    expectChange('mask-change', 'Without the mask', before, after);

    part('mask-toggle')!.click();
    await element.updateComplete;
    expect(pressed(part('mask-toggle')!)).to.equal(true);
    expect(part('mask-off-chart')).to.equal(null);
    expect(fake.calls).to.have.length(2);
  });

  it('the change sentence says when the top token stays, with the odds that moved', async () => {
    const before = fake.last('normal')!.answer;
    const winner = before.top[0]!.id;
    // Fresh odds, but with the same likeliest token as before.
    fake.shape = (size) => {
      const next = randomNext(size);
      const peak = next.indexOf(Math.max(...next));
      [next[peak], next[winner]] = [next[winner]!, next[peak]!];
      return next;
    };
    part('mask-toggle')!.click();
    await settled();
    const after = fake.last('unmasked')!.answer;
    expect(after.top[0]!.id).to.equal(winner);
    expectCharts('mask-normal-chart', 'mask-off-chart', before, after);
    expectChange('mask-change', 'Without the mask', before, after);
    expect(part('mask-change')!.textContent).to.contain('stays');
  });

  it('head toggles send exactly the heads chosen, and clear sends none', async () => {
    const { nLayer, nHead } = fake.config;
    const chosen = new Set<string>();
    for (let click = 0; click < 6; click++) {
      const layer = randomInt(0, nLayer);
      const head = randomInt(0, nHead);
      const key = `${layer},${head}`;
      if (!chosen.delete(key)) chosen.add(key);
      headButton(layer, head).click();
      await settled();
      expect(pressed(headButton(layer, head))).to.equal(chosen.has(key));
      if (chosen.size) {
        expect(fake.calls.at(-1)!.interventions).to.deep.equal({ ablate: pairsOf(chosen) });
        const before = fake.last('normal')!.answer;
        const after = fake.last('ablated')!.answer;
        expectCharts('ablate-before-chart', 'ablate-after-chart', before, after);
        const heads = `${chosen.size} ${chosen.size === 1 ? 'head' : 'heads'}`;
        expectChange('ablate-change', `With ${heads} zeroed`, before, after);
      } else {
        expect(part('ablate-after-chart')).to.equal(null);
      }
    }
    if (!chosen.size) {
      headButton(0, 0).click();
      await settled();
    }
    const calls = fake.calls.length;
    part('clear')!.click();
    await element.updateComplete;
    expect(fake.calls).to.have.length(calls);
    expect(parts('head').every((button) => !pressed(button))).to.equal(true);
    expect(part('ablate-after-chart')).to.equal(null);
    expect(part<HTMLButtonElement>('clear')!.disabled).to.equal(true);
  });

  it('"all heads" zeroes a whole layer (with heads already chosen elsewhere), and again frees it', async () => {
    const { nLayer, nHead } = fake.config;
    const layer = randomInt(0, nLayer);
    const other = (layer + 1) % nLayer;
    const lone = randomInt(0, nHead);
    const partly = randomInt(0, nHead);
    headButton(other, lone).click();
    headButton(layer, partly).click();
    await settled();
    parts('layer-all')[layer]!.click();
    await settled();
    const chosen = new Set([`${other},${lone}`, ...Array.from({ length: nHead }, (_, head) => `${layer},${head}`)]);
    expect(fake.calls.at(-1)!.interventions).to.deep.equal({ ablate: pairsOf(chosen) });
    expect(pressed(parts('layer-all')[layer]!)).to.equal(true);
    expect(pressed(parts('layer-all')[other]!)).to.equal(false);
    for (let head = 0; head < nHead; head++) expect(pressed(headButton(layer, head))).to.equal(true);
    expectCharts('ablate-before-chart', 'ablate-after-chart', fake.last('normal')!.answer, fake.last('ablated')!.answer);

    parts('layer-all')[layer]!.click();
    await settled();
    expect(fake.calls.at(-1)!.interventions).to.deep.equal({ ablate: [[other, lone]] });
    expect(pressed(parts('layer-all')[layer]!)).to.equal(false);
  });

  it('is keyboard usable: Space and Enter toggle, arrow keys move between heads', async () => {
    const { nLayer, nHead } = fake.config;
    headButton(0, 0).focus();
    await sendKeys({ press: 'Space' });
    await settled();
    expect(fake.calls.at(-1)!.interventions).to.deep.equal({ ablate: [[0, 0]] });
    await sendKeys({ press: 'ArrowRight' });
    await sendKeys({ press: 'ArrowDown' });
    expect(root().activeElement).to.equal(headButton(1, 1));
    await sendKeys({ press: 'Enter' });
    await settled();
    expect(fake.calls.at(-1)!.interventions).to.deep.equal({
      ablate: [
        [0, 0],
        [1, 1],
      ],
    });
    // The grid's edges hold the focus.
    headButton(nLayer - 1, nHead - 1).focus();
    await sendKeys({ press: 'ArrowDown' });
    await sendKeys({ press: 'ArrowRight' });
    expect(root().activeElement).to.equal(headButton(nLayer - 1, nHead - 1));
  });

  it('shows it is busy while recomputing, and the newest request wins', async () => {
    fake.holding = true;
    headButton(0, 0).click();
    await waitFor(() => fake.calls.length === 2, 'the first ablation call');
    await element.updateComplete;
    expect(root().querySelector('.compare')!.getAttribute('aria-busy')).to.equal('true');
    expect(part('ablate-experiment')!.querySelector('[role="status"]')!.textContent).to.contain(
      'Running the prompt with 1 head zeroed',
    );
    headButton(1, 0).click();
    await waitFor(() => fake.calls.length === 3, 'the second ablation call');
    const [, older, newer] = fake.calls;
    newer!.release();
    await waitFor(() => part('ablate-change'), 'the newer answer');
    older!.release();
    await settled();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expectCharts('ablate-before-chart', 'ablate-after-chart', fake.calls[0]!.answer, newer!.answer);
    expect(part('ablate-experiment')!.querySelector('[role="status"]')!.textContent!.trim()).to.equal('');
  });

  it('a new prompt reruns the model and every experiment that is on', async () => {
    part('mask-toggle')!.click();
    headButton(1, 1).click();
    await settled();
    const calls = fake.calls.length;
    element.text = randomText();
    await waitFor(() => fake.calls.length === calls + 3, 'three new calls');
    await settled();
    const fresh = fake.calls.slice(calls);
    expect(fresh.map(({ text }) => text)).to.deep.equal([element.text, element.text, element.text]);
    expect(fresh.map(({ interventions }) => interventions)).to.deep.equal([
      undefined,
      { causalMask: false },
      { ablate: [[1, 1]] },
    ]);
    expectCharts('mask-normal-chart', 'mask-off-chart', fresh[0]!.answer, fresh[1]!.answer);
    expectCharts('ablate-before-chart', 'ablate-after-chart', fresh[0]!.answer, fresh[2]!.answer);
  });

  it('a model with other heads: the grid follows it and no head stays chosen', async () => {
    headButton(0, 1).click();
    await settled();
    // Another client, as when the playground hands over one that holds another model.
    const other = new FakeInspector();
    while (other.config.nLayer === fake.config.nLayer && other.config.nHead === fake.config.nHead) other.config = randomConfig();
    element.client = fake = other;
    await waitFor(() => parts('head').length === fake.config.nLayer * fake.config.nHead, 'the new grid');
    await settled();
    expect(parts('head').every((button) => !pressed(button))).to.equal(true);
    expect(part('ablate-after-chart')).to.equal(null);
  });

  it("shows the client's error in an alert, and clears it when a run succeeds", async () => {
    const message = `The worker stopped (${randomInt(1, 1e6)}).`;
    fake.failure = message;
    part('mask-toggle')!.click();
    await waitFor(() => part('error'), 'the error');
    expect(part('error')!.getAttribute('role')).to.equal('alert');
    expect(part('error')!.textContent).to.equal(message);
    fake.failure = '';
    headButton(0, 0).click();
    await settled();
    const ablateAlert = part('ablate-experiment')!.querySelector('[role="alert"]');
    expect(ablateAlert).to.equal(null);
    part('mask-toggle')!.click();
    part('mask-toggle')!.click();
    await settled();
    expect(part('mask-experiment')!.querySelector('[role="alert"]')).to.equal(null);
    expectCharts('mask-normal-chart', 'mask-off-chart', fake.last('normal')!.answer, fake.last('unmasked')!.answer);
  });

  it('an error on the first run is shown, and no grid is drawn', async () => {
    element.remove();
    fake = new FakeInspector();
    fake.failure = `No model yet (${randomInt(1, 1e6)}).`;
    element = document.createElement('llm-attention-experiments');
    element.client = fake;
    element.text = randomText();
    document.body.append(element);
    await waitFor(() => part('error'), 'the error');
    expect(parts('error').map((alert) => alert.textContent)).to.deep.equal([fake.failure, fake.failure]);
    expect(part('heads')).to.equal(null);
  });
});
