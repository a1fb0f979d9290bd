/** <llm-playground>'s model line: its size, where the weights came from, whether they are saved, and notices. */
import { html, nothing } from 'lit';
import type { ModelInfo } from '../workers/api/index.ts';
import { count } from './format.ts';
import { showText } from './visible-token.ts';

/** Parts: model, storage-notice, notice. */
export function renderModelLine(info: ModelInfo) {
  const { config, parameters } = info;
  return html`<p class="model" part="model">
      Model: <strong>${count(parameters.total)}</strong> parameters, ${config.nLayer} layers of
      ${config.nHead} attention heads, ${config.nEmbd} numbers per token, a context of ${count(config.blockSize)} tokens and
      a vocabulary of ${count(config.vocabSize)}. ${showText(describeWeights(info))} ${showText(describeSaved(info))}
    </p>
    ${info.storageProblem ? html`<p class="notice" part="storage-notice" role="status">${showText(info.storageProblem)}</p>` : nothing}
    ${info.notice ? html`<p class="notice" part="notice" role="status">${showText(info.notice)}</p>` : nothing}`;
}

/** Whether the model is saved in this browser, and as what. */
function describeSaved(info: ModelInfo): string {
  if (!info.saved) return info.weights === 'training' ? 'Not saved yet.' : '';
  const at = info.saved.step > 0 ? ` at step ${count(info.saved.step)}` : '';
  return `Saved in this browser as "${info.saved.name}"${at}.`;
}

/** Where the weights came from and what that means for the odds, in a sentence or two. */
function describeWeights(info: ModelInfo): string {
  const steps = `${count(info.step)} training ${info.step === 1 ? 'step' : 'steps'}`;
  if (info.weights === 'training') {
    return `It is being trained on ${info.corpus} (${steps} so far): its odds change as it learns.`;
  }
  if (info.pretrained && info.weights === 'trained') {
    return `Its weights were trained beforehand: the pretrained model "${info.pretrained}".`;
  }
  if (info.weights === 'trained') {
    return info.checkpoint
      ? `Its weights were trained beforehand and read from ${info.checkpoint}.`
      : `It was trained here on ${info.corpus} (${steps}).`;
  }
  return `Its weights are freshly initialised at random (seed ${info.seed}) and not trained yet, so its odds are close to
    even: the machinery is real, the knowledge is not there yet.`;
}
