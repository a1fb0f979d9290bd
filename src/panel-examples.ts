/**
 * The seed's example prompts the inspector's panels open on while the prompt
 * box is empty. Each is used when the model's vocabulary has its words as
 * tokens (a word-piece model trained on the built-in corpus); a character model
 * keeps the empty prompt.
 */
export interface ExamplePrompt {
  text: string;
  /** The tokens the example is about: the vocabulary must have each. */
  tokens: readonly string[];
}

/** Attention: the noun "creature" after its two adjectives. */
export const ADJECTIVES_EXAMPLE: ExamplePrompt = {
  text: 'a fluffy blue creature',
  tokens: [' fluffy', ' blue', ' creature'],
};

/** A fact the MLPs hold: the answer is " basketball". */
export const FACT_EXAMPLE: ExamplePrompt = {
  text: 'Michael Jordan plays the sport of',
  tokens: [' sport', ' basketball'],
};

/** The example when the vocabulary has all its tokens, else null. */
export const usableExample = (example: ExamplePrompt, vocabulary: readonly string[]): ExamplePrompt | null =>
  example.tokens.every((token) => vocabulary.includes(token)) ? example : null;
