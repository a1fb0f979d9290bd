/**
 * <llm-attention-experiments>: two experiments that rerun the forward pass on
 * the prompt with something changed, and show the next-token prediction before
 * and after side by side (the same tokens in both charts, so the bars compare),
 * with a sentence saying what changed.
 *
 *   Switch the causal mask off: every token may also look at the tokens after it.
 *   Ablate heads: zero the output of any set of attention heads (a layer × head grid).
 *
 * All numbers come from the client (the worker); this element only compares them.
 *
 * Properties:
 *   client  ExperimentsClient (EngineClient, set by the inspector panel)
 *   text    the prompt
 * Parts: mask-experiment, mask-toggle, mask-normal-chart, mask-off-chart, mask-change,
 *   ablate-experiment, heads, head, layer-all, clear, ablate-before-chart, ablate-after-chart, ablate-change,
 *   status, error, dropped-note (a long prompt's tokens left out).
 */
import { css, html, LitElement, nothing, type PropertyValues } from 'lit';
import {
  type PromptOdds,
  type Interventions,
  messageOf,
  type Prediction,
  type TokenProbability,
  type Uses,
} from '../../workers/api/index.ts';
import { Newest } from '../newest.ts';
import { states } from '../states.ts';
import { alerts, blocks, buttons, theme } from '../theme.ts';
import { describeToken, formatPercent } from '../visible-token.ts';
import './next-token-chart.ts';
import { styleProperties } from '../style-properties.ts';
import { droppedNote } from './dropped-note.ts';
import { define } from '../define.ts';

/** The part of the engine this element talks to. */
export type ExperimentsClient = Uses<'inspector', 'odds'>;

/** The three forward passes shown: the model as trained, without the mask, with the chosen heads zeroed. */
type Run = 'normal' | 'unmasked' | 'ablated';

const RUNS: Run[] = ['normal', 'unmasked', 'ablated'];

interface RunState {
  inspection: PromptOdds | null;
  error: string;
}

const IDLE: RunState = { inspection: null, error: '' };

/** Total variation distance: half the summed absolute differences, i.e. how much probability moved. */
export function totalVariation(p: Float32Array, q: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < p.length; i++) sum += Math.abs(p[i]! - q[i]!);
  return sum / 2;
}

/**
 * Both inspections' predictions over the same tokens (those in either's top
 * list, likeliest in either first), so the two charts show the same rows.
 */
export function comparedPredictions(before: PromptOdds, after: PromptOdds): [Prediction, Prediction] {
  const tokens = new Map<number, string>();
  for (const { id, token } of [...before.top, ...after.top]) tokens.set(id, token);
  const ids = [...tokens.keys()];
  const larger = (id: number) => Math.max(before.next[id]!, after.next[id]!);
  ids.sort((a, b) => larger(b) - larger(a));
  const predictionOf = (inspection: PromptOdds): Prediction => {
    const top: TokenProbability[] = ids.map((id) => ({ id, token: tokens.get(id)!, prob: inspection.next[id]! }));
    const shown = top.reduce((sum, { prob }) => sum + prob, 0);
    return { top, rest: Math.max(0, 1 - shown), probs: inspection.next, contextLength: inspection.ids.length };
  };
  return [predictionOf(before), predictionOf(after)];
}

/** One sentence on what changed from `before` to `after`; `subject` says under what ("Without the mask"). */
export function describeChange(subject: string, before: PromptOdds, after: PromptOdds): string {
  const was = before.top[0];
  const now = after.top[0];
  if (!was || !now) return '';
  const moved = `In all, ${formatPercent(totalVariation(before.next, after.next))} of the probability moved (total variation distance).`;
  const odds = (id: number) => `${formatPercent(before.next[id]!)} → ${formatPercent(after.next[id]!)}`;
  if (was.id === now.id) return `${subject}, the top token stays ${describeToken(was.token)} (${odds(was.id)}). ${moved}`;
  return (
    `${subject}, the top token changes from ${describeToken(was.token)} (${odds(was.id)}) ` +
    `to ${describeToken(now.token)} (${odds(now.id)}). ${moved}`
  );
}

const sameTokens = (a: PromptOdds, b: PromptOdds): boolean =>
  a.ids.length === b.ids.length && a.ids.every((id, i) => id === b.ids[i]);

const plural = (count: number, one: string, many: string) => `${count} ${count === 1 ? one : many}`;

export class AttentionExperiments extends LitElement {
  static override properties = {
    client: { attribute: false },
    text: {},
    ...states('maskOff', 'ablated', 'runs'),
  };

  declare client: ExperimentsClient | null;
  declare text: string;
  declare private maskOff: boolean;
  /** Heads to zero, as layer · nHead + head. */
  declare private ablated: ReadonlySet<number>;
  declare private runs: Record<Run, RunState>;

  /** Each run's newest request wins; answers to older ones are dropped. */
  private readonly asks: Record<Run, Newest<PromptOdds>> = {
    normal: new Newest(this),
    unmasked: new Newest(this),
    ablated: new Newest(this),
  };

  constructor() {
    super();
    this.client = null;
    this.text = '';
    this.maskOff = false;
    this.ablated = new Set();
    this.runs = { normal: IDLE, unmasked: IDLE, ablated: IDLE };
  }

  // Before rendering, so the busy state shows in the same update.
  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('client') || changed.has('text')) for (const run of RUNS) void this.load(run);
  }

  private interventions(run: Run): Interventions | undefined | null {
    if (run === 'normal') return undefined;
    if (run === 'unmasked') return this.maskOff ? { causalMask: false } : null;
    return this.ablated.size ? { ablate: this.ablatePairs() } : null;
  }

  private ablatePairs(): [number, number][] {
    const nHead = this.runs.normal.inspection?.config.nHead ?? 1;
    return [...this.ablated].sort((a, b) => a - b).map((index) => [Math.floor(index / nHead), index % nHead]);
  }

  /** Inspects the prompt for one run (null interventions: that experiment is off, nothing to run). */
  private async load(run: Run): Promise<void> {
    const ask = this.asks[run];
    const client = this.client;
    const interventions = this.interventions(run);
    if (!client || interventions === null) {
      ask.drop();
      this.setRun(run, IDLE);
      return;
    }
    this.setRun(run, { error: '' });
    await ask.ask(
      () => client.inspector.odds(this.text, interventions),
      (answer) => {
        if (answer.error !== undefined) {
          this.setRun(run, { error: messageOf(answer.error) });
          return;
        }
        if (run === 'normal') this.keepHeadsOf(answer.value);
        this.setRun(run, { inspection: answer.value });
      },
    );
  }

  /** Another model has other heads: the chosen ones no longer mean anything, so none stay chosen. */
  private keepHeadsOf(inspection: PromptOdds): void {
    const previous = this.runs.normal.inspection?.config;
    const { nLayer, nHead } = inspection.config;
    if (!previous || (previous.nLayer === nLayer && previous.nHead === nHead) || !this.ablated.size) return;
    this.ablated = new Set();
    void this.load('ablated');
  }

  private setRun(run: Run, change: Partial<RunState>): void {
    this.runs = { ...this.runs, [run]: { ...this.runs[run], ...change } };
  }

  private toggleMask(): void {
    this.maskOff = !this.maskOff;
    void this.load('unmasked');
  }

  private chooseHeads(heads: ReadonlySet<number>): void {
    this.ablated = heads;
    void this.load('ablated');
  }

  private toggleHead(index: number): void {
    const heads = new Set(this.ablated);
    if (!heads.delete(index)) heads.add(index);
    this.chooseHeads(heads);
  }

  /** Zeroes every head of the layer, or none of them when all already are. */
  private toggleLayer(layer: number, nHead: number): void {
    const indices = Array.from({ length: nHead }, (_, head) => layer * nHead + head);
    const all = indices.every((index) => this.ablated.has(index));
    const heads = new Set(this.ablated);
    for (const index of indices) {
      if (all) heads.delete(index);
      else heads.add(index);
    }
    this.chooseHeads(heads);
  }

  /** Arrow keys move between the head buttons, as in a table. */
  private onGridKey(event: KeyboardEvent): void {
    const steps: Record<string, [number, number]> = {
      ArrowUp: [-1, 0],
      ArrowDown: [1, 0],
      ArrowLeft: [0, -1],
      ArrowRight: [0, 1],
    };
    const step = steps[event.key];
    const from = (event.target as HTMLElement).closest<HTMLElement>('[data-layer]');
    if (!step || !from) return;
    const layer = Number(from.dataset.layer) + step[0];
    const head = Number(from.dataset.head) + step[1];
    const to = this.renderRoot.querySelector<HTMLElement>(`[data-layer="${layer}"][data-head="${head}"]`);
    if (!to) return;
    event.preventDefault();
    to.focus();
  }

  static override styles = [
    theme,
    alerts,
    buttons,
    blocks,
    css`
      h4 {
        margin: 0;
        font-size: 1rem;
      }
      h5 {
        margin: 0 0 0.35rem;
        font-size: 0.85rem;
        font-weight: 600;
      }
      .actions {
        display: flex;
        flex-wrap: wrap;
        gap: 0.6rem;
        align-items: center;
        margin: 0.6rem 0;
      }
      .heads {
        display: grid;
        grid-template-columns: auto repeat(var(--heads), minmax(2.2rem, auto)) auto;
        gap: 0.3rem;
        align-items: center;
        justify-content: start;
        margin: 0.6rem 0;
      }
      .heads button {
        padding: 0.3rem 0.6rem;
      }
      .heads .layer-name,
      .heads .heads-name {
        font-size: 0.8rem;
        color: var(--_muted);
      }
      .heads .heads-name {
        grid-column: 2 / span var(--heads);
        text-align: center;
      }
      .compare {
        display: grid;
        grid-template-columns: repeat(auto-fit, minmax(14rem, 1fr));
        gap: 1rem;
        margin-top: 0.6rem;
      }
      .compare[aria-busy='true'] llm-next-token-chart {
        opacity: 0.55;
      }
      .change {
        margin: 0.6rem 0 0;
        line-height: 1.45;
      }
      .status {
        font-size: 0.85rem;
        color: var(--_muted);
        margin: 0.4rem 0 0;
        min-height: 1.2em;
      }
      @media (prefers-reduced-motion: no-preference) {
        .compare llm-next-token-chart {
          transition: opacity 120ms ease-out;
        }
      }
    `,
  ];

  override render() {
    const normal = this.runs.normal.inspection;
    return html`${normal ? droppedNote(normal.dropped, normal.tokens.length) : nothing}${this.renderMask()}${this.renderAblation()}`;
  }

  /**
   * The mask toggle is pressed while the mask is on. Its accessible name stays "Causal mask" (a screen reader adds
   * "pressed" or "not pressed"); its visible text adds the state in words.
   */
  private renderMask() {
    const { normal, unmasked } = this.runs;
    return html`
      <section class="block" part="mask-experiment" aria-labelledby="mask-title">
        <h4 id="mask-title">Switch the causal mask off</h4>
        <p class="caption">
          The mask lets each token look only at itself and the tokens before it. Switch it off and every token also
          sees the ones after it. The model was trained with the mask, so it never learnt what to do with the future:
          the earlier tokens' vectors turn into mixtures it has never seen, and later layers pass that on to the last
          token, whose prediction drifts. (The last token had nothing after it anyway, so a one-layer model predicts
          the same.)
        </p>
        <div class="actions">
          <button part="mask-toggle" aria-label="Causal mask" aria-pressed=${this.maskOff ? 'false' : 'true'} @click=${this.toggleMask}>
            Causal mask: ${this.maskOff ? 'off' : 'on'}
          </button>
        </div>
        ${this.renderError(normal.error || unmasked.error)}
        ${
          this.maskOff
            ? this.renderComparison({
                run: 'unmasked',
                before: normal.inspection,
                after: unmasked.inspection,
                titles: ['With the mask (as trained)', 'Without the mask'],
                parts: ['mask-normal-chart', 'mask-off-chart', 'mask-change'],
                subject: 'Without the mask',
                doing: 'Running the prompt without the mask…',
              })
            : html`<p class="status" part="status">Switch the causal mask off to run the prompt without it.</p>`
        }
      </section>
    `;
  }

  private renderAblation() {
    const { normal, ablated } = this.runs;
    const shape = normal.inspection?.config;
    const count = this.ablated.size;
    return html`
      <section class="block" part="ablate-experiment" aria-labelledby="ablate-title">
        <h4 id="ablate-title">Ablate heads</h4>
        <p class="caption">
          Zero a head's output and the rest of the model carries on without it. Heads that barely change the
          prediction did little for this prompt; a big change shows which heads it relies on.
        </p>
        ${shape ? this.renderGrid(shape.nLayer, shape.nHead) : nothing}
        ${this.renderError(normal.error || ablated.error)}
        ${
          count
            ? this.renderComparison({
                run: 'ablated',
                before: normal.inspection,
                after: ablated.inspection,
                titles: ['All heads', `${plural(count, 'head', 'heads')} zeroed`],
                parts: ['ablate-before-chart', 'ablate-after-chart', 'ablate-change'],
                subject: `With ${plural(count, 'head', 'heads')} zeroed`,
                doing: `Running the prompt with ${plural(count, 'head', 'heads')} zeroed…`,
              })
            : html`<p class="status" part="status">
              ${shape ? 'Choose heads to zero.' : normal.error ? '' : 'Waiting for the model…'}
            </p>`
        }
      </section>
    `;
  }

  private renderGrid(nLayer: number, nHead: number) {
    const layers = Array.from({ length: nLayer }, (_, layer) => layer);
    const heads = Array.from({ length: nHead }, (_, head) => head);
    return html`
      <div class="heads" part="heads" role="group" aria-label="Heads to zero" ${styleProperties({ '--heads': nHead })} @keydown=${this.onGridKey}>
        <span></span>
        <span class="heads-name" aria-hidden="true">heads</span>
        <span></span>
        ${layers.map((layer) => {
          const all = heads.every((head) => this.ablated.has(layer * nHead + head));
          return html`
            <span class="layer-name" aria-hidden="true">layer ${layer + 1}</span>
            ${heads.map((head) => {
              const index = layer * nHead + head;
              return html`<button
                part="head"
                data-layer=${layer}
                data-head=${head}
                aria-label="layer ${layer + 1}, head ${head + 1}"
                aria-pressed=${this.ablated.has(index) ? 'true' : 'false'}
                @click=${() => this.toggleHead(index)}
              >
                ${head + 1}
              </button>`;
            })}
            <button
              part="layer-all"
              aria-label="all heads of layer ${layer + 1}"
              aria-pressed=${all ? 'true' : 'false'}
              @click=${() => this.toggleLayer(layer, nHead)}
            >
              all heads
            </button>
          `;
        })}
      </div>
      <div class="actions">
        <button part="clear" ?disabled=${!this.ablated.size} @click=${() => this.chooseHeads(new Set())}>Clear</button>
      </div>
    `;
  }

  private renderComparison(shown: {
    run: Run;
    before: PromptOdds | null;
    after: PromptOdds | null;
    titles: [string, string];
    parts: [string, string, string];
    subject: string;
    doing: string;
  }) {
    const { before, after, titles, parts } = shown;
    const ready = before && after && sameTokens(before, after);
    const [left, right] = ready ? comparedPredictions(before, after) : [null, null];
    const busy = this.asks.normal.busy || this.asks[shown.run].busy;
    return html`
      <div class="compare" aria-busy=${busy ? 'true' : 'false'}>
        <div>
          <h5>${titles[0]}</h5>
          <llm-next-token-chart part=${parts[0]} .prediction=${left}></llm-next-token-chart>
        </div>
        <div>
          <h5>${titles[1]}</h5>
          <llm-next-token-chart part=${parts[1]} .prediction=${right}></llm-next-token-chart>
        </div>
      </div>
      ${ready ? html`<p class="change" part=${parts[2]}>${describeChange(shown.subject, before, after)}</p>` : nothing}
      <p class="status" part="status" role="status">${busy ? shown.doing : ''}</p>
    `;
  }

  private renderError(message: string) {
    return message ? html`<p class="error" part="error" role="alert">${message}</p>` : nothing;
  }
}

define('llm-attention-experiments', AttentionExperiments);

declare global {
  interface HTMLElementTagNameMap {
    'llm-attention-experiments': AttentionExperiments;
  }
}
