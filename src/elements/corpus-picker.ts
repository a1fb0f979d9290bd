/**
 * <llm-corpus-picker>: the text a model will learn from: the built-in corpus,
 * pasted text, a .txt file (chosen or dropped), or a file at a URL. It hands a
 * file over unread and checks only the size of pasted text itself (so a huge
 * paste is never sent): the worker reads and checks the rest, and the panel
 * passes back a summary or an error to show, and how far the reading got.
 *
 * Properties: summary (CorpusSummary | null), error (string), webPage (the error
 *   says the corpus is a web page: offer its text), busy, progress (ReadProgress | null,
 *   while busy), disabled.
 * Events (bubble, composed): llm-corpus-change (detail: CorpusSource), llm-corpus-cancel
 *   (Cancel while busy).
 * Parts: kinds, paste, file, drop-zone, url, corpus-summary, vocabulary, families, corpus-error,
 *   use-page-text, corpus-cancel, read-progress, read-progress-bar, read-progress-text.
 */
import { css, html, LitElement, nothing } from 'lit';
import {
  type CorpusFamilySummary,
  type CorpusSource,
  type CorpusSummary,
  pastedTextOverLimit,
  type ReadProgress,
  UNKNOWN_TOKEN,
} from '../../workers/api/index.ts';
import { emit } from '../events.ts';
import { count } from '../format.ts';
import { states } from '../states.ts';
import { buttons, inputs, tables, theme } from '../theme.ts';
import { describeToken, showText, visibleToken } from '../visible-token.ts';
import { readProgressStyles, renderReadProgress } from './read-progress.ts';
import { define } from '../define.ts';

type Kind = CorpusSource['kind'];

const KINDS: { kind: Kind; label: string }[] = [
  { kind: 'builtin', label: 'Built-in' },
  { kind: 'text', label: 'Paste text' },
  { kind: 'file', label: 'A .txt file' },
  { kind: 'url', label: 'From a URL' },
];

export class CorpusPicker extends LitElement {
  static override properties = {
    summary: { attribute: false },
    error: { type: String },
    webPage: { type: Boolean },
    busy: { type: Boolean },
    progress: { attribute: false },
    disabled: { type: Boolean },
    ...states('kind', 'dragging', 'refused'),
  };

  declare summary: CorpusSummary | null;
  declare error: string;
  declare webPage: boolean;
  declare busy: boolean;
  declare progress: ReadProgress | null;
  declare disabled: boolean;
  declare private kind: Kind;
  declare private dragging: boolean;
  /** Why the picker itself refused the last text (too big to send); cleared by the next choice. */
  declare private refused: string;
  /** The last source sent: "Use its text" sends it again as a web page's text. */
  private sent: CorpusSource | null = null;

  constructor() {
    super();
    this.summary = null;
    this.error = '';
    this.webPage = false;
    this.busy = false;
    this.progress = null;
    this.disabled = false;
    this.kind = 'builtin';
    this.dragging = false;
    this.refused = '';
  }

  static override styles = [
    theme,
    buttons,
    inputs,
    tables,
    readProgressStyles,
    css`
      fieldset {
        border: 0;
        padding: 0;
        margin: 0;
        display: flex;
        flex-wrap: wrap;
        gap: 0.4rem 1rem;
      }
      legend {
        font-weight: 600;
        margin-bottom: 0.3rem;
      }
      .source {
        margin-top: 0.6rem;
      }
      textarea {
        min-height: 6rem;
        resize: vertical;
      }
      .row {
        display: flex;
        gap: 0.5rem;
        align-items: center;
        margin-top: 0.4rem;
      }
      .drop {
        border: 2px dashed var(--_border);
        border-radius: var(--_radius);
        padding: 1rem;
        text-align: center;
      }
      .drop.dragging {
        border-color: var(--_accent);
      }
      button {
        white-space: nowrap;
      }
      .summary {
        margin: 0.6rem 0 0;
        font-size: 0.9rem;
      }
      .vocabulary {
        display: flex;
        flex-wrap: wrap;
        gap: 3px;
        list-style: none;
        margin: 0.4rem 0 0;
        padding: 0;
        max-height: 7rem;
        overflow-y: auto;
      }
      .error {
        margin: 0.6rem 0 0;
        color: var(--_error);
      }
      table {
        margin-top: 0.6rem;
      }
    `,
  ];

  override render() {
    return html`
      <fieldset part="kinds" ?disabled=${this.disabled}>
        <legend>Corpus: the text the model learns from</legend>
        ${KINDS.map(
          ({ kind, label }) => html`<label>
            <input type="radio" name="kind" value=${kind} .checked=${this.kind === kind} @change=${() => this.choose(kind)} />
            ${label}
          </label>`,
        )}
      </fieldset>
      <div class="source">${this.renderSource()}</div>
      ${this.busy ? this.renderReading() : this.renderResult()}
    `;
  }

  private renderSource() {
    switch (this.kind) {
      case 'builtin':
        return html`<p class="caption">
          Simple English made up by our own code: gendered pairs (the king, the queen), one and many (a cat, two cats),
          adjectives before nouns ("the tall old tower"), words whose meaning depends on the words before them (mole,
          tower, Harry, bank, bat), athletes and landmarks stated in many ways, and short dialogues.
        </p>`;
      case 'text':
        return html`<label class="caption" for="paste">Paste at least a page of text (more is better).</label>
          <textarea id="paste" part="paste" spellcheck="false" ?disabled=${this.disabled}></textarea>
          <div class="row">
            <button ?disabled=${this.disabled} @click=${this.usePasted}>Use this text</button>
          </div>`;
      case 'file':
        return html`<div
          class="drop ${this.dragging ? 'dragging' : ''}"
          part="drop-zone"
          @dragover=${this.onDragOver}
          @dragleave=${() => (this.dragging = false)}
          @drop=${this.onDrop}
        >
          <label for="file">Drop a plain-text file here, or choose one:</label>
          <input id="file" part="file" type="file" accept=".txt,text/plain" ?disabled=${this.disabled} @change=${this.onFileChosen} />
        </div>`;
      case 'url':
        return html`<label class="caption" for="url">
            The address of a plain-text file. Your browser downloads it, so it needs a network, and the site must allow
            other pages to read its files.
          </label>
          <div class="row">
            <input id="url" part="url" type="url" placeholder="https://example.org/book.txt" ?disabled=${this.disabled}
              @keydown=${(event: KeyboardEvent) => event.key === 'Enter' && this.useUrl()} />
            <button ?disabled=${this.disabled} @click=${this.useUrl}>Fetch</button>
          </div>`;
    }
  }

  private renderReading() {
    return html`<p class="summary" role="status">Reading the text…</p>
      <div class="row">
        ${renderReadProgress(this.progress, 'Corpus')}
        <button part="corpus-cancel" @click=${() => emit(this, 'llm-corpus-cancel', {})}>Cancel</button>
      </div>`;
  }

  private renderResult() {
    if (this.refused) return html`<p class="error" part="corpus-error" role="alert">${showText(this.refused)}</p>`;
    if (this.error) {
      return html`<p class="error" part="corpus-error" role="alert">${showText(this.error)}</p>
        ${
          this.webPage && this.sent && this.sent.kind !== 'builtin'
            ? html`<div class="row">
              <button part="use-page-text" ?disabled=${this.disabled} @click=${this.usePageText}>Use its text</button>
              <span class="caption">Tags, scripts and styles dropped.</span>
            </div>`
            : nothing
        }`;
    }
    const summary = this.summary;
    if (!summary) return nothing;
    const share = (summary.validationTokens / summary.tokens) * 100;
    return html`
      <p class="summary" part="corpus-summary">
        <strong>${showText(summary.name)}</strong>: ${count(summary.characters)} characters
        ${
          summary.tokenizer === 'bpe'
            ? `(${count(summary.bytes)} bytes), ${count(summary.tokens)} word-piece tokens: ${(summary.characters / summary.tokens).toFixed(1)} characters per token.`
            : 'so as many tokens.'
        }
        The model learns from the first ${count(summary.trainTokens)}; the last ${count(summary.validationTokens)}
        (${share.toFixed(0)}%) are held out to check it on text it never trained on. Its vocabulary is the
        ${count(summary.vocabulary.length)} tokens below${this.vocabularyNote(summary.vocabulary)}:
      </p>
      <ol class="vocabulary" part="vocabulary" aria-label="Vocabulary" tabindex="0">
        ${summary.vocabulary.map((token) => html`<li class="token-chip" title=${describeToken(token)}>${visibleToken(token)}</li>`)}
      </ol>
      ${summary.families.length ? this.renderFamilies(summary.families) : nothing}
    `;
  }

  /** What the first tokens are: the unknown token, or a word-piece vocabulary's 256 bytes. */
  private vocabularyNote(vocabulary: string[]): string {
    const bpe = this.summary?.tokenizer === 'bpe';
    if (vocabulary[0] !== UNKNOWN_TOKEN) return bpe ? ' (the first 256 are the single bytes, then come the merged pieces)' : '';
    return ` (the first, "${visibleToken(UNKNOWN_TOKEN)}", stands for any other ${bpe ? 'byte' : 'character'})`;
  }

  private renderFamilies(families: CorpusFamilySummary[]) {
    return html`<table part="families">
      <caption>
        What the built-in corpus is made of
      </caption>
      <thead>
        <tr>
          <th scope="col">Paragraphs of</th>
          <th scope="col">For example</th>
          <th scope="col">Paragraphs</th>
          <th scope="col">Characters</th>
        </tr>
      </thead>
      <tbody>
        ${families.map(
          ({ name, example, paragraphs, characters }) =>
            html`<tr>
              <td>${showText(name)}</td>
              <td>${showText(example)}</td>
              <td class="number">${count(paragraphs)}</td>
              <td class="number">${count(characters)}</td>
            </tr>`,
        )}
      </tbody>
    </table>`;
  }

  private choose(kind: Kind): void {
    this.kind = kind;
    if (kind === 'builtin') this.send({ kind: 'builtin' });
  }

  private send(source: CorpusSource): void {
    this.refused = '';
    this.sent = source;
    emit(this, 'llm-corpus-change', source);
  }

  private usePasted(): void {
    const text = this.renderRoot.querySelector<HTMLTextAreaElement>('#paste')!.value;
    const name = 'Your text';
    const tooBig = pastedTextOverLimit(text, name);
    if (tooBig) this.refused = tooBig;
    else this.send({ kind: 'text', text, name });
  }

  private useUrl(): void {
    const typed = this.renderRoot.querySelector<HTMLInputElement>('#url')!.value.trim();
    if (!typed) return;
    // The worker fetches it; relative addresses mean the page's.
    this.send({ kind: 'url', url: new URL(typed, document.baseURI).href });
  }

  /** The web page just refused, again, as its text. */
  private usePageText(): void {
    if (this.sent && this.sent.kind !== 'builtin') this.send({ ...this.sent, htmlToText: true });
  }

  private onDragOver(event: DragEvent): void {
    event.preventDefault();
    this.dragging = true;
  }

  private onDrop(event: DragEvent): void {
    event.preventDefault();
    this.dragging = false;
    const file = event.dataTransfer?.files[0];
    if (file && !this.disabled) this.send({ kind: 'file', file });
  }

  private onFileChosen(event: Event): void {
    const file = (event.target as HTMLInputElement).files?.[0];
    // The File itself: the worker checks its size before reading it.
    if (file) this.send({ kind: 'file', file });
  }
}

define('llm-corpus-picker', CorpusPicker);

declare global {
  interface HTMLElementTagNameMap {
    'llm-corpus-picker': CorpusPicker;
  }
}
