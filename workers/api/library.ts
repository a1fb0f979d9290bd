/**
 * The saved models' area of the contract: models kept in this browser
 * (IndexedDB), opened, renamed, exported and imported. areas/library.ts
 * implements it.
 */
import type { GPTConfig } from '../engine/config.ts';
import type { ModelInfo } from './model.ts';
import type { ReadProgress } from './reading.ts';

/** A line of the saved-models list: everything but the arrays. */
export interface CheckpointSummary {
  id: string;
  name: string;
  config: GPTConfig;
  /** Training steps taken (0 for a model not trained here). */
  step: number;
  /**
   * Size of the record's arrays in bytes (weights, optimizer state, corpus text; for a tuned model, its
   * reference's weights and pasted dialogues).
   */
  bytes: number;
  corpus?: string;
  source?: string;
  /** The name of the model this one was tuned from, when it was tuned here (the list says "tuned from …"). */
  tunedFrom?: string;
  created: number;
  updated: number;
}

/** What the page shows about the browser's storage. */
export interface StorageInfo {
  /** False when IndexedDB cannot be used here (a private window, blocked storage): models then live in memory only. */
  available: boolean;
  /** Bytes this origin uses and may use (navigator.storage.estimate()), when the browser says. */
  usage?: number;
  quota?: number;
  /** Whether the browser promised not to evict this origin's data (navigator.storage.persisted()). */
  persisted?: boolean;
  /** Why saving is off, or why the last save failed, in words for the user. */
  problem?: string;
}

/** The saved-models list as the page shows it. */
export interface SavedModels {
  models: CheckpointSummary[];
  /** The saved model this playground holds now; null: none (its model is not saved). */
  activeId: string | null;
  /** Training saves itself every this many steps (and on pause); 0: only when asked. */
  autosaveEvery: number;
  storage: StorageInfo;
}

/**
 * A .safetensors file to import: picked or dropped (the File itself: the page
 * hands it over unread, the worker reads it), or at a URL.
 */
export type ImportSource = { kind: 'file'; file: File } | { kind: 'url'; url: string };

export interface LibraryApi {
  /** The saved models, the one in use, the autosave interval and the storage left. */
  list(): Promise<SavedModels>;
  /**
   * Saves the model in use (weights, and when it trains here its optimizer,
   * schedule, history and corpus; when it was tuned here its reference's
   * identity and weights, the choices, settings and history), replacing
   * its previous save; it reopens on reload. Rejects with a message for the
   * user when storage fails; the model stays as it is in memory.
   */
  save(name?: string): Promise<CheckpointSummary>;
  /** Replaces the model in use with a saved one; a model that was training resumes exactly where it was saved. */
  open(id: string): Promise<ModelInfo>;
  /**
   * Opens the saved model the page last used (on start, and after the worker
   * was restarted). Null, the model unchanged, when there is none; also when it
   * cannot be opened (unreadable, or weights whose forward pass is not finite):
   * the model's info().notice then names it and says why, and it stays listed
   * but no longer reopens on start.
   */
  restoreActive(): Promise<ModelInfo | null>;
  rename(id: string, name: string): Promise<CheckpointSummary>;
  duplicate(id: string): Promise<CheckpointSummary>;
  /** Deletes a saved model; if it is the one in use, that stays in memory, unsaved. */
  delete(id: string): Promise<void>;
  /**
   * The model in use, or the saved model `id` without opening it (also one that
   * cannot be opened), as .safetensors: Hugging Face GPT-2 names, our config and
   * tokenizer in the metadata.
   */
  export(id?: string): Promise<{ fileName: string; bytes: Uint8Array }>;
  /**
   * Reads a .safetensors file (a File, or from a URL), checks all of it, and
   * only then makes it the model in use and saves it. A file that fails any
   * check is refused with a message that says what is wrong; nothing changes.
   * onProgress hears how much is read; a download that gets no answer, or no
   * more bytes, for 30 s is refused with a message that says so.
   */
  import(source: ImportSource, onProgress?: (progress: ReadProgress) => unknown): Promise<ModelInfo>;
  /** Stops the import under way: it rejects with ReadCancelled and nothing changes. */
  cancelImport(): Promise<void>;
  /** Training saves itself every this many steps and when it pauses; 0: only when asked. */
  setAutosave(everySteps: number): Promise<void>;
  /**
   * Calls `onChange` whenever another engine on the same database (another playground on the page, another tab)
   * saved, renamed, duplicated or deleted a model, so the list shown can be read again. The last one given counts.
   */
  watch(onChange: () => void): Promise<void>;
  /** Saves in another IndexedDB database (tests, and playgrounds that keep their models apart). */
  useDatabase(dbName: string): Promise<void>;
}
