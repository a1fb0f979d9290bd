// <llm-tuning-panel>'s second tab, tune on your choices, with a fake engine that keeps the tuning contract
// (tuning-panel-fake.ts): two answers drawn with two seeds, choose / mark / forget and their refusals, the pairs
// counted, then tuning on them (DPO): the calls, the figures each report brings, and the odds shown as e^x of the
// log-probability margins the engine gives.
import { expect } from 'chai';
import type { LlmEvents } from '../../src/events.ts';
import { signed } from '../../src/format.ts';
import '../../src/elements/tuning-panel.ts';
import type { TuningMarginChart } from '../../src/elements/tuning-margin-chart.ts';
import type { TuningPanel } from '../../src/elements/tuning-panel.ts';
import { randomInt } from './seeded.ts';
import {
  DEFAULTS,
  dpoKl,
  dpoMargin,
  drawnAnswer,
  FakeTuningEngine,
  FINGERPRINT,
  REFERENCE_LOG_RATIO,
} from './tuning-panel-fake.ts';
import { waitFor } from './wait-for.ts';

const QUESTION = 'Where is the Eiffel tower?';
const PROMPT = `A conversation between a user and a helpful assistant.\nUser: ${QUESTION} Assistant:`;

describe('<llm-tuning-panel>: tune on your choices', function () {
  let panel: TuningPanel;
  let engine: FakeTuningEngine;
  const events: { type: keyof LlmEvents; detail: unknown }[] = [];
  const record = (event: Event) => events.push({ type: event.type as keyof LlmEvents, detail: (event as CustomEvent).detail });
  const EVENT_TYPES = ['llm-model-change', 'llm-tuning-change', 'llm-tuning-end'] as const;
  const of = <K extends keyof LlmEvents>(type: K) =>
    events.filter((event) => event.type === type).map((event) => event.detail as LlmEvents[K]);

  const tab = () => panel.shadowRoot!.querySelector('llm-tuning-choices')!.shadowRoot!;
  const tuner = () => tab().querySelector('llm-tuning-preference')!.shadowRoot!;
  const part = <E extends Element = HTMLElement>(name: string) => tab().querySelector<E>(`[part~="${name}"]`);
  const inAnswer = (which: string, name: string) =>
    tab().querySelector<HTMLButtonElement>(`[data-answer="${which}"] [part~="${name}"]`)!;
  const answerText = (which: string) =>
    [...tab().querySelector(`[data-answer="${which}"] llm-chat-reply`)!.shadowRoot!.querySelectorAll('[part~="token"]')]
      .map((token) => token.textContent)
      .join('');
  /** The answers drawn: the hidden first tab's Before / After asks too, greedily (temperature 0). */
  const drawn = () => engine.replies.filter((reply) => reply.request.temperature !== 0);
  const pairCount = () => part('pair-count')!.textContent!.replace(/\s+/g, ' ').trim();

  async function mount(): Promise<void> {
    panel = document.createElement('llm-tuning-panel');
    panel.client = engine;
    panel.tab = 'choices';
    document.body.append(panel);
    await panel.updateComplete;
    await waitFor(() => tuner().querySelector('#dpo-beta'), 'the defaults');
  }

  /** Draws two answers and waits for them. */
  async function drawTwo(): Promise<void> {
    const before = engine.replies.length;
    part<HTMLButtonElement>('draw-button')!.click();
    await waitFor(
      () => engine.replies.length === before + 2 && part('answers') && !part<HTMLButtonElement>('draw-button')!.disabled,
      'two answers',
    );
  }

  beforeEach(async () => {
    engine = new FakeTuningEngine();
    events.length = 0;
    for (const type of EVENT_TYPES) document.addEventListener(type, record);
    await mount();
  });

  afterEach(() => {
    for (const type of EVENT_TYPES) document.removeEventListener(type, record);
    panel?.remove();
  });

  it('draws two answers to the laid-out question with two seeds at the temperature set, each with its odds', async () => {
    expect(tab().querySelector<HTMLInputElement>('#choice-temperature')!.value).to.equal('1');
    await drawTwo();
    const [a, b] = drawn();
    expect([a!.text, b!.text]).to.deep.equal([PROMPT, PROMPT]);
    expect(a!.request.temperature).to.equal(1);
    expect(a!.request.seed).not.to.equal(b!.request.seed);
    expect(answerText('a')).to.equal(drawnAnswer(a!.request.seed));
    expect(answerText('b')).to.equal(drawnAnswer(b!.request.seed));
    // A new draw uses new seeds, and the temperature typed.
    const field = tab().querySelector<HTMLInputElement>('#choice-temperature')!;
    field.value = '0.5';
    field.dispatchEvent(new Event('change'));
    await drawTwo();
    const seeds = drawn().map((reply) => reply.request.seed);
    expect(new Set(seeds).size).to.equal(4);
    expect(drawn()[3]!.request.temperature).to.equal(0.5);
  });

  it('records choices and verdicts (tuning begins with the first), counts the pairs, and forgets one', async () => {
    await drawTwo();
    const [a, b] = drawn().map((reply) => drawnAnswer(reply.request.seed));
    inAnswer('b', 'prefer-b-button').click();
    await waitFor(() => of('llm-model-change').length === 1, 'tuning to begin');
    expect(engine.calls.filter((call) => call === 'choose').length).to.equal(1);
    expect(engine.tuned!.preferences).to.deep.equal([{ prompt: PROMPT, chosen: b, rejected: a }]);
    expect(of('llm-model-change')[0]!.name).to.equal('shipped model, tuned');
    await waitFor(() => part('choice'), 'the choice listed');
    expect(part('choice')!.textContent).to.include(QUESTION).and.include(b!.trim()).and.include(a!.trim());
    expect(pairCount()).to.match(/^1 pair to learn from: 1 from choices, 0 from good and bad/);
    expect(part('recorded')!.textContent).to.include('B is better');
    // A good and a bad answer to the same question make one more pair.
    inAnswer('a', 'good-button').click();
    await waitFor(
      () => tab().querySelectorAll('[part~="verdict"]').length === 1 && !inAnswer('b', 'bad-button').disabled,
      'the first verdict',
    );
    inAnswer('b', 'bad-button').click();
    await waitFor(() => pairCount().startsWith('2 pairs'), 'two pairs');
    expect(pairCount()).to.match(/1 from choices, 1 from good and bad/);
    expect(engine.tuned!.verdicts).to.deep.equal([
      { prompt: PROMPT, answer: a, good: true },
      { prompt: PROMPT, answer: b, good: false },
    ]);
    expect(tab().querySelectorAll('[part~="verdict"]').length).to.equal(2);
    // Tuning began once: later choices do not announce a new model.
    expect(of('llm-model-change').length).to.equal(1);
    tab().querySelector<HTMLButtonElement>('[part~="choice"] [part~="forget-button"]')!.click();
    await waitFor(() => !part('choice'), 'the choice forgotten');
    expect(engine.calls.includes('forget')).to.equal(true);
    expect(pairCount()).to.match(/^1 pair to learn from: 0 from choices, 1 from good and bad/);
  });

  it("says when the two answers are the same, and shows the worker's refusal of answers too long", async () => {
    await drawTwo();
    // Two seeds that draw the same answer: the fake's answers depend on the seed only, so give both the same.
    engine.model.reply = async (text, request, onToken) => {
      engine.replies.push({ text, request });
      const reply = {
        text: ' Paris.',
        tokens: [{ token: ' Paris.', prob: 0.9, logprob: Math.log(0.9), alternatives: [] }],
        finish: 'stop' as const,
      };
      await onToken(reply.tokens[0]!);
      return reply;
    };
    await drawTwo();
    // The worker would refuse the choice (the fake does too): the buttons say so before.
    expect(part('same-answers')!.textContent).to.match(/The two answers are the same/);
    expect([inAnswer('a', 'prefer-a-button').disabled, inAnswer('b', 'prefer-b-button').disabled]).to.deep.equal([true, true]);
    expect(inAnswer('a', 'good-button').disabled).to.equal(false);
    const long = 'Where is it? '.repeat(30);
    const question = part<HTMLInputElement>('choice-question')!;
    question.value = long;
    question.dispatchEvent(new Event('input'));
    await drawTwo();
    inAnswer('a', 'good-button').click();
    const error = await waitFor(() => part('choices-error'), 'the refusal');
    expect(error.getAttribute('role')).to.equal('alert');
    expect(error.textContent).to.match(/longer than the model's context/);
    expect(engine.tuned).to.equal(null);
    expect(of('llm-model-change')).to.deep.equal([]);
  });

  it('tunes on the choices: the settings sent, then at every report the figures and the odds of the latest choice', async () => {
    const play = () => tuner().querySelector<HTMLButtonElement>('[part~="play-button"]')!;
    expect(play().disabled).to.equal(true);
    expect(play().textContent!.trim()).to.equal('Tune on my choices');
    await drawTwo();
    inAnswer('a', 'prefer-a-button').click();
    await waitFor(() => !play().disabled, 'a pair to tune on');
    const steps = randomInt(2, 7);
    const beta = [0.05, 0.1, 0.5][randomInt(0, 3)]!;
    for (const [id, value] of [
      ['dpo-steps', steps],
      ['dpo-beta', beta],
    ] as const) {
      const input = tuner().querySelector<HTMLInputElement>(`#${id}`)!;
      input.value = String(value);
      input.dispatchEvent(new Event('change'));
    }
    engine.calls.length = 0;
    play().click();
    await waitFor(() => of('llm-tuning-end').length === 1, 'the run to end');
    expect(engine.calls.slice(0, 2)).to.deep.equal(['preferenceTune', 'play']);
    expect(engine.preferenceTunes[0]).to.deep.equal({ beta, steps, learningRate: DEFAULTS.preference.learningRate });
    // What the figures are measured against: the model as it was when tuning on choices began (no step before: the reference).
    const reference = tuner().querySelector('[part~="dpo-reference"]')!.textContent!.replace(/\s+/g, ' ');
    expect(reference).to.include(`Reference: ${engine.tuned!.preferenceReference!.name} (${FINGERPRINT.slice(0, 8)})`);
    // The figures of the last step, as the engine reported them.
    const figure = (name: string) => tuner().querySelector(`[data-figure="${name}"] dd`)!.textContent!;
    // Negative figures read with a minus sign (−), not a hyphen.
    const nats = (value: number) => `${value < 0 ? '−' : ''}${Math.abs(value).toFixed(3)} nats`;
    await waitFor(() => figure('margin') === nats(dpoMargin(steps)), 'the last margin');
    expect(figure('log-prob-margin')).to.equal(nats(REFERENCE_LOG_RATIO + dpoMargin(steps)));
    expect(figure('kl')).to.equal(`${dpoKl(steps).toFixed(4)} nats a token`);
    // The odds: e^(log p(chosen) − log p(rejected)), now and under the reference.
    const odds = await waitFor(() => {
      const text = tuner().querySelector('[part~="odds"]')?.textContent?.replace(/\s+/g, ' ');
      return text?.includes(`e${signed(REFERENCE_LOG_RATIO + dpoMargin(steps), 2)} =`) && text;
    }, 'the odds after tuning');
    const [now, before] = [...odds.matchAll(/([\d.,e+-]+)×/g)].map((match) => Number(match[1]!.replace(/,/g, '')));
    const tuned = Math.exp(REFERENCE_LOG_RATIO + dpoMargin(steps));
    expect(Math.abs(now! - tuned) / tuned).to.be.lessThan(0.05);
    expect(Math.abs(before! - Math.exp(REFERENCE_LOG_RATIO)) / Math.exp(REFERENCE_LOG_RATIO)).to.be.lessThan(0.05);
    expect(engine.odds.at(-1)!.prompt).to.equal(PROMPT);
    // The chart has a point a step.
    const chart = tuner().querySelector<TuningMarginChart>('llm-tuning-margin-chart')!;
    expect(chart.points.map((point) => point.margin)).to.deep.equal(Array.from({ length: steps }, (_, i) => dpoMargin(i + 1)));
    expect(chart.shadowRoot!.querySelector('[part~="margin-line"]')!.getAttribute('points')!.trim().split(/\s+/).length).to.equal(
      steps,
    );
    // The caption says what DPO is and how RLHF differs.
    const caption = tuner().querySelector('[part~="dpo-caption"]')!.textContent!;
    expect(caption).to.include('Direct Preference Optimization').and.include('reward model').and.include('β sets how');
    // The run ended: the playground heard that the model changed (tuning began, then after the run).
    expect(of('llm-model-change').length).to.equal(2);
  });
});
