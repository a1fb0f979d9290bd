/**
 * <llm-matrix-view>: a matrix of numbers, or a vector (one row), as coloured cells on one canvas that fits a box
 * whatever its size: GPT-2's 768 × 768 output matrix too, where a cell is under a pixel. The colours are the
 * heatmap's diverging scale, symmetric about 0 (blue below, near-white at 0, red above). One pixel of the canvas
 * per cell, scaled by CSS, coloured from a lookup table, a band of rows per task.
 * The value under the pointer, or at the keyboard's cell (focus the canvas: arrow keys, Home, End, PageUp,
 * PageDown), is read out below it (a live region); before that the readout gives the size and the range.
 * (<llm-heatmap> keeps cells 6 px or more and lists every value in a table: right for attention patterns,
 * not for 49,152 weights.)
 *
 * Properties: values (Float32Array, rows×cols row-major), rows, cols, label (accessible name), rowAxis, colAxis
 *   (words for the readout, e.g. 'row', 'column'), rowLabels, colLabels (names of rows and columns for the
 *   readout, else their numbers from 1), masked (Uint8Array | null: 1 = masked, drawn in the muted colour and read
 *   "masked"), marked ({ row, col, rows?, cols? } | null: a cell or block outlined in the accent colour),
 *   maxCell (largest cell side in CSS pixels, default 12).
 * Events (bubble, composed): llm-cell-focus (CellDetail) when hover or the keys reach a cell; llm-cell-select
 *   (CellDetail) on click or Enter.
 * Parts: canvas, mark, cursor, readout.
 */
import { css, html, LitElement, nothing, type PropertyValues } from 'lit';
import { emit } from '../events.ts';
import { styleProperties } from '../style-properties.ts';
import { theme } from '../theme.ts';
import { type CellDetail, formatValue, scaleColor } from './heatmap.ts';
import { define } from '../define.ts';

/** A cell, or a block of cells from (row, col), outlined. */
export interface MarkedCells {
  row: number;
  col: number;
  rows?: number;
  cols?: number;
}

/** The box a matrix fits in, in CSS pixels. */
const BOX = 480;
/** Height of a vector's strip. */
const STRIP_HEIGHT = 22;
/** A cell is at most this many times taller than wide, or wider than tall (a 64 × 768 slice stays readable). */
const MAX_ASPECT = 2;
/** Colours of the diverging scale at 256 steps, each an opaque RGBA pixel as one 32-bit word in memory order. */
const LEVELS = 256;
let colours: Uint32Array | undefined;

function palette(): Uint32Array {
  if (colours) return colours;
  colours = new Uint32Array(LEVELS);
  const bytes = new Uint8ClampedArray(colours.buffer);
  for (let i = 0; i < LEVELS; i++) bytes.set([...scaleColor('diverging', i / (LEVELS - 1)), 255], i * 4);
  return colours;
}

/** Cells coloured in one task: GPT-2's 768 × 768 output matrix is drawn in 9 bands of 85 rows. */
const CELLS_PER_TASK = 2 ** 16;

/** Width and height of one cell in CSS pixels. */
export function cellSize(rows: number, cols: number, maxCell: number): [number, number] {
  let width = Math.min(maxCell, BOX / Math.max(1, cols));
  if (rows === 1) return [width, STRIP_HEIGHT];
  let height = Math.min(maxCell, BOX / Math.max(1, rows));
  height = Math.min(height, MAX_ASPECT * width);
  width = Math.min(width, MAX_ASPECT * height);
  return [width, height];
}

/** The largest |value| of the unmasked finite values (1 when there are none). */
function reach(values: Float32Array, count: number, masked: Uint8Array | null): { low: number; high: number; reach: number } {
  let low = Infinity;
  let high = -Infinity;
  for (let i = 0; i < count; i++) {
    const value = values[i]!;
    if (masked?.[i] === 1 || !Number.isFinite(value)) continue;
    if (value < low) low = value;
    if (value > high) high = value;
  }
  if (low > high) return { low: 0, high: 0, reach: 1 };
  return { low, high, reach: Math.max(Math.abs(low), Math.abs(high)) || 1 };
}

export class MatrixView extends LitElement {
  static override properties = {
    values: { attribute: false },
    rows: { type: Number },
    cols: { type: Number },
    label: {},
    rowAxis: { attribute: 'row-axis' },
    colAxis: { attribute: 'col-axis' },
    rowLabels: { attribute: false },
    colLabels: { attribute: false },
    masked: { attribute: false },
    marked: { attribute: false },
    maxCell: { type: Number, attribute: 'max-cell' },
    focusCell: { state: true },
  };

  declare values: Float32Array;
  declare rows: number;
  declare cols: number;
  declare label: string;
  declare rowAxis: string;
  declare colAxis: string;
  declare rowLabels: readonly string[];
  declare colLabels: readonly string[];
  declare masked: Uint8Array | null;
  declare marked: MarkedCells | null;
  declare maxCell: number;
  declare private focusCell: { row: number; col: number } | null;

  /** Counts the draws begun: a band of an older one stops. */
  private drawings = 0;
  /** The smallest and largest value, for the readout; recomputed when the data changes. */
  private range = { low: 0, high: 0, reach: 1 };

  constructor() {
    super();
    this.values = new Float32Array(0);
    this.rows = 0;
    this.cols = 0;
    this.label = '';
    this.rowAxis = 'row';
    this.colAxis = 'column';
    this.rowLabels = [];
    this.colLabels = [];
    this.masked = null;
    this.marked = null;
    this.maxCell = 12;
    this.focusCell = null;
  }

  static override styles = [
    theme,
    css`
      :host {
        display: block;
        max-width: 100%;
        overflow-x: auto;
      }
      .frame {
        position: relative;
        width: fit-content;
      }
      canvas {
        display: block;
        cursor: crosshair;
        border: 1px solid var(--_border);
      }
      canvas.upscaled {
        image-rendering: pixelated;
      }
      .mark,
      .cursor {
        position: absolute;
        pointer-events: none;
        box-sizing: border-box;
      }
      .mark {
        outline: 2px solid var(--_accent);
      }
      .cursor {
        outline: 1px solid var(--_foreground);
        outline-offset: 1px;
      }
      .readout {
        font-family: var(--_mono);
        font-size: 0.8rem;
        min-height: 1.3em;
        margin: 0.25rem 0 0;
        color: var(--_muted);
      }
    `,
  ];

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('values') || changed.has('rows') || changed.has('cols') || changed.has('masked')) {
      this.range = reach(this.values, this.rows * this.cols, this.masked);
      if (this.focusCell && (this.focusCell.row >= this.rows || this.focusCell.col >= this.cols)) this.focusCell = null;
    }
  }

  override render() {
    const [cellWidth, cellHeight] = cellSize(this.rows, this.cols, this.maxCell);
    const box = (row: number, col: number, rows = 1, cols = 1) =>
      styleProperties({
        left: `${col * cellWidth}px`,
        top: `${row * cellHeight}px`,
        width: `${Math.max(2, cols * cellWidth)}px`,
        height: `${Math.max(2, rows * cellHeight)}px`,
      });
    const { marked, focusCell } = this;
    const shape = this.rows === 1 ? `${this.cols} numbers` : `${this.rows} × ${this.cols}`;
    return html`
      <div class="frame">
        <canvas
          part="canvas"
          tabindex="0"
          role="img"
          class=${cellWidth >= 1 && cellHeight >= 1 ? 'upscaled' : ''}
          aria-label=${`${this.label}: ${shape}, from ${formatValue(this.range.low)} to ${formatValue(this.range.high)}. Arrow keys read the values.`}
          ${styleProperties({ width: `${cellWidth * this.cols}px`, height: `${cellHeight * this.rows}px` })}
          @pointermove=${this.onPointerMove}
          @pointerleave=${this.onPointerLeave}
          @click=${this.onClick}
          @keydown=${this.onKeyDown}
          @focus=${this.onFocus}
        ></canvas>
        ${marked ? html`<div class="mark" part="mark" ${box(marked.row, marked.col, marked.rows, marked.cols)}></div>` : nothing}
        ${focusCell ? html`<div class="cursor" part="cursor" ${box(focusCell.row, focusCell.col)}></div>` : nothing}
      </div>
      <p class="readout" part="readout" aria-live="polite">${this.readout(shape)}</p>
    `;
  }

  protected override updated(changed: PropertyValues<this>): void {
    if (['values', 'rows', 'cols', 'masked'].some((name) => changed.has(name as keyof MatrixView))) this.draw();
  }

  /** The cell at (row, col) as the events tell it. */
  cellAt(row: number, col: number): CellDetail {
    const index = row * this.cols + col;
    return { row, col, value: this.values[index] ?? NaN, masked: this.masked?.[index] === 1 };
  }

  private readout(shape: string): string {
    if (!this.focusCell) {
      return `${shape}, from ${formatValue(this.range.low)} to ${formatValue(this.range.high)}. Point at a cell, or focus it and use the arrow keys.`;
    }
    const { row, col, value, masked } = this.cellAt(this.focusCell.row, this.focusCell.col);
    const name = (labels: readonly string[], index: number) => labels[index] ?? String(index + 1);
    const place =
      this.rows === 1
        ? `${this.colAxis} ${name(this.colLabels, col)} of ${this.cols}`
        : `${this.rowAxis} ${name(this.rowLabels, row)}, ${this.colAxis} ${name(this.colLabels, col)}`;
    return `${place}: ${formatValue(value)}${masked ? ' (masked)' : ''}`;
  }

  /**
   * Draws the values in bands of rows, each band in a task of its own (CELLS_PER_TASK cells), so that a 768 × 768
   * matrix never holds the main thread long; new values stop the bands of the old ones.
   */
  private draw(): void {
    const canvas = this.renderRoot.querySelector('canvas');
    const context = canvas?.getContext('2d');
    const { rows, cols } = this;
    const drawing = ++this.drawings;
    if (!canvas || !context || rows === 0 || cols === 0) return;
    canvas.width = cols;
    canvas.height = rows;
    const band = Math.max(1, Math.floor(CELLS_PER_TASK / cols));
    const drawBand = (from: number): void => {
      if (drawing !== this.drawings) return;
      const to = Math.min(rows, from + band);
      context.putImageData(this.colour(from, to), 0, from);
      if (to < rows) setTimeout(() => drawBand(to));
      else this.drawMasked(context);
    };
    setTimeout(() => drawBand(0));
  }

  /** Rows from..to of the values as pixels of the diverging scale. */
  private colour(from: number, to: number): ImageData {
    const { cols, values } = this;
    const pixels = new ImageData(cols, to - from);
    // One 32-bit write per pixel, through a view made once (ImageData.data is a getter: 2.4M calls at 768 × 768).
    const words = new Uint32Array(pixels.data.buffer);
    const table = palette();
    const scale = (LEVELS - 1) / (2 * this.range.reach);
    const middle = table[LEVELS >> 1]!;
    const offset = from * cols;
    for (let i = 0; i < words.length; i++) {
      const level = Math.round((values[offset + i]! + this.range.reach) * scale);
      // NaN is neither ≥ 0 nor < 0: it takes the colour of 0.
      words[i] = level >= 0 ? table[Math.min(level, LEVELS - 1)]! : level < 0 ? table[0]! : middle;
    }
    return pixels;
  }

  /** Masked cells take the theme's muted colour: no colour of the scale. */
  private drawMasked(context: CanvasRenderingContext2D): void {
    const { rows, cols, masked } = this;
    if (!masked) return;
    context.fillStyle = getComputedStyle(this).getPropertyValue('--_muted').trim() || 'gray';
    for (let row = 0; row < rows; row++) {
      for (let col = 0; col < cols; col++) {
        if (masked[row * cols + col] !== 1) continue;
        let end = col + 1;
        while (end < cols && masked[row * cols + end] === 1) end++;
        context.fillRect(col, row, end - col, 1);
        col = end;
      }
    }
  }

  /** Moves the keyboard's cell to (row, col), kept inside the matrix, and says so when it moved. */
  private moveFocus(row: number, col: number): void {
    const inside = (index: number, size: number) => Math.min(size - 1, Math.max(0, index));
    const [toRow, toCol] = [inside(row, this.rows), inside(col, this.cols)];
    if (this.focusCell && this.focusCell.row === toRow && this.focusCell.col === toCol) return;
    this.focusCell = { row: toRow, col: toCol };
    emit(this, 'llm-cell-focus', this.cellAt(toRow, toCol));
  }

  /** The cell under a point of the canvas (CSS pixels from its corner), or null off the cells. */
  private cellFromPoint(x: number, y: number): { row: number; col: number } | null {
    const [cellWidth, cellHeight] = cellSize(this.rows, this.cols, this.maxCell);
    const cell = { row: Math.floor(y / cellHeight), col: Math.floor(x / cellWidth) };
    const within = cell.row >= 0 && cell.col >= 0 && cell.row < this.rows && cell.col < this.cols;
    return within ? cell : null;
  }

  private onPointerMove = (event: PointerEvent): void => {
    const cell = this.cellFromPoint(event.offsetX, event.offsetY);
    if (cell) this.moveFocus(cell.row, cell.col);
  };

  private onPointerLeave = (): void => {
    if (this.renderRoot.querySelector('canvas') !== (this.renderRoot as ShadowRoot).activeElement) this.focusCell = null;
  };

  private onClick = (event: MouseEvent): void => {
    const cell = this.cellFromPoint(event.offsetX, event.offsetY);
    if (!cell) return;
    this.moveFocus(cell.row, cell.col);
    emit(this, 'llm-cell-select', this.cellAt(cell.row, cell.col));
  };

  private onFocus = (): void => {
    if (!this.focusCell && this.rows > 0 && this.cols > 0) this.moveFocus(this.marked?.row ?? 0, this.marked?.col ?? 0);
  };

  private onKeyDown = (event: KeyboardEvent): void => {
    const { row, col } = this.focusCell ?? { row: 0, col: 0 };
    const target = keyTarget(event.key, row, col, this.rows, this.cols);
    if (target) {
      event.preventDefault();
      this.moveFocus(...target);
    } else if (event.key === 'Enter' && this.focusCell) {
      event.preventDefault();
      emit(this, 'llm-cell-select', this.cellAt(row, col));
    }
  };
}

/** Where a key moves the keyboard's cell from (row, col): a step, the row's ends, the column's ends; null: nowhere. */
function keyTarget(key: string, row: number, col: number, rows: number, cols: number): [number, number] | null {
  switch (key) {
    case 'ArrowUp':
      return [row - 1, col];
    case 'ArrowDown':
      return [row + 1, col];
    case 'ArrowLeft':
      return [row, col - 1];
    case 'ArrowRight':
      return [row, col + 1];
    case 'Home':
      return [row, 0];
    case 'End':
      return [row, cols - 1];
    case 'PageUp':
      return [0, col];
    case 'PageDown':
      return [rows - 1, col];
    default:
      return null;
  }
}

define('llm-matrix-view', MatrixView);

declare global {
  interface HTMLElementTagNameMap {
    'llm-matrix-view': MatrixView;
  }
}
