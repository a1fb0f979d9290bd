// <llm-tuning-panel>, its first tab (fine-tune on dialogues) and Before / After, with a fake engine that keeps the
// tuning contract (tuning-panel-fake.ts): the calls in their order, the dialogues read, the run's progress, points and
// events, the reference shown once tuning began, the replies compared, and errors.
import { emulateMedia, sendKeys } from '@web/test-runner-commands';
import { expect } from 'chai';
import type { EngineClient } from '../../src/client.ts';
import type { LlmEvents } from '../../src/events.ts';
import type { LossChart } from '../../src/elements/loss-chart.ts';
import '../../src/elements/tuning-panel.ts';
import type { TuningPanel, TuningPanelClient } from '../../src/elements/tuning-panel.ts';
import { COMPARE_QUESTION, type ModelInfo } from '../../workers/api/index.ts';
import { randomInt } from './seeded.ts';
import {
  AFTER_REPLY,
  BEFORE_REPLY,
  BUILTIN,
  DEFAULTS,
  FakeTuningEngine,
  FINGERPRINT,
  heldOutLoss,
  sftLoss,
} from './tuning-panel-fake.ts';
import { waitFor } from './wait-for.ts';

const engineClientFits: EngineClient extends TuningPanelClient ? true : never = true;

const COMPARED_TEXT = `A conversation between a user and a helpful assistant.\nUser: ${COMPARE_QUESTION} Assistant:`;

describe('<llm-tuning-panel>: fine-tune on dialogues', function () {
  let panel: TuningPanel;
  let engine: FakeTuningEngine;
  const events: { type: keyof LlmEvents; detail: unknown }[] = [];
  const record = (event: Event) => events.push({ type: event.type as keyof LlmEvents, detail: (event as CustomEvent).detail });
  const EVENT_TYPES = [
    'llm-model-change',
    'llm-tuning-change',
    'llm-tuning-progress',
    'llm-tuning-end',
    'llm-tab-change',
  ] as const;
  const of = <K extends keyof LlmEvents>(type: K) =>
    events.filter((event) => event.type === type).map((event) => event.detail as LlmEvents[K]);

  const tab = () => panel.shadowRoot!.querySelector('llm-tuning-dialogues')!.shadowRoot!;
  const compare = () => tab().querySelector('llm-tuning-compare')!.shadowRoot!;
  const inTab = <E extends Element = HTMLElement>(part: string) => tab().querySelector<E>(`[part~="${part}"]`);
  const button = (part: string) => inTab<HTMLButtonElement>(part)!;
  const replyText = (which: string) =>
    [...compare().querySelectorAll(`[data-model="${which}"] llm-chat-reply`)]
      .flatMap((reply) => [...reply.shadowRoot!.querySelectorAll('[part~="token"]')])
      .map((token) => token.textContent)
      .join('');
  const idle = () =>
    waitFor(() => !button('play-button').disabled && button('play-button').textContent!.trim() === 'Play', 'the run to end');

  async function mount(model: ModelInfo | null = null): Promise<void> {
    panel = document.createElement('llm-tuning-panel');
    panel.client = engine;
    panel.model = model;
    document.body.append(panel);
    await panel.updateComplete;
    await waitFor(
      () => tab().querySelector('[part~="dialogue-summary"]') && tab().querySelector('#sft-steps'),
      'the dialogues and defaults',
    );
  }

  beforeEach(() => {
    engine = new FakeTuningEngine();
    events.length = 0;
    for (const type of EVENT_TYPES) document.addEventListener(type, record);
  });

  afterEach(() => {
    for (const type of EVENT_TYPES) document.removeEventListener(type, record);
    panel?.remove();
  });

  it('EngineClient has every method the panel calls', () => {
    expect(engineClientFits).to.equal(true);
  });

  it('shows the built-in dialogues, the defaults, and what tuning will do before it begins', async () => {
    await mount();
    expect(inTab('dialogue-summary')!.textContent).to.match(/254 dialogues to learn from, 37 held out/);
    const examples = [...inTab('examples')!.querySelectorAll('li')].map((li) => li.textContent);
    expect(examples).to.deep.equal(BUILTIN.examples);
    expect(tab().querySelector<HTMLInputElement>('#sft-steps')!.value).to.equal(String(DEFAULTS.supervised.steps));
    expect(tab().querySelector<HTMLInputElement>('#sft-learningRate')!.value).to.equal(String(DEFAULTS.supervised.learningRate));
    const reference = panel.shadowRoot!.querySelector('[part~="reference"]')!.textContent!;
    expect(reference)
      .to.match(/Tuning begins with the first Play/)
      .and.match(/original stays as it was/);
    // Before tuning, the model in use answers the compared question greedily, through the chat's layout.
    await waitFor(() => replyText('before') === BEFORE_REPLY, 'the reply before tuning');
    expect(engine.replies[0]!.text).to.equal(COMPARED_TEXT);
    expect(engine.replies[0]!.request.temperature).to.equal(0);
    const parts = [...compare().querySelectorAll<HTMLElement>('[part~="text-part"]')];
    expect(parts.map((part) => part.textContent).join('')).to.equal(COMPARED_TEXT);
    expect(parts.map((part) => part.dataset['role'])).to.deep.equal(['system', 'user', 'assistant']);
    expect(compare().querySelector('[data-model="after"]')).to.equal(null);
    expect(button('reset-button').disabled).to.equal(true);
  });

  it('reads pasted dialogues: counts, one in ten held out, skipped lines with reasons, unknown characters', async () => {
    await mount();
    const usable = randomInt(10, 30);
    const lines = Array.from({ length: usable }, (_, i) => `User: Question ${i}? Assistant: Answer ${i}.`);
    lines.splice(3, 0, 'just a sentence');
    lines.push('User: Où est le café? Assistant: Ici.');
    inTab('source')!.parentElement!.querySelector<HTMLButtonElement>('[data-source="text"]')!.click();
    await panel.updateComplete;
    const paste = await waitFor(() => inTab<HTMLTextAreaElement>('paste'), 'the paste box');
    paste.value = lines.join('\n');
    paste.dispatchEvent(new Event('input'));
    const held = Math.floor((usable + 1) / 10);
    await waitFor(
      () => inTab('dialogue-summary')?.textContent?.includes(`${usable + 1 - held} dialogues to learn from, ${held} held out`),
      'the pasted summary',
    );
    expect(inTab('skipped')!.textContent).to.match(/Line 4\s+just a sentence: no "User: … Assistant: …" in it/);
    expect(inTab('unknown')!.textContent).to.include('ù').and.include('é');
  });

  it('Play gets fine-tuning ready, tunes with progress, then tells the playground the tuned model changed', async () => {
    await mount();
    const steps = randomInt(3, 9);
    const stepsField = tab().querySelector<HTMLInputElement>('#sft-steps')!;
    stepsField.value = String(steps);
    stepsField.dispatchEvent(new Event('change'));
    engine.calls.length = 0;
    button('play-button').click();
    await idle();
    await waitFor(() => of('llm-tuning-end').length === 1, 'the end');
    // Ready, begun (the tuned copy is the model in use), played, then the state and the tuned model read again.
    expect(engine.calls.slice(0, 4)).to.deep.equal(['fineTune', 'model.info', 'play', 'state']);
    expect(engine.fineTunes[0]).to.deep.equal([{ kind: 'builtin' }, { steps, learningRate: DEFAULTS.supervised.learningRate }]);
    const models = of('llm-model-change');
    expect(models.length).to.equal(2);
    expect(models.every((model) => model.name === 'shipped model, tuned')).to.equal(true);
    expect(of('llm-tuning-progress').map((progress) => progress.step)).to.deep.equal(
      Array.from({ length: steps }, (_, i) => i + 1),
    );
    expect(of('llm-tuning-end')[0]).to.deep.equal({ reason: 'finished', step: steps });
    // Progress bar and status, the chart's points (held-out loss as its validation line).
    const bar = inTab<HTMLProgressElement>('progress-bar')!;
    expect([bar.value, bar.max]).to.deep.equal([steps, steps]);
    expect(inTab('run-status')!.getAttribute('aria-live')).to.equal('polite');
    const chart = tab().querySelector<LossChart>('llm-loss-chart')!;
    expect(chart.points.length).to.equal(steps);
    chart.points.forEach((point, i) => {
      expect(point.step).to.equal(i + 1);
      expect(point.loss).to.be.closeTo(sftLoss(i + 1), 1e-12);
      if (point.step % 2 === 0) expect(point.validationLoss).to.be.closeTo(heldOutLoss(point.step), 1e-12);
      else expect(point.validationLoss).to.equal(undefined);
    });
    // The reference, named and fingerprinted; the original stays.
    const reference = panel.shadowRoot!.querySelector('[part~="reference"]')!.textContent!;
    expect(reference)
      .to.include('shipped model')
      .and.include(FINGERPRINT.slice(0, 8))
      .and.match(/stays as it was/);
    expect(reference).not.to.include(FINGERPRINT);
    // Before / After, asked again after the run, side by side.
    await waitFor(() => replyText('after') === AFTER_REPLY, 'the reply after tuning');
    expect(replyText('before')).to.equal(BEFORE_REPLY);
    expect(engine.compares.at(-1)).to.deep.equal({ text: COMPARED_TEXT, maxTokens: 40 });
    expect(compare().querySelector('[data-model="after"] [part~="reply-heading"]')!.textContent).to.include(
      `${steps} tuning steps`,
    );
  });

  it('Pause stops a run between steps; Play goes on without getting ready again; Step takes one; Reset goes back', async () => {
    await mount();
    engine.stepDelay = 150;
    button('play-button').click();
    await waitFor(() => of('llm-tuning-progress').length >= 1, 'a first step');
    // Escape pauses from anywhere in the tab (Step is disabled while a run plays).
    expect(button('step-button').disabled).to.equal(true);
    button('play-button').focus();
    await sendKeys({ press: 'Escape' });
    await waitFor(() => of('llm-tuning-end').length === 1, 'the paused run');
    const paused = of('llm-tuning-end')[0]!;
    expect(paused.reason).to.equal('paused');
    expect(paused.step).to.be.lessThan(DEFAULTS.supervised.steps);
    engine.calls.length = 0;
    engine.stepDelay = 0;
    button('play-button').click();
    await waitFor(() => of('llm-tuning-end').length === 2, 'the second run to end');
    expect(engine.calls[0]).to.equal('play');
    expect(of('llm-tuning-end')[1]).to.deep.equal({ reason: 'finished', step: DEFAULTS.supervised.steps });
    // The run is done: Step gets a new one ready first.
    engine.calls.length = 0;
    button('step-button').click();
    await waitFor(() => engine.calls.includes('model.info'), 'the step to settle');
    expect(engine.calls.slice(0, 2)).to.deep.equal(['fineTune', 'step']);
    await waitFor(() => !button('reset-button').disabled, 'Reset');
    const changes = of('llm-model-change').length;
    engine.calls.length = 0;
    button('reset-button').click();
    await waitFor(() => of('llm-model-change').length === changes + 1, 'the reset model');
    expect(engine.calls.slice(0, 2)).to.deep.equal(['reset', 'state']);
    expect(of('llm-model-change').at(-1)!.tuning).to.deep.equal({ reference: 'shipped model', step: 0 });
    await waitFor(() => tab().querySelector<LossChart>('llm-loss-chart')!.points.length === 0, 'the cleared chart');
  });

  it('shows a refusal and a diverged run on the error line', async () => {
    await mount();
    engine.refuseTuning = 'This model has 124,439,808 parameters: tuning here takes models up to 8,000,000.';
    button('play-button').click();
    const error = await waitFor(() => inTab('run-error'), 'the error');
    expect(error.getAttribute('role')).to.equal('alert');
    expect(error.textContent).to.equal(engine.refuseTuning);
    expect(of('llm-model-change')).to.deep.equal([]);
    engine.refuseTuning = '';
    engine.divergeWith = 'The loss is not a number at step 1: tuning stopped; the weights are the last good ones.';
    await idle();
    button('play-button').click();
    await waitFor(() => inTab('run-error')?.textContent === engine.divergeWith, 'the diverged message');
    expect(of('llm-tuning-end').at(-1)!.reason).to.equal('diverged');
  });

  it('asks another untuned model again, not the same one, and takes its colours from the theme in both schemes', async () => {
    await mount(await engine.model.info());
    await waitFor(() => replyText('before') === BEFORE_REPLY, 'the first reply');
    const asked = engine.replies.length;
    // The playground hands over a new ModelInfo at every keystroke and training report: the same model asks nothing.
    const states = engine.calls.filter((call) => call === 'state').length;
    panel.model = { ...panel.model!, vocabulary: [...panel.model!.vocabulary] };
    await panel.updateComplete;
    await new Promise((resolve) => setTimeout(resolve, 500)); // past the question's typing delay
    expect(engine.replies.length).to.equal(asked);
    expect(engine.calls.filter((call) => call === 'state').length).to.equal(states);
    engine.name = 'another model';
    panel.model = await engine.model.info();
    await waitFor(() => engine.replies.length === asked + 1, 'the reply of the other model');
    const reference = panel.shadowRoot!.querySelector<HTMLElement>('[part~="reference"]')!;
    const colours = () => [getComputedStyle(reference).backgroundColor, getComputedStyle(reference).color];
    try {
      await emulateMedia({ colorScheme: 'light' });
      const light = colours();
      await emulateMedia({ colorScheme: 'dark' });
      const dark = colours();
      expect(dark[0]).not.to.equal(light[0]);
      expect(dark[1]).not.to.equal(light[1]);
    } finally {
      await emulateMedia({ colorScheme: 'light' });
    }
  });

  it('shows the dialogues a model already being tuned was fine-tuned on, pasted text whole', async () => {
    engine.tuned = null;
    const text = Array.from({ length: randomInt(2, 9) }, (_, i) => `User: Question ${i}? Assistant: Answer ${i}.`).join('\n');
    await engine.tuning.fineTune({ kind: 'text', text });
    await mount(await engine.model.info());
    const paste = await waitFor(() => inTab<HTMLTextAreaElement>('paste'), 'the paste box');
    expect(paste.value).to.equal(text);
    const pressed = inTab('source')!.parentElement!.querySelector('[data-source="text"]')!;
    expect(pressed.getAttribute('aria-pressed')).to.equal('true');
    await waitFor(() => inTab('dialogue-summary')?.textContent?.includes('dialogues to learn from'), 'the summary of the text');
  });

  it('has two tabs the arrow keys move between, and reads the state of a model already being tuned', async () => {
    engine.tuned = null;
    await engine.tuning.fineTune({ kind: 'builtin' });
    await engine.tuning.step();
    await mount(await engine.model.info());
    const reference = await waitFor(() => panel.shadowRoot!.querySelector('[part~="reference"]')?.textContent, 'the reference');
    expect(reference).to.include(FINGERPRINT.slice(0, 8));
    expect(tab().querySelector<LossChart>('llm-loss-chart')!.points.length).to.equal(1);
    const tabs = [...panel.shadowRoot!.querySelectorAll<HTMLButtonElement>('[role="tab"]')];
    expect(tabs.map((element) => element.textContent!.trim())).to.deep.equal([
      '1. Fine-tune on dialogues',
      '2. Tune on your choices',
    ]);
    tabs[0]!.focus();
    await sendKeys({ press: 'ArrowRight' });
    await panel.updateComplete;
    expect(panel.tab).to.equal('choices');
    expect(of('llm-tab-change')).to.deep.equal([{ tab: 'choices' }]);
    expect(panel.shadowRoot!.querySelector('llm-tuning-dialogues')!.hidden).to.equal(true);
    expect(panel.shadowRoot!.querySelector('llm-tuning-choices')!.hidden).to.equal(false);
  });
});
