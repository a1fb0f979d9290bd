// <llm-tuning-panel>'s second tab, under tuning on choices: the RLHF of big chatbots in small (<llm-tuning-reinforcement>),
// with a fake engine that keeps the tuning contract (tuning-panel-fake.ts): a reward model trained on the pairs with
// the settings shown, its report, then policy-gradient steps: the order of the calls, the figures each report brings
// as the engine gave them, and the last step's answers listed with their rewards.
import { expect } from 'chai';
import type { LlmEvents } from '../../src/events.ts';
import { signed } from '../../src/format.ts';
import '../../src/elements/tuning-panel.ts';
import type { TuningMarginChart } from '../../src/elements/tuning-margin-chart.ts';
import type { TuningPanel } from '../../src/elements/tuning-panel.ts';
import { randomInt } from './seeded.ts';
import { DEFAULTS, FakeTuningEngine, REWARD_MODEL, rlKl, rlReward, sampledAnswer } from './tuning-panel-fake.ts';
import { waitFor } from './wait-for.ts';

describe('<llm-tuning-panel>: tune with a reward model and policy gradient', function () {
  let panel: TuningPanel;
  let engine: FakeTuningEngine;
  const ends: LlmEvents['llm-tuning-end'][] = [];
  const record = (event: Event) => ends.push((event as CustomEvent<LlmEvents['llm-tuning-end']>).detail);

  const tab = () => panel.shadowRoot!.querySelector('llm-tuning-choices')!.shadowRoot!;
  const rl = () => tab().querySelector('llm-tuning-reinforcement')!.shadowRoot!;
  const inRl = <E extends Element = HTMLElement>(name: string) => rl().querySelector<E>(`[part~="${name}"]`);
  const button = (name: string) => inRl<HTMLButtonElement>(name)!;
  const text = (element: Element | null) => element!.textContent!.replace(/\s+/g, ' ').trim();
  const figure = (name: string) => text(rl().querySelector(`[data-figure="${name}"] dd`));

  /** Draws two answers (to the question asked, else the one there) and chooses one: a pair. */
  async function choose(question?: string): Promise<void> {
    if (question !== undefined) {
      const input = tab().querySelector<HTMLInputElement>('[part~="choice-question"]')!;
      input.value = question;
      input.dispatchEvent(new Event('input'));
    }
    const pairs = engine.tuned?.pairs.length ?? 0;
    const before = engine.replies.length;
    const draw = tab().querySelector<HTMLButtonElement>('[part~="draw-button"]')!;
    draw.click();
    await waitFor(() => engine.replies.length === before + 2 && !draw.disabled, 'two answers');
    tab().querySelector<HTMLButtonElement>('[data-answer="a"] [part~="prefer-a-button"]')!.click();
    await waitFor(() => engine.tuned?.pairs.length === pairs + 1, 'the choice recorded');
  }

  function setField(id: string, value: number): void {
    const input = rl().querySelector<HTMLInputElement>(`#${id}`)!;
    input.value = String(value);
    input.dispatchEvent(new Event('change'));
  }

  beforeEach(async () => {
    engine = new FakeTuningEngine();
    ends.length = 0;
    document.addEventListener('llm-tuning-end', record);
    panel = document.createElement('llm-tuning-panel');
    panel.client = engine;
    panel.tab = 'choices';
    document.body.append(panel);
    await panel.updateComplete;
    await waitFor(() => tab().querySelector('llm-tuning-reinforcement')?.shadowRoot?.querySelector('#rl-beta'), 'the defaults');
  });

  afterEach(() => {
    document.removeEventListener('llm-tuning-end', record);
    panel.remove();
  });

  it('needs two pairs, trains the reward model with the settings shown, and shows its report', async () => {
    expect(text(inRl('rl-caption')))
      .to.include('reward model')
      .and.include('policy gradient')
      .and.include('KL');
    expect(button('rl-train-button').disabled).to.equal(true);
    expect(button('play-button').disabled).to.equal(true);
    await choose();
    expect(button('rl-train-button').disabled).to.equal(true);
    expect(text(rl().querySelector('.note'))).to.include('at least 2 pairs');
    await choose();
    await waitFor(() => !button('rl-train-button').disabled, 'two pairs to train on');
    const steps = randomInt(2, 6);
    setField('rl-steps', steps);
    engine.calls.length = 0;
    button('rl-train-button').click();
    await waitFor(() => inRl('rl-reward-model'), 'the report');
    // Only that (the DPO block above asks the latest choice's odds at every new state).
    expect(engine.calls.filter((call) => call !== 'odds')).to.deep.equal(['rewardTune']);
    const { beta, batchSize, learningRate } = DEFAULTS.reinforcement;
    expect(engine.rewardTunes).to.deep.equal([{ beta, batchSize, steps, learningRate }]);
    expect(text(inRl('rl-reward-model'))).to.include(
      `${Math.round(REWARD_MODEL.accuracy * 100)}% of the 2 pairs it learned from, by ${signed(REWARD_MODEL.margin, 2)} on average`,
    );
    expect(text(inRl('rl-reference'))).to.include(engine.tuned!.preferenceReference!.name);
  });

  it('tunes: Play takes the run trained for, each report shows the reward and the KL, and the last answers with their rewards', async () => {
    await choose();
    await choose('Where is the Colosseum?');
    await waitFor(() => !button('rl-train-button').disabled, 'two pairs to train on');
    const steps = randomInt(2, 6);
    setField('rl-steps', steps);
    button('rl-train-button').click();
    await waitFor(() => inRl('rl-reward-model') && !button('play-button').disabled, 'the reward model');
    expect(text(button('play-button'))).to.equal('Tune with policy gradient');
    engine.calls.length = 0;
    button('play-button').click();
    await waitFor(() => ends.length === 1, 'the run to end');
    // Ready since the reward model was trained: Play tunes at once.
    expect(engine.calls[0]).to.equal('play');
    expect(engine.calls).not.to.include('rewardTune');
    // Two questions, one a step: the mean reward over the last two steps, and over the first two.
    const meanOf = (a: number, b: number) => ((rlReward(a) + rlReward(b)) / 2).toFixed(3);
    await waitFor(() => figure('reward') === meanOf(steps - 1, steps), 'the last reward');
    expect(figure('first-reward')).to.equal(meanOf(1, 2));
    expect(text(rl().querySelector('[data-figure="reward"] dt'))).to.include('the last 2 steps');
    expect(figure('kl')).to.equal(`${rlKl(steps).toFixed(4)} nats a token`);
    expect(figure('loss')).to.equal((-rlReward(steps)).toFixed(4));
    // The chart has a point a step, on its reward line.
    const chart = rl().querySelector<TuningMarginChart>('llm-tuning-margin-chart')!;
    expect(chart.points.map((point) => point.reward)).to.deep.equal(Array.from({ length: steps }, (_, i) => rlReward(i + 1)));
    const line = await waitFor(() => chart.shadowRoot!.querySelector('[part~="reward-line"]'), 'the reward line');
    expect(line.getAttribute('points')!.trim().split(/\s+/)).to.have.length(steps);
    expect(chart.shadowRoot!.querySelector('[part~="margin-line"]')).to.equal(null);
    // The last step's answers, the highest rewarded first; one that did not end is marked so.
    const batchSize = DEFAULTS.reinforcement.batchSize;
    const listed = [...rl().querySelectorAll('[part~="rl-sample"]')].map(text);
    const expected = Array.from({ length: batchSize }, (_, i) => ({
      reward: rlReward(steps) + i - (batchSize - 1) / 2,
      answer: sampledAnswer(steps, i).trim() + (i === 0 ? '…' : ''),
    })).reverse();
    expect(listed).to.deep.equal(expected.map(({ reward, answer }) => `${signed(reward, 2)} ${answer}`));
    // A finished run's Step trains the reward model again (on the pairs as they are), then steps.
    engine.calls.length = 0;
    button('step-button').click();
    await waitFor(() => engine.calls.includes('step') && !button('step-button').disabled, 'the step');
    expect(engine.calls.slice(0, 2)).to.deep.equal(['rewardTune', 'step']);
    // Reset forgets the reward model, as the worker does.
    button('reset-button').click();
    await waitFor(() => !inRl('rl-reward-model'), 'the reward model gone');
    expect(inRl('rl-samples')).to.equal(null);
  });

  it('shows the refusal of a run that cannot be tuned', async () => {
    await choose();
    await choose();
    await waitFor(() => !button('rl-train-button').disabled, 'two pairs to train on');
    engine.tuning.rewardTune = async () => {
      throw new Error('This pair cannot be learned from: it is too long.');
    };
    button('play-button').click();
    const error = await waitFor(() => inRl('run-error'), 'the refusal');
    expect(error.getAttribute('role')).to.equal('alert');
    expect(text(error)).to.equal('This pair cannot be learned from: it is too long.');
  });
});
