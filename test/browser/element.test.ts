// <llm-playground> in a real page with its real worker: typing, the bars, the
// temperature slider, Step, Generate/Stop, the keyboard, the backend picker and the colour scheme.
import { emulateMedia, sendKeys } from '@web/test-runner-commands';
import { expect } from 'chai';
import { LlmPlayground } from '../../src/llm-playground.ts';
import type { BackendInfo } from '../../workers/api/index.ts';
import { waitFor } from './wait-for.ts';

/** The focused element, looking inside shadow roots. */
function deepActiveElement(): Element | null {
  let active = document.activeElement;
  while (active?.shadowRoot?.activeElement) active = active.shadowRoot.activeElement;
  return active;
}

/** Default vocabulary, by construction: 1 is the line break, printable ASCII from space (code 32) starts at id 2. */
const expectedId = (char: string): number => (char === '\n' ? 1 : char.charCodeAt(0) - 30);

describe('<llm-playground>', function () {
  let playground: LlmPlayground;
  const root = () => playground.shadowRoot!;
  const promptBox = () => root().querySelector('textarea')!;
  const stepButton = () => root().querySelector<HTMLButtonElement>('[part~="step-button"]')!;
  const generateButton = () => root().querySelector<HTMLButtonElement>('[part~="generate-button"]')!;
  const chips = () => [...root().querySelector('llm-prompt-tokens')!.shadowRoot!.querySelectorAll('[part~="chip"]')];
  const chart = () => root().querySelector('llm-next-token-chart')!;
  const bars = () => [...chart().shadowRoot!.querySelectorAll('[part~="bar"]')];
  const barValues = () => bars().map((bar) => bar.querySelector('[part~="bar-value"]')!.textContent!.trim());
  const control = (id: string) =>
    root().querySelector('llm-sampling-controls')!.shadowRoot!.querySelector<HTMLInputElement>(`#${id}`)!;

  function type(text: string): void {
    promptBox().value = text;
    promptBox().dispatchEvent(new Event('input', { bubbles: true, composed: true }));
  }

  function setControl(id: string, value: string, event: 'input' | 'change'): void {
    control(id).value = value;
    control(id).dispatchEvent(new Event(event, { bubbles: true, composed: true }));
  }

  before(async () => {
    playground = document.createElement('llm-playground');
    playground.setAttribute('prompt', 'abc');
    // Random weights over printable ASCII: the ids below are known by construction.
    playground.setAttribute('model', 'random');
    playground.setAttribute('database', `test-${crypto.randomUUID()}`);
    const ready = new Promise<CustomEvent>((resolve) =>
      document.addEventListener('llm-ready', resolve as EventListener, { once: true }),
    );
    document.body.append(playground);
    const event = await ready;
    expect(event.detail.parameters.total).to.be.greaterThan(0);
  });

  after(async () => {
    playground.remove();
    await emulateMedia({ colorScheme: 'light' });
  });

  it('shows the model it runs and the initial prompt as chips', async () => {
    expect(playground.status).to.equal('ready');
    expect(playground.getAttribute('status')).to.equal('ready');
    expect(root().querySelector('[part~="model"]')!.textContent).to.match(/random/);
    await waitFor(() => chips().length === 3, 'three chips for "abc"');
  });

  it('updates the token chips and the bars as you type', async () => {
    const text = 'hello wörld';
    type(text);
    await waitFor(() => chart().prediction?.contextLength === text.length, 'a prediction for the typed prompt');
    const ids = chips().map((chip) => chip.querySelector('[part~="chip-id"]')!.textContent!.trim());
    expect(ids).to.deep.equal([...text].map((char) => String(char === 'ö' ? 0 : expectedId(char))));
    expect(chips()[7]!.classList.contains('unknown')).to.equal(true);
    expect(chips()[5]!.textContent).to.contain('␣');

    // 15 likeliest tokens and one bar for all the rest, each with a percentage, together 100%.
    expect(bars()).to.have.length(16);
    const percents = barValues().map((value) => {
      expect(value).to.match(/^\d+\.\d+%$/);
      return parseFloat(value);
    });
    expect(percents.reduce((a, b) => a + b, 0)).to.be.closeTo(100, 0.2);
  });

  it('follows a prompt set by the page', async () => {
    playground.prompt = 'Set from outside';
    await waitFor(() => chart().prediction?.contextLength === 16 && chips().length === 16, 'chips and bars for it');
    expect(promptBox().value).to.equal('Set from outside');
  });

  it('puts 100% on one bar when the temperature slider goes to 0', async () => {
    setControl('temperature', '0', 'input');
    await waitFor(() => barValues()[0] === '100.0%', 'the top bar at 100%');
    expect(
      barValues()
        .slice(1)
        .every((value) => parseFloat(value) === 0),
    ).to.equal(true);
    expect(control('temperature').closest('div')!.querySelector('output')!.textContent).to.equal('0.00');
  });

  it('Step appends the sampled token (the top one at temperature 0) and moves the seed on', async () => {
    const before = promptBox().value;
    const top = chart().prediction!.top[0]!.token;
    const seed = Number(control('seed').value);
    stepButton().click();
    await waitFor(() => promptBox().value.length === before.length + 1, 'one appended token');
    expect(promptBox().value).to.equal(before + top);
    await waitFor(() => Number(control('seed').value) === seed + 1, 'the seed moved on');
  });

  it('Generate streams tokens into the prompt and becomes Stop, which stops it', async () => {
    setControl('temperature', '1', 'input');
    setControl('maxTokens', '2000', 'change');
    const before = promptBox().value.length;
    let streamed = 0;
    const count = () => streamed++;
    document.addEventListener('llm-token', count);

    generateButton().click();
    await waitFor(() => generateButton().textContent!.trim() === 'Stop', 'the button to read Stop');
    await waitFor(() => promptBox().value.length >= before + 5, 'five streamed tokens');
    expect(promptBox().readOnly).to.equal(true);
    // The chips keep up while tokens stream in, not only once generation ends.
    await waitFor(() => chips().length >= before + 5, 'chips for the streamed tokens');
    expect(generateButton().textContent!.trim()).to.equal('Stop');

    generateButton().click();
    await waitFor(() => generateButton().textContent!.trim() === 'Generate', 'the button to read Generate again');
    document.removeEventListener('llm-token', count);
    const grown = promptBox().value.length - before;
    expect(grown).to.be.at.least(5).and.below(2000);
    expect(streamed).to.equal(grown);
    expect(promptBox().readOnly).to.equal(false);
    const read = Math.min(promptBox().value.length, 64);
    await waitFor(
      () => chart().prediction?.contextLength === read && chips().length === read,
      'bars and chips for the final prompt',
    );
  });

  it('keeps Stop in place after a short run, so a quick second click starts no second generation', async () => {
    // Long enough that however slow this machine, the second click lands while Stop is held.
    const hold = LlmPlayground.stopHoldMs;
    LlmPlayground.stopHoldMs = 60_000;
    let streamed = 0;
    const count = () => streamed++;
    document.addEventListener('llm-token', count);
    try {
      setControl('maxTokens', '3', 'change');
      generateButton().click();
      await waitFor(() => streamed === 3 && !promptBox().readOnly, 'the three-token run to end');
      expect(generateButton().textContent!.trim()).to.equal('Stop');
      // The second click of a double click, after the run ended: it only puts Generate back.
      generateButton().click();
      await playground.updateComplete;
      expect(generateButton().textContent!.trim()).to.equal('Generate');
      expect(promptBox().readOnly).to.equal(false);
      // Step answers (one token) only once any run the click might have started would have streamed too.
      stepButton().click();
      await waitFor(() => streamed === 4, "Step's token");
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(streamed).to.equal(4);
    } finally {
      document.removeEventListener('llm-token', count);
      LlmPlayground.stopHoldMs = hold;
    }
  });

  it('is usable by keyboard: Tab reaches real buttons, focus shows, Space presses', async () => {
    promptBox().focus();
    const reached: Element[] = [];
    for (let i = 0; i < 4; i++) {
      await sendKeys({ press: 'Tab' });
      reached.push(deepActiveElement()!);
    }
    expect(reached[0]).to.equal(stepButton());
    expect(reached[1]).to.equal(generateButton());
    expect(reached[2]).to.equal(control('temperature'));
    for (const element of reached.slice(0, 2)) expect(element.tagName).to.equal('BUTTON');

    // Back from the fourth stop (top-k) to Step.
    await sendKeys({ down: 'Shift' });
    for (let i = 0; i < 3; i++) await sendKeys({ press: 'Tab' });
    await sendKeys({ up: 'Shift' });
    expect(deepActiveElement()).to.equal(stepButton());
    expect(getComputedStyle(stepButton()).outlineStyle).to.equal('solid');

    const before = promptBox().value.length;
    await sendKeys({ press: 'Space' });
    await waitFor(() => promptBox().value.length === before + 1, 'a token appended by Space on Step');
  });

  it('shows in its header which backend runs, and takes a backend change from a training report', async () => {
    const picker = root().querySelector('llm-backend-picker')!;
    expect(picker.closest('header')).to.not.equal(null);
    const status = () => picker.shadowRoot!.querySelector('[part~="status"]')!.textContent!;
    await waitFor(() => status().startsWith('Running on'), 'the backend status');
    expect(picker.client).to.not.equal(null);

    root().querySelector<HTMLButtonElement>('[part~="train-toggle"]')!.click();
    const panel = await waitFor(() => root().querySelector('llm-training-panel'), 'the training panel');
    const fellBack: BackendInfo = {
      choice: 'webgpu',
      active: 'cpu',
      reason: 'The GPU was lost; training went on on the CPU from step 100.',
      webgpuAvailable: true,
    };
    panel.dispatchEvent(
      new CustomEvent('llm-training-progress', { detail: { backend: fellBack }, bubbles: true, composed: true }),
    );
    await waitFor(() => picker.info === fellBack, 'the reported backend in the picker');
    playground.train = false;
  });

  it('applies the backend attribute once the model is ready', async () => {
    const forced = document.createElement('llm-playground');
    forced.setAttribute('model', 'random');
    forced.setAttribute('database', `test-${crypto.randomUUID()}`);
    forced.setAttribute('backend', 'cpu');
    const changed = new Promise<CustomEvent<BackendInfo>>((resolve) =>
      forced.addEventListener('llm-backend-change', resolve as EventListener, { once: true }),
    );
    document.body.append(forced);
    try {
      const { detail } = await changed;
      expect(detail).to.include({ choice: 'cpu', active: 'cpu' });
      const picker = forced.shadowRoot!.querySelector('llm-backend-picker')!;
      await picker.updateComplete;
      expect(picker.shadowRoot!.querySelector<HTMLSelectElement>('select')!.value).to.equal('cpu');
      expect(forced.backend).to.equal('cpu');
    } finally {
      forced.remove();
    }
  });

  it('Save as shows the new name in the header at once, hidden characters as their code', async () => {
    playground.library = true;
    const library = await waitFor(
      () => root().querySelector('llm-model-library')?.saved && root().querySelector('llm-model-library'),
      'the saved models',
    );
    const header = () => root().querySelector('[part~="model"]')!.textContent!.replace(/\s+/g, ' ');
    const saveAs = async (name: string) => {
      const field = library.shadowRoot!.querySelector<HTMLInputElement>('[part~="save-name"]')!;
      field.value = name;
      field.dispatchEvent(new Event('input'));
      await library.updateComplete;
      library.shadowRoot!.querySelector<HTMLButtonElement>('[part~="save-button"]')!.click();
    };
    await saveAs('first name');
    await waitFor(() => header().includes('Saved in this browser as "first name"'), 'the first name in the header');
    // Save as, under a new name: the same model, saved again; nothing else changes (no typing, no reload).
    await saveAs('photo\u202egnp.exe');
    await waitFor(() => header().includes('Saved in this browser as "photoU+202Egnp.exe"'), 'the new name in the header');
    const model = root().querySelector('[part~="model"]')!;
    expect(model.querySelector('.escape')!.textContent).to.equal('U+202E');
    expect(model.textContent).to.not.include('\u202e');
    playground.library = false;
  });

  it('follows the colour scheme', async () => {
    await emulateMedia({ colorScheme: 'light' });
    const light = getComputedStyle(playground).backgroundColor;
    await emulateMedia({ colorScheme: 'dark' });
    const dark = getComputedStyle(playground).backgroundColor;
    expect(light).to.equal('rgb(255, 255, 255)');
    expect(dark).to.not.equal(light);
  });

  it('moves its bars without a transition when the reader asks for less motion', async () => {
    const fill = () => chart().shadowRoot!.querySelector<HTMLElement>('[part~="bar-fill"]')!;
    await waitFor(() => chart().shadowRoot!.querySelector('[part~="bar-fill"]') !== null, 'the bars');
    await emulateMedia({ reducedMotion: 'no-preference' });
    expect(getComputedStyle(fill()).transitionDuration).to.not.equal('0s');
    await emulateMedia({ reducedMotion: 'reduce' });
    expect(getComputedStyle(fill()).transitionDuration).to.equal('0s');
    await emulateMedia({ reducedMotion: 'no-preference' });
  });
});
