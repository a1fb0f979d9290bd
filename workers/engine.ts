/**
 * The engine: every area of the contract (api/), wired to the one model in use
 * and the one owner of the backends. The worker (engine.worker.ts) exposes it
 * through Comlink; tests can also call it directly. It never touches the DOM.
 */
import type { BackendChoice } from './api/backend.ts';
import type { EngineWorker } from './api/index.ts';
import { ActiveModel } from './areas/active-model.ts';
import { Backends } from './areas/backends.ts';
import { InspectorArea } from './areas/inspector.ts';
import { LabsArea } from './areas/labs.ts';
import { LibraryArea } from './areas/library.ts';
import { ModelArea } from './areas/model.ts';
import { PretrainedArea } from './areas/pretrained.ts';
import { TrainingArea } from './areas/training.ts';
import { TuningArea } from './areas/tuning.ts';
import { noTransfer, type TransferFunction } from './areas/transfer.ts';
import { ChatService } from './chat/chat-service.ts';
import { DEFAULT_CONFIG, DEFAULT_SEED, defaultTokenizer } from './engine/defaults.ts';
import { initParameters } from './engine/params.ts';
import { type GPUContext, requestGPU } from './engine/webgpu/device.ts';
import { ModelLibrary } from './model-library.ts';
import { PretrainedStore } from './pretrained/store.ts';

export type { TransferFunction } from './areas/transfer.ts';

export interface EngineOptions {
  /** Marks buffers to move to the page (the worker passes Comlink.transfer). */
  transfer?: TransferFunction;
  /** The backend to start on (default auto). */
  backend?: BackendChoice;
  /** How to get a GPU (default requestGPU); tests pass their own to hold the device. */
  findGPU?: () => Promise<GPUContext | null>;
  /** Where models are saved (default: the IndexedDB database 'llm-playground'). */
  library?: ModelLibrary;
  /** The chat with a pretrained model (default: web-llm, loaded when first used). */
  chat?: ChatService;
  /** How long a URL import or corpus download waits for an answer, or for more of the file (default 30 s; tests shorten it). */
  fetchTimeoutMs?: number;
  /** Where pretrained models' files are kept (default: the IndexedDB database 'llm-playground-pretrained', 8 MB chunks). */
  pretrainedStore?: PretrainedStore;
}

export function createEngine(options: EngineOptions = {}): EngineWorker {
  const transfer = options.transfer ?? noTransfer;
  const saves = options.library ?? new ModelLibrary();
  const active = new ActiveModel({
    name: 'untrained model',
    config: DEFAULT_CONFIG,
    params: initParameters(DEFAULT_CONFIG, DEFAULT_SEED),
    tokenizer: defaultTokenizer(),
    seed: DEFAULT_SEED,
  });
  // A replaced or reset model is a new one: its next save is a new saved model.
  active.onChange(() => saves.forget());
  const backend = new Backends(active, options.findGPU ?? requestGPU, options.backend ?? 'auto');
  const model = new ModelArea(active, backend, saves, transfer);
  const describe = () => model.describe();
  const { fetchTimeoutMs } = options;
  const training: TrainingArea = new TrainingArea(active, backend, saves, describe, () => library.save(), fetchTimeoutMs);
  const library: LibraryArea = new LibraryArea(active, saves, training, describe, transfer, fetchTimeoutMs);
  const pretrained = new PretrainedArea(
    active,
    saves,
    describe,
    options.pretrainedStore ?? new PretrainedStore(),
    fetchTimeoutMs,
  );
  library.reopenPretrained = (id) => pretrained.reopen(id);
  return {
    model,
    backend,
    training,
    tuning: new TuningArea(active, saves, describe, () => library.save()),
    library,
    pretrained,
    inspector: new InspectorArea(active, training, transfer),
    labs: new LabsArea(active),
    chat: options.chat ?? new ChatService(),
    holdLifeLock,
  };
}

function holdLifeLock(name: string): Promise<void> {
  return new Promise((held, failed) => {
    navigator.locks
      .request(name, () => {
        held();
        return new Promise<never>(() => {});
      })
      .catch(failed);
  });
}
