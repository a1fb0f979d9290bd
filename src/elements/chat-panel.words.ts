/**
 * What <llm-chat-panel> starts from and says: the default system prompt and
 * settings, the settings' fields, and the words for failures, caches and how
 * a reply ended.
 */
import type { ChatEnvironment, ChatErrorKind, ChatReply, ChatSettings } from '../../workers/api/index.ts';
import type { NumberField } from './number-fields.ts';

export const DEFAULT_SYSTEM_PROMPT = 'You are a helpful assistant. Answer briefly.';

export const DEFAULT_CHAT_SETTINGS: ChatSettings = { temperature: 0.7, topP: 0.9, maxTokens: 256 };

export const SETTING_FIELDS: NumberField<keyof ChatSettings>[] = [
  {
    key: 'temperature',
    label: 'Temperature',
    min: 0,
    max: 2,
    step: 0.05,
    caption: '0 always takes the likeliest token; higher evens out the odds.',
  },
  {
    key: 'topP',
    label: 'Top-p',
    min: 0.05,
    max: 1,
    step: 0.05,
    caption: 'Draw only from the likeliest tokens that add up to p. 1: off.',
  },
  { key: 'maxTokens', label: 'Max tokens', min: 1, max: 4096, step: 1, caption: 'The longest a reply may get.' },
];

/** A heading for each kind of failure; the error's message says what happened and what to do. */
export const ERROR_TITLES: Record<ChatErrorKind, string> = {
  NoWebGPU: 'No WebGPU',
  NoAdapter: 'No GPU adapter',
  NeedsShaderF16: 'This GPU lacks shader-f16',
  OutOfMemory: 'Not enough GPU memory',
  ModelFilesMissing: "The model's files are missing",
  NetworkUnreachable: 'No network',
  StorageFull: 'Storage is full',
  Interrupted: 'Interrupted',
  NoModelLoaded: 'No model loaded',
};

export const CACHE_PLACES: Record<ChatEnvironment['cacheBackend'], string> = {
  cache: "the browser's Cache Storage",
  indexeddb: "the browser's IndexedDB",
  'cross-origin': 'a cache shared across sites',
  opfs: "the browser's private file system",
};

/** How a reply ended, when it did not end on its own. */
export const FINISH_NOTES: Partial<Record<ChatReply['finish'] | 'failed', string>> = {
  length: 'Cut off at the max tokens.',
  abort: 'Stopped.',
  failed: 'Cut off by an error.',
};
