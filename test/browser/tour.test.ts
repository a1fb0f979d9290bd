// The tour (<llm-tour> in <llm-playground>): every step reaches its state from a fresh page and from its link, the
// whole tour goes by keyboard alone, and a tour left resumes where it was, in a new page too.
import { sendKeys } from '@web/test-runner-commands';
import { expect } from 'chai';
import type { Heatmap } from '../../src/elements/heatmap.ts';
import type { LlmPlayground } from '../../src/llm-playground.ts';
import { TOUR_STEPS } from '../../src/tour/steps.ts';
import { addPlayground } from './playground-drives.ts';
import { expectStepState, highlightBox, TOUR_KEY, tourOf, tourPart } from './tour-drives.ts';
import { waitFor } from './wait-for.ts';

/** The focused element, looking inside shadow roots. */
function deepActiveElement(): Element | null {
  let active = document.activeElement;
  while (active?.shadowRoot?.activeElement) active = active.shadowRoot.activeElement;
  return active;
}

describe('the tour', function () {
  let playground: LlmPlayground | null = null;
  const start = location.href;

  beforeEach(() => localStorage.removeItem(TOUR_KEY));
  afterEach(() => {
    playground?.remove();
    playground = null;
    localStorage.removeItem(TOUR_KEY);
    history.replaceState(null, '', start);
  });

  it('leads the first screen: its start sits above the prompt', async () => {
    playground = await addPlayground({});
    const button = tourPart(playground, 'start-button')!;
    expect(button.textContent!.trim()).to.equal('Take the tour');
    const prompt = playground.shadowRoot!.querySelector('textarea')!;
    expect(button.getBoundingClientRect().bottom).to.be.at.most(prompt.getBoundingClientRect().top);
    expect(tourPart(playground, 'intro')!.textContent).to.contain('15 chapters');
    expect(new Set(TOUR_STEPS.map((step) => step.chapter)).size).to.equal(15);
  });

  TOUR_STEPS.forEach((step, index) => {
    const where = step.state.panel ? `${step.state.panel.section}/${step.state.panel.tab ?? ''}` : 'the first screen';
    it(`step ${index + 1} (chapter ${step.chapter}, ${where}) from a fresh page: Take the tour, then that step`, async () => {
      playground = await addPlayground({});
      tourPart(playground, 'start-button')!.click();
      await expectStepState(playground, 0);
      tourOf(playground).start(index);
      await expectStepState(playground, index);
    });

    it(`step ${index + 1} from its link (#tour=${index + 1}, url-state)`, async () => {
      history.replaceState(null, '', `#tour=${index + 1}`);
      playground = await addPlayground({ 'url-state': '' });
      await expectStepState(playground, index);
      await waitFor(
        () => new URLSearchParams(location.hash.slice(1)).get('tour') === String(index + 1),
        'the step kept in the link',
      );
    });
  });

  it('says what the shipped model shows: in the pattern step, " creature" puts most of its weight on its adjectives', async () => {
    const index = TOUR_STEPS.findIndex((step) => step.part === 'The pattern');
    playground = await addPlayground({});
    tourPart(playground, 'start-button')!.click();
    tourOf(playground).start(index);
    await expectStepState(playground, index);
    const inspector = playground
      .shadowRoot!.querySelector('llm-inspector-panel')!
      .shadowRoot!.querySelector('llm-attention-inspector')!;
    const heatmap = inspector.shadowRoot!.querySelector<Heatmap>('[part~="head-heatmap"]')!;
    const tokens = 4;
    const row = [...heatmap.values.subarray(3 * tokens, 4 * tokens)];
    // Tokens: "a", " fluffy", " blue", " creature".
    expect(row[1]! + row[2]!, `the row of " creature": ${row}`).to.be.greaterThan(0.5);
  });

  it('says what the shipped model shows: after the fact prompt of step 1, one token takes most of the probability', async () => {
    playground = await addPlayground({});
    tourPart(playground, 'start-button')!.click();
    await expectStepState(playground, 0);
    const chart = playground.shadowRoot!.querySelector('llm-next-token-chart')!;
    const first = await waitFor(() => chart.shadowRoot!.querySelector('[part~="bar-value"]')?.textContent, 'the bars');
    expect(parseFloat(first), `the likeliest token's probability: ${first}`).to.be.greaterThan(50);
  });

  it('goes through the whole tour by keyboard alone: Tab to it, Enter, arrows, Space, Escape', async () => {
    playground = await addPlayground({});
    const reached: number[] = [];
    playground.addEventListener('llm-tour-step', (event) => reached.push(event.detail.index));
    const startButton = tourPart(playground, 'start-button')!;
    for (let presses = 0; deepActiveElement() !== startButton; presses++) {
      expect(presses, 'Tab reaches "Take the tour"').to.be.below(40);
      await sendKeys({ press: 'Tab' });
    }
    await sendKeys({ press: 'Enter' });
    await expectStepState(playground, 0);
    expect(deepActiveElement(), 'focus on the step title').to.equal(tourPart(playground, 'title'));
    for (let index = 1; index < TOUR_STEPS.length; index++) {
      await sendKeys({ press: 'ArrowRight' });
      await waitFor(() => tourOf(playground!).step === index, `step ${index + 1}`);
    }
    await expectStepState(playground, TOUR_STEPS.length - 1);
    await sendKeys({ press: 'ArrowLeft' });
    await expectStepState(playground, TOUR_STEPS.length - 2);
    // Tab to Next (past Back), Space on it.
    const next = tourPart(playground, 'next-button')!;
    for (let presses = 0; deepActiveElement() !== next; presses++) {
      expect(presses, 'Tab reaches Next').to.be.below(5);
      await sendKeys({ press: 'Tab' });
    }
    await sendKeys({ press: 'Space' });
    await expectStepState(playground, TOUR_STEPS.length - 1);
    expect(deepActiveElement(), 'focus stays on Next (now Finish)').to.equal(next);
    expect(next.textContent!.trim()).to.equal('Finish');
    await sendKeys({ press: 'Escape' });
    await waitFor(() => tourOf(playground!).step === -1, 'the tour left');
    expect(highlightBox(playground), 'no box once the tour is left').to.equal(null);
    expect(deepActiveElement()).to.equal(tourPart(playground, 'resume-button'));
    expect(reached).to.deep.equal([...TOUR_STEPS.keys(), TOUR_STEPS.length - 2, TOUR_STEPS.length - 1]);
  });

  it('is left and resumed at the same step, in a new page too; Finish starts the next one from the beginning', async () => {
    playground = await addPlayground({});
    tourPart(playground, 'start-button')!.click();
    tourOf(playground).start(5);
    await expectStepState(playground, 5);
    tourPart(playground, 'leave-button')!.click();
    await waitFor(() => tourPart(playground!, 'resume-button'), 'the resume button');
    expect(highlightBox(playground)).to.equal(null);
    expect(tourPart(playground, 'resume-button')!.textContent!.trim()).to.equal('Resume the tour at step 6');
    playground.remove();

    playground = await addPlayground({});
    const resume = tourPart(playground, 'resume-button')!;
    expect(resume.textContent!.trim()).to.equal('Resume the tour at step 6');
    resume.click();
    await expectStepState(playground, 5);
    tourOf(playground).start(TOUR_STEPS.length - 1);
    await expectStepState(playground, TOUR_STEPS.length - 1);
    tourPart(playground, 'next-button')!.click();
    await waitFor(() => tourPart(playground!, 'start-button')?.textContent!.trim() === 'Take the tour', 'Take the tour again');
    expect(tourPart(playground, 'resume-button')).to.equal(null);
    expect(localStorage.getItem(TOUR_KEY)).to.equal(null);
  });
});
