/** The collapsible sections of <llm-playground>, in page order. */

/**
 * The collapsible sections under the prompt, in page order: the property that opens each (its button is
 * `${flag}-toggle`), its panel, and the button's title and hint.
 */
// A table, an entry in two lines (the hint on the second).
// prettier-ignore
export const SECTIONS = [
  { flag: 'inspect', panel: 'inspector', title: 'Look inside the model',
    hint: 'attention, neurons, embeddings, the logit lens, for the prompt above' },
  { flag: 'train', panel: 'training', title: 'Train a model from scratch',
    hint: 'in this tab: pick a text, a size, press Play' },
  { flag: 'library', panel: 'library', title: 'Saved models',
    hint: 'kept in this browser, offline too: open, rename, export, import' },
  { flag: 'labs', panel: 'labs', title: 'Concept labs',
    hint: "softmax and temperature, GPT-3's parameters, superposition, a fact in an MLP" },
  { flag: 'chat', panel: 'chat', title: 'Chat with a real model',
    hint: 'a small pretrained LLM on your GPU, with the odds of every token it writes' },
] as const;

export type SectionPanel = (typeof SECTIONS)[number]['panel'];
