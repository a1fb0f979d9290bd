/**
 * The pretrained models' area of the contract: GPT-2 small and medium (or any
 * Hugging Face GPT-2-family repository a host page names), downloaded once into
 * this browser and opened from there afterwards, offline too.
 * areas/pretrained.ts implements it.
 */
import type { StorageInfo } from './library.ts';
import type { ModelInfo } from './model.ts';

/** The four files a pretrained model is made of, each at `${baseUrl}${file}`. */
export const PRETRAINED_FILES = ['config.json', 'vocab.json', 'merges.txt', 'model.safetensors'] as const;
export type PretrainedFile = (typeof PRETRAINED_FILES)[number];

/** Where a pretrained model's files are, and what the page says about it before downloading. */
export interface PretrainedSource {
  /** 'gpt2', 'gpt2-medium', or a host page's own id: the `model` attribute names it. */
  id: string;
  /** What the page calls it, e.g. 'GPT-2 small'. */
  name: string;
  /** Ends with '/': the files are `${baseUrl}model.safetensors`, `${baseUrl}config.json`, …. */
  baseUrl: string;
  /** About how many bytes the four files take, shown before the download (the server's sizes win once known). */
  bytes: number;
  /** How many parameters it has, shown before the download. */
  parameters: number;
  /** Why it may not fit a tab's memory (GPT-2 medium); shown before it downloads or opens. */
  memoryWarning?: string;
}

/** Hugging Face's GPT-2 repositories: `resolve/main/` serves each file as stored. */
const HUB = 'https://huggingface.co/openai-community';

/** What the playground offers unless the host page gives its own sources. */
export const DEFAULT_PRETRAINED_SOURCES: readonly PretrainedSource[] = [
  { id: 'gpt2', name: 'GPT-2 small', baseUrl: `${HUB}/gpt2/resolve/main/`, bytes: 550_000_000, parameters: 124_439_808 },
  {
    id: 'gpt2-medium',
    name: 'GPT-2 medium',
    baseUrl: `${HUB}/gpt2-medium/resolve/main/`,
    bytes: 1_522_000_000,
    parameters: 354_823_168,
    memoryWarning:
      'GPT-2 medium needs about 1.5 GB of memory in this tab, more than many laptops spare for one page: it may crash the tab.',
  },
];

/** A pretrained model as this browser holds it. */
export interface PretrainedModel extends PretrainedSource {
  /** 'stored': all four files are kept here, so it opens offline; 'partial': a download stopped part way and resumes; 'none'. */
  state: 'none' | 'partial' | 'stored';
  /** Bytes of it kept in this browser now. */
  storedBytes: number;
  /** Why the space left for this site is too small for what is still to download; absent when it fits or the browser does not say. */
  spaceProblem?: string;
}

export interface PretrainedModels {
  models: PretrainedModel[];
  storage: StorageInfo;
}

/** How far opening a pretrained model has got. */
export interface PretrainedProgress {
  /** 'download': bytes arriving from the network (and stored); 'open': bytes read from this browser into the model. */
  phase: 'download' | 'open';
  /** The file being read now. */
  file: PretrainedFile;
  /** Bytes of all four files read so far, and in all. */
  loaded: number;
  total: number;
  /** Bytes already kept here when this download began (a resumed download starts there). */
  resumedFrom: number;
  /** Recent speed and the time left at it, once there is enough to tell. */
  bytesPerSecond?: number;
  secondsLeft?: number;
}

export interface PretrainedApi {
  /** The pretrained models offered, what of each is kept in this browser, and the storage left. */
  list(): Promise<PretrainedModels>;
  /** The host page's own sources, instead of DEFAULT_PRETRAINED_SOURCES. */
  setSources(sources: PretrainedSource[]): Promise<void>;
  /**
   * Makes pretrained model `id` the model in use: read from this browser when
   * kept, else downloaded (resuming a partial download, or restarting it cleanly
   * when the server cannot resume) and kept, as it is parsed straight into the
   * model's weights. Rejects with a message for the user when a file is missing
   * or wrong, storage is full, or the download fails; the model in use stays.
   */
  open(id: string, onProgress?: (progress: PretrainedProgress) => unknown): Promise<ModelInfo>;
  /** Stops the open under way: it rejects with ReadCancelled; what was stored stays for a resume. */
  cancel(): Promise<void>;
  /** Removes what this browser keeps of `id` (a model in use stays in memory). */
  delete(id: string): Promise<void>;
}
