/**
 * <llm-mlp-neurons>: inside the MLPs. For a token of the prompt and a layer, the
 * neurons that fire most (largest value after GELU), each with its
 * pre-activation, the GELU curve with its point marked, and the tokens its
 * output pushes up. The facts view does the same for a fact prompt of the
 * built-in corpus, on the last token of the person's name, in every layer, with
 * what the model predicts next. Every number comes from `client`; how a
 * neuron is drawn is in neuron-drawing.ts.
 *
 * Properties:
 *   client  MlpNeuronsClient | null (EngineClient, set by the inspector panel)
 *   text    string: the prompt
 *   view    'prompt' | 'facts' (attribute view, reflected): which of the two views shows
 * Keyboard: the token chips are a radio group (arrow keys, Home, End move the chosen token).
 * Parts: view-switch, prompt-view-button, facts-view-button, explanation, status, error,
 *   tokens, token (the chosen one also token-chosen), layer-select,
 *   neurons, neuron, neuron-index, neuron-pre, neuron-post, gelu, gelu-curve, gelu-point,
 *   promotes, promote (also answer when it starts the fact's answer), promote-token, promote-score,
 *   fact-select, fact-prompt, fact-token (also name on the name's last token), predictions, prediction,
 *   fact-layers, fact-layer, fact-neurons, fact-neuron, dropped-note (a long prompt's tokens left out).
 */
import { css, html, LitElement, nothing, type PropertyValues } from 'lit';
import {
  type FactPrompt,
  type PromptOdds,
  messageOf,
  type NeuronReport,
  type TokenScore,
  type Uses,
} from '../../workers/api/index.ts';
import { Newest } from '../newest.ts';
import { states } from '../states.ts';
import { alerts, buttons, selects, theme } from '../theme.ts';
import { FACT_EXAMPLE } from '../panel-examples.ts';
import { describeToken, formatPercent, showToken } from '../visible-token.ts';
import { chartFrame, formatActivation, geluCurve, neuronDrawingStyles, promotedTokens, startsAnswer } from './neuron-drawing.ts';
import { droppedNote } from './dropped-note.ts';
import { define } from '../define.ts';

/** The part of the engine this element talks to. */
export type MlpNeuronsClient = Uses<'inspector', 'odds' | 'topNeurons' | 'factPrompts'>;

export type NeuronView = 'prompt' | 'facts';

/** Neurons listed for the chosen token and layer. */
const NEURON_COUNT = 8;
/** Neurons listed per layer in the facts view (every layer shows at once). */
const FACT_NEURON_COUNT = 4;

/** The fact shown, with everything read for it. */
interface FactReading {
  fact: FactPrompt;
  tokens: string[];
  top: TokenScore[];
  /** One per layer, in layer order. */
  reports: NeuronReport[];
}

export class MlpNeurons extends LitElement {
  static override properties = {
    client: { attribute: false },
    text: {},
    view: { reflect: true },
    ...states('tokens', 'dropped', 'layers', 'neuronsPerLayer', 'position', 'layer', 'report', 'error'),
    ...states('facts', 'factIndex', 'reading', 'factError'),
  };

  declare client: MlpNeuronsClient | null;
  declare text: string;
  declare view: NeuronView;
  /** The prompt's tokens and the model's shape, once read. */
  declare private tokens: string[];
  /** Tokens at the start of a long prompt the inspector left out. */
  declare private dropped: number;
  declare private layers: number;
  declare private neuronsPerLayer: number;
  /** The chosen token's position; null follows the last token as the prompt grows. */
  declare private position: number | null;
  declare private layer: number;
  declare private report: NeuronReport | null;
  declare private error: string;
  declare private facts: FactPrompt[] | null;
  declare private factIndex: number;
  declare private reading: FactReading | null;
  declare private factError: string;

  /** What `tokens` were read for; a different prompt or client reads them again. */
  private tokensOf: { client: MlpNeuronsClient; text: string } | null = null;
  /** The client `facts` came from. */
  private factsOf: MlpNeuronsClient | null = null;
  /** Each view reads in two steps; the newest reading wins, and a new one drops both steps of the older. */
  private readonly tokensAsk = new Newest<PromptOdds>(this);
  private readonly reportAsk = new Newest<NeuronReport>(this);
  private readonly factsAsk = new Newest<FactPrompt[]>(this);
  private readonly readingAsk = new Newest<FactReading>(this);

  constructor() {
    super();
    this.client = null;
    this.text = '';
    this.view = 'prompt';
    this.tokens = [];
    this.dropped = 0;
    this.layers = 0;
    this.neuronsPerLayer = 0;
    this.position = null;
    this.layer = 0;
    this.report = null;
    this.error = '';
    this.facts = null;
    this.factIndex = 0;
    this.reading = null;
    this.factError = '';
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (!this.client || !(changed.has('client') || changed.has('text') || changed.has('view'))) return;
    if (this.view === 'facts') {
      if (this.factsOf !== this.client) void this.showFact(null);
    } else if (this.tokensOf?.client !== this.client || this.tokensOf.text !== this.text) {
      void this.showNeurons();
    }
  }

  /** The position asked about: the chosen one while the prompt still has it, else the last token. */
  private shownPosition(): number {
    return this.position !== null && this.position < this.tokens.length ? this.position : this.tokens.length - 1;
  }

  private get busy(): boolean {
    return this.tokensAsk.busy || this.reportAsk.busy;
  }

  private get factBusy(): boolean {
    return this.factsAsk.busy || this.readingAsk.busy;
  }

  /** Reads the prompt's tokens when they are not read yet, then the chosen token's neurons in the chosen layer. */
  private async showNeurons(): Promise<void> {
    const client = this.client;
    if (!client) return;
    const text = this.text;
    this.tokensAsk.drop();
    this.reportAsk.drop();
    this.error = '';
    if (this.tokensOf?.client === client && this.tokensOf.text === text) return this.readNeurons(client, text);
    await this.tokensAsk.ask(
      () => client.inspector.odds(text),
      (read) => {
        if (read.error !== undefined) {
          this.error = messageOf(read.error);
          return;
        }
        const { tokens, config, dropped } = read.value;
        this.tokens = tokens;
        this.dropped = dropped ?? 0;
        this.layers = config.nLayer;
        this.neuronsPerLayer = 4 * config.nEmbd;
        this.layer = Math.min(this.layer, config.nLayer - 1);
        this.tokensOf = { client, text };
        return this.readNeurons(client, text);
      },
    );
  }

  /** The chosen token's neurons in the chosen layer, for the prompt whose tokens are read. */
  private async readNeurons(client: MlpNeuronsClient, text: string): Promise<void> {
    const position = this.shownPosition();
    await this.reportAsk.ask(
      () => client.inspector.topNeurons(text, position, this.layer, NEURON_COUNT),
      (answer) => {
        if (answer.error !== undefined) this.error = messageOf(answer.error);
        else this.report = answer.value;
      },
    );
  }

  /**
   * Reads the fact prompts (once per client), then the chosen fact's prediction and its name's neurons in every
   * layer. No index: the seed's example ("Michael Jordan plays the sport of") when the facts have it, else the first.
   */
  private async showFact(index: number | null): Promise<void> {
    const client = this.client;
    if (!client) return;
    this.factsAsk.drop();
    this.readingAsk.drop();
    this.factIndex = index ?? 0;
    this.factError = '';
    if (this.factsOf === client) return this.readFact(client, this.factIndex);
    await this.factsAsk.ask(
      () => client.inspector.factPrompts(),
      (read) => {
        if (read.error !== undefined) {
          this.factError = messageOf(read.error);
          return;
        }
        this.facts = read.value;
        this.factsOf = client;
        this.reading = null;
        const example = read.value.findIndex((fact) => fact.prompt.trimEnd() === FACT_EXAMPLE.text);
        this.factIndex = index ?? Math.max(0, example);
        return this.readFact(client, this.factIndex);
      },
    );
  }

  /** The fact's prediction and its name's neurons in every layer, once the fact prompts are read. */
  private async readFact(client: MlpNeuronsClient, index: number): Promise<void> {
    const fact = this.facts?.[index];
    if (!fact) return;
    await this.readingAsk.ask(
      async () => {
        const { tokens, top, config } = await client.inspector.odds(fact.prompt);
        const layers = Array.from({ length: config.nLayer }, (_, layer) => layer);
        const reports = await Promise.all(
          layers.map((layer) => client.inspector.topNeurons(fact.prompt, fact.namePosition, layer, FACT_NEURON_COUNT)),
        );
        return { fact, tokens, top, reports };
      },
      (answer) => {
        if (answer.error !== undefined) this.factError = messageOf(answer.error);
        else this.reading = answer.value;
      },
    );
  }

  private chooseToken(position: number): void {
    this.position = position;
    void this.showNeurons();
  }

  private chooseLayer(layer: number): void {
    this.layer = layer;
    void this.showNeurons();
  }

  private chooseView(view: NeuronView): void {
    this.view = view;
  }

  /** Arrow keys, Home and End move the chosen token, and focus goes with it (a radio group). */
  private async onTokenKey(event: KeyboardEvent): Promise<void> {
    const last = this.tokens.length - 1;
    const current = this.shownPosition();
    const moves: Record<string, number> = {
      ArrowLeft: current - 1,
      ArrowUp: current - 1,
      ArrowRight: current + 1,
      ArrowDown: current + 1,
      Home: 0,
      End: last,
    };
    const target = moves[event.key];
    if (target === undefined) return;
    event.preventDefault();
    const next = Math.min(last, Math.max(0, target));
    if (next !== current) this.chooseToken(next);
    await this.updateComplete;
    this.renderRoot.querySelector<HTMLElement>('[part~="token-chosen"]')?.focus();
  }

  static override styles = [
    theme,
    selects,
    alerts,
    buttons,
    neuronDrawingStyles,
    css`
      .switch {
        display: flex;
        gap: 0.4rem;
        margin-bottom: 0.4rem;
      }
      .switch button {
        padding: 0.3rem 0.8rem;
      }
      .row {
        display: flex;
        flex-wrap: wrap;
        gap: 0.5rem;
        align-items: center;
        margin: 0.4rem 0;
      }
      label,
      .label {
        font-weight: 600;
        font-size: 0.9rem;
      }
      .tokens {
        display: flex;
        flex-wrap: wrap;
        gap: 3px;
        max-height: 9rem;
        overflow-y: auto;
        margin: 0.3rem 0;
      }
      .token {
        min-width: 1.6rem;
        padding: 0.15rem 0.3rem;
        font-family: var(--_mono);
        font-weight: 400;
        white-space: pre;
        color: var(--_foreground);
        border-color: var(--_border);
      }
      .token[aria-checked='true'] {
        background: var(--_accent);
        border-color: var(--_accent);
        color: var(--_on-accent);
      }
      .status {
        margin: 0.3rem 0;
        min-height: 1.3em;
        font-size: 0.9rem;
      }
      .stale {
        opacity: 0.55;
      }
      ol.neurons {
        list-style: none;
        margin: 0;
        padding: 0;
        display: grid;
        grid-template-columns: repeat(auto-fill, minmax(16rem, 1fr));
        gap: 0.5rem;
      }
      .neuron {
        display: grid;
        grid-template-columns: auto 1fr;
        gap: 0.2rem 0.6rem;
        padding: 0.5rem;
        background: var(--_surface);
        border: 1px solid var(--_border);
        border-radius: var(--_radius);
      }
      .neuron h5 {
        grid-column: 1 / -1;
        margin: 0;
        font-size: 0.95rem;
      }
      .values {
        margin: 0;
        font-size: 0.85rem;
      }
      .values dt {
        color: var(--_muted);
      }
      .values dd {
        margin: 0 0 0.2rem;
        font-family: var(--_mono);
      }
      .promotes-line {
        grid-column: 1 / -1;
        margin: 0;
        font-size: 0.85rem;
      }
      .fact-prompt {
        font-family: var(--_mono);
        white-space: pre;
        margin: 0.3rem 0;
      }
      .fact-prompt .name {
        background: var(--_accent);
        color: var(--_on-accent);
        border-radius: 2px;
      }
      ol.predictions {
        display: flex;
        flex-wrap: wrap;
        gap: 0.3rem 0.8rem;
        list-style: none;
        margin: 0.2rem 0 0.6rem;
        padding: 0;
        font-size: 0.9rem;
      }
      .prediction .token-text {
        font-family: var(--_mono);
        white-space: pre;
      }
      .prediction.answer .token-text {
        font-weight: 700;
        color: var(--_accent);
      }
      ol.fact-layers {
        list-style: none;
        margin: 0;
        padding: 0;
      }
      .fact-layer {
        margin: 0.4rem 0;
        padding: 0.4rem 0.5rem;
        border: 1px solid var(--_border);
        border-radius: var(--_radius);
      }
      .fact-layer h5 {
        margin: 0 0 0.2rem;
        font-size: 0.9rem;
      }
      ol.fact-neurons {
        list-style: none;
        margin: 0;
        padding: 0;
      }
      .fact-neuron {
        display: flex;
        flex-wrap: wrap;
        gap: 0.2rem 0.5rem;
        align-items: baseline;
        font-size: 0.85rem;
        margin: 0.15rem 0;
      }
      .fact-neuron .numbers {
        font-family: var(--_mono);
        min-width: 12rem;
      }
    `,
  ];

  override render() {
    const facts = this.view === 'facts';
    return html`
      <div class="switch" part="view-switch" role="group" aria-label="What to look at">
        <button part="prompt-view-button" aria-pressed=${String(!facts)} @click=${() => this.chooseView('prompt')}>Your prompt</button>
        <button part="facts-view-button" aria-pressed=${String(facts)} @click=${() => this.chooseView('facts')}>Facts</button>
      </div>
      <p class="caption" part="explanation">
        Each layer's MLP has a row of neurons. A neuron reads one direction of the residual stream, fires when the token
        lines up with it (GELU lets positive values through and nearly silences negative ones), and adds its own direction
        back. Read through the unembedding, that direction pushes some next tokens up. A neuron that fires on a person's
        name and pushes up the start of their sport is a fact stored in the weights.
      </p>
      ${!this.client ? html`<p class="empty">Waiting for the model…</p>` : facts ? this.renderFacts() : this.renderPrompt()}
    `;
  }

  private renderPrompt() {
    const position = this.shownPosition();
    const report = this.report;
    return html`
      <section aria-busy=${String(this.busy)}>
        ${droppedNote(this.dropped, this.tokens.length)}
        ${
          this.tokens.length
            ? html`
              <div class="row"><span class="label" id="token-label">Token</span></div>
              <div class="tokens" part="tokens" role="radiogroup" aria-labelledby="token-label" @keydown=${this.onTokenKey}>
                ${this.tokens.map((token, i) => {
                  const chosen = i === position;
                  return html`<button
                    class="token"
                    part=${chosen ? 'token token-chosen' : 'token'}
                    role="radio"
                    aria-checked=${String(chosen)}
                    tabindex=${chosen ? 0 : -1}
                    aria-label="${describeToken(token)}, position ${i}"
                    title="position ${i}"
                    @click=${() => this.chooseToken(i)}
                  >${showToken(token)}</button>`;
                })}
              </div>
              <div class="row">
                <label for="layer">Layer</label>
                <select id="layer" part="layer-select" @change=${(event: Event) => this.chooseLayer(Number((event.target as HTMLSelectElement).value))}>
                  ${Array.from({ length: this.layers }, (_, layer) => html`<option value=${layer} ?selected=${layer === this.layer}>${layer + 1} of ${this.layers}</option>`)}
                </select>
              </div>
            `
            : nothing
        }
        <p class="status" part="status" role="status">${this.busy ? 'Reading the neurons…' : report ? this.reportSummary(report) : ''}</p>
        ${this.error ? html`<p class="error" part="error" role="alert">${this.error}</p>` : nothing}
        ${report ? this.renderNeurons(report) : nothing}
      </section>
    `;
  }

  private reportSummary(report: NeuronReport): string {
    const token = this.tokens[report.position];
    const at = token === undefined ? `position ${report.position}` : `${describeToken(token)} (position ${report.position})`;
    return `Layer ${report.layer + 1}, at ${at}: the ${report.neurons.length} most active of its ${this.neuronsPerLayer} neurons.`;
  }

  private renderNeurons(report: NeuronReport) {
    const frame = chartFrame(report.neurons);
    return html`
      <ol class="neurons ${this.busy ? 'stale' : ''}" part="neurons" aria-label="Most active neurons, most active first">
        ${report.neurons.map(
          (neuron) => html`<li class="neuron" part="neuron">
            <h5>Neuron <span part="neuron-index">${neuron.index}</span></h5>
            <dl class="values">
              <dt>before GELU</dt>
              <dd part="neuron-pre">${formatActivation(neuron.pre)}</dd>
              <dt>after</dt>
              <dd part="neuron-post">${formatActivation(neuron.post)}</dd>
            </dl>
            ${geluCurve(neuron, frame)}
            <p class="promotes-line">Pushes up ${promotedTokens(neuron.promotes, null)}</p>
          </li>`,
        )}
      </ol>
    `;
  }

  private renderFacts() {
    const facts = this.facts;
    const reading = this.reading;
    return html`
      <section aria-busy=${String(this.factBusy)}>
        ${
          facts?.length
            ? html`<div class="row">
              <label for="fact">Fact</label>
              <select id="fact" part="fact-select" @change=${(event: Event) => void this.showFact(Number((event.target as HTMLSelectElement).value))}>
                ${facts.map((fact, i) => html`<option value=${i} ?selected=${i === this.factIndex}>${fact.prompt} →${fact.answer}</option>`)}
              </select>
            </div>`
            : facts
              ? html`<p class="empty">No fact prompts for this model.</p>`
              : nothing
        }
        <p class="status" part="status" role="status">${this.factBusy ? 'Reading the fact…' : ''}</p>
        ${this.factError ? html`<p class="error" part="error" role="alert">${this.factError}</p>` : nothing}
        ${reading ? this.renderReading(reading) : nothing}
      </section>
    `;
  }

  private renderReading({ fact, tokens, top, reports }: FactReading) {
    const name = tokens[fact.namePosition] ?? '';
    return html`
      <div class=${this.factBusy ? 'stale' : ''}>
        <p class="fact-prompt" part="fact-prompt">${tokens.map(
          (token, i) =>
            html`<span class=${i === fact.namePosition ? 'name' : ''} part=${i === fact.namePosition ? 'fact-token name' : 'fact-token'}>${token}</span>`,
        )}<span aria-hidden="true"> →${fact.answer}</span></p>
        <p class="caption">The model's next token after the prompt:</p>
        <ol class="predictions" part="predictions" aria-label="Next-token predictions">
          ${top.map(({ token, score }) => {
            const starts = startsAnswer(token, fact.answer);
            return html`<li
              class="prediction ${starts ? 'answer' : ''}"
              part=${starts ? 'prediction answer' : 'prediction'}
              aria-label="${describeToken(token)}: ${formatPercent(score)}${starts ? ', starts the answer' : ''}"
            ><span class="token-text">${showToken(token)}</span> ${formatPercent(score)}</li>`;
          })}
        </ol>
        <p class="caption">
          The neurons that fire most on ${describeToken(name)}, where the name ends, in each layer, and the tokens they
          push up. Outlined: tokens that start the answer, "${fact.answer.trim()}".
        </p>
        <ol class="fact-layers" part="fact-layers">
          ${reports.map(
            (report) => html`<li class="fact-layer" part="fact-layer">
              <h5>Layer ${report.layer + 1}</h5>
              <ol class="fact-neurons" part="fact-neurons">
                ${report.neurons.map(
                  (neuron) => html`<li class="fact-neuron" part="fact-neuron">
                    <span class="numbers">neuron <span part="neuron-index">${neuron.index}</span>:
                      <span part="neuron-pre">${formatActivation(neuron.pre)}</span> →
                      <span part="neuron-post">${formatActivation(neuron.post)}</span></span>
                    <span>pushes up ${promotedTokens(neuron.promotes, fact.answer)}</span>
                  </li>`,
                )}
              </ol>
            </li>`,
          )}
        </ol>
      </div>
    `;
  }
}

define('llm-mlp-neurons', MlpNeurons);

declare global {
  interface HTMLElementTagNameMap {
    'llm-mlp-neurons': MlpNeurons;
  }
}
