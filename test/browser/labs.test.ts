// The concept labs with the real engine worker: each lab works alone in a page
// (it starts a worker of its own), the parameter lab's figures are the counting
// function's, the softmax lab's odds are the engine's softmax, and the playground
// reaches all five labs.
import { expect } from 'chai';
import type { EngineClient } from '../../src/client.ts';
import type { LabsPanelClient } from '../../src/elements/labs-panel.ts';
import '../../src/elements/parameter-lab.ts';
import '../../src/elements/softmax-lab.ts';
import { ACTIVE } from '../../src/elements/parameter-lab.ts';
import '../../src/llm-playground.ts';
import type { LlmPlayground } from '../../src/llm-playground.ts';
import { softmax } from '../../workers/engine/sampling.ts';
import { formatPercent } from '../../src/visible-token.ts';
import { random } from './seeded.ts';
import { waitFor } from './wait-for.ts';

// The playground hands its EngineClient to the labs panel, which hands it to each lab.
const engineClientFits: EngineClient extends LabsPanelClient ? true : never = true;

describe('concept labs with the real worker', function () {
  this.timeout(120_000);
  const shadow = (element: Element, selector: string) => element.shadowRoot!.querySelector(selector);
  const texts = (element: Element, selector: string) =>
    [...element.shadowRoot!.querySelectorAll(selector)].map((e) => e.textContent!.trim());

  it("the parameter lab alone: GPT-3 175B's eight categories total 175,181,291,520; the model in use matches its buffer", async () => {
    const lab = document.createElement('llm-parameter-lab');
    document.body.append(lab);
    try {
      await waitFor(
        () => shadow(lab, '[part~="total-row"]')?.textContent?.includes('175,181,291,520'),
        'the GPT-3 total',
        60_000,
      );
      lab.choice = ACTIVE;
      const check = await waitFor(() => shadow(lab, '[part~="buffer-check"]'), 'the buffer check', 60_000);
      expect(check.textContent).to.include('the same');
      const [counted, held] = [...check.querySelectorAll('.numbers')].map((n) => n.textContent);
      expect(counted).to.equal(held);
    } finally {
      lab.remove();
    }
  });

  it("the softmax lab alone: the odds shown are the engine's softmax at the chosen temperature", async () => {
    const lab = document.createElement('llm-softmax-lab');
    document.body.append(lab);
    try {
      const logits = Array.from({ length: 5 }, () => Math.round((random() * 8 - 4) * 10) / 10);
      const temperature = Math.round((0.2 + random() * 1.6) * 100) / 100;
      lab.logits = logits;
      lab.temperature = temperature;
      const expected = Array.from(softmax(logits, temperature), formatPercent);
      await waitFor(
        () => texts(lab, '[part~="probability"]').join() === expected.join(),
        `the odds ${expected.join(' ')}`,
        60_000,
      );
    } finally {
      lab.remove();
    }
  });

  it('the playground opens the five labs, sharing its worker', async () => {
    expect(engineClientFits).to.equal(true);
    const playground = document.createElement('llm-playground') as LlmPlayground;
    playground.setAttribute('database', `test-${crypto.randomUUID()}`);
    playground.setAttribute('labs', '');
    document.body.append(playground);
    try {
      await waitFor(() => playground.status === 'ready', 'the playground', 60_000);
      const panel = await waitFor(() => shadow(playground, 'llm-labs-panel'), 'the labs');
      const labs = ['softmax', 'parameters', 'superposition', 'fact', 'training-step'];
      const tags = ['llm-softmax-lab', 'llm-parameter-lab', 'llm-superposition-lab', 'llm-fact-mlp-lab', 'llm-training-step-lab'];
      for (const [index, id] of labs.entries()) {
        (await waitFor(() => shadow(panel, `#tab-${id}`) as HTMLButtonElement | null, `the ${id} tab`)).click();
        const lab = await waitFor(() => shadow(panel, tags[index]!), tags[index]!);
        expect((lab as unknown as { client: unknown }).client).to.equal((playground as unknown as { client: unknown }).client);
      }
    } finally {
      playground.remove();
    }
  });
});
