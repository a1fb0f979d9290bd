// <llm-training-timelapse> against an in-memory client of its slice that records
// frames of fresh random odds and attention patterns as a fake training goes
// on: the settings sent, the slider moving between frames, the thumbnails,
// the loss curve's marker, the empty state and errors.
import { sendKeys } from '@web/test-runner-commands';
import { expect } from 'chai';
import type { EngineClient } from '../../src/client.ts';
import type { Heatmap } from '../../src/elements/heatmap.ts';
import '../../src/elements/training-timelapse.ts';
import { DEFAULT_PROMPT, type TimelapseClient, type TrainingTimelapse } from '../../src/elements/training-timelapse.ts';
import { describeToken, formatPercent } from '../../src/visible-token.ts';
import type { LossPoint, TimelapseFrame, TimelapseSettings } from '../../workers/api/index.ts';
import { random, randomInt, shuffle } from './seeded.ts';
import { waitFor } from './wait-for.ts';

// The inspector panel hands its EngineClient to the element.
const engineClientFits: EngineClient extends TimelapseClient ? true : never = true;

const VOCABULARY = [...'abcdefghijklmnopqrstuvwxyz .,\n'];

/** [nHead, T, T] attention patterns: random causal rows that sum to 1. */
function randomPattern(nHead: number, t: number): Float32Array {
  const pattern = new Float32Array(nHead * t * t);
  for (let row = 0; row < nHead * t; row++) {
    const query = row % t;
    const weights = Array.from({ length: query + 1 }, () => 0.05 + random());
    const sum = weights.reduce((a, b) => a + b, 0);
    weights.forEach((weight, key) => (pattern[row * t + key] = weight / sum));
  }
  return pattern;
}

class FakeInspector implements TimelapseClient {
  readonly nLayer = randomInt(1, 5);
  readonly nHead = randomInt(1, 5);
  readonly settingsSent: TimelapseSettings[] = [];
  timelapseCalls = 0;
  /** false: no model is training, so nothing is recorded. */
  training = true;
  step = randomInt(0, 40);
  frames: TimelapseFrame[] = [];
  failures: { timelapse?: string; setTimelapse?: string } = {};
  private settings: TimelapseSettings | null = null;

  readonly inspector = {
    setTimelapse: async (settings: TimelapseSettings): Promise<void> => {
      this.settingsSent.push(settings);
      if (this.failures.setTimelapse) throw new Error(this.failures.setTimelapse);
      this.settings = { ...settings };
      this.frames = [];
      this.record();
    },

    timelapse: async (): Promise<TimelapseFrame[]> => {
      this.timelapseCalls++;
      if (this.failures.timelapse) throw new Error(this.failures.timelapse);
      return [...this.frames];
    },
  };

  /** Training goes on for `steps` steps, with a frame at every multiple of the interval. */
  train(steps: number): void {
    for (let i = 0; i < steps; i++) {
      this.step++;
      if (this.settings && this.step % this.settings.every === 0) this.record();
    }
  }

  private record(): void {
    if (!this.training || !this.settings) return;
    const t = [...this.settings.prompt].length || 1;
    let left = 0.4 + random() * 0.6;
    const top = shuffle([...VOCABULARY.keys()])
      .slice(0, 5)
      .map((id) => {
        const score = left * (0.3 + random() * 0.6);
        left -= score;
        return { id, token: VOCABULARY[id]!, score };
      });
    const patterns = Array.from({ length: this.nLayer }, () => randomPattern(this.nHead, t));
    const tokens = this.settings.prompt ? [...this.settings.prompt] : ['\n'];
    this.frames.push({ step: this.step, tokens, top, patterns });
  }
}

describe('<llm-training-timelapse>', function () {
  let element: TrainingTimelapse;
  let client: FakeInspector;
  const root = () => element.shadowRoot!;
  const part = <E extends Element = HTMLElement>(name: string) => root().querySelector<E>(`[part~="${name}"]`);
  const slider = () => part<HTMLInputElement>('slider')!;
  const thumbnails = () => [...root().querySelectorAll<Heatmap>('[part~="thumbnail"]')];

  /** Checks that the element shows `frame`: its step, top tokens and every head's pattern. */
  async function expectShows(frame: TimelapseFrame): Promise<void> {
    const described = frame.top.map(({ token, score }) => `${describeToken(token)}: ${formatPercent(score)}`).join('|');
    const bars = () => [...root().querySelectorAll('[part~="bar"]')].map((bar) => bar.getAttribute('aria-label')).join('|');
    await waitFor(
      () => part('frame-step')?.textContent === `step ${frame.step.toLocaleString('en-US')}` && bars() === described,
      `the frame of step ${frame.step}`,
    );
    const t = Math.round(Math.sqrt(frame.patterns[0]!.length / client.nHead));
    await waitFor(() => thumbnails().length === client.nLayer * client.nHead, 'a thumbnail per head');
    thumbnails().forEach((thumbnail, i) => {
      const layer = Math.floor(i / client.nHead);
      const head = i % client.nHead;
      expect(thumbnail.compact).to.equal(true);
      expect([thumbnail.rows, thumbnail.cols]).to.deep.equal([t, t]);
      expect([...thumbnail.values]).to.deep.equal([...frame.patterns[layer]!.subarray(head * t * t, (head + 1) * t * t)]);
      expect(thumbnail.label).to.equal(`Layer ${layer + 1}, head ${head + 1}`);
    });
  }

  async function connect(): Promise<void> {
    element = document.createElement('llm-training-timelapse');
    document.body.append(element);
    element.client = client;
    await waitFor(() => client.timelapseCalls > 0 && !/Fetching/.test(part('status')?.textContent ?? ''), 'the first frames');
  }

  beforeEach(() => {
    client = new FakeInspector();
  });

  afterEach(() => element?.remove());

  it('fits the EngineClient', () => {
    expect(engineClientFits).to.equal(true);
  });

  it('starts watching the default prompt when the worker has no frames, and shows the first frame', async () => {
    await connect();
    expect(client.settingsSent).to.deep.equal([{ prompt: DEFAULT_PROMPT, every: 25 }]);
    expect(part<HTMLInputElement>('prompt-input')!.value).to.equal(DEFAULT_PROMPT);
    expect(part<HTMLSelectElement>('every-select')!.value).to.equal('25');
    await expectShows(client.frames[0]!);
  });

  it('shows the frames the worker already has without changing its settings', async () => {
    await client.inspector.setTimelapse({ prompt: 'abc', every: 10 });
    client.train(35);
    client.settingsSent.length = 0;
    await connect();
    expect(client.settingsSent).to.deep.equal([]);
    expect(Number(slider().max)).to.equal(client.frames.length - 1);
    await expectShows(client.frames.at(-1)!);
  });

  it('sends the prompt and interval chosen, then shows the new frames', async () => {
    await connect();
    const prompt = Array.from({ length: randomInt(3, 12) }, () => VOCABULARY[randomInt(0, 27)]).join('');
    const input = part<HTMLInputElement>('prompt-input')!;
    input.value = prompt;
    input.dispatchEvent(new Event('input'));
    const select = part<HTMLSelectElement>('every-select')!;
    select.value = '50';
    select.dispatchEvent(new Event('change'));
    part<HTMLButtonElement>('apply-button')!.click();
    await waitFor(() => client.settingsSent.length === 2, 'the new settings');
    expect(client.settingsSent[1]).to.deep.equal({ prompt, every: 50 });
    await expectShows(client.frames[0]!);
    client.train(160);
    await element.refresh();
    expect(client.frames.map((frame) => frame.step % 50)).to.deep.equal(
      client.frames.map((_, i) => (i === 0 ? client.frames[0]!.step % 50 : 0)),
    );
    await expectShows(client.frames.at(-1)!);
  });

  it('scrubs through the frames with the slider and the keyboard, and follows new frames only from the last', async () => {
    await connect();
    client.train(25 * randomInt(4, 8));
    part<HTMLButtonElement>('refresh-button')!.click();
    await waitFor(() => Number(slider().max) === client.frames.length - 1, 'the slider to cover every frame');
    await expectShows(client.frames.at(-1)!);
    expect(slider().value).to.equal(String(client.frames.length - 1));

    const middle = randomInt(1, client.frames.length - 1);
    slider().value = String(middle);
    slider().dispatchEvent(new Event('input'));
    await expectShows(client.frames[middle]!);
    expect(slider().getAttribute('aria-valuetext')).to.equal(
      `step ${client.frames[middle]!.step}, frame ${middle + 1} of ${client.frames.length}`,
    );

    slider().focus();
    await sendKeys({ press: 'ArrowLeft' });
    await expectShows(client.frames[middle - 1]!);
    await sendKeys({ press: 'Home' });
    await expectShows(client.frames[0]!);

    // Away from the last frame, new frames do not move the slider; at the last, it follows them.
    client.train(50);
    await element.refresh();
    await expectShows(client.frames[0]!);
    await sendKeys({ press: 'End' });
    await expectShows(client.frames.at(-1)!);
    client.train(50);
    await element.refresh();
    await expectShows(client.frames.at(-1)!);
  });

  it('marks the frame’s step on the loss curve', async () => {
    await connect();
    client.train(25 * randomInt(4, 8) + randomInt(0, 20));
    const points: LossPoint[] = Array.from({ length: client.step }, (_, i) => ({
      step: i + 1,
      loss: 4 * Math.exp(-i / 60) + random() * 0.5,
    }));
    element.points = points;
    await element.refresh();
    const lastStep = client.step;
    for (const index of [client.frames.length - 1, randomInt(1, client.frames.length - 1), 0]) {
      slider().value = String(index);
      slider().dispatchEvent(new Event('input'));
      const frame = client.frames[index]!;
      await expectShows(frame);
      const marker = part<SVGGElement>('loss-marker')!;
      expect(marker.dataset['step']).to.equal(String(frame.step));
      const [yAxis, xAxis] = [...part('loss-curve')!.querySelectorAll('.axis')];
      const [left, right] = [Number(yAxis!.getAttribute('x1')), Number(xAxis!.getAttribute('x2'))];
      const x = Number(marker.querySelector('line')!.getAttribute('x1'));
      expect((x - left) / (right - left)).to.be.closeTo(frame.step / lastStep, 1e-6);
      const at = points.filter((point) => point.step <= frame.step).at(-1);
      const label = part('loss-curve')!.getAttribute('aria-label')!;
      expect(label).to.contain(`This frame: step ${frame.step}${at ? `, loss ${at.loss.toFixed(2)}` : ''}.`);
      expect(marker.querySelector('circle') !== null).to.equal(at !== undefined);
    }
  });

  it('shows a chosen head large, with the prompt’s tokens on both axes', async () => {
    await connect();
    expect(part('head')).to.equal(null);
    const chosen = randomInt(0, thumbnails().length);
    thumbnails()[chosen]!.shadowRoot!.querySelector('canvas')!.click();
    const large = await waitFor(() => part<Heatmap>('head'), 'the large heatmap');
    await waitFor(() => thumbnails()[chosen]!.selected, 'the thumbnail to show it is chosen');
    const layer = Math.floor(chosen / client.nHead);
    const head = chosen % client.nHead;
    const tokens = [...DEFAULT_PROMPT].map((c) => (c === ' ' ? '␣' : c));
    expect(large.rowLabels).to.deep.equal(tokens);
    expect(large.colLabels).to.deep.equal(tokens);
    expect(large.label).to.equal(`Layer ${layer + 1}, head ${head + 1} at step ${client.frames[0]!.step}`);
    expect([...large.values]).to.deep.equal([...thumbnails()[chosen]!.values]);
  });

  it('explains that frames appear while training when there are none', async () => {
    client.training = false;
    await connect();
    const empty = await waitFor(() => part('empty'), 'the empty state');
    expect(empty.getAttribute('role')).to.equal('status');
    expect(empty.textContent)
      .to.match(/Train a model/)
      .and.match(/every 25 steps/);
    expect(part('slider')).to.equal(null);
    expect(thumbnails()).to.have.length(0);
  });

  it('shows the worker’s errors, and clears them when a call succeeds', async () => {
    const message = `The worker stopped ${randomInt(1, 1000)}`;
    client.failures.timelapse = message;
    await connect();
    const error = await waitFor(() => part('error'), 'the error');
    expect(error.getAttribute('role')).to.equal('alert');
    expect(error.textContent).to.equal(message);
    expect(client.settingsSent).to.deep.equal([]);

    client.failures = { setTimelapse: 'a time-lapse frame every 0 steps is not a whole number ≥ 1' };
    part<HTMLButtonElement>('apply-button')!.click();
    await waitFor(() => part('error')?.textContent === client.failures.setTimelapse, 'the settings error');

    client.failures = {};
    part<HTMLButtonElement>('apply-button')!.click();
    await waitFor(() => !part('error'), 'the error to clear');
    await expectShows(client.frames[0]!);
  });
});
