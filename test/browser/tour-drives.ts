/**
 * Tour actions and checks that the tour's tests use and `npm run bench` times: the tour of a playground, and whether
 * the playground is in a step's state (prompt, temperature, section, tab, focus, the highlighted element and the box
 * over it).
 */
import { expect } from 'chai';
import type { AttentionInspector } from '../../src/elements/attention-inspector.ts';
import type { TourGuide } from '../../src/elements/tour-guide.ts';
import type { LlmPlayground } from '../../src/llm-playground.ts';
import { findThrough } from '../../src/tour/highlight.ts';
import { stepTitle, TOUR_STEPS } from '../../src/tour/steps.ts';
import { waitFor } from './wait-for.ts';

export const TOUR_KEY = 'llm-playground-tour';

export const tourOf = (playground: LlmPlayground): TourGuide => playground.shadowRoot!.querySelector('llm-tour')!;

/** One of the tour's parts (see tour-guide.ts). */
export const tourPart = (playground: LlmPlayground, name: string) =>
  tourOf(playground).shadowRoot!.querySelector<HTMLElement>(`[part~="${name}"]`);

/** The box over the highlighted element, when shown. */
export const highlightBox = (playground: LlmPlayground) =>
  playground.shadowRoot!.querySelector<HTMLElement>('[part~="highlight"]:not([hidden])');

/** The step's highlighted element, drawn, with the box over it (the box's margin is 4 px). */
export async function highlighted(playground: LlmPlayground, index: number, timeout = 60_000): Promise<HTMLElement> {
  const { highlight } = TOUR_STEPS[index]!.state;
  return waitFor(
    () => {
      const target = findThrough(playground.shadowRoot!, highlight);
      const box = highlightBox(playground);
      if (!target || !box) return null;
      const at = target.getBoundingClientRect();
      const over = box.getBoundingClientRect();
      const close = (a: number, b: number) => Math.abs(a - b) < 2;
      const covers =
        at.width > 0 && close(over.left, at.left - 4) && close(over.top, at.top - 4) && close(over.width, at.width + 8);
      return covers ? target : null;
    },
    `step ${index + 1}'s highlighted element (${highlight.join(' → ')}) with the box over it`,
    timeout,
  );
}

/** Waits until the playground is in step `index`'s state, and checks each part of it. */
export async function expectStepState(playground: LlmPlayground, index: number): Promise<void> {
  const step = TOUR_STEPS[index]!;
  const { prompt, temperature, panel, focus } = step.state;
  const root = playground.shadowRoot!;
  const tour = tourOf(playground);
  await waitFor(() => tour.step === index, `the tour at step ${index + 1}`);
  // The state is in place once the step's element is highlighted.
  const target = await highlighted(playground, index);
  await waitFor(
    () => {
      const at = target.getBoundingClientRect();
      return at.bottom > 0 && at.top < innerHeight;
    },
    `step ${index + 1}'s element scrolled into view`,
  );
  expect(tourPart(playground, 'title')!.textContent).to.equal(stepTitle(step));
  expect(tourPart(playground, 'counter')!.textContent).to.contain(`step ${index + 1} of ${TOUR_STEPS.length}`);
  expect(tourPart(playground, 'notice')!.textContent).to.contain(step.notice);
  expect(playground.prompt).to.equal(prompt);
  expect(root.querySelector('llm-sampling-controls')!.settings.temperature).to.equal(temperature ?? 1);
  if (panel) {
    expect(playground[panel.section], `section ${panel.section} open`).to.equal(true);
    expect(root.querySelector(`#${panel.section}-toggle`)!.getAttribute('aria-expanded')).to.equal('true');
    if (panel.section === 'inspect') {
      const inspector = root.querySelector('llm-inspector-panel')!;
      expect(inspector.tab).to.equal(panel.tab);
      if (panel.sub) {
        const explorer = await waitFor(() => inspector.shadowRoot!.querySelector('llm-embedding-explorer'), 'the embeddings');
        expect(explorer.section).to.equal(panel.sub);
      }
      if (focus && panel.tab === 'attention')
        await expectAttentionFocus(inspector.shadowRoot!.querySelector('llm-attention-inspector')!, index);
    } else if (panel.section === 'labs') {
      expect(root.querySelector('llm-labs-panel')!.lab).to.equal(panel.tab);
    }
  }
}

/** The attention inspector shows the step's layer, head, stage and query. */
async function expectAttentionFocus(inspector: AttentionInspector, index: number): Promise<void> {
  const { layer = 0, head = 0, stage, query } = TOUR_STEPS[index]!.state.focus!;
  const shadow = () => inspector.shadowRoot!;
  await waitFor(
    () => shadow().querySelector('[part~="head-title"]')?.textContent === `Layer ${layer + 1}, head ${head + 1}`,
    `layer ${layer + 1}, head ${head + 1}`,
    60_000,
  );
  if (stage) {
    const checked = [...shadow().querySelectorAll<HTMLInputElement>('[part~="stage"]')].find((input) => input.checked);
    expect(checked?.value).to.equal(stage);
  }
  if (query !== undefined) {
    await waitFor(
      () => shadow().querySelector<HTMLElement>('[part~="query"][aria-checked="true"]')?.dataset.position === String(query),
      `token ${query + 1} as the query`,
    );
  }
}

/** The whole tour as a user goes through it: Take the tour, then Next on every step once its element is highlighted. */
export async function goThroughTour(playground: LlmPlayground): Promise<void> {
  tourPart(playground, 'start-button')!.click();
  for (let index = 0; index < TOUR_STEPS.length; index++) {
    if (index > 0) tourPart(playground, 'next-button')!.click();
    await waitFor(() => tourOf(playground).step === index, `step ${index + 1}`);
    await highlighted(playground, index);
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}
