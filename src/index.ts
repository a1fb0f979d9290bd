/**
 * The package's entry (`import 'llm-playground'`): importing it registers <llm-playground>, the five concept
 * labs that also work alone, and every element inside them. It exports their classes and the types their
 * properties and events carry, so a TypeScript app can type what it reads from them.
 */
export { LlmPlayground, type PlaygroundStatus } from './llm-playground.ts';
export { SoftmaxLab } from './elements/softmax-lab.ts';
export { ParameterLab } from './elements/parameter-lab.ts';
export { SuperpositionLab } from './elements/superposition-lab.ts';
export { FactMlpLab } from './elements/fact-mlp-lab.ts';
export { TrainingStepLab } from './elements/training-step-lab.ts';
export type { LlmEvent, LlmEvents } from './events.ts';
export type { SamplingSettings } from './elements/sampling-controls.ts';
export type {
  BackendChoice,
  BackendInfo,
  ModelInfo,
  PlayOutcome,
  PretrainedModels,
  PretrainedSource,
  SavedModels,
  StreamedToken,
  TrainingProgress,
  TuningOutcome,
  TuningProgress,
  TuningState,
} from '../workers/api/index.ts';
