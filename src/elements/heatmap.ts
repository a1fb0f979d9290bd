/**
 * <llm-heatmap>: a matrix of numbers as coloured cells on a canvas (scaled by
 * the device pixel ratio), with an exact readout of the cell under the pointer
 * or keyboard focus, and the values in a visually hidden table for screen readers
 * (up to 128 × 128 values; past that, a line says the arrow keys read them).
 * Masked cells (−∞ in attention scores) are hatched, never a colour of the scale.
 *
 * Properties: values (Float32Array, rows×cols row-major), rows, cols, rowLabels, colLabels,
 *   masked (Uint8Array | null, 1 = masked), scale ('sequential' | 'diverging', diverging puts 0 in the middle),
 *   min, max (number | null: from the data), label (accessible name), rowAxis, colAxis (axis titles;
 *   the readout names each axis by its title's words before a colon), compact (a thumbnail: no labels,
 *   no readout or table, click or Enter selects it), selected (a compact heatmap shown as chosen),
 *   selectedRow (number | null, a highlighted row).
 * Events (bubble, composed):
 *   llm-cell-focus    detail: CellDetail, when hover or the arrow keys reach a cell
 *   llm-cell-select   detail: CellDetail, on click or Enter on a cell
 *   llm-row-select    detail: { row }, on click of a row label
 *   llm-heatmap-select (compact only), on click, Enter or Space
 * Parts: canvas, readout, table, row-label, col-label, row-axis, col-axis.
 */
import { html, LitElement, nothing, type PropertyValues } from 'lit';
import { emit } from '../events.ts';
import { signed } from '../format.ts';
import { heatmapStyles } from './heatmap.styles.ts';
import { styleProperties } from '../style-properties.ts';
import { define } from '../define.ts';

export type HeatmapScale = 'sequential' | 'diverging';

export interface CellDetail {
  row: number;
  col: number;
  value: number;
  masked: boolean;
}

type Rgb = [number, number, number];

/** Viridis: perceptually even, readable in colour blindness, the same in light and dark themes. */
// A colour scale, its five stops on one line.
// prettier-ignore
const SEQUENTIAL: Rgb[] = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
/** Red–blue (ColorBrewer RdBu): blue below zero, near-white at zero, red above. */
// A colour scale, its five stops on one line.
// prettier-ignore
const DIVERGING: Rgb[] = [[33, 102, 172], [103, 169, 207], [247, 247, 247], [239, 138, 98], [178, 24, 43]];

/** The colour at t ∈ [0, 1] along a scale's stops (t outside is clamped). */
export function scaleColor(scale: HeatmapScale, t: number): Rgb {
  const stops = scale === 'diverging' ? DIVERGING : SEQUENTIAL;
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0.5)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  const [a, b] = [stops[i]!, stops[i + 1]!];
  return [Math.round(a[0] + (b[0] - a[0]) * f), Math.round(a[1] + (b[1] - a[1]) * f), Math.round(a[2] + (b[2] - a[2]) * f)];
}

/** A value as the readout and the table show it: four decimals, a true minus sign. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? '∞' : '−∞';
  return signed(value, 4);
}

/** The properties that change what is drawn: a change to any of them makes `painted` wait for the next paint. */
// A list of names, all on one line.
// prettier-ignore
const DATA_PROPERTIES = [
  'values', 'rows', 'cols', 'rowLabels', 'colLabels', 'masked', 'scale', 'min', 'max', 'label', 'rowAxis', 'colAxis', 'compact',
] as const;

/** Largest side of the full-size chart in CSS pixels; cells stay between these sizes. */
const MAX_SIDE = 480;
const MIN_CELL = 6;
const MAX_CELL = 32;
/** Side of a thumbnail in CSS pixels. */
const THUMBNAIL = 64;
/** Period of the hatch stripes in CSS pixels. */
const HATCH = 6;

/** One canvas reused by every heatmap for its one-pixel-per-cell image (drawing is synchronous, so it is never shared at once). */
let scratch: HTMLCanvasElement | undefined;
function scratchCanvas(width: number, height: number): HTMLCanvasElement {
  scratch ??= document.createElement('canvas');
  scratch.width = width;
  scratch.height = height;
  return scratch;
}

/**
 * Cells the values table lists at most (a 128 × 128 matrix): GPT-2's inspected 293 tokens make 85,849 per head,
 * whose table would hold the main thread for a long while; past this the arrow keys read the cells.
 */
const TABLE_MAX_CELLS = 128 * 128;

/** Longest stretch of painting in one task: a page of heatmaps never blocks the main thread for long. */
const PAINT_BUDGET_MS = 12;
/** Heatmaps whose data changed, waiting to be painted (a few per task, in order). */
const paintQueue = new Set<Heatmap>();
let paintScheduled = false;

function schedulePaint(heatmap: Heatmap): void {
  paintQueue.add(heatmap);
  if (paintScheduled) return;
  paintScheduled = true;
  setTimeout(paintSome);
}

function paintSome(): void {
  paintScheduled = false;
  const start = performance.now();
  for (const heatmap of paintQueue) {
    if (performance.now() - start > PAINT_BUDGET_MS) break;
    paintQueue.delete(heatmap);
    heatmap.paint();
  }
  if (paintQueue.size > 0) {
    paintScheduled = true;
    setTimeout(paintSome);
  }
}

/** A cell of the values table holding `text`; a header cell heads its row or its column. */
function cellOf(text: string, heads?: 'row' | 'col'): HTMLTableCellElement {
  const cell = document.createElement(heads ? 'th' : 'td');
  cell.textContent = text;
  if (heads) (cell as HTMLTableHeaderCellElement).scope = heads;
  return cell;
}

/** "query: the token being updated" → "query". */
const axisName = (title: string): string => title.split(':')[0]!.trim();

export class Heatmap extends LitElement {
  static override properties = {
    values: { attribute: false },
    rows: { type: Number },
    cols: { type: Number },
    rowLabels: { attribute: false },
    colLabels: { attribute: false },
    masked: { attribute: false },
    scale: {},
    min: { attribute: false },
    max: { attribute: false },
    label: {},
    rowAxis: { attribute: 'row-axis' },
    colAxis: { attribute: 'col-axis' },
    compact: { type: Boolean, reflect: true },
    selected: { type: Boolean },
    selectedRow: { attribute: false },
    focusCell: { state: true },
  };

  declare values: Float32Array;
  declare rows: number;
  declare cols: number;
  declare rowLabels: string[];
  declare colLabels: string[];
  declare masked: Uint8Array | null;
  declare scale: HeatmapScale;
  declare min: number | null;
  declare max: number | null;
  declare label: string;
  declare rowAxis: string;
  declare colAxis: string;
  declare compact: boolean;
  declare selected: boolean;
  declare selectedRow: number | null;
  declare private focusCell: { row: number; col: number } | null;

  /** The data changed: canvas and table are painted in a later task (a 64×64 table is 4096 cells). */
  private dataChanged = false;
  /** Resolves once the latest data is painted; updateComplete waits for it. */
  private painted: Promise<void> = Promise.resolve();
  private resolvePainted = () => {};
  /** Latest pointer position waiting for the next animation frame (hover is throttled to one per frame). */
  private pendingPointer: { x: number; y: number } | null = null;

  constructor() {
    super();
    this.values = new Float32Array(0);
    this.rows = 0;
    this.cols = 0;
    this.rowLabels = [];
    this.colLabels = [];
    this.masked = null;
    this.scale = 'sequential';
    this.min = null;
    this.max = null;
    this.label = '';
    this.rowAxis = 'row';
    this.colAxis = 'column';
    this.compact = false;
    this.selected = false;
    this.selectedRow = null;
    this.focusCell = null;
  }

  static override styles = heatmapStyles;

  /** Size of one cell in CSS pixels. */
  private get cellSize(): number {
    const side = Math.max(this.rows, this.cols, 1);
    if (this.compact) return THUMBNAIL / side;
    return Math.min(MAX_CELL, Math.max(MIN_CELL, Math.floor(MAX_SIDE / side)));
  }

  override willUpdate(changed: PropertyValues<this>): void {
    if (DATA_PROPERTIES.some((name) => changed.has(name)) && !this.dataChanged) {
      this.dataChanged = true;
      this.painted = new Promise((resolve) => (this.resolvePainted = resolve));
    }
    if (
      (changed.has('rows') || changed.has('cols')) &&
      this.focusCell &&
      (this.focusCell.row >= this.rows || this.focusCell.col >= this.cols)
    ) {
      this.focusCell = null;
    }
  }

  override render() {
    const cell = this.cellSize;
    const width = cell * this.cols;
    const height = cell * this.rows;
    const canvas = html`<canvas
      part="canvas"
      tabindex="0"
      role=${this.compact ? 'button' : 'img'}
      aria-label=${this.compact ? this.label : `${this.label}. Arrow keys read the cells.`}
      aria-pressed=${this.compact ? String(this.selected) : nothing}
      ${styleProperties({ width: `${width}px`, height: `${height}px` })}
      @pointermove=${this.onPointerMove}
      @pointerleave=${this.onPointerLeave}
      @click=${this.onClick}
      @keydown=${this.onKeyDown}
      @focus=${this.onFocus}
    ></canvas>`;
    if (this.compact) return canvas;
    const fontSize = Math.min(12, Math.max(7, cell * 0.8));
    return html`
      <div class="chart">
        <div class="col-axis" part="col-axis" aria-hidden="true">${this.colAxis} →</div>
        <div class="row-axis" part="row-axis" aria-hidden="true">${this.rowAxis} →</div>
        <div class="col-labels" aria-hidden="true" ${styleProperties({ 'font-size': `${fontSize}px` })}>
          ${this.colLabels.map((text) => html`<span part="col-label" ${styleProperties({ width: `${cell}px` })}>${text}</span>`)}
        </div>
        <div class="row-labels" aria-hidden="true" ${styleProperties({ 'font-size': `${fontSize}px` })} @click=${this.onRowLabelClick}>
          ${this.rowLabels.map(
            (text, row) => html`<span
            part="row-label"
            class=${row === this.selectedRow ? 'selected' : ''}
            data-row=${row}
            ${styleProperties({ height: `${cell}px` })}
          >${text}</span>`,
          )}
        </div>
        ${canvas}
      </div>
      <p class="readout" part="readout" aria-live="polite">${this.readout()}</p>
      <div class="visually-hidden table-holder"></div>
    `;
  }

  override updated(): void {
    // New data waits for its turn; a moved focus cell or row outline is drawn at once.
    if (this.dataChanged) schedulePaint(this);
    else this.draw();
  }

  protected override async getUpdateComplete(): Promise<boolean> {
    const done = await super.getUpdateComplete();
    await this.painted;
    return done;
  }

  /** Draws the canvas and fills the values table (called by the paint queue). */
  paint(): void {
    if (!this.dataChanged) return;
    this.dataChanged = false;
    this.draw();
    // Built as plain DOM, not a template per cell (4096 cells at 64×64), nor parsed from an HTML string,
    // which a page that requires Trusted Types refuses (and which was slower).
    this.renderRoot.querySelector('.table-holder')?.replaceChildren(this.buildTable());
    this.resolvePainted();
  }

  private cellAt(row: number, col: number): CellDetail {
    const index = row * this.cols + col;
    return { row, col, value: this.values[index] ?? NaN, masked: this.masked?.[index] === 1 };
  }

  private readout(): string {
    if (!this.focusCell) return 'Point at a cell, or focus the chart and use the arrow keys.';
    const { row, col, value, masked } = this.cellAt(this.focusCell.row, this.focusCell.col);
    const pair = `${axisName(this.rowAxis)} '${this.rowLabels[row] ?? row + 1}' ← ${axisName(this.colAxis)} '${this.colLabels[col] ?? col + 1}'`;
    return `${pair}: ${masked ? '−∞ (masked)' : formatValue(value)}`;
  }

  private buildTable(): HTMLElement {
    const { rows, cols, values, masked } = this;
    if (rows * cols > TABLE_MAX_CELLS) {
      const note = document.createElement('p');
      note.setAttribute('part', 'table');
      note.textContent = `${this.label}: ${rows} × ${cols} values, too many to list; focus the chart and use the arrow keys to read each one.`;
      return note;
    }
    const table = document.createElement('table');
    table.setAttribute('part', 'table');
    table.createCaption().textContent = this.label;
    const head = table.createTHead().insertRow();
    head.append(cellOf(`${this.rowAxis} \\ ${this.colAxis}`, 'col'));
    for (let col = 0; col < cols; col++) head.append(cellOf(this.colLabels[col] ?? String(col + 1), 'col'));
    // Every row a copy of one empty row, then filled in: faster than making each cell, or than parsing HTML.
    const empty = document.createElement('tr');
    empty.append(cellOf('', 'row'));
    for (let col = 0; col < cols; col++) empty.append(cellOf(''));
    const body = table.createTBody();
    for (let row = 0; row < rows; row++) {
      const line = empty.cloneNode(true) as HTMLTableRowElement;
      let cell = line.firstElementChild!;
      cell.textContent = this.rowLabels[row] ?? String(row + 1);
      for (let col = 0; col < cols; col++) {
        cell = cell.nextElementSibling!;
        const index = row * cols + col;
        cell.textContent = masked?.[index] === 1 ? '−∞' : formatValue(values[index] ?? NaN);
      }
      body.append(line);
    }
    return table;
  }

  /** The colour range: min/max as given, else from the unmasked finite values (symmetric about 0 when diverging). */
  private range(): [number, number] {
    let low = Infinity;
    let high = -Infinity;
    if (this.min === null || this.max === null) {
      for (let i = 0; i < this.rows * this.cols; i++) {
        const value = this.values[i]!;
        if (this.masked?.[i] === 1 || !Number.isFinite(value)) continue;
        if (value < low) low = value;
        if (value > high) high = value;
      }
      if (low > high) [low, high] = [0, 1];
      if (this.scale === 'diverging') {
        const reach = Math.max(Math.abs(low), Math.abs(high));
        [low, high] = [-reach, reach];
      }
    }
    low = this.min ?? low;
    high = this.max ?? high;
    return high > low ? [low, high] : [low - 1, low + 1];
  }

  private draw(): void {
    const canvas = this.renderRoot.querySelector('canvas');
    if (!canvas) return;
    const { rows, cols } = this;
    const ratio = window.devicePixelRatio || 1;
    const cell = this.cellSize;
    canvas.width = Math.max(1, Math.round(cell * cols * ratio));
    canvas.height = Math.max(1, Math.round(cell * rows * ratio));
    const context = canvas.getContext('2d');
    if (!context || rows === 0 || cols === 0) return;
    // Theme colours only for the hatch and the outlines (reading styles costs time, and thumbnails rarely need them).
    let style: CSSStyleDeclaration | undefined;
    const color = (name: string) => (style ??= getComputedStyle(this)).getPropertyValue(name).trim();

    // One pixel per cell, then scaled up without smoothing: far cheaper than a fillRect per cell.
    const pixels = new ImageData(cols, rows);
    const [low, high] = this.range();
    for (let i = 0; i < rows * cols; i++) {
      const [r, g, b] = scaleColor(this.scale, (this.values[i]! - low) / (high - low));
      pixels.data[4 * i] = r;
      pixels.data[4 * i + 1] = g;
      pixels.data[4 * i + 2] = b;
      pixels.data[4 * i + 3] = 255;
    }
    const source = scratchCanvas(cols, rows);
    source.getContext('2d')!.putImageData(pixels, 0, 0);
    context.imageSmoothingEnabled = false;
    context.drawImage(source, 0, 0, canvas.width, canvas.height);

    const x = (col: number) => Math.round(col * cell * ratio);
    const y = (row: number) => Math.round(row * cell * ratio);
    if (this.masked) {
      const hatch = this.hatchPattern(context, ratio, color('--_background'), color('--_muted'));
      context.fillStyle = hatch ?? color('--_muted');
      context.beginPath();
      // One rectangle per run of masked cells in a row.
      for (let row = 0; row < rows; row++) {
        for (let col = 0; col < cols; col++) {
          if (this.masked[row * cols + col] !== 1) continue;
          let end = col + 1;
          while (end < cols && this.masked[row * cols + end] === 1) end++;
          context.rect(x(col), y(row), x(end) - x(col), y(row + 1) - y(row));
          col = end;
        }
      }
      context.fill();
    }
    if (this.selectedRow !== null && this.selectedRow < rows) {
      context.strokeStyle = color('--_accent');
      context.lineWidth = 2 * ratio;
      context.strokeRect(
        ratio,
        y(this.selectedRow) + ratio,
        canvas.width - 2 * ratio,
        y(this.selectedRow + 1) - y(this.selectedRow) - 2 * ratio,
      );
    }
    if (this.focusCell && !this.compact) {
      const { row, col } = this.focusCell;
      // A dark and a light ring, so the focus shows on any colour of the scale.
      context.lineWidth = ratio;
      context.strokeStyle = '#000';
      context.strokeRect(x(col) + ratio / 2, y(row) + ratio / 2, x(col + 1) - x(col) - ratio, y(row + 1) - y(row) - ratio);
      context.strokeStyle = '#fff';
      context.strokeRect(x(col) - ratio / 2, y(row) - ratio / 2, x(col + 1) - x(col) + ratio, y(row + 1) - y(row) + ratio);
    }
  }

  /** Diagonal stripes of the muted colour on the background: no colour of either scale. */
  private hatchPattern(context: CanvasRenderingContext2D, ratio: number, paper: string, ink: string): CanvasPattern | null {
    const side = Math.max(2, Math.round(HATCH * ratio));
    const tile = document.createElement('canvas');
    tile.width = side;
    tile.height = side;
    const tileContext = tile.getContext('2d')!;
    tileContext.fillStyle = paper;
    tileContext.fillRect(0, 0, side, side);
    tileContext.strokeStyle = ink;
    tileContext.lineWidth = Math.max(1, side / 3);
    tileContext.beginPath();
    // The main diagonal and its neighbours' corners, so tiles join into unbroken stripes.
    for (const offset of [-side, 0, side]) {
      tileContext.moveTo(offset, side);
      tileContext.lineTo(offset + side, 0);
    }
    tileContext.stroke();
    return context.createPattern(tile, 'repeat');
  }

  private moveFocus(row: number, col: number): void {
    const next = { row: Math.min(this.rows - 1, Math.max(0, row)), col: Math.min(this.cols - 1, Math.max(0, col)) };
    if (this.focusCell?.row === next.row && this.focusCell.col === next.col) return;
    this.focusCell = next;
    emit(this, 'llm-cell-focus', this.cellAt(next.row, next.col));
  }

  private cellFromPoint(x: number, y: number): { row: number; col: number } | null {
    const cell = this.cellSize;
    const row = Math.floor(y / cell);
    const col = Math.floor(x / cell);
    return row >= 0 && row < this.rows && col >= 0 && col < this.cols ? { row, col } : null;
  }

  private onPointerMove = (event: PointerEvent): void => {
    if (this.compact) return;
    const first = this.pendingPointer === null;
    this.pendingPointer = { x: event.offsetX, y: event.offsetY };
    if (!first) return;
    requestAnimationFrame(() => {
      const pointer = this.pendingPointer;
      this.pendingPointer = null;
      const cell = pointer && this.cellFromPoint(pointer.x, pointer.y);
      if (cell) this.moveFocus(cell.row, cell.col);
    });
  };

  private onPointerLeave = (): void => {
    this.pendingPointer = null;
    if (this.renderRoot.querySelector('canvas') !== (this.renderRoot as ShadowRoot).activeElement) this.focusCell = null;
  };

  private onClick = (event: MouseEvent): void => {
    if (this.compact) {
      emit(this, 'llm-heatmap-select', {});
      return;
    }
    const cell = this.cellFromPoint(event.offsetX, event.offsetY);
    if (!cell) return;
    this.moveFocus(cell.row, cell.col);
    emit(this, 'llm-cell-select', this.cellAt(cell.row, cell.col));
  };

  private onFocus = (): void => {
    if (!this.compact && !this.focusCell && this.rows > 0 && this.cols > 0) this.moveFocus(this.selectedRow ?? 0, 0);
  };

  private onKeyDown = (event: KeyboardEvent): void => {
    if (this.compact) {
      if (event.key === 'Enter' || event.key === ' ') {
        event.preventDefault();
        emit(this, 'llm-heatmap-select', {});
      }
      return;
    }
    const { row, col } = this.focusCell ?? { row: 0, col: 0 };
    const moves: Record<string, [number, number]> = {
      ArrowUp: [row - 1, col],
      ArrowDown: [row + 1, col],
      ArrowLeft: [row, col - 1],
      ArrowRight: [row, col + 1],
      Home: [row, 0],
      End: [row, this.cols - 1],
      PageUp: [0, col],
      PageDown: [this.rows - 1, col],
    };
    const move = moves[event.key];
    if (move) {
      event.preventDefault();
      this.moveFocus(...move);
    } else if (event.key === 'Enter' && this.focusCell) {
      event.preventDefault();
      emit(this, 'llm-cell-select', this.cellAt(row, col));
    }
  };

  private onRowLabelClick = (event: MouseEvent): void => {
    const row = (event.target as HTMLElement).closest<HTMLElement>('[data-row]')?.dataset['row'];
    if (row !== undefined) emit(this, 'llm-row-select', { row: Number(row) });
  };
}

define('llm-heatmap', Heatmap);

declare global {
  interface HTMLElementTagNameMap {
    'llm-heatmap': Heatmap;
  }
}
