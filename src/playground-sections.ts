/** The collapsible sections of <llm-playground>, in page order, and their panels. */
import type { AppConfig } from '@mlc-ai/web-llm';
import { html, type TemplateResult } from 'lit';
import type { EngineClient } from './client.ts';
import type { LlmEvent } from './events.ts';
import type { ModelInfo, PretrainedModels } from '../workers/api/index.ts';
import './elements/chat-panel.ts';
import './elements/inspector-panel.ts';
import './elements/labs-panel.ts';
import './elements/model-library.ts';
import './elements/training-panel.ts';
import './elements/tuning-panel.ts';

/**
 * The collapsible sections under the prompt, in page order: the property that opens each (its button is
 * `${flag}-toggle`), its panel, and the button's title and hint.
 */
// A table, an entry in two lines (the hint on the second).
// prettier-ignore
export const SECTIONS = [
  { flag: 'inspect', panel: 'inspector', title: 'Look inside the model',
    hint: 'attention, neurons, embeddings, the logit lens, for the prompt above' },
  { flag: 'train', panel: 'training', title: 'Train a model from scratch',
    hint: 'in this tab: pick a text, a size, press Play' },
  { flag: 'tune', panel: 'tuning', title: 'Teach it to chat',
    hint: 'fine-tune it on dialogues, then on your choices between two answers (DPO), in this tab' },
  { flag: 'library', panel: 'library', title: 'Saved models',
    hint: 'kept in this browser, offline too: open, rename, export, import' },
  { flag: 'labs', panel: 'labs', title: 'Concept labs',
    hint: "softmax and temperature, GPT-3's parameters, superposition, a fact in an MLP, one training step" },
  { flag: 'chat', panel: 'chat', title: 'Chat',
    hint: 'with this model, offline, or a small pretrained LLM on your GPU; the odds of every token' },
] as const;

export type SectionPanel = (typeof SECTIONS)[number]['panel'];

/** What the panels show and the playground's handlers of their events (called on the playground). */
export interface PanelContext {
  client: EngineClient | null;
  prompt: string;
  info: ModelInfo | null;
  pretrainedModels: PretrainedModels | null;
  chatAppConfig: AppConfig | null;
  onModelChange: (event: LlmEvent<'llm-model-change'>) => void;
  onTrainingProgress: (event: LlmEvent<'llm-training-progress'>) => void;
  onModelsChange: () => void;
  onPretrainedChange: (event: LlmEvent<'llm-pretrained-change'>) => void;
}

/** The panel of a collapsible section, given the whole client. */
export function renderSectionPanel(panel: SectionPanel, hidden: boolean, context: PanelContext): TemplateResult {
  const { client, prompt, info } = context;
  switch (panel) {
    case 'inspector':
      return html`<llm-inspector-panel id="inspector" part="inspector" ?hidden=${hidden} .client=${client}
        .text=${prompt} .model=${info}></llm-inspector-panel>`;
    case 'training':
      return html`<llm-training-panel id="training" part="training" ?hidden=${hidden} .client=${client}
        @llm-model-change=${context.onModelChange} @llm-training-progress=${context.onTrainingProgress}></llm-training-panel>`;
    case 'tuning':
      return html`<llm-tuning-panel id="tuning" part="tuning" ?hidden=${hidden} .client=${client} .model=${info}
        @llm-model-change=${context.onModelChange}></llm-tuning-panel>`;
    case 'library':
      return html`<llm-model-library id="library" part="library" ?hidden=${hidden} .client=${client}
        .active=${info} .pretrained=${context.pretrainedModels} @llm-model-change=${context.onModelChange}
        @llm-models-change=${context.onModelsChange} @llm-pretrained-change=${context.onPretrainedChange}></llm-model-library>`;
    case 'labs':
      return html`<llm-labs-panel id="labs" part="labs" ?hidden=${hidden} .client=${client} .text=${prompt}
        .model=${info}></llm-labs-panel>`;
    case 'chat':
      return html`<llm-chat-panel id="chat" part="chat" ?hidden=${hidden} .client=${client}
        .appConfig=${context.chatAppConfig}></llm-chat-panel>`;
  }
}
