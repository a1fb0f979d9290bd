// <llm-training-step-lab> with the real engine worker (the shipped model): its parts, driven by the keyboard
// alone, the model in use unchanged by its steps, a typed sentence, a refused model, and the labs panel's tab.
import { sendKeys } from '@web/test-runner-commands';
import { expect } from 'chai';
import type { EngineClient } from '../../src/client.ts';
import '../../src/elements/labs-panel.ts';
import type { LabsPanelClient } from '../../src/elements/labs-panel.ts';
import '../../src/elements/training-step-lab.ts';
import type { TrainingStepLab, TrainingStepLabClient } from '../../src/elements/training-step-lab.ts';
import { DEFAULT_PRETRAINED_SOURCES } from '../../workers/api/index.ts';
import { pretrainedInfo } from './fake-pretrained.ts';
import { waitFor } from './wait-for.ts';

const part = <T extends Element = HTMLElement>(lab: Element, name: string): T | null =>
  lab.shadowRoot!.querySelector<T>(`[part~="${name}"]`);
const parts = (lab: Element, name: string): HTMLElement[] => [
  ...lab.shadowRoot!.querySelectorAll<HTMLElement>(`[part~="${name}"]`),
];

/** Focuses the part and presses a key on it. */
async function press(lab: Element, name: string, key: string): Promise<void> {
  const target = await waitFor(() => part<HTMLElement>(lab, name), name, 60_000);
  target.focus();
  await sendKeys({ press: key });
}

describe('<llm-training-step-lab> with the real worker', function () {
  this.timeout(120_000);

  it('steps, steps again and starts over from the keyboard; the model in use stays as it was', async () => {
    const lab = document.createElement('llm-training-step-lab');
    document.body.append(lab);
    try {
      const picker = await waitFor(() => part<HTMLSelectElement>(lab, 'sentence-picker'), 'the picker', 60_000);
      await waitFor(() => picker.options.length === 8 && !picker.disabled, 'the 8 offered sentences', 60_000);
      expect(part(lab, 'explanation')!.textContent).to.include('Backpropagation');
      const positions = await waitFor(() => parts(lab, 'position').length > 0 && parts(lab, 'position'), 'the positions', 60_000);
      expect(part(lab, 'positions')).to.not.equal(null);
      expect(parts(lab, 'loss-bar')).to.have.lengthOf(positions.length);
      expect(parts(lab, 'prob-before')).to.have.lengthOf(positions.length);
      expect(parts(lab, 'prob-after')).to.have.lengthOf(0);
      expect(part(lab, 'settings')!.textContent).to.match(/Learning rate 0\.001 \(training rises to 0\.003\)/);
      const client = lab.client as EngineClient;
      const prompt = picker.value.slice(0, 12);
      const predicted = await client.model.predict(prompt, { temperature: 1 });

      await press(lab, 'step-button', 'Enter');
      await waitFor(() => part(lab, 'again-button'), 'the first step', 60_000);
      expect(part(lab, 'summary')!.textContent).to.match(/Step 1 of the copy: mean loss [\d.]+ → [\d.]+/);
      expect(parts(lab, 'prob-after')).to.have.lengthOf(positions.length);
      expect(parts(lab, 'history-bar')).to.have.lengthOf(2);
      const sizes = () => parts(lab, 'gradient-row').map((row) => Number(row.querySelectorAll('td.number')[0]!.textContent));
      expect(sizes().length).to.be.above(0);
      expect(sizes()).to.deep.equal([...sizes()].sort((a, b) => b - a));
      expect(parts(lab, 'gradient-row')[0]!.textContent).to.match(/layer \d · |embedding/);

      await press(lab, 'again-button', 'Space');
      await waitFor(() => part(lab, 'summary')?.textContent?.includes('Step 2 of the copy'), 'the second step', 60_000);
      expect(parts(lab, 'history-bar')).to.have.lengthOf(3);
      const matrices = parts(lab, 'gradient-row').length;
      await press(lab, 'all-parameters', 'Space');
      await waitFor(() => parts(lab, 'gradient-row').length > matrices, 'the biases and LayerNorms listed');

      await press(lab, 'reset-button', 'Enter');
      await waitFor(() => part(lab, 'step-button') && parts(lab, 'prob-after').length === 0, 'the start again', 60_000);
      expect(part(lab, 'history')).to.equal(null);
      expect(await client.model.predict(prompt, { temperature: 1 })).to.deep.equal(predicted);
    } finally {
      lab.remove();
    }
  });

  it('takes a typed sentence on Enter, as the model reads it', async () => {
    const lab = document.createElement('llm-training-step-lab');
    document.body.append(lab);
    try {
      await waitFor(() => parts(lab, 'position').length > 0, 'the first sentence', 60_000);
      const typed = 'The queen sat on the throne.';
      await press(lab, 'sentence-input', 'End');
      await sendKeys({ type: typed });
      await sendKeys({ press: 'Enter' });
      const ids = (await (lab.client as EngineClient).model.tokenize(typed)).ids;
      await waitFor(
        () => lab.sentence === typed && parts(lab, 'position').length === ids.length - 1,
        'the typed sentence',
        60_000,
      );
      expect(part<HTMLSelectElement>(lab, 'sentence-picker')!.selectedOptions[0]!.textContent).to.equal('Your own sentence');
    } finally {
      lab.remove();
    }
  });
});

describe('<llm-training-step-lab> on a model it refuses', () => {
  it('shows the reason and offers no step', async () => {
    const refusal = 'A training step on a copy of this model would need about 2.0 GB.';
    const asked: string[] = [];
    const client: TrainingStepLabClient = {
      labs: {
        stepSentences: async () => ({ corpus: '', sentences: [], refusal }),
        startStep: async () => (asked.push('startStep'), Promise.reject(new Error(refusal))),
        trainingStep: async () => (asked.push('trainingStep'), Promise.reject(new Error(refusal))),
      },
    };
    const lab = document.createElement('llm-training-step-lab') as TrainingStepLab;
    lab.client = client;
    document.body.append(lab);
    try {
      await waitFor(() => part(lab, 'refusal'), 'the refusal');
      expect(part(lab, 'refusal')!.textContent).to.equal(refusal);
      expect(part(lab, 'step-button')).to.equal(null);
      expect(asked).to.deep.equal([]);
    } finally {
      lab.remove();
    }
  });
});

describe('<llm-training-step-lab> when the model in use changes', () => {
  it('lists the new model’s sentences and starts on the first; a training step of the same model keeps them', async () => {
    const asked: string[] = [];
    let corpus = 'the built-in corpus';
    const client: TrainingStepLabClient = {
      labs: {
        stepSentences: async () => (asked.push('list'), { corpus, sentences: [`${corpus}: one.`, `${corpus}: two.`] }),
        startStep: async (sentence) => (
          asked.push(`start ${sentence}`),
          {
            tokens: ['a', 'b'],
            targets: Int32Array.of(1),
            loss: Float32Array.of(1),
            prob: Float32Array.of(0.4),
            learningRate: 0.001,
            trainingLearningRate: 0.003,
          }
        ),
        trainingStep: async () => Promise.reject(new Error('not asked here')),
      },
    };
    const info = (name: string, step: number) => ({ ...pretrainedInfo(DEFAULT_PRETRAINED_SOURCES[0]!), name, step });
    const lab = document.createElement('llm-training-step-lab') as TrainingStepLab;
    lab.client = client;
    lab.model = info('shipped', 0);
    document.body.append(lab);
    try {
      await waitFor(() => asked.includes('start the built-in corpus: one.'), 'the first sentence started');
      corpus = 'my text';
      lab.model = info('Tiny model on my text', 0);
      await waitFor(() => lab.sentence === 'my text: one.' && asked.at(-1) === 'start my text: one.', 'the new corpus');
      expect(part(lab, 'sentence-picker')!.textContent).to.include('my text: two.');
      const count = asked.length;
      lab.model = info('Tiny model on my text', 120);
      await lab.updateComplete;
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(asked).to.have.lengthOf(count);
    } finally {
      lab.remove();
    }
  });
});

describe('the labs panel', () => {
  it("opens 'training-step' as the lab 'One training step', with the panel's client", async () => {
    const client = {
      labs: { stepSentences: async () => ({ corpus: 'the built-in corpus', sentences: [] }) },
    } as unknown as LabsPanelClient;
    const panel = document.createElement('llm-labs-panel');
    panel.client = client;
    panel.lab = 'training-step';
    document.body.append(panel);
    try {
      const lab = await waitFor(() => panel.shadowRoot!.querySelector('llm-training-step-lab'), 'the lab');
      expect(lab.client).to.equal(client);
      expect(panel.shadowRoot!.querySelector('#tab-training-step')!.textContent!.trim()).to.equal('One training step');
    } finally {
      panel.remove();
    }
  });
});
