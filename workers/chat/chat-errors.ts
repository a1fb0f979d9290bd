/**
 * Why a chat call failed, as an Error named by its ChatErrorKind (Comlink keeps
 * the name and the message across the worker boundary), and how web-llm's own
 * failures map onto those kinds.
 */
import { messageOf } from '../api/errors.ts';
import type { ChatErrorKind } from '../api/chat.ts';

export function chatError(kind: ChatErrorKind, message: string): Error {
  const error = new Error(message);
  error.name = kind;
  return error;
}

const CHAT_ERROR_KINDS: ReadonlySet<string> = new Set<ChatErrorKind>([
  'NoWebGPU',
  'NoAdapter',
  'NeedsShaderF16',
  'OutOfMemory',
  'ModelFilesMissing',
  'NetworkUnreachable',
  'StorageFull',
  'Interrupted',
  'NoModelLoaded',
]);

export const isChatError = (error: unknown): error is Error => error instanceof Error && CHAT_ERROR_KINDS.has(error.name);

export const NO_WEBGPU =
  'This browser has no WebGPU, which the chat needs to run a model on the GPU. ' +
  'Try a recent Chrome or Edge with hardware acceleration turned on.';

export const NO_ADAPTER =
  'This browser has WebGPU but found no GPU it may use (no adapter), so the chat cannot run a model. ' +
  "Turn on hardware acceleration in the browser's settings, update the graphics driver, or try another browser.";

export const needsShaderF16 = (label: string): string =>
  `${label} computes in 16-bit floats (shader-f16), which this GPU does not offer. ` +
  'Pick a q4f32 or q0f32 version of the model instead.';

export const NO_MODEL_LOADED = 'No model is loaded yet. Pick a model and load it first.';

/**
 * GPU memory ran out or the device was lost. web-llm throws DeviceLostError when
 * it happens while loading; mid-reply the lost device surfaces as whatever the
 * disposed runtime throws, so the words are matched too. A RangeError about
 * memory is the wasm heap failing to grow.
 */
export function isOutOfMemory(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === 'DeviceLostError' || error.name === 'GPUOutOfMemoryError') return true;
  if (error instanceof RangeError && /memory|allocat/i.test(error.message)) return true;
  return /device (was |is )?lost|out of memory|\bOOM\b/i.test(error.message);
}

/** The browser refused to store more (Cache API: a QuotaExceededError DOMException; web-llm's IndexedDB cache wraps it in its message). */
export const isStorageFull = (error: unknown): boolean =>
  error instanceof Error && (error.name === 'QuotaExceededError' || /QuotaExceeded|quota/i.test(error.message));

/** Loading was cut short: web-llm's reload() aborted (by unload) or a fetch aborted. */
export const isAborted = (error: unknown): boolean => error instanceof Error && error.name === 'AbortError';

/**
 * A download failed, the server's answer or the network: the Cache API's add()
 * rejects with a TypeError ("Request failed" for a 404 and the like, "Failed to
 * fetch" offline) that names no URL; web-llm's other caches say "Failed to store
 * URL", "Unable to fetch URL, received status N"; tvm logs "Cannot fetch URL".
 */
export const isDownloadFailure = (error: unknown): boolean =>
  error instanceof Error &&
  /Failed to fetch|Request failed|NetworkError|Load failed|Failed to store|Unable to fetch|Cannot fetch|Network response was not ok|failed to (fetch|hydrate)/i.test(
    error.message,
  );

/** The file web-llm fetched was not what it expected: an HTML error page parsed as JSON or compiled as wasm. */
export const isWrongFile = (error: unknown): boolean =>
  error instanceof SyntaxError || (typeof WebAssembly !== 'undefined' && error instanceof WebAssembly.CompileError);

export const interrupted = (what: string, error?: unknown): Error =>
  chatError('Interrupted', `${what} stopped part way${error === undefined ? '' : ` (${messageOf(error)})`}.`);
