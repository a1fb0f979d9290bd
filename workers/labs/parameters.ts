/**
 * The parameter-counting lab: countParameters' figures for any config, each
 * category with the multiplication behind it, its share, and what the whole
 * model needs in memory and in attention scores.
 */
import { type GPTConfig, headSize, validateConfig } from '../engine/config.ts';
import { countParameters, KNOWN_CONFIGS, type ParameterTensors } from '../engine/params.ts';
import type { ActiveModelCount, NamedConfig, ParameterBreakdown, ParameterRow } from '../api/labs.ts';

const BYTES_PER_PARAMETER = { float32: 4, float16: 2, int4: 0.5 };

const grouped = (n: number): string => n.toLocaleString('en-US');
const counted = (n: number, noun: string): string => `${grouped(n)} ${noun}${n === 1 ? '' : 's'}`;

/** GPT-2 small … XL and GPT-3 175B, with ids such as 'gpt2-small' and 'gpt3-175b'. */
export function knownConfigs(): NamedConfig[] {
  return Object.entries(KNOWN_CONFIGS).map(([label, config]) => ({
    id: label.toLowerCase().replace('-', '').replaceAll(' ', '-'),
    label,
    config: { ...config },
  }));
}

/** The eight categories of countParameters, each with its formula in the config's own numbers. */
export function parameterBreakdown(config: GPTConfig): ParameterBreakdown {
  const { vocabSize: V, blockSize: T, nLayer: L, nHead: NH, nEmbd: C, tied } = validateConfig(config);
  const counts = countParameters(config);
  const layers = counted(L, 'layer');
  const vocabulary = `${counted(V, 'token')} × ${grouped(C)}`;
  const attention = `${layers} × ${counted(NH, 'head')} × ${grouped(headSize(config))} × ${grouped(C)}`;
  const formulas: Record<ParameterRow['category'], string> = {
    embedding: vocabulary,
    query: attention,
    key: attention,
    value: attention,
    output: attention,
    mlpUp: `${layers} × ${grouped(C)} × ${grouped(4 * C)}`,
    mlpDown: `${layers} × ${grouped(4 * C)} × ${grouped(C)}`,
    unembedding: tied ? 'none of its own: it reuses the embedding' : vocabulary,
  };
  const labels: Record<ParameterRow['category'], string> = {
    embedding: 'Embedding',
    query: 'Query',
    key: 'Key',
    value: 'Value',
    output: 'Output',
    mlpUp: 'MLP up',
    mlpDown: 'MLP down',
    unembedding: 'Unembedding',
  };
  const categories = Object.keys(formulas) as ParameterRow['category'][];
  const categoriesTotal = categories.reduce((total, category) => total + counts[category], 0);
  const rows = categories.map((category) => ({
    category,
    label: labels[category],
    count: counts[category],
    formula: formulas[category],
    share: counts[category] / categoriesTotal,
  }));
  return {
    config: { ...config },
    rows,
    counts,
    categoriesTotal,
    memory: {
      float32: counts.total * BYTES_PER_PARAMETER.float32,
      float16: counts.total * BYTES_PER_PARAMETER.float16,
      int4: counts.total * BYTES_PER_PARAMETER.int4,
    },
    attentionPerHead: T * T,
    attentionPerModel: L * NH * T * T,
  };
}

/** The model in use, counted from its config, beside the length of its real parameter buffer. */
export function activeModelCount(params: ParameterTensors): ActiveModelCount {
  return { breakdown: parameterBreakdown(params.config), bufferLength: params.data.length };
}
