// Two <llm-playground> elements on one page, sharing the default way (one
// database): a save in either shows in the other's Saved models list at once,
// each marks only the model it holds itself, and after a reload both open the
// model saved last. Each runs its own real worker.
import { expect } from 'chai';
import '../../src/llm-playground.ts';
import type { LlmPlayground } from '../../src/llm-playground.ts';
import { randomInt } from './seeded.ts';
import { waitFor } from './wait-for.ts';

describe('two <llm-playground> elements on one database', function () {
  this.timeout(120_000);
  const database = `test-${crypto.randomUUID()}`;
  const made: LlmPlayground[] = [];

  /** A playground on the shared database with random weights, its Saved models panel open. */
  async function playground(): Promise<LlmPlayground> {
    const element = document.createElement('llm-playground');
    element.setAttribute('model', 'random');
    element.setAttribute('database', database);
    element.library = true;
    made.push(element);
    const ready = new Promise((resolve) => element.addEventListener('llm-ready', resolve, { once: true }));
    document.body.append(element);
    await ready;
    await waitFor(() => library(element).saved, 'the first list');
    return element;
  }

  const library = (element: LlmPlayground) => element.shadowRoot!.querySelector('llm-model-library')!;
  const part = (element: LlmPlayground, name: string) =>
    library(element).shadowRoot!.querySelector<HTMLInputElement>(`[part~="${name}"]`)!;
  const listed = (element: LlmPlayground) => library(element).saved?.models.map((model) => model.name) ?? [];
  const activeName = (element: LlmPlayground) => {
    const saved = library(element).saved;
    return saved?.models.find((model) => model.id === saved.activeId)?.name ?? null;
  };

  async function saveAs(element: LlmPlayground, name: string): Promise<void> {
    const field = part(element, 'save-name');
    field.value = name;
    field.dispatchEvent(new Event('input'));
    await library(element).updateComplete;
    part(element, 'save-button').click();
    await waitFor(() => activeName(element) === name, `'${name}' saved and in use`);
  }

  after(() => {
    for (const element of made) element.remove();
  });

  it('a save in one shows in the other list without a reload, each marking only its own model', async () => {
    const first = await playground();
    const second = await playground();
    const firstName = `first ${randomInt(1, 1e6)}`;
    await saveAs(first, firstName);
    await waitFor(() => listed(second).includes(firstName), "the first's save in the second's list");
    // The second holds its own (unsaved) model, not the one the first saved.
    expect(activeName(second)).to.equal(null);

    const secondName = `second ${randomInt(1, 1e6)}`;
    await saveAs(second, secondName);
    await waitFor(() => listed(first).includes(secondName), "the second's save in the first's list");
    expect(activeName(first)).to.equal(firstName);
    expect(listed(first).sort()).to.deep.equal([firstName, secondName].sort());
  });

  it('after a reload, a playground on the database opens the model saved last (by either)', async () => {
    const later = await playground();
    expect(activeName(later)).to.match(/^second /);
  });
});
