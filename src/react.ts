/**
 * React components for the package's elements (`import { LlmPlayground } from 'llm-playground/react'`), made with
 * @lit/react: properties are set as properties (objects and arrays too), and each `llm-` event the element sends
 * is an `on…` prop whose argument is typed (`onReady`, `onToken`, `onTrainingProgress`, …). Importing this module
 * imports the package's entry, which registers the elements.
 */
import { createComponent, type EventName } from '@lit/react';
import * as React from 'react';
import {
  FactMlpLab as FactMlpLabElement,
  LlmPlayground as LlmPlaygroundElement,
  type LlmEvent,
  type LlmEvents,
  ParameterLab as ParameterLabElement,
  SoftmaxLab as SoftmaxLabElement,
  SuperpositionLab as SuperpositionLabElement,
  TrainingStepLab as TrainingStepLabElement,
} from './index.ts';

type Camel<S extends string> = S extends `${infer Head}-${infer Tail}` ? `${Head}${Capitalize<Camel<Tail>>}` : S;
/** 'llm-training-progress' → 'onTrainingProgress'. */
type Handler<K extends keyof LlmEvents> = K extends `llm-${infer Rest}` ? `on${Capitalize<Camel<Rest>>}` : never;
type Handlers<K extends keyof LlmEvents> = { [N in K as Handler<N>]: EventName<LlmEvent<N>> };

function handlers<K extends keyof LlmEvents>(names: readonly K[]): Handlers<K> {
  const camel = (name: string) => name.replace(/-(\w)/g, (_, letter: string) => letter.toUpperCase());
  return Object.fromEntries(names.map((name) => [camel(`on-${name.slice('llm-'.length)}`), name])) as unknown as Handlers<K>;
}

/** Every event <llm-playground> sends (its inner panels' bubble out of it): an event added to src/events.ts must be named here. */
const PLAYGROUND_EVENTS: Record<keyof LlmEvents, true> = {
  'llm-ready': true,
  'llm-token': true,
  'llm-error': true,
  'llm-backend-change': true,
  'llm-model-change': true,
  'llm-models-change': true,
  'llm-pretrained-change': true,
  'llm-training-progress': true,
  'llm-training-end': true,
  'llm-tuning-change': true,
  'llm-tuning-progress': true,
  'llm-tuning-end': true,
  'llm-restart': true,
  'llm-tour-step': true,
  'llm-tour-leave': true,
  'llm-tab-change': true,
  'llm-focus-change': true,
  'llm-open-panel': true,
  'llm-sampling-change': true,
  'llm-corpus-change': true,
  'llm-corpus-cancel': true,
  'llm-tokenizer-change': true,
  'llm-size-change': true,
  'llm-cell-focus': true,
  'llm-cell-select': true,
  'llm-heatmap-select': true,
  'llm-row-select': true,
};

export const LlmPlayground = createComponent({
  react: React,
  tagName: 'llm-playground',
  elementClass: LlmPlaygroundElement,
  events: handlers(Object.keys(PLAYGROUND_EVENTS) as (keyof LlmEvents)[]),
  displayName: 'LlmPlayground',
});

// The labs send no events of their own.
export const SoftmaxLab = createComponent({ react: React, tagName: 'llm-softmax-lab', elementClass: SoftmaxLabElement });
export const ParameterLab = createComponent({ react: React, tagName: 'llm-parameter-lab', elementClass: ParameterLabElement });
export const SuperpositionLab = createComponent({
  react: React,
  tagName: 'llm-superposition-lab',
  elementClass: SuperpositionLabElement,
});
export const FactMlpLab = createComponent({ react: React, tagName: 'llm-fact-mlp-lab', elementClass: FactMlpLabElement });
export const TrainingStepLab = createComponent({
  react: React,
  tagName: 'llm-training-step-lab',
  elementClass: TrainingStepLabElement,
});
