// <llm-loss-chart> on its own: every label of its axes lies inside the chart,
// whatever the width of the page and the number of steps.
import { expect } from 'chai';
import '../../src/elements/loss-chart.ts';
import type { LossChart } from '../../src/elements/loss-chart.ts';
import type { LossPoint } from '../../workers/api/index.ts';
import { random } from './seeded.ts';

/** A falling loss with some noise, measured on held-out text every `every` steps. */
function lossCurve(steps: number, every: number): LossPoint[] {
  return Array.from({ length: steps }, (_, i) => {
    const step = i + 1;
    const loss = 1.2 + 3 * Math.exp(-step / (steps / 4)) + 0.1 * random();
    return step % every === 0 ? { step, loss, validationLoss: loss + 0.2 } : { step, loss };
  });
}

describe('loss chart', () => {
  let chart: LossChart;

  afterEach(() => chart.remove());

  for (const width of [280, 480, 760]) {
    for (const steps of [7, 400, 2000, 20000, 123456]) {
      it(`keeps every tick label inside the chart at ${width}px wide over ${steps} steps`, async () => {
        chart = document.createElement('llm-loss-chart');
        chart.style.display = 'block';
        chart.style.width = `${width}px`;
        chart.points = lossCurve(steps, Math.max(1, Math.round(steps / 20)));
        chart.totalSteps = steps;
        document.body.append(chart);
        await chart.updateComplete;
        const svg = chart.shadowRoot!.querySelector('svg')!;
        const box = svg.getBoundingClientRect();
        expect(box.width).to.be.closeTo(width, 1);
        const labels = [...svg.querySelectorAll('text')];
        // The x axis names its last step ("20,000"), the y axis its losses, and both their titles.
        expect(labels.map((label) => label.textContent)).to.include(steps === 20000 ? '20,000' : '0');
        for (const label of labels) {
          const inner = label.getBoundingClientRect();
          const where = `"${label.textContent}" spans ${inner.left.toFixed(1)}–${inner.right.toFixed(1)}, the chart ${box.left.toFixed(1)}–${box.right.toFixed(1)}`;
          expect(inner.left, where).to.be.at.least(box.left);
          expect(inner.right, where).to.be.at.most(box.right);
          expect(inner.top, where).to.be.at.least(box.top);
          expect(inner.bottom, where).to.be.at.most(box.bottom);
        }
      });
    }
  }
});
