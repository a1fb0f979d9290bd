// <llm-playground>'s model picker, with its real worker: what the `model`, `model-base` and `pretrainedSources`
// give the picker (the picker's own behaviour is tested against a fake in model-picker.test.ts), and the built-in
// model marked as the one in use.
import { expect } from 'chai';
import '../../src/llm-playground.ts';
import type { LlmPlayground } from '../../src/llm-playground.ts';
import type { PretrainedSource } from '../../workers/api/index.ts';
import { waitFor } from './wait-for.ts';

describe('<llm-playground> model picker', function () {
  let playground: LlmPlayground | undefined;

  async function mount(attributes: Record<string, string>, sources?: PretrainedSource[]) {
    playground = document.createElement('llm-playground');
    playground.setAttribute('database', `test-${crypto.randomUUID()}`);
    for (const [name, value] of Object.entries(attributes)) playground.setAttribute(name, value);
    if (sources) playground.pretrainedSources = sources;
    const ready = new Promise((resolve) => playground!.addEventListener('llm-ready', resolve, { once: true }));
    document.body.append(playground);
    await ready;
    await playground.updateComplete;
    return playground.shadowRoot!.querySelector('llm-model-picker')!;
  }

  afterEach(() => playground?.remove());

  it('sits in the header; model="gpt2" starts on the built-in model and asks the picker for GPT-2 small', async () => {
    const picker = await mount({ model: 'gpt2' });
    expect(picker.closest('header')).to.not.equal(null);
    expect(picker.getAttribute('part')).to.equal('model-picker');
    expect(picker.want).to.equal('gpt2');
    expect(picker.sources).to.equal(null);
    await waitFor(() => picker.active, 'the model in use');
    const builtIn = picker.shadowRoot!.querySelector('[part~="builtin-choice"]')!;
    await picker.updateComplete;
    expect(builtIn.getAttribute('aria-pressed')).to.equal('true');
  });

  it('model-base points the id at a repository of its own', async () => {
    const picker = await mount({ model: 'my-gpt2', 'model-base': 'https://example.org/my-gpt2/resolve/main' });
    expect(picker.want).to.equal('my-gpt2');
    expect(picker.sources!.at(-1)).to.include({ id: 'my-gpt2', baseUrl: 'https://example.org/my-gpt2/resolve/main/' });
  });

  it('pretrainedSources replaces the list; model="random" names no pretrained model', async () => {
    const sources: PretrainedSource[] = [
      { id: 'tiny', name: 'Tiny', baseUrl: 'https://example.org/tiny/', bytes: 1_000_000, parameters: 250_000 },
    ];
    const picker = await mount({ model: 'random' }, sources);
    expect(picker.sources).to.deep.equal(sources);
    expect(picker.want).to.equal('');
    await picker.updateComplete;
    expect(picker.shadowRoot!.querySelector('[part~="builtin-choice"]')!.getAttribute('aria-pressed')).to.equal('false');
  });
});
