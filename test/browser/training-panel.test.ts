// The training panel of <llm-playground> in a real page with its real worker:
// built-in corpus, tiny preset, Play, progress and chart, Pause, Step, Reset.
import { sendKeys } from '@web/test-runner-commands';
import { expect } from 'chai';
import type { EngineClient } from '../../src/client.ts';
import type { TrainingPanelClient } from '../../src/elements/training-panel.ts';
import '../../src/llm-playground.ts';
import type { LlmPlayground } from '../../src/llm-playground.ts';
import type { ModelInfo, TrainingProgress } from '../../workers/api/index.ts';
import { CORPUS_FAMILIES, generateCorpus } from '../../workers/corpus/corpus.ts';
import { waitFor } from './wait-for.ts';

// The playground hands its EngineClient to the panel: it must have every method the panel calls.
const engineClientFits: EngineClient extends TrainingPanelClient ? true : never = true;

describe('training panel', function () {
  let playground: LlmPlayground;
  const root = () => playground.shadowRoot!;
  const panel = () => root().querySelector('llm-training-panel')!;
  const inPanel = <E extends Element>(selector: string) => panel().shadowRoot!.querySelector<E>(selector);
  const inner = (tag: string) => inPanel(tag)!.shadowRoot!;
  const button = (part: string) => inPanel<HTMLButtonElement>(`[part~="${part}"]`)!;
  const progressBar = () => inner('llm-training-progress').querySelector('progress');
  const trainLine = () => inner('llm-loss-chart').querySelector('[part~="train-line"]');
  const linePoints = () => (trainLine()?.getAttribute('points') ?? '').trim().split(/\s+/).filter(Boolean).length;
  const chartPoints = () => panel().shadowRoot!.querySelector('llm-loss-chart')!.points.length;
  const setField = (id: string, value: string) => {
    const input = inPanel<HTMLInputElement>(`#${id}`)!;
    input.value = value;
    input.dispatchEvent(new Event('change', { bubbles: true, composed: true }));
  };
  const reports: TrainingProgress[] = [];
  const record = (event: Event) => reports.push((event as CustomEvent<TrainingProgress>).detail);

  before(async () => {
    playground = document.createElement('llm-playground');
    playground.setAttribute('model', 'random');
    playground.setAttribute('database', `test-${crypto.randomUUID()}`);
    playground.setAttribute('prompt', 'Mara');
    const ready = new Promise((resolve) => document.addEventListener('llm-ready', resolve, { once: true }));
    document.body.append(playground);
    await ready;
    document.addEventListener('llm-training-progress', record);
  });

  after(() => {
    document.removeEventListener('llm-training-progress', record);
    playground.remove();
  });

  it('EngineClient has every method the panel calls', () => {
    expect(engineClientFits).to.equal(true);
  });

  it('opens from a real button and shows the built-in corpus and the sizes with their parameter counts', async () => {
    expect(root().querySelector('llm-training-panel')).to.equal(null);
    const toggle = root().querySelector<HTMLButtonElement>('[part~="train-toggle"]')!;
    expect(toggle.getAttribute('aria-expanded')).to.equal('false');
    toggle.click();
    await waitFor(() => playground.train && panel(), 'the panel');
    expect(toggle.getAttribute('aria-expanded')).to.equal('true');
    // The setup shows once the worker has sent the sizes and the default settings (a busy machine takes a while).
    await waitFor(() => inPanel('llm-corpus-picker'), 'the setup');

    const summary = await waitFor(
      () => inner('llm-corpus-picker').querySelector('[part~="corpus-summary"]'),
      'the corpus summary',
    );
    expect(summary.textContent).to.match(/built-in corpus.*characters/s);
    const vocabulary = inner('llm-corpus-picker').querySelectorAll('[part~="vocabulary"] li');
    expect(vocabulary.length).to.be.within(20, 100);
    // Its families, with the paragraphs and characters of each as the corpus made them.
    const { families } = generateCorpus();
    const rows = [...inner('llm-corpus-picker').querySelectorAll('[part~="families"] tbody tr')].map((row) =>
      [...row.querySelectorAll('td')].map((cell) => cell.textContent!.trim()),
    );
    expect(rows).to.deep.equal(
      CORPUS_FAMILIES.map(({ id, name, example }) => {
        const { paragraphs, characters } = families.find((family) => family.id === id)!;
        return [name, example, paragraphs.toLocaleString('en-US'), characters.toLocaleString('en-US')];
      }),
    );

    const sizes = inner('llm-model-size-picker');
    await waitFor(() => sizes.querySelector('[part~="breakdown"]'), 'the parameter breakdown');
    const tiny = [...sizes.querySelectorAll('[part~="size"]')].find((label) => label.textContent!.includes('Tiny'))!;
    tiny.querySelector('input')!.click();
    // Every category in the breakdown adds up to the total shown beside the preset.
    const cells = [...sizes.querySelectorAll('[part~="breakdown"] tbody td:nth-of-type(1)')].map((cell) =>
      Number(cell.textContent!.replace(/,/g, '')),
    );
    expect(cells).to.have.length(9);
    const total = Number(tiny.querySelector('.total')!.textContent!.replace(/[^0-9]/g, ''));
    expect(cells.reduce((a, b) => a + b, 0)).to.equal(total);
    expect(total).to.be.within(15000, 40000);
  });

  it('plays: the progress bar and the loss chart move, and the playground uses the model being trained', async () => {
    setField('train-totalSteps', '400');
    setField('train-evalInterval', '5');
    setField('train-sampleInterval', '5');
    const changed = new Promise<ModelInfo>((resolve) =>
      document.addEventListener('llm-model-change', (event) => resolve((event as CustomEvent).detail), { once: true }),
    );
    expect(button('play-button').tagName).to.equal('BUTTON');
    button('play-button').click();
    const model = await changed;
    expect(model.corpus).to.equal('the built-in corpus');
    await waitFor(() => button('play-button').textContent!.trim() === 'Pause', 'Play to become Pause');
    await waitFor(() => progressBar()!.value >= 6 && linePoints() >= 6, 'six steps on the bar and the chart', 90000);
    expect(progressBar()!.max).to.equal(400);
    expect(inner('llm-loss-chart').querySelector('[part~="validation-line"]')).to.not.equal(null);
    await waitFor(() => inPanel('[part~="sample"]'), 'a sample');
    await waitFor(
      () => /being trained on the built-in corpus/.test(root().querySelector('[part~="model"]')!.textContent!),
      'the playground to describe the model being trained',
    );
    const steps = reports.map((report) => report.step);
    expect(steps).to.deep.equal([...steps].sort((a, b) => a - b));
  });

  it('pauses, steps once, and resets to the start', async () => {
    button('play-button').click();
    await waitFor(() => button('play-button').textContent!.trim() === 'Play', 'Pause to become Play');
    const paused = progressBar()!.value;
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(progressBar()!.value).to.equal(paused);
    expect(chartPoints()).to.equal(paused);

    // Keyboard: Space on the focused Step button takes one step.
    button('step-button').focus();
    await sendKeys({ press: 'Space' });
    await waitFor(() => progressBar()!.value === paused + 1, 'one more step');
    expect(chartPoints()).to.equal(paused + 1);

    button('reset-button').click();
    await waitFor(() => chartPoints() === 0, 'the chart to empty');
    await waitFor(
      () => /freshly initialised at random/.test(root().querySelector('[part~="model"]')!.textContent!),
      'random weights again',
    );
    expect(inner('llm-loss-chart').querySelector('svg')).to.equal(null);
    const samples = panel().shadowRoot!.querySelectorAll('[part~="sample"]');
    expect(samples).to.have.length(1);
    expect(samples[0]!.textContent).to.match(/after 0 steps/);
  });
  it('says what is wrong with pasted text, reads a dropped file, and explains a custom size that cannot work', async () => {
    const picker = inner('llm-corpus-picker');
    const kind = (value: string) => picker.querySelector<HTMLInputElement>(`input[value="${value}"]`)!;
    kind('text').click();
    await waitFor(() => picker.querySelector('#paste'), 'the paste box');
    picker.querySelector<HTMLTextAreaElement>('#paste')!.value = 'far too short';
    picker.querySelector<HTMLButtonElement>('.row button')!.click();
    const error = await waitFor(() => picker.querySelector('[part~="corpus-error"]'), 'the corpus error');
    expect(error.getAttribute('role')).to.equal('alert');
    expect(error.textContent).to.match(/has only 13 characters/);

    kind('file').click();
    const zone = await waitFor(() => picker.querySelector('[part~="drop-zone"]'), 'the drop zone');
    const story = 'Once there was a lighthouse by the sea. '.repeat(40);
    const dropped = new DataTransfer();
    dropped.items.add(new File([story], 'story.txt', { type: 'text/plain' }));
    zone.dispatchEvent(new DragEvent('drop', { dataTransfer: dropped, bubbles: true, cancelable: true }));
    const summary = await waitFor(() => picker.querySelector('[part~="corpus-summary"]'), 'the summary of the file');
    expect(summary.textContent).to.contain('story.txt').and.contain(story.length.toLocaleString('en-US'));
    const distinct = new Set(story).size;
    expect(picker.querySelectorAll('[part~="vocabulary"] li')).to.have.length(distinct + 1);

    const sizes = inner('llm-model-size-picker');
    const custom = [...sizes.querySelectorAll('[part~="size"]')].find((label) => label.textContent!.includes('Custom'))!;
    custom.querySelector('input')!.click();
    const width = await waitFor(() => sizes.querySelector<HTMLInputElement>('#custom-nEmbd'), 'the custom fields');
    width.value = '30';
    width.dispatchEvent(new Event('change'));
    await waitFor(
      () => /divisible/.test(sizes.querySelector('[role="alert"]')?.textContent ?? ''),
      'why 30 wide with 4 heads fails',
    );
  });

  /** Chooses the Tiny size and the settings, then builds the model with Reset (the setup changed since the last one). */
  async function buildTiny(settings: Record<string, string>): Promise<void> {
    const sizes = inner('llm-model-size-picker');
    [...sizes.querySelectorAll('[part~="size"]')]
      .find((label) => label.textContent!.includes('Tiny'))!
      .querySelector('input')!
      .click();
    for (const [key, value] of Object.entries(settings)) setField(`train-${key}`, value);
    await waitFor(() => /Reset starts a new model/.test(panel().shadowRoot!.textContent!), 'the note that Reset builds');
    const built = new Promise((resolve) => document.addEventListener('llm-model-change', resolve, { once: true }));
    button('reset-button').click();
    await built;
    await waitFor(() => !button('reset-button').disabled, 'the buttons after the new model');
  }

  const stat = (label: string) =>
    [...inner('llm-training-progress').querySelectorAll('[part~="stat"]')]
      .find((item) => item.querySelector('dt')!.textContent === label)!
      .querySelector('dd')!.textContent;

  it('keeps going after the run ends: as many steps again, at the final learning rate, the chart going on', async () => {
    await buildTiny({ totalSteps: '40', evalInterval: '10', sampleInterval: '10' });
    expect(inPanel('[part~="keep-going-button"]')).to.equal(null);
    button('play-button').click();
    const keepGoing = await waitFor(() => inPanel<HTMLButtonElement>('[part~="keep-going-button"]'), 'Keep going', 90000);
    expect(progressBar()!.value).to.equal(40);
    expect(button('play-button').disabled).to.equal(true);
    expect(panel().shadowRoot!.textContent).to.match(/Keep going trains 40 steps more at the final learning rate/);

    keepGoing.click();
    await waitFor(() => progressBar()!.max === 80, 'the longer run');
    await waitFor(
      () => progressBar()!.value === 80 && inPanel('[part~="keep-going-button"]'),
      'the end of the longer run',
      90000,
    );
    expect(chartPoints()).to.equal(80);
    const steps = panel()
      .shadowRoot!.querySelector('llm-loss-chart')!
      .points.map((point) => point.step);
    expect(steps).to.deep.equal([...Array(80).keys()].map((i) => i + 1));
    expect([...inner('llm-loss-chart').querySelectorAll('text')].map((label) => label.textContent)).to.include('80');
    expect(stat('Step')).to.equal('80 of 80');
    expect(stat('Learning rate')).to.equal((3e-4).toExponential(2));
    // The form keeps the plan; Reset goes back to it.
    expect(inPanel<HTMLInputElement>('#train-totalSteps')!.value).to.equal('40');
    button('reset-button').click();
    await waitFor(() => chartPoints() === 0 && !inPanel('[part~="keep-going-button"]'), 'the reset');
    expect(panel().shadowRoot!.querySelector('llm-loss-chart')!.totalSteps).to.equal(40);
  });

  it('warns when a short pasted text is memorised: the validation loss climbs while the training loss falls', async () => {
    const paste =
      'The lighthouse keeper climbed the stairs every evening at dusk. He carried a lamp, a small tin of oil and a ' +
      'notebook in which he wrote down the weather, the ships he saw and the birds that rested on the rail. In winter ' +
      'the wind came from the north and the waves broke over the rocks below, throwing spray as high as the gallery. ' +
      'In summer the sea was calm and children from the village rowed out to wave at him. He had kept the light for ' +
      'thirty years, and his father had kept it before him. Nobody in the village could remember a night when the lamp ' +
      'had not been lit. One autumn a letter arrived from the harbour office saying that the light would soon be run ' +
      'by a machine. The keeper read it twice, folded it into his notebook and went up the stairs as usual. That night ' +
      'he wrote: wind from the west, three fishing boats, one heron, and a letter. Then he trimmed the wick, polished ' +
      'the glass and watched the beam sweep across the dark water until the grey morning came again. In spring the ' +
      'machine came by boat, and he showed the two engineers how to trim the wick.';
    expect(paste.length).to.be.within(1000, 1100);
    const picker = inner('llm-corpus-picker');
    picker.querySelector<HTMLInputElement>('input[value="text"]')!.click();
    await waitFor(() => picker.querySelector('#paste'), 'the paste box');
    picker.querySelector<HTMLTextAreaElement>('#paste')!.value = paste;
    picker.querySelector<HTMLButtonElement>('.row button')!.click();
    await waitFor(
      () => picker.querySelector('[part~="corpus-summary"]')?.textContent!.includes(paste.length.toLocaleString('en-US')),
      'the summary of the paste',
    );
    await buildTiny({ totalSteps: '2000', evalInterval: '10' });
    expect(inner('llm-training-progress').querySelector('[part~="memorising"]')).to.equal(null);
    button('play-button').click();
    const warning = await waitFor(
      () => inner('llm-training-progress').querySelector('[part~="memorising"]'),
      'the warning',
      90000,
    );
    button('play-button').click();
    await waitFor(() => button('play-button').textContent!.trim() === 'Play', 'the pause');

    // The numbers it names are those of the chart: the lowest validation loss, its step, and the newest.
    const validation = panel()
      .shadowRoot!.querySelector('llm-loss-chart')!
      .points.filter((point) => point.validationLoss !== undefined);
    const lowest = validation.reduce((best, point) => (point.validationLoss! < best.validationLoss! ? point : best));
    const latest = validation.at(-1)!.validationLoss!;
    expect(latest - lowest.validationLoss!).to.be.at.least(0.05);
    const text = warning.textContent!.replace(/\s+/g, ' ');
    expect(text).to.contain('It is memorising this text');
    expect(text).to.contain(`risen from ${lowest.validationLoss!.toFixed(2)} at step ${lowest.step} to ${latest.toFixed(2)}`);
    expect(text).to.match(/longer text, a smaller model, or stopping at about step \d+/);
    expect(warning.getAttribute('role')).to.equal('status');
    // It came within a few hundred steps, long before the planned 2,000.
    expect(progressBar()!.value).to.be.below(1000);
  });
});
