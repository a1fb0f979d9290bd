/**
 * What <llm-playground> shows around its own parts: the inner elements' parts it forwards (each list is an
 * exportparts value, with the prefix the playground's parts give them) and the status line while it starts or after
 * the worker failed. The forwarded names are API: custom-elements-manifest.config.mjs reads these lists into
 * custom-elements.json, and test/node/manifest.test.ts checks that it and the README agree with them.
 */
import { html, nothing } from 'lit';
import { showText } from './visible-token.ts';

/** `name: prefix-name` for each name: how an inner element's parts are forwarded under a prefix. */
const prefixed = (prefix: string, names: string): string =>
  names
    .split(/[\s,]+/)
    .filter(Boolean)
    .map((name) => `${name}: ${prefix}-${name}`)
    .join(', ');

export const PICKER_PARTS = prefixed(
  'picker',
  `choices choice builtin-choice choice-name choice-state card card-title card-size card-storage space-problem
  memory-warning stopped card-error download-button cancel-button close-button progress progress-bar progress-text error`,
);

export const BACKEND_PARTS = prefixed(
  'backend',
  'picker runs-on runs-on-summary runs-on-backend select status adapter software reason cpu-refused threads threads-select threads-note error',
);

export const PIPELINE_PARTS = prefixed(
  'pipeline',
  `strip stages stage stage-tokens stage-embeddings stage-attention stage-mlp stage-final-norm stage-unembedding
  stage-softmax stage-name stage-shape stage-detail current arrow repeat repeat-count legend note`,
);

/** The tour's parts; its card (the element's part "tour") is tour-card, the playground's "tour" being the element. */
export const TOUR_PARTS = `tour: tour-card, ${prefixed(
  'tour',
  'intro start-button resume-button counter title text notice back-button next-button leave-button',
)}`;

/** The line while the worker starts, the alert once it failed, else nothing. */
export function renderStatus(status: 'loading' | 'ready' | 'error', error: string) {
  if (status === 'loading') {
    return html`<p class="status" part="status" role="status">Starting the model in a background thread…</p>`;
  }
  if (status === 'error') {
    return html`<div class="error" part="error" role="alert">
      <strong>The model stopped working.</strong>
      <p>${showText(error)}</p>
      <p>Reload the page to start it again.</p>
    </div>`;
  }
  return nothing;
}
