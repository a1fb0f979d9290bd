// What the tuning tests share: an engine in this page with the shipped model in use, and its weights as bytes.
import type { EngineWorker } from '../../workers/api/index.ts';
import { createEngine } from '../../workers/engine.ts';

export const SHIPPED_MODEL = new URL('/public/default-model.safetensors', location.href).href;

/** A saved-models database of a test's own. */
export const database = (): string => `test-${crypto.randomUUID()}`;

/** An engine in this page on the database `name`, with the shipped model (or what the database reopens) in use. */
export async function shippedEngine(name = database()): Promise<EngineWorker> {
  const engine = createEngine();
  await engine.library.useDatabase(name);
  await engine.model.loadCheckpoint(SHIPPED_MODEL);
  return engine;
}

/** The weights of the model in use, as its exported file (weights, shape and tokenizer: not its name). */
export const weightsOf = async (engine: EngineWorker): Promise<Uint8Array> => (await engine.library.export()).bytes;

/** The line the chat lays out for a question: the text the model continues. */
export const asked = (question: string): string => `User: ${question} Assistant:`;
