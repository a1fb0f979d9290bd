/** Errors as both sides of the contract see them (Comlink keeps an Error's name and message). */

/** What went wrong, in the words of the error (or of whatever was thrown). */
export const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * A request whose model was replaced (a new model, one opened, imported or
 * loaded) before it could answer. The page drops such an answer: it asks again
 * for the new model anyway.
 */
export class ModelReplaced extends Error {
  override name = 'ModelReplaced';

  constructor() {
    super('The model was replaced before this answer was ready.');
  }
}

/** True for a ModelReplaced error, also after it crossed from the worker. */
export const isModelReplaced = (error: unknown): boolean => error instanceof Error && error.name === 'ModelReplaced';
