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

/**
 * A word in three prompts: the second uses it in the first's sense, the third in another. The cue to the sense comes
 * before the word (the model reads left to right). Offered when the vocabulary has `token`. A test checks that the
 * shipped model, after its last layer, puts the first prompt's word nearer the second's than the third's.
 */
export interface SenseExample {
  word: string;
  token: string;
  prompts: [string, string, string];
  /** The sense in the first (and second) prompt, and in the third. */
  senses: [string, string];
}

export const SENSE_EXAMPLES: readonly SenseExample[] = [
  {
    word: 'mole',
    token: ' mole',
    prompts: [
      'In the meadow, a tiny mole dug a tunnel under the lawn.',
      'Deep in the field, the blind mole dug for worms in the soil.',
      'In chemistry class, we weighed one mole of carbon dioxide.',
    ],
    senses: ['the animal', 'the amount in chemistry'],
  },
  {
    word: 'tower',
    token: ' tower',
    prompts: [
      'In Paris, the Eiffel tower stood tall.',
      'Tourists in Paris climbed the Eiffel tower at night.',
      'With glue and paper, she made a miniature tower.',
    ],
    senses: ['the Eiffel tower', 'a paper model'],
  },
  {
    word: 'Harry',
    token: ' Harry',
    prompts: [
      'The young wizard Harry Potter waved his wand.',
      'With a wand in his hand, the wizard Harry Potter cast a spell.',
      'At the palace, Prince Harry greeted the crowd.',
    ],
    senses: ['the wizard', 'the prince'],
  },
];
