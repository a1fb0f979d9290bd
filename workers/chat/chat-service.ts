/**
 * The chat with a real pretrained model, in the engine worker: web-llm's
 * MLCEngine created here directly (its WebWorkerMLCEngineHandler would take over
 * the worker's onmessage, which Comlink owns), loaded lazily so the library's
 * first bundle does not carry web-llm. Checks WebGPU before web-llm downloads
 * anything and turns web-llm's failures into ChatErrorKind-named errors.
 */
import type {
  AppConfig,
  ChatCompletionChunk,
  ChatCompletionMessageParam,
  ChatCompletionRequestStreaming,
  ChatCompletionTokenLogprob,
  InitProgressReport,
  MLCEngineConfig,
  MLCEngineInterface,
  ModelRecord,
} from '@mlc-ai/web-llm';
import type { ConvTemplateConfig } from '@mlc-ai/web-llm/lib/config';
import { messageOf, scriptProblem } from '../api/errors.ts';
import { givenFile } from '../given-files.ts';
import {
  chatError,
  interrupted,
  isAborted,
  isChatError,
  isDownloadFailure,
  isOutOfMemory,
  isStorageFull,
  isWrongFile,
  NO_ADAPTER,
  NO_MODEL_LOADED,
  NO_WEBGPU,
  needsShaderF16 as needsShaderF16Message,
} from './chat-errors.ts';
import { DEFAULT_CACHE_BACKEND, defaultAppConfig, findRecord, modelFiles, modelLabel, needsShaderF16 } from './chat-models.ts';
import { conversationTemplate, renderChatPrompt } from './chat-template.ts';
import type {
  ChatApi,
  ChatEnvironment,
  ChatLoadProgress,
  ChatMessage,
  ChatModelInfo,
  ChatModels,
  ChatReply,
  ChatSettings,
  ChatToken,
} from '../api/chat.ts';

/** The parts of web-llm's engine the chat uses (what a test's fake engine implements). */
export type ChatEngine = Pick<
  MLCEngineInterface,
  'setAppConfig' | 'setInitProgressCallback' | 'reload' | 'unload' | 'interruptGenerate'
> & {
  chat: { completions: { create(request: ChatCompletionRequestStreaming): Promise<AsyncIterable<ChatCompletionChunk>> } };
};

/** The parts of the @mlc-ai/web-llm module the chat uses. */
export interface ChatWebLLM {
  MLCEngine: new (engineConfig?: MLCEngineConfig) => ChatEngine;
  prebuiltAppConfig: AppConfig;
  TENSOR_CACHE_MANIFEST_FILENAME: string;
  hasModelInCache(modelId: string, appConfig?: AppConfig): Promise<boolean>;
  deleteModelAllInfoInCache(modelId: string, appConfig?: AppConfig): Promise<void>;
}

export interface ChatServiceOptions {
  /** The web-llm module; a dynamic import by default, so it loads only when the chat is used. */
  loadWebLLM?: () => Promise<ChatWebLLM>;
  /** navigator.gpu by default. */
  gpu?: () => GPU | undefined;
  /** For reading model file lists and sizes, and probing what failed. */
  fetch?: typeof fetch;
}

/** The likeliest tokens kept at each step (web-llm records nothing unless top_logprobs ≥ 1). */
const ALTERNATIVES = 5;
/** Reading a model's file list or size gives up after this long (the list must not hang on a slow network). */
const FILE_TIMEOUT_MS = 10_000;
const MIB = 1024 * 1024;

interface GPUCheck {
  environment: Omit<ChatEnvironment, 'cacheBackend'>;
  problem?: 'NoWebGPU' | 'NoAdapter';
}

interface ModelSizes {
  /** The weights (the sum of the shard list's nbytes): what web-llm's progress counts. */
  params?: number;
  /** The compiled model library. */
  wasm?: number;
  /** A file could not be fetched at all (no answer: offline, or the host unreachable), not just refused. */
  unreachable?: boolean;
}

export class ChatService implements ChatApi {
  private readonly loadWebLLM: () => Promise<ChatWebLLM>;
  private readonly gpu: () => GPU | undefined;
  private readonly fetch: typeof fetch;
  private webllm?: Promise<ChatWebLLM>;
  private gpuCheck?: Promise<GPUCheck>;
  private engine?: ChatEngine;
  private hostAppConfig: AppConfig | null = null;
  private readonly sizes = new Map<string, Promise<ModelSizes>>();
  private readonly templates = new Map<string, Promise<ConvTemplateConfig>>();
  private loaded: string | null = null;
  private loading: string | null = null;
  /** Counts loads and unloads: a load that finds it changed was superseded (another load, a delete). */
  private loadAttempt = 0;
  private stopRequested = false;

  constructor(options: ChatServiceOptions = {}) {
    const given = givenFile('webllm');
    this.loadWebLLM =
      options.loadWebLLM ??
      (() => (given ? (import(/* @vite-ignore */ given) as Promise<ChatWebLLM>) : import('@mlc-ai/web-llm')));
    this.gpu = options.gpu ?? (() => (globalThis.navigator as Navigator | undefined)?.gpu);
    this.fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  }

  async models(): Promise<ChatModels> {
    const webllm = await this.module();
    const appConfig = this.appConfig(webllm);
    const { environment } = await this.checkGPU();
    const sizes = await Promise.all(appConfig.model_list.map((record) => this.modelSizes(webllm, record)));
    const models = await Promise.all(
      appConfig.model_list.map(async (record, index): Promise<ChatModelInfo> => {
        const cached = await webllm.hasModelInCache(record.model_id, appConfig).catch(() => false);
        const info: ChatModelInfo = { id: record.model_id, label: modelLabel(record.model_id), cached };
        const { params, wasm } = sizes[index]!;
        if (params !== undefined) info.downloadBytes = params + (wasm ?? 0);
        if (record.vram_required_MB !== undefined) info.vramMB = record.vram_required_MB;
        if (environment.webgpu && !environment.shaderF16 && needsShaderF16(record)) {
          info.disabled = 'Needs shader-f16 (16-bit floats on the GPU), which this GPU lacks: pick its q4f32 or q0f32 version.';
        }
        return info;
      }),
    );
    // The ones that can run here first (on a GPU without shader-f16, the f32 versions); the default list
    // smallest first, so the first offer is the quickest download. A host page's list keeps its own order.
    const bySize = this.hostAppConfig ? () => 0 : (a: ChatModelInfo, b: ChatModelInfo) => sizeMB(a) - sizeMB(b);
    models.sort((a, b) => Number(a.disabled !== undefined) - Number(b.disabled !== undefined) || bySize(a, b));
    return {
      models,
      environment: { ...environment, cacheBackend: this.cacheBackend(appConfig) },
      loaded: this.loaded,
      offline: sizes.some((modelSizes) => modelSizes.unreachable),
    };
  }

  async setAppConfig(appConfig: AppConfig | null): Promise<void> {
    this.hostAppConfig = appConfig;
    this.sizes.clear();
    this.templates.clear();
  }

  async load(id: string, onProgress: (progress: ChatLoadProgress) => unknown): Promise<void> {
    const webllm = await this.module();
    const appConfig = this.appConfig(webllm);
    const record = findRecord(appConfig, id);
    const label = modelLabel(id);
    const { problem, environment } = await this.checkGPU();
    if (problem) throw chatError(problem, environment.problem!);
    if (needsShaderF16(record) && !environment.shaderF16) throw chatError('NeedsShaderF16', needsShaderF16Message(label));

    const attempt = ++this.loadAttempt;
    const superseded = () => attempt !== this.loadAttempt;
    this.loaded = null;
    this.loading = id;
    let paramBytes: number | undefined;
    void this.modelSizes(webllm, record).then((sizes) => (paramBytes = sizes.params));
    const started = performance.now();
    const engine = (this.engine ??= new webllm.MLCEngine({ appConfig }));
    engine.setAppConfig(appConfig);
    engine.setInitProgressCallback((report) => {
      if (!superseded()) onProgress(loadProgress(report, paramBytes, (performance.now() - started) / 1000));
    });
    try {
      // web-llm's reload() returns quietly when unload() aborts it, hence the check after.
      await engine.reload(id);
    } catch (error) {
      if (superseded()) throw interrupted(`Loading ${label}`);
      throw await this.loadFailure(webllm, record, label, error);
    } finally {
      if (!superseded()) this.loading = null;
    }
    if (superseded()) throw interrupted(`Loading ${label}`);
    this.loaded = id;
  }

  async prompt(messages: ChatMessage[]): Promise<string> {
    const webllm = await this.module();
    if (this.loaded === null) throw chatError('NoModelLoaded', NO_MODEL_LOADED);
    const record = findRecord(this.appConfig(webllm), this.loaded);
    let template = this.templates.get(record.model_id);
    if (!template) {
      template = this.readTemplate(webllm, record);
      this.templates.set(record.model_id, template);
      template.catch(() => this.templates.delete(record.model_id));
    }
    return renderChatPrompt(await template, messages);
  }

  async reply(messages: ChatMessage[], settings: ChatSettings, onToken: (token: ChatToken) => unknown): Promise<ChatReply> {
    const engine = this.engine;
    if (this.loaded === null || !engine) throw chatError('NoModelLoaded', NO_MODEL_LOADED);
    this.stopRequested = false;
    const tokens: ChatToken[] = [];
    let text = '';
    let finishReason: string | null = null;
    try {
      const stream = await engine.chat.completions.create({
        messages: messages.map(({ role, content }) => ({ role, content }) as ChatCompletionMessageParam),
        stream: true,
        logprobs: true,
        top_logprobs: ALTERNATIVES,
        temperature: settings.temperature,
        top_p: settings.topP,
        max_tokens: settings.maxTokens,
        stream_options: { include_usage: true },
      });
      for await (const chunk of stream) {
        // The usage chunk at the end has no choices.
        const choice = chunk.choices[0];
        if (choice) {
          text += choice.delta.content ?? '';
          for (const entry of choice.logprobs?.content ?? []) {
            const token = chatToken(entry);
            tokens.push(token);
            onToken(token);
          }
          finishReason = choice.finish_reason ?? finishReason;
        }
        // web-llm forgets an interrupt that comes before its generation starts; leaving
        // the stream ends it too (its finally stops the pipeline and frees the lock).
        if (this.stopRequested && finishReason === null) break;
      }
    } catch (error) {
      throw this.chatFailure(error);
    }
    const finish = finishReason === null ? (this.stopRequested ? 'abort' : 'stop') : finishOf(finishReason);
    return { text, tokens, finish };
  }

  async stop(): Promise<void> {
    this.stopRequested = true;
    await this.engine?.interruptGenerate();
  }

  async delete(id: string): Promise<void> {
    const webllm = await this.module();
    const appConfig = this.appConfig(webllm);
    findRecord(appConfig, id);
    if (this.engine && (this.loaded === id || this.loading === id)) {
      this.loadAttempt++;
      this.loaded = this.loading = null;
      await this.stop();
      await this.engine.unload();
    }
    await webllm.deleteModelAllInfoInCache(id, appConfig);
  }

  private module(): Promise<ChatWebLLM> {
    if (!this.webllm) {
      this.webllm = this.loadWebLLM().catch(async (error: unknown) => {
        throw new Error(`The chat's code (web-llm) could not be loaded: ${await importProblem(error)}.`);
      });
      this.webllm.catch(() => (this.webllm = undefined));
    }
    return this.webllm;
  }

  private appConfig(webllm: ChatWebLLM): AppConfig {
    return this.hostAppConfig ?? defaultAppConfig(webllm.prebuiltAppConfig);
  }

  private cacheBackend(appConfig: AppConfig): ChatEnvironment['cacheBackend'] {
    return appConfig.cacheBackend ?? DEFAULT_CACHE_BACKEND;
  }

  /** WebGPU and the adapter, asked once (as web-llm asks: a high-performance adapter). */
  private checkGPU(): Promise<GPUCheck> {
    return (this.gpuCheck ??= (async (): Promise<GPUCheck> => {
      const gpu = this.gpu();
      if (!gpu) return { problem: 'NoWebGPU', environment: { webgpu: false, shaderF16: false, problem: NO_WEBGPU } };
      const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' }).catch(() => null);
      if (!adapter) return { problem: 'NoAdapter', environment: { webgpu: false, shaderF16: false, problem: NO_ADAPTER } };
      return { environment: { webgpu: true, adapter: adapterWords(adapter), shaderF16: adapter.features.has('shader-f16') } };
    })());
  }

  /**
   * A file of the model from web-llm's cache when it is there (so a cached
   * model's size and template work offline), else from the network.
   */
  private async readModelFile(appConfig: AppConfig, scope: string, url: string, init?: RequestInit): Promise<Response> {
    if (this.cacheBackend(appConfig) === 'cache' && typeof caches !== 'undefined') {
      const hit = await (await caches.open(scope)).match(url);
      if (hit) return hit;
    }
    const response = await this.fetch(url, { ...init, signal: AbortSignal.timeout(FILE_TIMEOUT_MS) });
    if (!response.ok) throw new Error(`${url} answered ${response.status}`);
    return response;
  }

  /** Sizes are read once per model; an unknown size (offline, say) is asked again next time. */
  private modelSizes(webllm: ChatWebLLM, record: ModelRecord): Promise<ModelSizes> {
    let sizes = this.sizes.get(record.model_id);
    if (!sizes) {
      sizes = this.readSizes(webllm, record);
      this.sizes.set(record.model_id, sizes);
      void sizes.then(({ params }) => params === undefined && this.sizes.delete(record.model_id));
    }
    return sizes;
  }

  private async readSizes(webllm: ChatWebLLM, record: ModelRecord): Promise<ModelSizes> {
    const appConfig = this.appConfig(webllm);
    const { tensorCache } = modelFiles(record, webllm.TENSOR_CACHE_MANIFEST_FILENAME);
    let unreachable = false;
    const orUnknown = (error: unknown): undefined => {
      unreachable ||= noAnswer(error);
      return undefined;
    };
    const [params, wasm] = await Promise.all([
      this.readModelFile(appConfig, 'webllm/model', tensorCache)
        .then((response) => response.json() as Promise<{ records: { nbytes: number }[] }>)
        .then(({ records }) => records.reduce((sum, shard) => sum + shard.nbytes, 0))
        .catch(orUnknown),
      this.readModelFile(appConfig, 'webllm/wasm', record.model_lib, { method: 'HEAD' })
        .then((response) => Number(response.headers.get('content-length')) || undefined)
        .catch(orUnknown),
    ]);
    return { params, wasm, unreachable };
  }

  private async readTemplate(webllm: ChatWebLLM, record: ModelRecord): Promise<ConvTemplateConfig> {
    const { chatConfig } = modelFiles(record, webllm.TENSOR_CACHE_MANIFEST_FILENAME);
    const config = await (await this.readModelFile(this.appConfig(webllm), 'webllm/config', chatConfig)).json();
    // As web-llm builds the model's config: the file, then the record's overrides.
    return conversationTemplate({ ...config, ...record.overrides });
  }

  private async loadFailure(webllm: ChatWebLLM, record: ModelRecord, label: string, error: unknown): Promise<Error> {
    if (isChatError(error)) return error;
    if (isOutOfMemory(error)) {
      const needs = record.vram_required_MB === undefined ? '' : ` (it needs about ${Math.round(record.vram_required_MB)} MB)`;
      return chatError(
        'OutOfMemory',
        `The GPU ran out of memory or was reset while loading ${label}${needs}. Close other tabs that use the GPU, or pick a smaller model.`,
      );
    }
    if (isStorageFull(error)) {
      return chatError(
        'StorageFull',
        `The browser has no room left to store ${label}. Delete a downloaded model or free some disk space, then try again.`,
      );
    }
    if (isAborted(error)) return interrupted(`Loading ${label}`);
    const name = error instanceof Error ? error.name : '';
    if (name === 'ShaderF16SupportError') return chatError('NeedsShaderF16', needsShaderF16Message(label));
    // web-llm's own GPU check: no adapter after all (WebGPUNotAvailableError, or detectGPUDevice's "compatible GPU").
    if (name === 'WebGPUNotAvailableError' || /compatible GPU/.test(messageOf(error))) return chatError('NoAdapter', NO_ADAPTER);
    if (isDownloadFailure(error) || isWrongFile(error)) return this.downloadFailure(webllm, record, label, error);
    return interrupted(`Loading ${label}`, error);
  }

  /**
   * Which file failed and how. The Cache API's error names no URL and hides the
   * status, so the files web-llm fetches first (its config, its model library,
   * the weights' shard list) are asked again, in web-llm's order.
   */
  private async downloadFailure(webllm: ChatWebLLM, record: ModelRecord, label: string, error: unknown): Promise<Error> {
    const files = modelFiles(record, webllm.TENSOR_CACHE_MANIFEST_FILENAME);
    // A relative model library is on web-llm's own page's origin, not beside the weights.
    const modelLib = new URL(record.model_lib, globalThis.location?.href).href;
    for (const url of [files.chatConfig, modelLib, files.tensorCache]) {
      let response: Response;
      try {
        response = await this.fetch(url, { method: 'HEAD', cache: 'no-store', signal: AbortSignal.timeout(FILE_TIMEOUT_MS) });
      } catch {
        return unreachable(url, label);
      }
      if (!response.ok) {
        return chatError(
          'ModelFilesMissing',
          `${label}'s files are not where the model list says: ${url} answered ${response.status}. ` +
            'Check the URLs in the model list, or pick another model.',
        );
      }
    }
    // Those are there: a file after them failed, or was not the model's (an error page instead).
    if (!isWrongFile(error) && /Failed to fetch|NetworkError|Load failed/i.test(messageOf(error)))
      return unreachable(files.base, label);
    return chatError(
      'ModelFilesMissing',
      `A file of ${label} under ${files.base} could not be downloaded or is not the model's (${messageOf(error)}). ` +
        'Check the URLs in the model list, or pick another model.',
    );
  }

  private chatFailure(error: unknown): Error {
    if (isChatError(error)) return error;
    if (isOutOfMemory(error)) {
      this.loaded = null;
      return chatError(
        'OutOfMemory',
        'The GPU ran out of memory or was reset while writing the reply, and the model was unloaded. Load it again, or pick a smaller model.',
      );
    }
    const name = error instanceof Error ? error.name : '';
    if (name === 'ModelNotLoadedError') {
      this.loaded = null;
      return chatError('Interrupted', 'The model was unloaded (the GPU may have been reset). Load it again to go on chatting.');
    }
    if (name === 'ContextWindowSizeExceededError') {
      return chatError(
        'Interrupted',
        'The conversation is longer than the model can read at once (its context window). Clear the conversation or shorten the system prompt.',
      );
    }
    return interrupted('The reply', error);
  }
}

function unreachable(url: string, label: string): Error {
  return chatError(
    'NetworkUnreachable',
    `Could not reach ${new URL(url).host} to download ${label}. Check the internet connection and try again; a model already downloaded works offline.`,
  );
}

/** fetch() got no answer: it rejects with a TypeError offline, and AbortSignal.timeout's TimeoutError when the network hangs. */
const noAnswer = (error: unknown): boolean =>
  error instanceof TypeError || (error instanceof Error && error.name === 'TimeoutError');

/** The default list's order: the GPU memory its record says it needs, which grows with its download and is known offline too. */
const sizeMB = (model: ChatModelInfo): number => model.vramMB ?? Number.MAX_VALUE;

function adapterWords(adapter: GPUAdapter): string {
  const info = adapter.info as GPUAdapterInfo | undefined;
  return info?.description || [info?.vendor, info?.architecture].filter(Boolean).join(' ') || 'a WebGPU adapter';
}

/**
 * web-llm's init progress → ours. Its progress is bytes so far over the weights'
 * bytes while it fetches or loads them, and its text says "NNMB fetched" (or
 * loaded) rounded up to whole MB; the shard list's sum gives the total exactly.
 */
export function loadProgress(report: InitProgressReport, paramBytes: number | undefined, seconds: number): ChatLoadProgress {
  const progress: ChatLoadProgress = { progress: report.progress, text: report.text, seconds };
  const megabytes = /(\d+)MB (?:fetched|loaded)/.exec(report.text);
  if (megabytes) {
    const textBytes = Number(megabytes[1]) * MIB;
    const totalBytes = paramBytes ?? (report.progress > 0 ? Math.round(textBytes / report.progress) : undefined);
    progress.loadedBytes = totalBytes === undefined ? textBytes : Math.round(report.progress * totalBytes);
    if (totalBytes !== undefined) progress.totalBytes = totalBytes;
  }
  return progress;
}

function chatToken(entry: ChatCompletionTokenLogprob): ChatToken {
  return {
    token: entry.token,
    logprob: entry.logprob,
    prob: Math.exp(entry.logprob),
    alternatives: entry.top_logprobs
      .map((alternative) => ({ token: alternative.token, logprob: alternative.logprob, prob: Math.exp(alternative.logprob) }))
      .sort((a, b) => b.logprob - a.logprob),
  };
}

function finishOf(reason: string): ChatReply['finish'] {
  if (reason === 'length') return 'length';
  if (reason === 'abort') return 'abort';
  return 'stop';
}

/**
 * Why an import() failed. Chromium and Firefox name the file that did not load, but not why: a fetch of it tells
 * (missing, say). Safari names no file.
 */
async function importProblem(error: unknown): Promise<string> {
  const url = /\bhttps?:\/\/\S+/.exec(messageOf(error))?.[0];
  return url ? scriptProblem(url) : messageOf(error);
}
