/**
 * What <llm-playground>'s `model`, `model-base` and `pretrainedSources` ask of
 * the pretrained models: which one to open (`want`) and the sources the worker
 * is given (null: its defaults, DEFAULT_PRETRAINED_SOURCES).
 */
import { DEFAULT_PRETRAINED_SOURCES, type PretrainedSource } from '../workers/api/index.ts';

export interface PretrainedSetup {
  /** The pretrained id `model` names; '' when it names a checkpoint URL (or nothing). */
  want: string;
  sources: PretrainedSource[] | null;
}

/**
 * `model-base` is the base URL of a Hugging Face GPT-2-family repository's files, for the id `model` names
 * (default 'gpt2'): it replaces that source's base URL, or adds a source of that id. Otherwise `model` is a
 * pretrained id when a source has it.
 */
export function pretrainedSetup(model: string, modelBase: string, given: PretrainedSource[] | null): PretrainedSetup {
  const sources = given?.length ? given : null;
  const list = sources ?? DEFAULT_PRETRAINED_SOURCES;
  const base = modelBase.trim();
  if (base) {
    const id = model.trim() || 'gpt2';
    const baseUrl = new URL(base.endsWith('/') ? base : `${base}/`, document.baseURI).href;
    const known = list.find((source) => source.id === id);
    const source: PretrainedSource = known ? { ...known, baseUrl } : { id, name: id, baseUrl, bytes: 0, parameters: 0 };
    return { want: id, sources: known ? list.map((entry) => (entry === known ? source : entry)) : [...list, source] };
  }
  return { want: list.some((source) => source.id === model) ? model : '', sources };
}
