/**
 * <llm-backend-picker>: what runs the model, the CPU or WebGPU, and on which
 * GPU adapter, with a choice of Auto / CPU / WebGPU and of the CPU's thread
 * count. It asks `client` which backend runs as soon as it gets one, and
 * switches through it; the switch itself (weights and optimizer state carried
 * across) and the threads happen in the worker.
 * Closed, it is one line ("Runs on: the CPU (WebAssembly) × 4 threads"); the adapter, the reason and the choices
 * are inside. What the user must see stays outside, visible while closed: a failed switch, a backend change the
 * worker made by itself (the GPU failed), the CPU running JavaScript because WebAssembly was refused, and why the
 * CPU runs on fewer threads than asked (the page is not cross-origin isolated, or a thread failed).
 *
 * Properties:
 *   client  the engine client (EngineClient, or anything with the BackendClient slice: backend.info(),
 *           backend.choose() and backend.threads())
 *   info    BackendInfo | null: what runs now. Set from outside too, e.g. when training fell back
 *           to the CPU by itself; the reason is then shown as a warning.
 * Methods: choose(choice) switches, as the user picking it does (the playground's `backend` attribute uses it);
 *   useThreads(count) runs the CPU on count threads (0: all the hardware's), as picking it does.
 * Events: llm-backend-change (bubbles, composed; detail: BackendInfo), after a switch or a thread count the user asked for.
 * Parts: runs-on (the <details>), runs-on-summary (its one line), runs-on-backend (what runs, in that line), picker,
 *   select, status, adapter, software, reason, threads (the thread row), threads-select, cpu-refused (why the CPU
 *   runs JavaScript, not WebAssembly), threads-note (why the CPU runs on fewer threads than asked), error.
 */
import { css, html, LitElement, nothing, type PropertyValues } from 'lit';
import { live } from 'lit/directives/live.js';
import { emit } from '../events.ts';
import { Newest } from '../newest.ts';
import { states } from '../states.ts';
import { selects, theme } from '../theme.ts';
import { type BackendChoice, type BackendInfo, messageOf, type Uses } from '../../workers/api/index.ts';
import { define } from '../define.ts';

/** The part of the engine this element talks to. */
export type BackendClient = Uses<'backend', 'info' | 'choose' | 'threads'>;

const CHOICES: { choice: BackendChoice; label: string }[] = [
  { choice: 'auto', label: 'Auto' },
  { choice: 'cpu', label: 'CPU' },
  { choice: 'webgpu', label: 'WebGPU' },
];

const NO_WEBGPU = 'WebGPU is not available here: this browser has no WebGPU or found no GPU adapter.';

export class BackendPicker extends LitElement {
  static override properties = {
    client: { attribute: false },
    info: { attribute: false },
    ...states('pending', 'pendingThreads', 'error', 'changedItself'),
  };

  declare client: BackendClient | null;
  declare info: BackendInfo | null;
  /** The choice being switched to; null when no switch is in flight. */
  declare private pending: BackendChoice | null;
  /** The thread count being set (0: all); null when none is. */
  declare private pendingThreads: number | null;
  declare private error: string;
  /** The last info came from outside and moved to another backend: the worker switched by itself. */
  declare private changedItself: boolean;

  /** Asking what runs and switching: an older answer must not overwrite a newer switch, nor an old client's a new one's. */
  private readonly backendAsk = new Newest<BackendInfo>(this);
  /** The info this element set itself, to tell it apart from info set from outside. */
  private ownInfo: BackendInfo | null = null;

  constructor() {
    super();
    this.client = null;
    this.info = null;
    this.pending = null;
    this.pendingThreads = null;
    this.error = '';
    this.changedItself = false;
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('info') && this.info !== this.ownInfo) {
      const before = changed.get('info') as BackendInfo | null | undefined;
      this.changedItself = !!before && !!this.info && before.active !== this.info.active;
    }
    // Asked here, not in updated(): the update Newest requests when the ask starts is this one, not a second.
    if (changed.has('client')) void this.ask();
  }

  private async ask(): Promise<void> {
    const client = this.client;
    if (!client) return this.backendAsk.drop();
    await this.backendAsk.ask(
      () => client.backend.info(),
      (answer) => {
        if (answer.error !== undefined) this.error = `Could not tell which backend runs: ${messageOf(answer.error)}`;
        else this.show(answer.value);
      },
    );
  }

  /** Switches to `choice`; on failure the error is shown and the backend that ran before stays shown. */
  async choose(choice: BackendChoice): Promise<void> {
    const client = this.client;
    if (!client || this.busy) return;
    if (!CHOICES.some((entry) => entry.choice === choice)) {
      this.error = `There is no backend called "${choice}": use auto, cpu or webgpu.`;
      return;
    }
    this.pending = choice;
    await this.change(() => client.backend.choose(choice), `switch to ${labelOf(choice)}`);
    // Also when the answer was dropped (a newer ask, or a new model): the switch is no longer under way.
    this.pending = null;
  }

  /** Runs the CPU on `count` threads (0: all the hardware's); on failure the error is shown and the count before stays. */
  async useThreads(count: number): Promise<void> {
    const client = this.client;
    if (!client || this.busy) return;
    this.pendingThreads = count;
    await this.change(() => client.backend.threads(count), `run the CPU on ${threadsChoice(count, this.info?.cpu?.threads.max)}`);
    this.pendingThreads = null;
  }

  /** Asks the worker for a change (`what` it is, for the error); shows the answer and tells the page, or shows why not. */
  private async change(request: () => Promise<BackendInfo>, what: string): Promise<void> {
    this.error = '';
    await this.backendAsk.ask(request, (answer) => {
      // Done changing in the same task as the answer shows: a render shows both or neither.
      this.pending = null;
      this.pendingThreads = null;
      if (answer.error !== undefined) {
        this.error = `Could not ${what}: ${messageOf(answer.error)}`;
      } else {
        this.show(answer.value);
        emit(this, 'llm-backend-change', answer.value);
      }
    });
  }

  /** A switch or a thread count is being set: the choices wait. */
  private get busy(): boolean {
    return this.pending !== null || this.pendingThreads !== null;
  }

  private show(info: BackendInfo): void {
    this.ownInfo = info;
    this.info = info;
    this.changedItself = false;
  }

  static override styles = [
    theme,
    selects,
    css`
      summary {
        width: fit-content;
        font-size: 0.9rem;
        cursor: pointer;
      }
      .runs-on-label {
        font-weight: 600;
      }
      .runs-on[open] > summary {
        margin-bottom: 0.35rem;
      }
      .picker {
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: 0.35rem 0.6rem;
      }
      label {
        font-weight: 600;
        font-size: 0.9rem;
      }
      select:disabled {
        opacity: 0.6;
      }
      .status {
        font-size: 0.9rem;
      }
      .adapter {
        font-family: var(--_mono);
        font-size: 0.85rem;
        color: var(--_muted);
      }
      .software {
        display: inline-block;
        margin-left: 0.35rem;
        padding: 0 0.4rem;
        border: 1px solid var(--_warning);
        border-radius: 999px;
        font-family: var(--_font);
        font-size: 0.75rem;
        color: var(--_warning);
      }
      .spinner {
        display: inline-block;
        width: 0.8em;
        height: 0.8em;
        margin-right: 0.3em;
        vertical-align: -0.1em;
        border: 2px solid var(--_border);
        border-top-color: var(--_accent);
        border-radius: 50%;
        animation: spin 0.8s linear infinite;
      }
      @keyframes spin {
        to {
          transform: rotate(360deg);
        }
      }
      @media (prefers-reduced-motion: reduce) {
        .spinner {
          animation: none;
        }
      }
      .reason,
      .caption,
      .error {
        margin: 0.2rem 0 0;
        font-size: 0.8rem;
      }
      .reason {
        color: var(--_muted);
      }
      .reason.warning {
        color: var(--_warning);
      }
      .error {
        color: var(--_error);
      }
      .threads {
        margin-top: 0.5rem;
      }
    `,
  ];

  override render() {
    const info = this.info;
    const busy = this.busy;
    const webgpuAvailable = info?.webgpuAvailable ?? false;
    // While switching, the choice being switched to; after a failed switch, the one that still runs.
    const shown = this.pending ?? info?.choice ?? 'auto';
    // A change the worker made by itself (the GPU failed) is news: it shows on the closed line's level, as an alert.
    const reason =
      info && !busy
        ? html`<p
            id="reason"
            class="reason ${this.changedItself ? 'warning' : ''}"
            part="reason"
            role=${this.changedItself ? 'alert' : nothing}
          >
            ${info.reason}
          </p>`
        : nothing;
    return html`
      <details class="runs-on" part="runs-on">
        <summary part="runs-on-summary">
          <span class="runs-on-label">Runs on:</span> <span part="runs-on-backend">${this.runsOn()}</span>
        </summary>
        <div class="picker" part="picker" aria-busy=${busy ? 'true' : 'false'}>
          <label for="backend">Run the model on</label>
          <select
            id="backend"
            part="select"
            aria-describedby="status reason"
            ?disabled=${busy || !this.client || !info}
            @change=${(event: Event) => this.choose((event.target as HTMLSelectElement).value as BackendChoice)}
          >
            ${CHOICES.map(
              ({ choice, label }) => html`<option
                value=${choice}
                .selected=${live(choice === shown)}
                ?disabled=${choice === 'webgpu' && !webgpuAvailable}
                title=${choice === 'webgpu' && !webgpuAvailable ? NO_WEBGPU : nothing}
              >
                ${choice === 'webgpu' && info && !webgpuAvailable ? `${label} (not available)` : label}
              </option>`,
            )}
          </select>
          <span id="status" class="status" part="status" role="status">${this.renderStatus()}</span>
        </div>
        ${this.changedItself ? nothing : reason}
        <p class="caption">
          ${
            info && !webgpuAvailable
              ? NO_WEBGPU
              : `Auto uses WebGPU on a real graphics card and the CPU otherwise: a software GPU only imitates one on the
              CPU, and is slower than running on the CPU directly.`
          }
        </p>
        ${this.renderThreads()}
      </details>
      ${this.changedItself ? reason : nothing}
      ${
        info?.active === 'cpu' && info.cpu?.refused && !busy
          ? html`<p class="reason warning" part="cpu-refused">${info.cpu.refused}</p>`
          : nothing
      }
      ${this.renderThreadsNote()}
      ${this.error ? html`<p class="error" part="error" role="alert">${this.error}</p>` : nothing}
    `;
  }

  /** The CPU's thread count: All (the most this page can run), or 1 to that; one only, disabled, with the note. */
  private renderThreads() {
    const threads = this.info?.cpu?.threads;
    if (!threads) return nothing;
    const { asked, max } = threads;
    const shown = this.pendingThreads ?? Math.min(asked, max);
    const counts = Array.from({ length: max }, (_, i) => i + 1);
    return html`<div class="picker threads" part="threads">
      <label for="threads">CPU threads</label>
      <select
        id="threads"
        part="threads-select"
        aria-describedby=${threads.note ? 'threads-note' : nothing}
        ?disabled=${this.busy || !this.client || max <= 1}
        @change=${(event: Event) => this.useThreads(Number((event.target as HTMLSelectElement).value))}
      >
        <option value="0" .selected=${live(shown === 0)}>All (${max})</option>
        ${counts.map((count) => html`<option value=${count} .selected=${live(shown === count)}>${count}</option>`)}
      </select>
    </div>`;
  }

  /** Why the CPU runs on fewer threads than asked, while it runs the model: a failed thread is news, a warning. */
  private renderThreadsNote() {
    const info = this.info;
    const note = info?.active === 'cpu' && !this.busy ? info.cpu?.threads.note : undefined;
    if (!note) return nothing;
    const failed = info!.cpu!.threads.max > 1;
    return html`<p id="threads-note" class="reason ${failed ? 'warning' : ''}" part="threads-note">${note}</p>`;
  }

  /** The closed line's few words: what runs, in what, and on how many threads when more than one. */
  private runsOn(): string {
    if (this.pending) return `switching to ${labelOf(this.pending)}…`;
    const info = this.info;
    if (!info) return this.client && !this.error ? 'asking…' : 'not known yet';
    if (info.active === 'webgpu') return info.adapter ? `WebGPU (${info.adapter.name})` : 'WebGPU';
    if (this.pendingThreads !== null) return `the CPU, going to ${threadsChoice(this.pendingThreads, info.cpu?.threads.max)}…`;
    return info.cpu ? `the CPU (${info.cpu.code})${timesThreads(info.cpu.threads.count)}` : 'the CPU';
  }

  private renderStatus() {
    if (this.pending) return html`<span class="spinner" aria-hidden="true"></span>Switching to ${labelOf(this.pending)}…`;
    if (this.pendingThreads !== null) {
      const count = threadsChoice(this.pendingThreads, this.info?.cpu?.threads.max);
      return html`<span class="spinner" aria-hidden="true"></span>Going to ${count}…`;
    }
    const info = this.info;
    if (!info) {
      if (!this.client) return 'Not connected to the model yet.';
      return this.error ? 'Which backend runs is not known.' : 'Asking which backend runs…';
    }
    const adapter = info.adapter
      ? html`<span class="adapter" part="adapter"
          >${info.adapter.name}${
            info.adapter.software
              ? html` <span class="software" part="software" title="This GPU is imitated in software on the CPU."
                  >software</span
                >`
              : nothing
          }</span
        >`
      : nothing;
    if (info.active === 'webgpu') return html`Running on WebGPU · ${adapter}`;
    const cpu = info.cpu ? ` in ${info.cpu.code}${timesThreads(info.cpu.threads.count)}` : '';
    return info.adapter ? html`Running on the CPU${cpu} (GPU adapter ${adapter}, not used)` : `Running on the CPU${cpu}`;
  }
}

const labelOf = (choice: BackendChoice): string => CHOICES.find((entry) => entry.choice === choice)!.label;

/** " × 4 threads" after what the CPU runs in; nothing for one. */
const timesThreads = (count: number): string => (count > 1 ? ` × ${count} threads` : '');

/** A thread count asked for, in words: "all 8 threads", "1 thread", "3 threads". */
const threadsChoice = (count: number, max: number | undefined): string =>
  count === 0 ? (max ? `all ${max} threads` : 'all threads') : count === 1 ? '1 thread' : `${count} threads`;

define('llm-backend-picker', BackendPicker);

declare global {
  interface HTMLElementTagNameMap {
    'llm-backend-picker': BackendPicker;
  }
}
