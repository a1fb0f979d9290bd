/**
 * <llm-bpe-merges>: a BPE vocabulary being learned, as the worker reports it.
 * Each merge joins the pair of tokens that is most frequent in the corpus at
 * that moment into a new token; the view shows how many tokens the vocabulary
 * has, the pair merged last with its count and its new token, the latest
 * merges, and the corpus shrinking from its bytes to fewer, longer tokens.
 *
 * Properties: learning (TokenizerLearning | null: every merge so far, oldest first).
 * Parts: vocabulary-progress, latest-merge, shrink, shrink-bar, merges.
 */
import { css, html, LitElement, nothing } from 'lit';
import type { MergeStep, TokenizerLearning } from '../../workers/api/index.ts';
import { count } from '../format.ts';
import { styleProperties } from '../style-properties.ts';
import { tables, theme } from '../theme.ts';
import { describeToken, visibleToken } from '../visible-token.ts';
import { define } from '../define.ts';

/** Merges listed, newest first. */
const LISTED_MERGES = 8;

const chip = (token: string) => html`<span class="token-chip" title=${describeToken(token)}>${visibleToken(token)}</span>`;

/** "a" + "b" → "ab", as chips. */
const mergeOf = ({ left, right, token }: MergeStep) => html`${chip(left)} + ${chip(right)} → ${chip(token)}`;

export class BpeMerges extends LitElement {
  static override properties = {
    learning: { attribute: false },
  };

  declare learning: TokenizerLearning | null;

  constructor() {
    super();
    this.learning = null;
  }

  static override styles = [
    theme,
    tables,
    css`
      h5 {
        margin: 0.6rem 0 0.3rem;
        font-size: 0.95rem;
      }
      p {
        margin: 0.35rem 0;
        font-size: 0.9rem;
      }
      progress {
        width: 100%;
        accent-color: var(--_accent);
      }
      .token-chip {
        display: inline-block;
      }
      .track {
        height: 0.9rem;
        background: var(--_background);
        border: 1px solid var(--_border);
        border-radius: 3px;
        overflow: hidden;
      }
      .fill {
        display: block;
        height: 100%;
        background: var(--_accent);
      }
      table {
        width: 100%;
        margin-top: 0.3rem;
      }
    `,
  ];

  override render() {
    const learning = this.learning;
    if (!learning) return nothing;
    const { merges, vocabSize, baseTokens, corpusBytes, done } = learning;
    const latest = merges.at(-1);
    // Two merges can spell the same bytes ("a" + "bc", "ab" + "c"): they add one token.
    const tokens = baseTokens + new Set(merges.map((merge) => merge.token)).size;
    const corpusTokens = latest?.corpusTokens ?? corpusBytes;
    const share = corpusBytes > 0 ? corpusTokens / corpusBytes : 1;
    return html`
      <h5>${done ? 'Word pieces learned' : 'Learning word pieces…'}</h5>
      <p id="vocabulary-label">
        Vocabulary: ${count(tokens)} of ${count(vocabSize)} tokens (${count(baseTokens)} to start with, then
        ${count(merges.length)} merges).
      </p>
      <progress part="vocabulary-progress" max=${vocabSize} .value=${tokens} aria-labelledby="vocabulary-label"></progress>
      ${
        latest
          ? html`<p part="latest-merge">
            ${done ? 'The last merge' : 'Merging now'}: the most frequent pair, ${mergeOf(latest)}, found
            ${count(latest.count)} times.
          </p>`
          : nothing
      }
      <p part="shrink" id="shrink-label">
        The corpus: ${count(corpusBytes)} bytes at the start, ${count(corpusTokens)} tokens now
        (${(share * 100).toFixed(0)}% as many).
      </p>
      <div class="track" role="img" aria-labelledby="shrink-label">
        <span class="fill" part="shrink-bar" ${styleProperties({ width: `${(share * 100).toFixed(2)}%` })}></span>
      </div>
      ${merges.length ? this.renderMerges(merges) : nothing}
    `;
  }

  private renderMerges(merges: MergeStep[]) {
    const newest = merges.slice(-LISTED_MERGES).reverse();
    return html`<table part="merges">
      <caption>
        The newest merges
      </caption>
      <thead>
        <tr>
          <th scope="col">Merge</th>
          <th scope="col">Pair → new token</th>
          <th scope="col">Count</th>
        </tr>
      </thead>
      <tbody>
        ${newest.map(
          (merge) =>
            html`<tr>
              <td class="number">${count(merge.rank + 1)}</td>
              <td>${mergeOf(merge)}</td>
              <td class="number">${count(merge.count)}</td>
            </tr>`,
        )}
      </tbody>
    </table>`;
  }
}

define('llm-bpe-merges', BpeMerges);

declare global {
  interface HTMLElementTagNameMap {
    'llm-bpe-merges': BpeMerges;
  }
}
