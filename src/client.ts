/**
 * The typed client of the engine worker: the only thing components talk to.
 * It starts the one dedicated worker, forwards calls through Comlink, and turns a
 * worker that fails to start or crashes into rejected promises (a dead worker
 * would otherwise leave every call waiting forever).
 */
import * as Comlink from 'comlink';
import type {
  EngineService,
  ForwardOutput,
  GenerateRequest,
  GenerateResult,
  ModelInfo,
  Prediction,
  PredictOptions,
  SamplingOptions,
  StreamedToken,
  Tokenization,
} from '../workers/service.ts';

export type * from '../workers/service.ts';

export class EngineClient {
  private readonly worker: Worker;
  private readonly remote: Comlink.Remote<EngineService>;
  /** Rejects when the worker fails; every call races against it. */
  private readonly failure: Promise<never>;

  /** `worker` is for tests; the playground always starts the engine worker. */
  constructor(worker = new Worker(new URL('../workers/engine.worker.ts', import.meta.url), { type: 'module' })) {
    this.worker = worker;
    this.remote = Comlink.wrap<EngineService>(this.worker);
    this.failure = new Promise((_, reject) => {
      this.worker.addEventListener('error', (event) => {
        event.preventDefault();
        reject(new Error(`The model's worker failed: ${event.message || 'it could not be loaded'}`));
      });
      this.worker.addEventListener('messageerror', () => {
        reject(new Error("A message from the model's worker could not be read."));
      });
    });
    // Calls nobody is waiting on must not surface as unhandled rejections.
    this.failure.catch(() => {});
  }

  info(): Promise<ModelInfo> {
    return this.call(this.remote.info());
  }

  tokenize(text: string): Promise<Tokenization> {
    return this.call(this.remote.tokenize(text));
  }

  predict(text: string, options: PredictOptions): Promise<Prediction> {
    return this.call(this.remote.predict(text, options));
  }

  forward(input: string | readonly number[], options: { capture?: boolean } = {}): Promise<ForwardOutput> {
    return this.call(this.remote.forward(input, options));
  }

  step(text: string, sampling: SamplingOptions, seed: number): Promise<StreamedToken> {
    return this.call(this.remote.step(text, sampling, seed));
  }

  /** Streams tokens to onToken as they are drawn; a newer generate cancels this one. */
  generate(prompt: string, request: GenerateRequest, onToken: (token: StreamedToken) => void): Promise<GenerateResult> {
    const callback = Comlink.proxy(onToken);
    return this.call(this.remote.generate(prompt, request, callback));
  }

  cancel(): Promise<void> {
    return this.call(this.remote.cancel());
  }

  /** Stops the worker; the client cannot be used afterwards. */
  terminate(): void {
    this.remote[Comlink.releaseProxy]();
    this.worker.terminate();
  }

  private call<T>(pending: Promise<T>): Promise<T> {
    return Promise.race([pending, this.failure]);
  }
}
