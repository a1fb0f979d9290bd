/**
 * The models the chat offers: which of web-llm's prebuilt ones fit a laptop,
 * their names for people, what they need from the GPU, and where their files are
 * (the same URLs web-llm builds, so sizes and error messages name the real files).
 */
import type { AppConfig, ModelRecord } from '@mlc-ai/web-llm';

/** Small enough for a laptop GPU and a short download: SmolLM2 135M/360M and Qwen2.5 0.5B, every quantization. */
const SMALL_CHAT_MODEL = /^(SmolLM2-(135M|360M)|Qwen2\.5-0\.5B)-Instruct-/;

/**
 * The Cache API: web-llm's default and its best-tested backend (IndexedDB, OPFS
 * and cross-origin storage came later and see less use), and a cached model
 * works offline through it.
 */
export const DEFAULT_CACHE_BACKEND = 'cache';

export function defaultAppConfig(prebuilt: AppConfig): AppConfig {
  return {
    model_list: prebuilt.model_list.filter((record) => SMALL_CHAT_MODEL.test(record.model_id)),
    cacheBackend: DEFAULT_CACHE_BACKEND,
  };
}

const QUANTIZED_ID = /^(.*?)-(q\d+f\d+(?:_\d+)?)(?:-MLC)?$/;

/** "SmolLM2-135M-Instruct-q0f32-MLC" → "SmolLM2 135M Instruct (q0f32)". */
export function modelLabel(modelId: string): string {
  const match = QUANTIZED_ID.exec(modelId);
  if (!match) return modelId.replace(/-MLC$/, '').replace(/-/g, ' ');
  return `${match[1].replace(/-/g, ' ')} (${match[2]})`;
}

/**
 * f16 weights need shader-f16. The record's required_features says so for most
 * models, but web-llm's Qwen2.5 0.5B q4f16/q0f16 records leave it out though
 * their kernels compute in f16, so the quantization in the id counts too.
 */
export const needsShaderF16 = (record: ModelRecord): boolean =>
  (record.required_features ?? []).includes('shader-f16') || /-q\d+f16(_\d+)?(-|$)/.test(record.model_id);

export function findRecord(appConfig: AppConfig, modelId: string): ModelRecord {
  const record = appConfig.model_list.find((candidate) => candidate.model_id === modelId);
  if (!record) throw new Error(`There is no model "${modelId}" in the list on offer.`);
  return record;
}

/**
 * The model's files: web-llm's cleanModelUrl (a Hugging Face repo gets
 * "resolve/main/"), then the files it fetches; tensorCacheFile is web-llm's
 * TENSOR_CACHE_MANIFEST_FILENAME (the weights' shard list).
 */
export function modelFiles(
  record: ModelRecord,
  tensorCacheFile: string,
): { base: string; chatConfig: string; tensorCache: string } {
  let base = record.model.endsWith('/') ? record.model : `${record.model}/`;
  if (!/.+\/resolve\/.+\//.test(base)) base += 'resolve/main/';
  base = new URL(base, globalThis.location?.href).href;
  return {
    base,
    chatConfig: new URL('mlc-chat-config.json', base).href,
    tensorCache: new URL(tensorCacheFile, base).href,
  };
}
