/**
 * The typed client of the engine worker: the only thing components talk to.
 * It starts the one dedicated worker and forwards calls through Comlink.
 *
 * A worker that fails to start rejects every call. One that dies later
 * (crashed, out of memory, terminated) is noticed at once through a Web Lock it
 * holds while alive: calls in flight reject with a clear error (a dead worker
 * would otherwise leave them waiting forever), a new worker starts and reopens
 * the last saved model, and a 'restart' event says what happened.
 */
import * as Comlink from 'comlink';
import { type Area, type EngineApi, type EngineWorker, type ModelInfo, scriptProblem, SETTINGS } from '../workers/api/index.ts';
import type { LlmEvents } from './events.ts';
import { trustedScriptURL, workerStartProblem } from './trusted-script-url.ts';
import { withWorkerFiles } from './worker-files.ts';

/**
 * The trained model the playground opens with. Bundlers see this URL and ship the
 * file with the code (the site and the library builds both copy it).
 */
export const DEFAULT_MODEL_URL = new URL('../public/default-model.safetensors?no-inline', import.meta.url).href;

export interface EngineClientOptions {
  /** Checkpoint to start from when no saved model is reopened; null: random weights. Default: the shipped trained model. */
  modelUrl?: string | null;
  /** Reopen the model saved last (default true). */
  restore?: boolean;
  /** IndexedDB database for saved models (default 'llm-playground'; tests use their own). */
  database?: string;
  /** Makes the worker; the playground's default starts engine.worker.ts (tests count the workers made). */
  createWorker?: () => Worker;
}

/** The 'restart' event: what happened, in words for the user, and the model reopened (as <llm-playground>'s llm-restart says). */
export type RestartEvent = CustomEvent<LlmEvents['llm-restart']>;

/** More restarts than this within RESTART_WINDOW_MS and the client gives up (a worker that dies at once would loop). */
const MAX_RESTARTS = 3;
const RESTART_WINDOW_MS = 60_000;

/** The script each worker TrustedWorker made was started from, to say which file is missing when it does not load. */
const workerScripts = new WeakMap<Worker, string>();

/** Worker, given its script URL through the playground's Trusted Types policy (pages that require them refuse a plain one). */
const TrustedWorker = function (url: URL, options?: WorkerOptions): Worker {
  const worker = new Worker(trustedScriptURL(withWorkerFiles(url)), options);
  workerScripts.set(worker, url.href);
  return worker;
} as unknown as typeof Worker;

const startEngineWorker = (): Worker => {
  // Named Worker here because bundlers (Vite) build the worker file only where they see `new Worker(new URL(…))`.
  const Worker = TrustedWorker;
  return new Worker(new URL('../workers/engine.worker.ts', import.meta.url), { type: 'module' });
};

/** The worker as Comlink wraps it: the contract's areas and lock, typed, and the proxy's release. */
type RemoteEngine = EngineWorker & { [Comlink.releaseProxy](): void };
/** An area whose methods are called by a name only known at run time (forwarded calls, settings given again). */
type RemoteArea = Record<string, (...args: unknown[]) => Promise<unknown>>;
const byName = (remote: RemoteEngine, area: Area): RemoteArea => remote[area] as unknown as RemoteArea;

/** One worker and what the client knows of it. */
interface Connection {
  /** Null when it could not be made (the page's content security policy refused it): every call rejects with why. */
  worker: Worker | null;
  remote: RemoteEngine | null;
  /** Rejects when the worker fails to start or dies; every call races against it. */
  failure: Promise<never>;
  /** Settles once the starting model is in place; calls wait for it. */
  started: Promise<ModelInfo | null>;
  /** Stops watching for this worker's death (when the client ends it on purpose). */
  stopWatching: AbortController;
}

const settingKey = (area: string, method: string): string => `${area}.${method}`;
const SETTING_KEYS = new Set(SETTINGS.map(([area, method]) => settingKey(area, method)));

/**
 * The engine, as the page sees it: `client.<area>.<method>(…)` for every
 * method of the contract (workers/api/), forwarded by name. Functions among the
 * arguments (progress and token callbacks) are called back across the worker
 * boundary; everything else is copied.
 */
export class EngineClient extends EventTarget implements EngineApi {
  readonly model = this.area('model');
  readonly backend = this.area('backend');
  readonly training = this.area('training');
  readonly library = this.area('library');
  readonly pretrained = this.area('pretrained');
  readonly inspector = this.area('inspector');
  readonly labs = this.area('labs');
  readonly chat = this.area('chat');
  readonly tuning = this.area('tuning');
  private connection: Connection;
  private readonly options: EngineClientOptions;
  private readonly restarts: number[] = [];
  private ended = false;
  /** The last arguments of each setting the page made (SETTINGS), given again to a restarted worker. */
  private readonly settings = new Map<string, unknown[]>();
  private persistenceAsked: Promise<boolean> | null = null;

  constructor(options: EngineClientOptions = {}) {
    super();
    this.options = options;
    this.connection = this.connect();
  }

  /**
   * Asks the browser not to evict saved models (navigator.storage.persist(), on
   * the page: workers can't). Asked once; true when granted.
   */
  requestPersistence(): Promise<boolean> {
    this.persistenceAsked ??= navigator.storage?.persist
      ? navigator.storage.persist().catch(() => false)
      : Promise.resolve(false);
    return this.persistenceAsked;
  }

  /** Stops the worker; the client cannot be used afterwards. */
  terminate(): void {
    this.ended = true;
    this.end(this.connection);
  }

  /** An area whose every method is forwarded to the worker by its name. */
  private area<A extends Area>(area: A): EngineApi[A] {
    const methods = new Map<string, (...args: unknown[]) => Promise<unknown>>();
    const method =
      (name: string) =>
      (...args: unknown[]) =>
        this.call(area, name, args);
    return new Proxy({} as EngineApi[A], {
      // Not `then`: an area is not a promise (awaiting one must not call the worker).
      get: (_, name) =>
        typeof name !== 'string' || name === 'then'
          ? undefined
          : (methods.get(name) ?? methods.set(name, method(name)).get(name)),
    });
  }

  /** Calls wait for the starting model, so no answer comes from the model it replaces. */
  private async call(area: Area, method: string, args: unknown[]): Promise<unknown> {
    const { started, remote, failure } = this.connection;
    const sent = args.map((arg) => (typeof arg === 'function' ? Comlink.proxy(arg) : arg));
    // A connection without a worker never starts, so remote is there whenever started resolves.
    const answer = await Promise.race([started.then(() => byName(remote!, area)[method]!(...sent)), failure]);
    if (SETTING_KEYS.has(settingKey(area, method))) this.settings.set(settingKey(area, method), args);
    return answer;
  }

  /** Starts a worker, watches for its death, and puts the starting model in place. */
  private connect(): Connection {
    const stopWatching = new AbortController();
    let worker: Worker;
    try {
      worker = (this.options.createWorker ?? startEngineWorker)();
    } catch (error) {
      const failure = Promise.reject(new Error(`The model's worker could not be started: ${workerStartProblem(error)}`));
      failure.catch(() => {});
      return { worker: null, remote: null, failure, started: failure, stopWatching };
    }
    const remote = Comlink.wrap(worker) as unknown as RemoteEngine;
    let fail!: (error: Error) => void;
    const failure = new Promise<never>((_, reject) => {
      fail = reject;
    });
    // Calls nobody is waiting on must not surface as unhandled rejections.
    failure.catch(() => {});
    let running = false;
    worker.addEventListener('error', (event) => {
      event.preventDefault();
      if (running) return;
      const script = workerScripts.get(worker);
      // A script that did not load (missing, say) fires a bare Event, with no message and no file: a fetch of it tells why.
      if (event.message || !script) fail(new Error(`The model's worker failed: ${event.message || 'it could not be loaded'}`));
      else void scriptProblem(script).then((problem) => fail(new Error(`The model's worker could not be loaded: ${problem}.`)));
    });
    worker.addEventListener('messageerror', () => fail(new Error("A message from the model's worker could not be read.")));
    const connection: Connection = { worker, remote, failure, started: Promise.resolve(null), stopWatching };
    const starting = (async () => {
      await this.watch(connection, remote, () => {
        fail(new Error("The model's worker stopped (it crashed, ran out of memory or was ended) while this was running."));
      });
      running = true;
      return this.startModel(remote);
    })();
    connection.started = Promise.race([starting, failure]);
    connection.started.catch(() => {});
    return connection;
  }

  /**
   * The worker holds a Web Lock while it lives; asking for the same lock here is
   * granted when it dies. Browsers without Web Locks only learn of load failures.
   */
  private async watch(connection: Connection, remote: RemoteEngine, died: () => void): Promise<void> {
    const locks = globalThis.navigator?.locks;
    if (!locks) return;
    const name = `llm-playground-engine-${crypto.randomUUID()}`;
    await remote.holdLifeLock(name);
    locks
      .request(name, { signal: connection.stopWatching.signal }, () => {
        if (connection !== this.connection || this.ended) return;
        died();
        this.restart(connection);
      })
      .catch(() => {}); // aborted: the client ended the worker itself
  }

  /** Settings the page made, then the saved model, else the starting checkpoint. */
  private async startModel(remote: RemoteEngine): Promise<ModelInfo | null> {
    const { database, restore = true } = this.options;
    if (database) await remote.library.useDatabase(database);
    for (const [area, method] of SETTINGS) {
      const args = this.settings.get(settingKey(area, method));
      // A setting the new worker refuses (WebGPU gone) leaves it at its default.
      if (args) await byName(remote, area)[method]!(...args).catch(() => {});
    }
    const restored = restore ? await remote.library.restoreActive() : null;
    if (restored) return restored;
    const modelUrl = this.options.modelUrl === undefined ? DEFAULT_MODEL_URL : this.options.modelUrl;
    return modelUrl === null ? null : remote.model.loadCheckpoint(modelUrl);
  }

  /** A new worker for a dead one, with the last saved model; gives up after a few in a row. */
  private restart(dead: Connection): void {
    this.end(dead);
    const now = Date.now();
    this.restarts.push(now);
    while (this.restarts[0]! < now - RESTART_WINDOW_MS) this.restarts.shift();
    if (this.restarts.length > MAX_RESTARTS) {
      this.ended = true;
      this.dispatchRestart(
        `The model's worker stopped ${this.restarts.length} times in a minute, so it was not started again. Reload the page to try again.`,
        null,
      );
      return;
    }
    this.connection = this.connect();
    void this.connection.started.then(
      (model) =>
        this.dispatchRestart(
          model?.saved
            ? `The model's worker stopped unexpectedly and was restarted; "${model.name}" was reopened as saved at step ${model.saved.step}.`
            : "The model's worker stopped unexpectedly and was restarted; there was no saved model to reopen, so it starts from the default model.",
          model,
        ),
      (error: Error) => this.dispatchRestart(`The model's worker stopped and could not be restarted: ${error.message}`, null),
    );
  }

  private dispatchRestart(message: string, model: ModelInfo | null): void {
    this.dispatchEvent(new CustomEvent('restart', { detail: { message, model } }));
  }

  private end(connection: Connection): void {
    if (connection.stopWatching.signal.aborted) return; // ended already
    connection.stopWatching.abort();
    connection.remote?.[Comlink.releaseProxy]();
    connection.worker?.terminate();
  }
}
