/**
 * The contract between the page and the engine worker, in one place: one
 * interface per area, and every type they carry. The page (src/) imports from
 * workers/ only this folder; each area's implementation lives in areas/.
 *
 * A call from an element to the engine: the element calls
 * `client.<area>.<method>(…)` on its EngineClient (src/client.ts), which sends
 * it through Comlink to the worker (engine.worker.ts), where the area's object
 * answers. Adding a method is one line in the area's interface here and one
 * method in its implementation; the client forwards any method by its name.
 */
import type { BackendApi } from './backend.ts';
import type { ChatApi } from './chat.ts';
import type { InspectorApi } from './inspector.ts';
import type { LabsApi } from './labs.ts';
import type { LibraryApi } from './library.ts';
import type { ModelApi } from './model.ts';
import type { PretrainedApi } from './pretrained.ts';
import type { TrainingApi } from './training.ts';
import type { TuningApi } from './tuning.ts';

export * from './backend.ts';
export * from './chat.ts';
export * from './errors.ts';
export * from './inspector.ts';
export * from './labs.ts';
export type * from './library.ts';
export * from './model.ts';
export * from './pretrained.ts';
export * from './reading.ts';
export * from './training.ts';
export * from './tuning.ts';

/** Everything the page may ask of the engine, by area. */
export interface EngineApi {
  /** The model in use: tokens, next-token odds, sampling. */
  model: ModelApi;
  /** What runs the model: the CPU or WebGPU. */
  backend: BackendApi;
  /** Training a new model in the tab. */
  training: TrainingApi;
  /** The model in use taught to answer: fine-tuned on dialogues, then tuned on the user's choices (DPO). */
  tuning: TuningApi;
  /** Saved models in this browser. */
  library: LibraryApi;
  /** Pretrained models (GPT-2) downloaded once and kept in this browser. */
  pretrained: PretrainedApi;
  /** Looking inside the model: attention, neurons, embeddings, the logit lens, the time-lapse. */
  inspector: InspectorApi;
  /** The concept labs' math. */
  labs: LabsApi;
  /** The chat with a real pretrained model (web-llm). */
  chat: ChatApi;
}

/** What the worker serves: the areas, and a lock it holds while it lives. */
export interface EngineWorker extends EngineApi {
  /**
   * Holds a Web Lock for as long as this worker lives. The page then asks for the
   * same lock, which it is granted only once the worker is gone (terminated,
   * crashed, out of memory): how it notices.
   */
  holdLifeLock(name: string): Promise<void>;
}

export type Area = keyof EngineApi;

/**
 * The slice of the contract an element uses, e.g. `Uses<'model', 'predict' |
 * 'tokenize'>`; join areas with `&`. Test fakes implement just that slice.
 */
export type Uses<A extends Area, M extends keyof EngineApi[A]> = { [K in A]: Pick<EngineApi[A], M> };

/**
 * Settings the page makes that a restarted worker must be given again, in
 * the order they are re-applied: the client keeps the last arguments of each.
 */
export const SETTINGS = [
  ['library', 'setAutosave'],
  ['library', 'watch'],
  ['pretrained', 'setSources'],
  ['backend', 'choose'],
  ['backend', 'threads'],
  ['inspector', 'setTimelapse'],
  ['chat', 'setAppConfig'],
] as const satisfies readonly { [A in Area]: readonly [A, keyof EngineApi[A]] }[Area][];
