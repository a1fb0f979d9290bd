/**
 * <llm-embedding-positions>: how alike the model's position embeddings are,
 * every pair's cosine as a heatmap.
 *
 * Properties: those of every section (embedding-section.ts).
 * Parts: explanation, status, error, position-heatmap.
 */
import { html } from 'lit';
import type { Uses } from '../../workers/api/index.ts';
import { EmbeddingSection } from './embedding-section.ts';
import './heatmap.ts';

export type PositionsClient = Uses<'inspector', 'positionSimilarity'>;

export class PositionsSection extends EmbeddingSection<Float32Array, PositionsClient> {
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
        return html`<llm-heatmap
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

customElements.define('llm-embedding-positions', PositionsSection);

declare global {
  interface HTMLElementTagNameMap {
    'llm-embedding-positions': PositionsSection;
  }
}
