/**
 * The chat's area of the contract: a real pretrained model (through
 * @mlc-ai/web-llm, in the engine worker), what the chat panel asks and what
 * comes back. chat/chat-service.ts implements it.
 */
import type { AppConfig } from '@mlc-ai/web-llm';

/** A model the panel offers. */
export interface ChatModelInfo {
  /** web-llm's model_id, e.g. "SmolLM2-135M-Instruct-q0f32-MLC". */
  id: string;
  /** For people: "SmolLM2 135M Instruct (q0f32)". */
  label: string;
  /** Bytes to download (weights and the compiled model library), when the model's file list could be read. */
  downloadBytes?: number;
  /** GPU memory it needs, in MB, from its record. */
  vramMB?: number;
  /** Already in the browser's cache: no download, and usable offline. */
  cached: boolean;
  /** Why it cannot run here (e.g. it needs shader-f16, which this GPU lacks); absent when it can. */
  disabled?: string;
}

/** What this browser offers the chat. */
export interface ChatEnvironment {
  /** A WebGPU adapter was found. */
  webgpu: boolean;
  /** The adapter, in words, when there is one. */
  adapter?: string;
  /** The adapter has shader-f16 (f16 models need it). */
  shaderF16: boolean;
  /** Why the chat cannot run here at all (no navigator.gpu, no adapter), with what to do. */
  problem?: string;
  /** Where web-llm keeps downloaded models (AppConfig.cacheBackend). */
  cacheBackend: 'cache' | 'indexeddb' | 'cross-origin' | 'opfs';
}

export interface ChatModels {
  models: ChatModelInfo[];
  environment: ChatEnvironment;
  /** The model loaded and ready to chat, if any. */
  loaded: string | null;
  /**
   * The models' files could not be reached while listing them (no network, most likely): their sizes are
   * unknown, and any model not yet cached needs the internet once to download.
   */
  offline: boolean;
}

/** Download and load progress, from web-llm's init progress reports. */
export interface ChatLoadProgress {
  /** 0 … 1. */
  progress: number;
  /** web-llm's own line ("Fetching param cache[3/20]: 120MB fetched…"). */
  text: string;
  /** Bytes fetched so far and in all, when known. */
  loadedBytes?: number;
  totalBytes?: number;
  /** Seconds since loading started. */
  seconds: number;
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface ChatSettings {
  temperature: number;
  topP: number;
  maxTokens: number;
}

export interface ChatAlternative {
  token: string;
  /** Natural log of its probability, and the probability. */
  logprob: number;
  prob: number;
}

/** One generated token, with the tokens the model weighed against it. */
export interface ChatToken {
  token: string;
  logprob: number;
  prob: number;
  /** The likeliest tokens at that point (the chosen one among them when it was likely), most likely first. */
  alternatives: ChatAlternative[];
}

export interface ChatReply {
  text: string;
  tokens: ChatToken[];
  /** 'stop': the model ended its turn; 'length': maxTokens reached; 'abort': stopped by stop(). */
  finish: 'stop' | 'length' | 'abort';
}

/**
 * Why a chat call failed, as the name of the Error it rejects with (its message
 * says what happened and what to do). Comlink keeps an Error's name and message.
 */
export type ChatErrorKind =
  | 'NoWebGPU' // no navigator.gpu
  | 'NoAdapter' // navigator.gpu, but no adapter
  | 'NeedsShaderF16' // an f16 model on an adapter without shader-f16
  | 'OutOfMemory' // not enough GPU memory, or the device was lost
  | 'ModelFilesMissing' // the model's files are not at its URL (404 and the like)
  | 'NetworkUnreachable' // no network, and the model is not cached
  | 'StorageFull' // the cache could not store the model (quota)
  | 'Interrupted' // generation or loading stopped part way (e.g. the device was lost)
  | 'NoModelLoaded'; // reply() before a model was loaded

export interface ChatApi {
  /**
   * The models on offer (the host page's AppConfig in its order, or web-llm's small prebuilt ones smallest
   * first), those this browser can run before the others, whether cached, and what this browser offers.
   */
  models(): Promise<ChatModels>;
  /** The host page's own model list; null goes back to the default list. */
  setAppConfig(appConfig: AppConfig | null): Promise<void>;
  /** Downloads (unless cached) and loads a model, reporting progress; rejects with a ChatErrorKind-named Error. */
  load(id: string, onProgress: (progress: ChatLoadProgress) => unknown): Promise<void>;
  /** The exact text the loaded model continues for these messages (its chat template around each turn, ending where the assistant's reply starts). */
  prompt(messages: ChatMessage[]): Promise<string>;
  /** Streams a reply to the messages (the system prompt first): every token with its alternatives. */
  reply(messages: ChatMessage[], settings: ChatSettings, onToken: (token: ChatToken) => unknown): Promise<ChatReply>;
  /** Stops the reply being streamed; reply() then resolves with finish 'abort'. */
  stop(): Promise<void>;
  /** Removes a model from the browser's cache (unloading it first if loaded). */
  delete(id: string): Promise<void>;
}
