/**
 * How far the worker has read a file or a download, drawn the same way by every
 * element that reads one (the model import, the corpus): a bar with the sizes
 * and percent when the size is known, a moving bar with the size so far when not.
 * Parts: read-progress, read-progress-bar, read-progress-text.
 */
import { css, html, nothing } from 'lit';
import type { ReadProgress } from '../../workers/api/index.ts';
import { formatBytes } from '../format.ts';

/** "3.1 MB of 12.0 MB (25%)", or "3.1 MB so far". */
export function describeProgress({ loaded, total }: ReadProgress): string {
  if (!total) return `${formatBytes(loaded)} so far`;
  return `${formatBytes(loaded)} of ${formatBytes(total)} (${Math.floor((loaded / total) * 100)}%)`;
}

/** `label` names what is read, for screen readers. Null progress: nothing read yet, size unknown. */
export function renderReadProgress(progress: ReadProgress | null, label: string) {
  const read = progress ?? { loaded: 0 };
  const known = !!read.total;
  return html`<div class="read-progress" part="read-progress">
    <!-- Without value the bar is indeterminate: the size is not known. -->
    <progress
      part="read-progress-bar"
      aria-label=${label}
      max=${known ? read.total! : nothing}
      value=${known ? read.loaded : nothing}
    ></progress>
    <span part="read-progress-text">${describeProgress(read)}</span>
  </div>`;
}

export const readProgressStyles = css`
  .read-progress {
    flex: 1 1 12rem;
    display: flex;
    flex-wrap: wrap;
    gap: 0.5rem;
    align-items: center;
    margin: 0.4rem 0;
    font-size: 0.9rem;
  }
  .read-progress progress {
    flex: 1 1 8rem;
    accent-color: var(--_accent);
  }
`;
