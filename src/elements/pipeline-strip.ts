/**
 * <llm-pipeline-strip>: the model's pipeline for the prompt in the box, one stage after another, each with the real
 * shape of what it holds or makes: tokens → embeddings (T × C) → [attention → MLP] × L → final LayerNorm →
 * unembedding (T × V) → softmax (V probabilities). Every stage is a button that asks for the panel showing it.
 *
 * Properties:
 *   model   ModelInfo | null: the shapes come from its config (nothing shows without one)
 *   tokens  the prompt's token count, before it is cut to the context (0 for an empty prompt). The strip shows T,
 *           what the model reads: an empty prompt reads as one token (a line break), a long one as its last
 *           blockSize tokens, and a note says so.
 *   open    PanelTarget | null: the panel open now; its stage is marked (aria-current, part current)
 * Events: llm-open-panel (bubbles, composed; detail: the stage's PanelTarget), on a click, Enter or Space.
 * Parts: strip, stages (the list), stage, stage-<id> (stage-tokens, stage-embeddings, stage-attention, stage-mlp,
 *   stage-final-norm, stage-unembedding, stage-softmax), stage-name, stage-shape, stage-detail, current (the stage of
 *   the open panel), arrow, repeat (attention and MLP, once per layer), repeat-count, legend, note.
 */
import { css, html, LitElement, nothing } from 'lit';
import { emit } from '../events.ts';
import { count } from '../format.ts';
import { theme } from '../theme.ts';
import type { PanelTarget } from '../view-state.ts';
import type { GPTConfig, ModelInfo } from '../../workers/api/index.ts';
import { define } from '../define.ts';

export type StageId = 'tokens' | 'embeddings' | 'attention' | 'mlp' | 'final-norm' | 'unembedding' | 'softmax';

interface Stage {
  id: StageId;
  name: string;
  /** The shape in this model's numbers, e.g. "9 × 128". */
  shape: string;
  /** The shape in letters, and where it comes from. */
  detail: string;
  /** The panel that shows this stage. */
  target: PanelTarget;
  /** That panel, for people: "Look inside the model › Embeddings". */
  opens: string;
}

/** The stages in order; attention and the MLP repeat once per layer. */
type Pipeline = [
  tokens: Stage,
  embeddings: Stage,
  attention: Stage,
  mlp: Stage,
  finalNorm: Stage,
  unembedding: Stage,
  softmax: Stage,
];

/** "1,280 × 128", kept on one line. */
const times = (rows: number, columns: number) => `${count(rows)}\u00a0×\u00a0${count(columns)}`;
const plural = (value: number, one: string, many: string) => `${count(value)} ${value === 1 ? one : many}`;

/**
 * The stages for a model of `config` reading `T` tokens. Tokens open the training panel: it is where text becomes
 * tokens (characters, or word pieces with each BPE merge shown); the embeddings tab belongs to the next stage.
 */
function pipelineStages(config: GPTConfig, T: number): Pipeline {
  const { vocabSize: V, nEmbd: C, nHead, blockSize } = config;
  const inspect = (tab: string, label: string): Pick<Stage, 'target' | 'opens'> => ({
    target: { section: 'inspect', tab },
    opens: `Look inside the model › ${label}`,
  });
  // A table, an entry in two lines (where it leads on the second).
  // prettier-ignore
  return [
    { id: 'tokens', name: 'Tokens', shape: plural(T, 'id', 'ids'), detail: `T, each one of V = ${count(V)}`,
      target: { section: 'train' }, opens: 'Train a model from scratch, where text becomes tokens' },
    { id: 'embeddings', name: 'Embeddings', shape: times(T, C), detail: `T × C: wte ${times(V, C)} + wpe ${times(blockSize, C)}`,
      ...inspect('embeddings', 'Embeddings') },
    { id: 'attention', name: 'Attention', shape: plural(nHead, 'head', 'heads'), detail: `each a ${times(T, T)} pattern`,
      ...inspect('attention', 'Attention') },
    { id: 'mlp', name: 'MLP', shape: `${count(4 * C)} neurons`, detail: '4C, for every token',
      ...inspect('mlp', 'MLP neurons') },
    { id: 'final-norm', name: 'Final LayerNorm', shape: times(T, C), detail: 'T × C',
      ...inspect('lens', 'Logit lens') },
    { id: 'unembedding', name: 'Unembedding', shape: times(T, V), detail: 'T × V logits; the last row scores the next token',
      ...inspect('matrices', 'Vectors and matrices') },
    { id: 'softmax', name: 'Softmax', shape: `${count(V)} probabilities`, detail: 'V, for the next token',
      target: { section: 'labs', tab: 'softmax' }, opens: 'Concept labs › Softmax and temperature' },
  ];
}

/** The stage's panel is the open one: the same section and, where the stage names one, the same tab. */
const isOpen = (target: PanelTarget, open: PanelTarget | null): boolean =>
  !!open && open.section === target.section && (target.tab === undefined || target.tab === open.tab);

export class PipelineStrip extends LitElement {
  static override properties = {
    model: { attribute: false },
    tokens: { type: Number },
    open: { attribute: false },
  };

  declare model: ModelInfo | null;
  declare tokens: number;
  declare open: PanelTarget | null;

  constructor() {
    super();
    this.model = null;
    this.tokens = 0;
    this.open = null;
  }

  static override styles = [
    theme,
    css`
      :host {
        container-type: inline-size;
      }
      ol {
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: 0.4rem;
        list-style: none;
        margin: 0;
        padding: 0;
      }
      li,
      .repeat {
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: 0.4rem;
        min-width: 0;
      }
      .repeat {
        padding: 0.3rem 0.45rem;
        border: 1px dashed var(--_border);
        border-radius: var(--_radius);
      }
      .repeat-count {
        font-family: var(--_mono);
        font-weight: 600;
        color: var(--_muted);
      }
      .arrow {
        color: var(--_muted);
      }
      button {
        display: flex;
        flex-direction: column;
        align-items: flex-start;
        gap: 0.05rem;
        max-width: 16rem;
        padding: 0.3rem 0.55rem;
        font: inherit;
        text-align: left;
        color: var(--_foreground);
        background: var(--_surface);
        border: 1px solid var(--_border);
        border-radius: calc(var(--_radius) / 2);
        cursor: pointer;
        transition:
          border-color 0.15s,
          box-shadow 0.15s;
      }
      button:hover {
        border-color: var(--_accent);
      }
      button[aria-current='true'] {
        border-color: var(--_accent);
        box-shadow: inset 0 0 0 1px var(--_accent);
      }
      .name {
        font-size: 0.85rem;
        font-weight: 600;
      }
      .shape {
        font-family: var(--_mono);
        font-size: 0.9rem;
      }
      .detail {
        font-size: 0.75rem;
        color: var(--_muted);
        overflow-wrap: anywhere;
      }
      .note {
        margin: 0.25rem 0 0;
        font-size: 0.875rem;
        color: var(--_warning);
      }
      /* Narrow: the stages stack, each arrow pointing down to the next. */
      @container (max-width: 420px) {
        ol,
        li,
        .repeat {
          flex-direction: column;
          align-items: stretch;
        }
        button {
          max-width: none;
        }
        .arrow {
          align-self: center;
          transform: rotate(90deg);
        }
      }
      @media (prefers-reduced-motion: reduce) {
        button {
          transition: none;
        }
      }
    `,
  ];

  override render() {
    const config = this.model?.config;
    if (!config) return html`<p class="empty" part="strip">The pipeline shows once a model is loaded.</p>`;
    const { blockSize, nEmbd: C, vocabSize: V, nLayer: L } = config;
    const T = Math.min(Math.max(this.tokens, 1), blockSize);
    const [tokens, embeddings, attention, mlp, finalNorm, unembedding, softmax] = pipelineStages(config, T);
    const arrow = html`<span class="arrow" part="arrow" aria-hidden="true">→</span>`;
    const repeat = `Repeated ${plural(L, 'time', 'times')}, once per layer`;
    return html`
      <div part="strip">
        <ol part="stages" aria-label="The model's pipeline for this prompt">
          <li>${this.renderStage(tokens)}${arrow}</li>
          <li>${this.renderStage(embeddings)}${arrow}</li>
          <li>
            <div class="repeat" part="repeat" role="group" aria-label=${repeat}>
              ${this.renderStage(attention)}${arrow}${this.renderStage(mlp)}
              <span class="repeat-count" part="repeat-count" aria-hidden="true">× ${plural(L, 'layer', 'layers')}</span>
            </div>
            ${arrow}
          </li>
          <li>${this.renderStage(finalNorm)}${arrow}</li>
          <li>${this.renderStage(unembedding)}${arrow}</li>
          <li>${this.renderStage(softmax)}</li>
        </ol>
        <p class="caption" part="legend">
          T = ${plural(T, 'token', 'tokens')} read, C = ${count(C)} numbers per token, V = ${count(V)} tokens in the
          vocabulary, L = ${plural(L, 'layer', 'layers')}. Pick a stage to open its panel.
        </p>
        ${this.renderNote(blockSize)}
      </div>
    `;
  }

  private renderStage(stage: Stage) {
    const current = isOpen(stage.target, this.open);
    return html`<button
      type="button"
      part="stage stage-${stage.id}${current ? ' current' : ''}"
      aria-label="${stage.name}, ${stage.shape} (${stage.detail})"
      aria-current=${current ? 'true' : nothing}
      title="Opens ${stage.opens}"
      @click=${() => emit(this, 'llm-open-panel', stage.target)}
    >
      <span class="name" part="stage-name">${stage.name}</span>
      <span class="shape" part="stage-shape">${stage.shape}</span>
      <span class="detail" part="stage-detail">${stage.detail}</span>
    </button>`;
  }

  private renderNote(blockSize: number) {
    if (this.tokens === 0) return html`<p class="caption" part="note">An empty prompt reads as one token: a line break.</p>`;
    if (this.tokens <= blockSize) return nothing;
    return html`<p class="note" part="note">
      The prompt has ${count(this.tokens)} tokens; the model reads its last ${count(blockSize)}, its context.
    </p>`;
  }
}

define('llm-pipeline-strip', PipelineStrip);

declare global {
  interface HTMLElementTagNameMap {
    'llm-pipeline-strip': PipelineStrip;
  }
}
