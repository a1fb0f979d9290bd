import { excerpt } from '../api/errors.ts';
import { validateConfig, type GPTConfig } from './config.ts';

/** A model size the training panel offers; the vocabulary comes from the corpus. */
export interface ModelPreset {
  id: string;
  label: string;
  nLayer: number;
  nHead: number;
  nEmbd: number;
  blockSize: number;
  tied: boolean;
}

/**
 * Sizes from seconds-to-train to a few minutes. Parameter counts for a
 * character vocabulary of 65: tiny ≈ 30k, small ≈ 208k, medium ≈ 1.02M,
 * large ≈ 4.8M, nano-cpu ≈ 0.81M (the benchmark's reference config). Words is the
 * shipped model's shape: with its 1,280 word pieces, ≈ 0.97M.
 */
export const MODEL_PRESETS: readonly ModelPreset[] = [
  { id: 'tiny', label: 'Tiny: 2 layers, 32 wide', nLayer: 2, nHead: 4, nEmbd: 32, blockSize: 64, tied: true },
  { id: 'small', label: 'Small: 4 layers, 64 wide', nLayer: 4, nHead: 4, nEmbd: 64, blockSize: 64, tied: true },
  { id: 'medium', label: 'Medium: 5 layers, 128 wide', nLayer: 5, nHead: 4, nEmbd: 128, blockSize: 128, tied: true },
  { id: 'large', label: 'Large: 6 layers, 256 wide', nLayer: 6, nHead: 8, nEmbd: 256, blockSize: 128, tied: true },
  {
    id: 'words',
    label: 'Words: 4 layers, 128 wide (the model the playground opens with)',
    nLayer: 4,
    nHead: 4,
    nEmbd: 128,
    blockSize: 64,
    tied: true,
  },
  {
    id: 'nano-cpu',
    label: 'nano-cpu: 4 layers, 128 wide (benchmark)',
    nLayer: 4,
    nHead: 4,
    nEmbd: 128,
    blockSize: 64,
    tied: true,
  },
];

/** The GPTConfig of a preset (or preset id) for a corpus's vocabulary size. */
export function presetConfig(preset: ModelPreset | string, vocabSize: number): GPTConfig {
  const found = typeof preset === 'string' ? MODEL_PRESETS.find((candidate) => candidate.id === preset) : preset;
  if (!found) {
    throw new Error(`unknown model preset ${excerpt(preset)}; choose one of ${MODEL_PRESETS.map((p) => p.id).join(', ')}`);
  }
  const { nLayer, nHead, nEmbd, blockSize, tied } = found;
  return validateConfig({ vocabSize, blockSize, nLayer, nHead, nEmbd, tied });
}
