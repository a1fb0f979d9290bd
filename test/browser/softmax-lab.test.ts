// <llm-softmax-lab> against an in-memory slice of the labs area that answers fresh random
// numbers: what is shown equals what the client answered, every way of editing
// a logit sends the new logits, the formula carries the client's numbers,
// loading the model's logits and drawing samples ask the client with the
// right arguments, and failures are shown.
import { resetMouse, sendKeys, sendMouse } from '@web/test-runner-commands';
import { expect } from 'chai';
import type { EngineClient } from '../../src/client.ts';
import '../../src/elements/softmax-lab.ts';
import type { SoftmaxLab, SoftmaxLabClient } from '../../src/elements/softmax-lab.ts';
import { formatPercent, visibleToken } from '../../src/visible-token.ts';
import type { ModelLogits, SoftmaxResult } from '../../workers/api/index.ts';
import { randomIn, randomInt } from './seeded.ts';
import { waitFor } from './wait-for.ts';

// The playground hands its EngineClient to the element: it must have every method the element calls.
const engineClientFits: EngineClient extends SoftmaxLabClient ? true : never = true;

/** A number as the formula shows it (− for minus), back to a number. */
const shownNumber = (element: Element): number => Number(element.textContent!.trim().replace('−', '-'));

type Labs = SoftmaxLabClient['labs'];

/** The labs methods the softmax lab calls: fresh random answers, every call recorded; fails or holds on request. */
class FakeLabs implements Labs {
  readonly softmaxCalls: { logits: number[]; temperature: number }[] = [];
  readonly sampleCalls: { logits: number[]; temperature: number; draws: number; seed: number }[] = [];
  readonly logitCalls: { text: string; count: number }[] = [];
  /** The last answers given. */
  answered: SoftmaxResult | null = null;
  counts: number[] = [];
  loaded: ModelLogits | null = null;
  failure = '';
  /** While holding, softmax calls wait here until released by their index. */
  holding = false;
  readonly held: (() => void)[] = [];

  async softmax(logits: number[], temperature: number): Promise<SoftmaxResult> {
    this.softmaxCalls.push({ logits, temperature });
    if (this.holding) await new Promise<void>((resolve) => this.held.push(resolve));
    if (this.failure) throw new Error(this.failure);
    const n = logits.length;
    const largest = logits.indexOf(Math.max(...logits));
    // Random numbers, so only the client can be their source; at T = 0 all the weight on the largest, as the contract says.
    const probs = temperature === 0 ? logits.map((_, i) => (i === largest ? 1 : 0)) : logits.map(() => randomIn(0.001, 0.9));
    const answer = {
      scaled: logits.map(() => randomIn(-8, 8)),
      exps: logits.map(() => randomIn(0.01, 1)),
      sum: randomIn(1, n),
      probs,
    };
    this.answered = answer;
    return answer;
  }

  async sampleCounts(logits: number[], temperature: number, draws: number, seed: number): Promise<number[]> {
    this.sampleCalls.push({ logits, temperature, draws, seed });
    if (this.failure) throw new Error(this.failure);
    this.counts = logits.map(() => randomInt(0, draws / logits.length));
    return this.counts;
  }

  async modelLogits(text: string, count: number): Promise<ModelLogits> {
    this.logitCalls.push({ text, count });
    if (this.failure) throw new Error(this.failure);
    const tokens = Array.from({ length: count }, (_, i) =>
      i === 0 ? ' ' : `t${i}${String.fromCharCode(97 + randomInt(0, 26))}`,
    );
    const logits = Array.from({ length: count }, () => randomIn(-20, 20)).sort((a, b) => b - a);
    this.loaded = { tokens, logits };
    return this.loaded;
  }
}

describe('<llm-softmax-lab>', function () {
  let lab: SoftmaxLab;
  let client: FakeLabs;
  const root = () => lab.shadowRoot!;
  const all = (part: string) => [...root().querySelectorAll<HTMLElement>(`[part~="${part}"]`)];
  const one = <E extends HTMLElement = HTMLElement>(part: string) => root().querySelector<E>(`[part~="${part}"]`)!;
  const lastSoftmax = () => client.softmaxCalls.at(-1)!;
  /** A temperature in 0.1 … 2 (two decimals) other than the lab's, so that setting it asks again. */
  const newTemperature = (): number => {
    const drawn = Number(randomIn(0.1, 1.9).toFixed(2));
    return drawn === lab.temperature ? Number((drawn + 0.1).toFixed(2)) : drawn;
  };

  /** Waits for the client's latest answer to be on screen, then checks every probability against it. */
  async function expectShownAnswer(): Promise<SoftmaxResult> {
    const answered = await waitFor(() => {
      const answer = client.answered;
      return answer && all('probability')[0]?.textContent === formatPercent(answer.probs[0]!) && answer;
    }, 'the latest softmax');
    expect(all('probability').map((cell) => cell.textContent)).to.deep.equal(answered.probs.map(formatPercent));
    all('probability-fill').forEach((fill, i) =>
      expect(parseFloat(fill.style.width)).to.be.closeTo(answered.probs[i]! * 100, 0.01),
    );
    return answered;
  }

  /** Waits until the client was last asked about these logits at this temperature. */
  async function expectAsked(logits: number[], temperature = lab.temperature): Promise<void> {
    await waitFor(
      () => JSON.stringify(lastSoftmax()) === JSON.stringify({ logits, temperature }),
      `softmax(${logits.join(', ')}; T = ${temperature}), last asked ${JSON.stringify(lastSoftmax())}`,
    );
    await expectShownAnswer();
  }

  beforeEach(async () => {
    client = new FakeLabs();
    lab = document.createElement('llm-softmax-lab');
    lab.client = { labs: client };
    document.body.append(lab);
    await lab.updateComplete;
  });

  afterEach(async () => {
    lab.remove();
    await resetMouse();
  });

  it('has every method it calls on the EngineClient', () => {
    expect(engineClientFits).to.equal(true);
  });

  it("shows the example tokens and the client's probabilities for them", async () => {
    await expectAsked([2, 1, 0.5, 0.1, -1], 1);
    expect(all('token-name').map((cell) => cell.textContent)).to.deep.equal(['cat', 'dog', 'mat', 'hat', 'bat']);
    expect(all('logit-input').map((input) => (input as HTMLInputElement).value)).to.deep.equal(['2', '1', '0.5', '0.1', '-1']);
    expect(one('temperature-value').textContent).to.equal('1.00');
    expect(one('status').getAttribute('role')).to.equal('status');
  });

  it('sends the new logits when one is typed, and clamps or restores it on leaving the field', async () => {
    await expectShownAnswer();
    const index = randomInt(0, 5);
    const value = Number(randomIn(-9, 9).toFixed(3));
    const input = all('logit-input')[index] as HTMLInputElement;
    input.value = String(value);
    input.dispatchEvent(new Event('input'));
    const expected = [...lab.logits];
    expected[index] = value;
    await expectAsked(expected);

    input.value = '250';
    input.dispatchEvent(new Event('input'));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(lastSoftmax().logits[index]).to.equal(value);
    input.dispatchEvent(new Event('change'));
    expected[index] = 100;
    await expectAsked(expected);
    expect(input.value).to.equal('100');

    input.value = '';
    input.dispatchEvent(new Event('change'));
    await lab.updateComplete;
    expect(input.value).to.equal('100');
  });

  it('sends the new logits when a bar is dragged', async () => {
    await expectShownAnswer();
    const index = randomInt(0, 5);
    const bar = all('logit-bar')[index]!;
    const box = bar.getBoundingClientRect();
    const reach = Number(bar.getAttribute('aria-valuemax'));
    expect(reach).to.equal(5);
    const y = Math.round(box.top + box.height / 2);
    const pointAt = (fraction: number) => Math.round(box.left + fraction * box.width);
    /** The logit under the pointer at x: −reach at the left end, +reach at the right. */
    const logitAt = (x: number) => ((x - box.left) / box.width) * 2 * reach - reach;

    const start = pointAt(randomIn(0.55, 0.95));
    await sendMouse({ type: 'move', position: [start, y] });
    await sendMouse({ type: 'down' });
    await waitFor(() => Math.abs(lastSoftmax().logits[index]! - logitAt(start)) < 0.011, 'the logit under the pointer');
    const end = pointAt(randomIn(0.05, 0.45));
    // Held, the drag follows the pointer even off the bar; the bar's scale stays as it was.
    await sendMouse({ type: 'move', position: [end, y + 40] });
    await waitFor(() => Math.abs(lastSoftmax().logits[index]! - logitAt(end)) < 0.011, 'the logit after the move');
    await sendMouse({ type: 'move', position: [Math.round(box.right + 200), y] });
    await waitFor(() => lastSoftmax().logits[index] === reach, "the bar's end");
    await sendMouse({ type: 'up' });
    const dragged = lastSoftmax().logits;
    expect(dragged.filter((_, i) => i !== index)).to.deep.equal([2, 1, 0.5, 0.1, -1].filter((_, i) => i !== index));
    await expectShownAnswer();
    expect((all('logit-input')[index] as HTMLInputElement).value).to.equal(String(reach));

    // Released, moving over the bar changes nothing.
    const calls = client.softmaxCalls.length;
    await sendMouse({ type: 'move', position: [pointAt(0.2), y] });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(client.softmaxCalls.length).to.equal(calls);
  });

  it('changes a logit by 0.1 with the arrow keys on its bar, by 1 with Page Up and Down', async () => {
    await expectShownAnswer();
    const index = randomInt(0, 5);
    const bar = all('logit-bar')[index]!;
    expect(bar.getAttribute('role')).to.equal('slider');
    bar.focus();
    const expected = [...lab.logits];
    const press = async (key: string, change: number) => {
      await sendKeys({ press: key });
      expected[index] = Number((expected[index]! + change).toFixed(2));
      await expectAsked(expected);
      expect(bar.getAttribute('aria-valuenow')).to.equal(String(expected[index]));
    };
    await press('ArrowRight', 0.1);
    await press('ArrowUp', 0.1);
    await press('ArrowLeft', -0.1);
    await press('ArrowDown', -0.1);
    await press('ArrowDown', -0.1);
    await press('PageUp', 1);
    await press('PageDown', -1);
  });

  it('sends the temperature from the slider; at 0 the client puts all the weight on the largest', async () => {
    await expectShownAnswer();
    const slider = one<HTMLInputElement>('temperature-input');
    const temperature = Number(randomIn(0.05, 2).toFixed(2));
    slider.value = String(temperature);
    slider.dispatchEvent(new Event('input'));
    await expectAsked(lab.logits, temperature);
    expect(one('temperature-value').textContent).to.equal(temperature.toFixed(2));

    // Random logits with one clear largest.
    const logits = Array.from({ length: 5 }, () => Number(randomIn(-4, 4).toFixed(2)));
    const largest = randomInt(0, 5);
    logits[largest] = 4.5;
    lab.logits = logits;
    slider.value = '0';
    slider.dispatchEvent(new Event('input'));
    await expectAsked(logits, 0);
    expect(all('probability').map((cell) => cell.textContent)).to.deep.equal(
      logits.map((_, i) => (i === largest ? '100.0%' : '0.00%')),
    );
    expect(one('formula').textContent).to.contain('At T = 0');
  });

  it("puts the client's numbers for the chosen token into the formula", async () => {
    let answer = await expectShownAnswer();
    const check = (index: number) => {
      expect(shownNumber(one('scaled'))).to.be.closeTo(answer.scaled[index]!, 1e-4);
      expect(shownNumber(one('numerator'))).to.be.closeTo(answer.exps[index]!, 1e-4);
      expect(shownNumber(one('denominator'))).to.be.closeTo(answer.sum, 1e-4);
      expect(one('formula-probability').textContent).to.equal(formatPercent(answer.probs[index]!));
      expect(one('formula').textContent!.replace(/\s+/g, ' ')).to.contain(
        `p(${lab.tokens[index]}) = exp(${lab.logits[index]} / ${lab.temperature.toFixed(2)})`,
      );
    };
    check(0);
    const index = randomInt(1, 5);
    const picker = one<HTMLSelectElement>('formula-token');
    picker.selectedIndex = index;
    picker.dispatchEvent(new Event('change'));
    await lab.updateComplete;
    check(index);

    lab.temperature = newTemperature();
    await expectAsked(lab.logits);
    answer = client.answered!;
    check(index);
  });

  it("loads the model's logits for the prompt: the client's tokens and logits replace the example", async () => {
    const load = one<HTMLButtonElement>('load-button');
    expect(load.disabled, 'no prompt, nothing to load').to.be.true;
    const text = `Once upon a time ${randomInt(0, 1000)}`;
    lab.text = text;
    await lab.updateComplete;
    load.click();
    await waitFor(() => client.loaded, "the model's logits");
    expect(client.logitCalls).to.deep.equal([{ text, count: 8 }]);
    const { tokens, logits } = client.loaded!;
    await expectAsked(logits);
    expect(all('token-name').map((cell) => cell.textContent)).to.deep.equal(tokens.map(visibleToken));
    expect(all('logit-input').map((input) => Number((input as HTMLInputElement).value))).to.deep.equal(
      logits.map((z) => Number(z.toFixed(4))),
    );
    expect(one('status').textContent).to.contain('8 likeliest');
    // The bars widen to hold the largest logit.
    expect(Number(one('logit-bar').getAttribute('aria-valuemax'))).to.equal(
      Math.max(5, Math.ceil(Math.max(...logits.map(Math.abs)))),
    );

    one<HTMLButtonElement>('reset-button').click();
    await expectAsked([2, 1, 0.5, 0.1, -1]);
    expect(all('token-name').map((cell) => cell.textContent)).to.deep.equal(['cat', 'dog', 'mat', 'hat', 'bat']);
  });

  it('draws N times with the seed and shows the counts beside the probabilities, until the logits change', async () => {
    await expectShownAnswer();
    expect(all('sample-fill')).to.have.length(0);
    const draws = [10, 100, 1000, 10000][randomInt(0, 4)]!;
    const picker = one<HTMLSelectElement>('draws');
    picker.value = String(draws);
    picker.dispatchEvent(new Event('change'));
    const seed = randomInt(0, 1_000_000);
    const seedField = root().querySelector<HTMLInputElement>('[part~="seed"] input')!;
    seedField.value = String(seed);
    seedField.dispatchEvent(new Event('input'));
    await lab.updateComplete;
    const draw = one<HTMLButtonElement>('draw-button');
    expect(draw.textContent!.trim()).to.equal(`Draw ${draws.toLocaleString('en-US')} times`);
    draw.click();
    await waitFor(() => all('sample-fill').length === 5, 'the histogram');
    expect(client.sampleCalls).to.deep.equal([{ logits: lab.logits, temperature: lab.temperature, draws, seed }]);
    const counts = client.counts;
    expect(all('sample-value').map((cell) => cell.textContent)).to.deep.equal(
      counts.map((count) => `${formatPercent(count / draws)} (${count.toLocaleString('en-US')})`),
    );
    all('sample-fill').forEach((fill, i) => expect(parseFloat(fill.style.width)).to.be.closeTo((counts[i]! / draws) * 100, 0.01));
    expect(one('status').textContent).to.contain(`seed ${seed}`);

    // The counts belong to those logits: a new logit hides them.
    lab.logits = lab.logits.map((z) => z + 1);
    await lab.updateComplete;
    expect(all('sample-fill')).to.have.length(0);
  });

  it('shows each failure in an alert, and clears it once the client answers again', async () => {
    await expectShownAnswer();
    for (const action of ['softmax', 'load', 'draw'] as const) {
      const message = `Worker gone ${randomInt(0, 1000)}`;
      client.failure = message;
      if (action === 'softmax') lab.temperature = 0.5;
      if (action === 'load') {
        lab.text = 'abc';
        await lab.updateComplete;
        one<HTMLButtonElement>('load-button').click();
      }
      if (action === 'draw') one<HTMLButtonElement>('draw-button').click();
      const error = await waitFor(() => root().querySelector('[part~="error"]'), `the ${action} error`);
      expect(error.getAttribute('role')).to.equal('alert');
      expect(error.textContent).to.contain(message);
      client.failure = '';
      lab.temperature = newTemperature();
      await waitFor(() => !root().querySelector('[part~="error"]'), 'the error to clear');
      await expectShownAnswer();
    }
  });

  it('keeps only the newest softmax answer', async () => {
    const first = await expectShownAnswer();
    client.holding = true;
    lab.temperature = 0.3;
    await waitFor(() => client.held.length === 1, 'the first held softmax');
    lab.temperature = 1.7;
    await waitFor(() => client.held.length === 2, 'the second held softmax');
    client.held[1]!();
    const newer = await waitFor(() => client.answered !== first && client.answered, 'the newer answer');
    await expectShownAnswer();
    client.held[0]!();
    await waitFor(() => client.answered !== newer, 'the older answer');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(all('probability').map((cell) => cell.textContent)).to.deep.equal(newer.probs.map(formatPercent));
  });
});
