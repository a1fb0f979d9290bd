/**
 * The line the inspector's panels show when the prompt is longer than the
 * inspector reads (Inspection.dropped): GPT-2 small's captured insides are
 * read for at most its last 293 tokens.
 */
import { html, nothing } from 'lit';

const count = (n: number): string => n.toLocaleString('en-US');

/** Part "dropped-note"; nothing when no token was left out. */
export function droppedNote(dropped: number | undefined, read: number) {
  if (!dropped) return nothing;
  return html`<p class="caption" part="dropped-note" role="note">
    The prompt is ${count(dropped + read)} tokens long; the inspector reads its last ${count(read)}, so the first
    ${count(dropped)} are left out here.
  </p>`;
}
