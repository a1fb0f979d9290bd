/**
 * <llm-logit-lens>: what the model would predict if it stopped after each
 * layer. For a chosen token of the prompt (the last by default), every row
 * applies the final LayerNorm and the unembedding to the residual stream at
 * that depth and lists the likeliest next tokens, with the residual vector's
 * length beside them. The numbers come from the worker through `client`.
 *
 * Properties: client (LogitLensClient: EngineClient, set by the inspector panel), text (the prompt).
 * Parts: positions (the token chips), position (each chip), lens (the table), layer-row, prediction (each top
 *   token; also "final" when it is the last layer's first choice), prediction-fill, norm, norm-fill, status, error,
 *   dropped-note (a long prompt's tokens left out).
 */
import { css, html, LitElement, nothing, type PropertyValues } from 'lit';
import { type PromptOdds, type LensLayer, messageOf, type Uses } from '../../workers/api/index.ts';
import { Newest } from '../newest.ts';
import { states } from '../states.ts';
import { alerts, theme } from '../theme.ts';
import { describeToken, formatPercent, showToken } from '../visible-token.ts';
import { styleProperties } from '../style-properties.ts';
import { droppedNote } from './dropped-note.ts';
import { define } from '../define.ts';

/** The part of the engine this element talks to. */
export type LogitLensClient = Uses<'inspector', 'odds' | 'logitLens'>;

/** Predictions read out per layer. */
const TOP_COUNT = 5;
const ORDINALS = ['1st', '2nd', '3rd', '4th', '5th', '6th', '7th', '8th', '9th', '10th'];

const layerName = (layer: number): string => (layer === 0 ? 'embeddings' : `after layer ${layer}`);

export class LogitLens extends LitElement {
  static override properties = {
    client: { attribute: false },
    text: {},
    ...states('tokens', 'dropped', 'position', 'layers', 'error'),
  };

  declare client: LogitLensClient | null;
  declare text: string;
  /** The prompt's tokens, as the model reads them. */
  declare private tokens: string[];
  /** Tokens at the start of a long prompt the inspector left out. */
  declare private dropped: number;
  /** The token whose next-token prediction is read out (an index in `tokens`). */
  declare private position: number;
  declare private layers: LensLayer[];
  declare private error: string;

  /** Reading the prompt's tokens, then the lens at one of them: the newest question wins. */
  private readonly tokensAsk = new Newest<PromptOdds>(this);
  private readonly lensAsk = new Newest<LensLayer[]>(this);

  constructor() {
    super();
    this.client = null;
    this.text = '';
    this.tokens = [];
    this.dropped = 0;
    this.position = 0;
    this.layers = [];
    this.error = '';
  }

  private get busy(): boolean {
    return this.tokensAsk.busy || this.lensAsk.busy;
  }

  // willUpdate: the busy state it sets goes into this render, not a second one.
  protected override willUpdate(changed: PropertyValues<this>): void {
    if ((changed.has('client') || changed.has('text')) && this.client) void this.readPrompt(this.client);
  }

  /** The prompt's tokens, then the lens at its last token. */
  private async readPrompt(client: LogitLensClient): Promise<void> {
    this.lensAsk.drop();
    this.error = '';
    const text = this.text;
    await this.tokensAsk.ask(
      () => client.inspector.odds(text),
      (answer) => {
        if (answer.error !== undefined) {
          this.error = messageOf(answer.error);
          return;
        }
        this.tokens = answer.value.tokens;
        this.dropped = answer.value.dropped ?? 0;
        this.position = this.tokens.length - 1;
        this.layers = [];
        return this.readLens(client, this.position);
      },
    );
  }

  private choose(position: number): void {
    if (!this.client || position === this.position) return;
    this.tokensAsk.drop();
    this.position = position;
    void this.readLens(this.client, position);
  }

  private async readLens(client: LogitLensClient, position: number): Promise<void> {
    this.error = '';
    await this.lensAsk.ask(
      () => client.inspector.logitLens(this.text, position, TOP_COUNT),
      (answer) => {
        if (answer.error !== undefined) this.error = messageOf(answer.error);
        else this.layers = answer.value;
      },
    );
  }

  static override styles = [
    theme,
    alerts,
    css`
      .positions {
        display: flex;
        flex-wrap: wrap;
        gap: 4px;
        margin: 0 0 0.75rem;
        padding: 0;
        border: 0;
        min-width: 0;
        max-height: 9rem;
        overflow-y: auto;
      }
      .positions legend {
        font-size: 0.875rem;
        color: var(--_muted);
        margin-bottom: 0.3rem;
        padding: 0;
      }
      .positions label {
        position: relative;
        min-width: 1.4rem;
        padding: 2px 5px;
        text-align: center;
        font-family: var(--_mono);
        border: 1px solid var(--_border);
        border-radius: calc(var(--_radius) / 2);
        background: var(--_background);
        cursor: pointer;
      }
      .positions label:has(:checked) {
        border-color: var(--_accent);
        background: var(--_accent);
        color: var(--_on-accent);
      }
      .positions label:has(:focus-visible) {
        outline: 2px solid var(--_accent);
        outline-offset: 2px;
      }
      /* The radio buttons stay for the keyboard and screen readers; the chips show their state. */
      .positions input {
        position: absolute;
        opacity: 0;
        width: 1px;
        height: 1px;
        margin: 0;
      }
      table {
        border-collapse: collapse;
        width: 100%;
        font-size: 0.85rem;
      }
      table[aria-busy='true'] {
        opacity: 0.6;
      }
      th,
      td {
        padding: 3px 4px;
        text-align: left;
        vertical-align: top;
      }
      thead th {
        color: var(--_muted);
        font-weight: 600;
        border-bottom: 1px solid var(--_border);
      }
      tbody th {
        font-weight: 600;
        white-space: nowrap;
      }
      tbody tr + tr {
        border-top: 1px solid var(--_border);
      }
      .token {
        font-family: var(--_mono);
        white-space: pre;
      }
      .value,
      .norm-value {
        font-family: var(--_mono);
        font-size: 0.75rem;
        color: var(--_muted);
        margin-left: 0.3rem;
      }
      .track {
        display: block;
        height: 5px;
        margin-top: 2px;
        background: var(--_background);
        border-radius: 2px;
        overflow: hidden;
      }
      .fill {
        display: block;
        height: 100%;
        background: var(--_accent);
      }
      .final .token {
        color: var(--_accent);
        font-weight: 700;
      }
      .norm .fill {
        background: var(--_muted);
      }
      .norm {
        min-width: 5rem;
      }
      .status {
        font-size: 0.85rem;
        color: var(--_muted);
        margin: 0.5rem 0 0;
      }
    `,
  ];

  override render() {
    return html`
      <p class="caption">
        Each row takes the residual stream at one depth — after the embeddings, then after each layer — and applies the
        model's last step early: the final LayerNorm, then the unembedding. It shows what the model would say if it
        stopped there, so you can watch the prediction form layer by layer. The norm is the residual vector's length:
        how much the layers have written into it.
      </p>
      ${droppedNote(this.dropped, this.tokens.length)} ${this.renderPositions()} ${this.renderLens()}
      <p class="status" part="status" role="status">${this.busy ? 'Reading out every layer…' : ''}</p>
      ${this.error ? html`<p class="error" part="error" role="alert">${this.error}</p>` : nothing}
    `;
  }

  private renderPositions() {
    if (this.tokens.length === 0) return nothing;
    return html`
      <fieldset class="positions" part="positions">
        <legend>Predict what follows the token</legend>
        ${this.tokens.map(
          (token, position) => html`<label part="position" title="${describeToken(token)}, position ${position}">
            <input
              type="radio"
              name="position"
              .value=${String(position)}
              .checked=${position === this.position}
              aria-label="${describeToken(token)}, position ${position}"
              @change=${() => this.choose(position)}
            /><span class="token">${showToken(token)}</span>
          </label>`,
        )}
      </fieldset>
    `;
  }

  private renderLens() {
    const layers = this.layers;
    if (layers.length === 0) return nothing;
    const columns = Math.max(...layers.map((layer) => layer.top.length));
    const longest = Math.max(...layers.map((layer) => layer.norm), Number.MIN_VALUE);
    const finalChoice = layers.at(-1)!.top[0]?.id;
    const token = this.tokens[this.position] ?? '';
    return html`
      <table part="lens" aria-busy=${String(this.busy)}>
        <caption class="caption">
          Next token after ${describeToken(token)} (position ${this.position}), read out at every depth. The last row's
          first choice is highlighted wherever it appears.
        </caption>
        <thead>
          <tr>
            <th scope="col">Read out</th>
            ${ORDINALS.slice(0, columns).map((ordinal) => html`<th scope="col">${ordinal}</th>`)}
            <th scope="col">Norm</th>
          </tr>
        </thead>
        <tbody>
          ${layers.map(
            (layer) => html`<tr part="layer-row" data-layer=${layer.layer}>
              <th scope="row">${layerName(layer.layer)}</th>
              ${Array.from({ length: columns }, (_, rank) => {
                const prediction = layer.top[rank];
                if (!prediction) return html`<td></td>`;
                const final = prediction.id === finalChoice;
                return html`<td
                  part=${final ? 'prediction final' : 'prediction'}
                  class=${final ? 'final' : ''}
                  data-id=${prediction.id}
                  aria-label="${describeToken(prediction.token)}: ${formatPercent(prediction.score)}"
                >
                  <span class="token">${showToken(prediction.token)}</span><span class="value">${formatPercent(prediction.score)}</span>
                  <span class="track" aria-hidden="true"
                    ><span class="fill" part="prediction-fill" ${styleProperties({ width: `${(prediction.score * 100).toFixed(2)}%` })}></span
                  ></span>
                </td>`;
              })}
              <td class="norm" part="norm">
                <span class="norm-value">${layer.norm.toFixed(2)}</span>
                <span class="track" aria-hidden="true"
                  ><span class="fill" part="norm-fill" ${styleProperties({ width: `${((layer.norm / longest) * 100).toFixed(2)}%` })}></span
                ></span>
              </td>
            </tr>`,
          )}
        </tbody>
      </table>
    `;
  }
}

define('llm-logit-lens', LogitLens);

declare global {
  interface HTMLElementTagNameMap {
    'llm-logit-lens': LogitLens;
  }
}
