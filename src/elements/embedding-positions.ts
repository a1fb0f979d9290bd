/**
 * <llm-embedding-positions>: how alike the model's position embeddings are,
 * every pair's cosine as a heatmap: all of a small model's positions, the first
 * 256 of a longer context (GPT-2's 1,024), with a line saying so.
 *
 * Properties: those of every section (embedding-section.ts), and blockSize (the model's context length).
 * Parts: explanation, status, error, position-heatmap, position-note.
 */
import { html, nothing, type PropertyDeclarations } from 'lit';
import type { Uses } from '../../workers/api/index.ts';
import { EmbeddingSection } from './embedding-section.ts';
import './heatmap.ts';
import { define } from '../define.ts';

export type PositionsClient = Uses<'inspector', 'positionSimilarity'>;

export class PositionsSection extends EmbeddingSection<Float32Array, PositionsClient> {
  static override properties: PropertyDeclarations = { blockSize: { type: Number, attribute: 'block-size' } };

  declare blockSize: number;

  constructor() {
    super();
    this.blockSize = 0;
  }

  protected override request(client: PositionsClient) {
    return () => client.inspector.positionSimilarity();
  }

  override render() {
    return html`
      <p class="caption" part="explanation">
        Every position in the context has a vector of its own, added to the token's, so the model can tell where a token
        stands. A cell is the cosine of two positions' vectors: a bright band along the diagonal means nearby positions
        look alike to the model.
      </p>
      ${this.renderAnswer((values) => {
        const size = Math.round(Math.sqrt(values.length));
        const labels = Array.from({ length: size }, (_, i) => String(i));
        const note =
          size < this.blockSize
            ? html`<p class="caption" part="position-note">
                Positions 0 to ${size - 1} of the model's ${this.blockSize.toLocaleString('en-US')}: every pair of them all
                would be ${(this.blockSize ** 2).toLocaleString('en-US')} cells, too many to compute and draw here.
              </p>`
            : nothing;
        return html`${note}<llm-heatmap
          part="position-heatmap"
          .values=${values}
          .rows=${size}
          .cols=${size}
          .rowLabels=${labels}
          .colLabels=${labels}
          .masked=${null}
          .scale=${'diverging'}
          .min=${-1}
          .max=${1}
          .label=${'Cosine similarity of the position embeddings'}
          .rowAxis=${'position'}
          .colAxis=${'position'}
        ></llm-heatmap>`;
      })}
    `;
  }
}

define('llm-embedding-positions', PositionsSection);

declare global {
  interface HTMLElementTagNameMap {
    'llm-embedding-positions': PositionsSection;
  }
}
