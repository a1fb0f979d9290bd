// <llm-heatmap>: the readout and the hidden table show the exact values, masked
// cells read −∞ and are drawn hatched (not a colour of the scale), the canvas
// follows devicePixelRatio, the keyboard moves a focus cell, and a thumbnail selects.
import { sendKeys } from '@web/test-runner-commands';
import { expect } from 'chai';
import '../../src/elements/heatmap.ts';
import { type CellDetail, formatValue, type Heatmap, scaleColor } from '../../src/elements/heatmap.ts';
import { random, randomInt } from './seeded.ts';

const LETTERS = 'abcdefghijklmnopqrstuvwxyz';

/** A fresh square of random scores with a causal mask (1 above the diagonal). */
function randomSquare(size: number) {
  const values = Float32Array.from({ length: size * size }, () => (random() - 0.5) * 8);
  const masked = Uint8Array.from({ length: size * size }, (_, i) => (i % size > Math.floor(i / size) ? 1 : 0));
  const labels = Array.from({ length: size }, () => LETTERS[randomInt(0, LETTERS.length)]!);
  return { values, masked, labels };
}

async function heatmapOf(
  size: number,
  options: { masked?: boolean; compact?: boolean } = {},
): Promise<Heatmap & { data: ReturnType<typeof randomSquare> }> {
  const data = randomSquare(size);
  const heatmap = document.createElement('llm-heatmap');
  Object.assign(heatmap, {
    values: data.values,
    rows: size,
    cols: size,
    rowLabels: data.labels,
    colLabels: data.labels,
    masked: options.masked ? data.masked : null,
    scale: 'diverging',
    label: 'Scores',
    rowAxis: 'query: the token being updated',
    colAxis: 'key: the token looked at',
    compact: options.compact ?? false,
  });
  document.body.append(heatmap);
  await heatmap.updateComplete;
  return Object.assign(heatmap, { data });
}

const part = (heatmap: Heatmap, name: string) => heatmap.shadowRoot!.querySelector<HTMLElement>(`[part~="${name}"]`);
const canvasOf = (heatmap: Heatmap) => part(heatmap, 'canvas') as HTMLCanvasElement;

/** The RGB of every device pixel strictly inside a cell (its edges may blend with neighbours). */
function cellPixels(heatmap: Heatmap, row: number, col: number): string[] {
  const canvas = canvasOf(heatmap);
  const cellX = canvas.width / heatmap.cols;
  const cellY = canvas.height / heatmap.rows;
  const [x0, y0] = [Math.ceil(col * cellX) + 1, Math.ceil(row * cellY) + 1];
  const [x1, y1] = [Math.floor((col + 1) * cellX) - 1, Math.floor((row + 1) * cellY) - 1];
  const data = canvas.getContext('2d')!.getImageData(x0, y0, x1 - x0, y1 - y0).data;
  const pixels: string[] = [];
  for (let i = 0; i < data.length; i += 4) pixels.push(`${data[i]},${data[i + 1]},${data[i + 2]}`);
  return pixels;
}

function cssColor(element: Element, name: string): string {
  const probe = document.createElement('canvas').getContext('2d')!;
  probe.fillStyle = getComputedStyle(element).getPropertyValue(name).trim();
  probe.fillRect(0, 0, 1, 1);
  const [r, g, b] = probe.getImageData(0, 0, 1, 1).data;
  return `${r},${g},${b}`;
}

describe('<llm-heatmap>', () => {
  afterEach(() => document.querySelectorAll('llm-heatmap').forEach((element) => element.remove()));

  it('lists every value in its hidden table, masked cells as −∞', async () => {
    const size = randomInt(5, 12);
    const heatmap = await heatmapOf(size, { masked: true });
    const table = part(heatmap, 'table') as HTMLTableElement;
    expect(table.caption!.textContent).to.equal('Scores');
    const headers = [...table.tHead!.rows[0]!.cells].slice(1).map((cell) => cell.textContent);
    expect(headers).to.deep.equal(heatmap.data.labels);
    const body = [...table.tBodies[0]!.rows];
    expect(body).to.have.length(size);
    body.forEach((tr, row) => {
      expect(tr.cells[0]!.textContent).to.equal(heatmap.data.labels[row]);
      [...tr.cells].slice(1).forEach((td, col) => {
        const index = row * size + col;
        if (col > row) expect(td.textContent).to.equal('−∞');
        else expect(Number(td.textContent!.replace('−', '-'))).to.be.closeTo(heatmap.data.values[index]!, 5e-5);
      });
    });
  });

  it('reads out the cell the arrow keys reach and selects it with Enter', async () => {
    const size = randomInt(6, 10);
    const heatmap = await heatmapOf(size, { masked: true });
    const focused: CellDetail[] = [];
    const selected: CellDetail[] = [];
    heatmap.addEventListener('llm-cell-focus', (event) => focused.push(event.detail));
    heatmap.addEventListener('llm-cell-select', (event) => selected.push(event.detail));
    canvasOf(heatmap).focus();
    await heatmap.updateComplete;
    expect(focused.at(-1)).to.include({ row: 0, col: 0 });
    const { labels, values } = heatmap.data;
    expect(part(heatmap, 'readout')!.textContent).to.equal(
      `query '${labels[0]}' ← key '${labels[0]}': ${formatValue(values[0]!)}`,
    );

    await sendKeys({ press: 'ArrowDown' });
    await sendKeys({ press: 'ArrowDown' });
    await sendKeys({ press: 'ArrowRight' });
    await heatmap.updateComplete;
    expect(focused.at(-1)).to.deep.equal({ row: 2, col: 1, value: values[2 * size + 1], masked: false });
    expect(part(heatmap, 'readout')!.textContent).to.equal(
      `query '${labels[2]}' ← key '${labels[1]}': ${formatValue(values[2 * size + 1]!)}`,
    );

    await sendKeys({ press: 'End' });
    await heatmap.updateComplete;
    expect(focused.at(-1)).to.include({ row: 2, col: size - 1, masked: true });
    expect(part(heatmap, 'readout')!.textContent).to.equal(`query '${labels[2]}' ← key '${labels[size - 1]}': −∞ (masked)`);
    await sendKeys({ press: 'Enter' });
    expect(selected).to.deep.equal([focused.at(-1)]);
  });

  it('reads out the cell under the pointer', async () => {
    const size = 8;
    const heatmap = await heatmapOf(size);
    const canvas = canvasOf(heatmap);
    const box = canvas.getBoundingClientRect();
    const [row, col] = [randomInt(0, size), randomInt(0, size)];
    const cell = box.width / size;
    const at = { clientX: box.left + (col + 0.5) * cell, clientY: box.top + (row + 0.5) * cell, bubbles: true };
    canvas.dispatchEvent(new PointerEvent('pointermove', at));
    await new Promise((resolve) => requestAnimationFrame(resolve));
    await heatmap.updateComplete;
    const { labels, values } = heatmap.data;
    expect(part(heatmap, 'readout')!.textContent).to.equal(
      `query '${labels[row]}' ← key '${labels[col]}': ${formatValue(values[row * size + col]!)}`,
    );
  });

  it('hatches masked cells and colours the others by the scale', async () => {
    const size = 6;
    const heatmap = await heatmapOf(size, { masked: true });
    const { values } = heatmap.data;
    let low = Infinity;
    let high = -Infinity;
    values.forEach((value, i) => {
      if (i % size <= Math.floor(i / size)) [low, high] = [Math.min(low, value), Math.max(high, value)];
    });
    const reach = Math.max(-low, high);
    const hatch = new Set([cssColor(heatmap, '--_background'), cssColor(heatmap, '--_muted')]);
    for (let row = 0; row < size; row++) {
      for (let col = 0; col < size; col++) {
        const pixels = new Set(cellPixels(heatmap, row, col));
        if (col > row) {
          // Stripes: both hatch colours show inside the cell, and no colour of the scale.
          for (const colour of hatch) expect(pixels, `masked cell ${row},${col}`).to.include(colour);
        } else {
          const expected = scaleColor('diverging', (values[row * size + col]! + reach) / (2 * reach)).join(',');
          expect([...pixels], `cell ${row},${col}`).to.deep.equal([expected]);
          expect(hatch.has(expected)).to.equal(false);
        }
      }
    }
  });

  it('draws at the device pixel ratio', async () => {
    const original = Object.getOwnPropertyDescriptor(window, 'devicePixelRatio')!;
    Object.defineProperty(window, 'devicePixelRatio', { value: 2, configurable: true });
    try {
      const heatmap = await heatmapOf(randomInt(5, 20));
      const canvas = canvasOf(heatmap);
      const box = canvas.getBoundingClientRect();
      expect(box.width).to.be.greaterThan(0);
      expect(canvas.width).to.equal(Math.round(box.width * 2));
      expect(canvas.height).to.equal(Math.round(box.height * 2));
    } finally {
      Object.defineProperty(window, 'devicePixelRatio', original);
    }
  });

  it('as a thumbnail: no readout or table, selected by click, Enter or Space', async () => {
    const heatmap = await heatmapOf(randomInt(4, 30), { compact: true });
    expect(part(heatmap, 'readout')).to.equal(null);
    expect(part(heatmap, 'table')).to.equal(null);
    const canvas = canvasOf(heatmap);
    expect(canvas.getAttribute('role')).to.equal('button');
    expect(canvas.getAttribute('aria-label')).to.equal('Scores');
    let selections = 0;
    heatmap.addEventListener('llm-heatmap-select', () => selections++);
    canvas.click();
    canvas.focus();
    await sendKeys({ press: 'Enter' });
    await sendKeys({ press: 'Space' });
    expect(selections).to.equal(3);
    heatmap.selected = true;
    await heatmap.updateComplete;
    expect(canvas.getAttribute('aria-pressed')).to.equal('true');
  });

  it('reports a row label click', async () => {
    const heatmap = await heatmapOf(7);
    const rows: number[] = [];
    heatmap.addEventListener('llm-row-select', (event) => rows.push(event.detail.row));
    heatmap.shadowRoot!.querySelectorAll<HTMLElement>('[part~="row-label"]')[4]!.click();
    expect(rows).to.deep.equal([4]);
  });
});
