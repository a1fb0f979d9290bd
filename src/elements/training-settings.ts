/** The training panel's settings form (its fields and their captions), and a progress line rebuilt from a saved run. */
import type { TrainingProgress, TrainingState } from '../../workers/api/index.ts';
import type { NumberField } from './number-fields.ts';

export interface TrainingFormSettings {
  learningRate: number;
  batchSize: number;
  totalSteps: number;
  warmupSteps: number;
  weightDecay: number;
  evalInterval: number;
  sampleInterval: number;
  seed: number;
}

// A table, one field a line.
// prettier-ignore
export const SETTING_FIELDS: NumberField<keyof TrainingFormSettings>[] = [
  { key: 'learningRate', label: 'Learning rate', min: 1e-5, max: 1, step: 'any', caption: 'How big each nudge to the weights is.' },
  { key: 'batchSize', label: 'Batch size', min: 1, max: 64, step: 1, caption: 'Snippets of text per step, each one context long.' },
  { key: 'totalSteps', label: 'Steps', min: 1, max: 100000, step: 1, caption: 'How long to train.' },
  { key: 'warmupSteps', label: 'Warm-up', min: 0, max: 10000, step: 1, caption: 'Steps over which the learning rate rises; then it eases off.' },
  { key: 'weightDecay', label: 'Weight decay', min: 0, max: 1, step: 'any', caption: 'Pulls the weights gently towards 0 each step.' },
  { key: 'evalInterval', label: 'Validate every', min: 1, max: 10000, step: 1, caption: 'Steps between checks on the held-out text.' },
  { key: 'sampleInterval', label: 'Sample every', min: 1, max: 10000, step: 1, caption: "Steps between samples of the model's writing." },
  { key: 'seed', label: 'Seed', min: 0, max: 4294967295, step: 1, caption: 'Same seed: same first weights, same batches.' },
];

/** The panel's fields from a full set of training settings. */
export function formSettings(all: TrainingFormSettings): TrainingFormSettings {
  const { learningRate, batchSize, totalSteps, warmupSteps, weightDecay, evalInterval, sampleInterval, seed } = all;
  return { learningRate, batchSize, totalSteps, warmupSteps, weightDecay, evalInterval, sampleInterval, seed };
}

/** A progress line for training that stopped earlier (no speed known yet). */
export function progressOf(state: TrainingState): TrainingProgress {
  const last = state.history.at(-1);
  const validated = [...state.history].reverse().find((point) => point.validationLoss !== undefined);
  const progress: TrainingProgress = {
    step: state.step,
    totalSteps: state.settings.totalSteps,
    loss: last?.loss ?? NaN,
    learningRate: 0,
    tokensSeen: state.step * state.settings.batchSize * state.settings.seqLen,
    tokensPerSecond: 0,
    secondsLeft: 0,
    points: [],
    samples: [],
  };
  if (validated?.validationLoss !== undefined) progress.validationLoss = validated.validationLoss;
  if (state.memorising) progress.memorising = state.memorising;
  return progress;
}
