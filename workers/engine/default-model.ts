/**
 * What the tests measured in the shipped default model
 * (public/default-model.safetensors, made by `npm run train:default`): the
 * panels open on it.
 */

/** The head whose noun queries put most of their attention on the noun's adjectives ("a fluffy blue creature"). */
export const ADJECTIVE_HEAD = { layer: 1, head: 0 } as const;
