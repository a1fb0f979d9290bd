/**
 * <llm-labs-panel>: the concept labs behind one row of tabs: softmax and
 * temperature, counting the parameters, superposition, an MLP that stores a
 * fact, and one training step up close. Each lab is an element of its own (usable alone in any page); here they
 * share the playground's worker. Only the open lab exists.
 *
 * Properties: client (LabsPanelClient: what the labs ask, an EngineClient), text (the prompt, for the softmax lab's real
 *   logits), model (ModelInfo: the model in use, so the training step follows a change of model).
 * Attributes: lab ('softmax' | 'parameters' | 'superposition' | 'fact' | 'training-step', reflected).
 * Events: llm-tab-change (detail { tab }) when the user picks a lab.
 * Parts: tabs, tab, tab-<id>, panel.
 */
import { html, LitElement, type TemplateResult } from 'lit';
import type { ModelInfo } from '../../workers/api/index.ts';
import { emit } from '../events.ts';
import { theme } from '../theme.ts';
import './fact-mlp-lab.ts';
import type { FactMlpLabClient } from './fact-mlp-lab.ts';
import './parameter-lab.ts';
import type { ParameterLabClient } from './parameter-lab.ts';
import './softmax-lab.ts';
import type { SoftmaxLabClient } from './softmax-lab.ts';
import './superposition-lab.ts';
import type { SuperpositionLabClient } from './superposition-lab.ts';
import './training-step-lab.ts';
import type { TrainingStepLabClient } from './training-step-lab.ts';
import { tabList, tabStyles } from './tabs.ts';
import { define } from '../define.ts';

/** The panel hands its client to each lab: it asks what they all ask. */
export type LabsPanelClient = SoftmaxLabClient &
  ParameterLabClient &
  SuperpositionLabClient &
  FactMlpLabClient &
  TrainingStepLabClient;

const LABS = [
  { id: 'softmax', label: 'Softmax and temperature' },
  { id: 'parameters', label: 'Counting parameters' },
  { id: 'superposition', label: 'Superposition' },
  { id: 'fact', label: 'An MLP that stores a fact' },
  { id: 'training-step', label: 'One training step' },
] as const;

export type Lab = (typeof LABS)[number]['id'];

export class LabsPanel extends LitElement {
  static override properties = {
    client: { attribute: false },
    text: { type: String },
    lab: { type: String, reflect: true },
    model: { attribute: false },
  };

  declare client: LabsPanelClient | null;
  declare text: string;
  declare lab: Lab;
  declare model: ModelInfo | null;

  constructor() {
    super();
    this.client = null;
    this.text = '';
    this.lab = 'softmax';
    this.model = null;
  }

  private select(lab: Lab): void {
    this.lab = lab;
    emit(this, 'llm-tab-change', { tab: lab });
  }

  private renderLab(): TemplateResult {
    const { client } = this;
    switch (this.lab) {
      case 'softmax':
        return html`<llm-softmax-lab .client=${client} .text=${this.text}></llm-softmax-lab>`;
      case 'parameters':
        return html`<llm-parameter-lab .client=${client}></llm-parameter-lab>`;
      case 'superposition':
        return html`<llm-superposition-lab .client=${client}></llm-superposition-lab>`;
      case 'fact':
        return html`<llm-fact-mlp-lab .client=${client}></llm-fact-mlp-lab>`;
      case 'training-step':
        return html`<llm-training-step-lab .client=${client} .model=${this.model}></llm-training-step-lab>`;
    }
  }

  override render() {
    return html`
      ${tabList(this, LABS, this.lab, 'Concept labs', (lab) => this.select(lab))}
      <div id="panel" role="tabpanel" aria-labelledby="tab-${this.lab}" part="panel">
        ${this.client ? this.renderLab() : html`<p>Starting the model…</p>`}
      </div>
    `;
  }

  static override styles = [theme, tabStyles];
}

define('llm-labs-panel', LabsPanel);

declare global {
  interface HTMLElementTagNameMap {
    'llm-labs-panel': LabsPanel;
  }
}
