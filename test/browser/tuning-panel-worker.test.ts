// <llm-tuning-panel> on the real engine worker with the shipped model, as a user drives it: Play fine-tunes on the
// built-in dialogues and Before / After turns from a line of the corpus into the answer; then a choice between two
// answers and "Tune on my choices" raise the chosen answer's odds over the reference's.
import { expect } from 'chai';
import { EngineClient } from '../../src/client.ts';
import '../../src/elements/tuning-panel.ts';
import type { TuningPanel } from '../../src/elements/tuning-panel.ts';
import { formatTimes } from '../../src/elements/tuning-preference.ts';
import type { TuningPoint } from '../../workers/api/index.ts';
import { database, SHIPPED_MODEL } from './tuning-engine.ts';
import { waitFor } from './wait-for.ts';

/** The text of a reply's tokens, as <llm-chat-reply> shows them. */
const replyText = (root: ParentNode | null | undefined, selector: string): string =>
  [...(root?.querySelector(`${selector} llm-chat-reply`)?.shadowRoot?.querySelectorAll('[part~="token"]') ?? [])]
    .map((token) => token.textContent)
    .join('');

describe('<llm-tuning-panel> with the engine worker', function () {
  this.timeout(300_000);
  let client: EngineClient;
  let panel: TuningPanel;

  afterEach(() => {
    panel?.remove();
    client?.terminate();
  });

  // Measured: 60 steps took 19 to 28 s here; the replies are those the worker's own test measures.
  it('fine-tunes until Before / After shows the answer, then tunes on a choice', async () => {
    client = new EngineClient({ modelUrl: SHIPPED_MODEL, database: database() });
    panel = document.createElement('llm-tuning-panel');
    panel.client = client;
    panel.model = await client.model.info();
    const names: string[] = [];
    panel.addEventListener('llm-model-change', (event) => names.push(event.detail.name));
    document.body.append(panel);
    await panel.updateComplete;

    // Each element's shadow root once it is drawn (the tabs and Before / After draw after the panel).
    const dialogues = () => panel.shadowRoot!.querySelector('llm-tuning-dialogues')!.shadowRoot!;
    const compare = () => dialogues().querySelector('llm-tuning-compare')?.shadowRoot;
    const status = () => dialogues().querySelector('[part~="run-status"]')!.textContent!;
    await waitFor(() => replyText(compare(), '[data-model="before"]'), 'the untuned reply');
    expect(replyText(compare(), '[data-model="before"]')).to.include('The plural of book is books.');

    dialogues().querySelector<HTMLButtonElement>('[part~="play-button"]')!.click();
    await waitFor(() => status().includes('60 tuning steps so far'), 'the fine-tuning run to end', 200_000);
    await waitFor(
      () => replyText(compare(), '[data-model="after"]').includes('The creature is blue.'),
      'the fine-tuned reply',
      60_000,
    );
    expect(replyText(compare(), '[data-model="before"]')).to.include('The plural of book is books.');
    expect(names[0]).to.equal('default-model, tuned');
    expect(panel.shadowRoot!.querySelector('[part~="reference"]')!.textContent).to.include('default-model');

    // A choice between two answers the test gives, then tuning on it: the chosen answer's odds rise over the reference's.
    panel.tab = 'choices';
    const choices = () => panel.shadowRoot!.querySelector('llm-tuning-choices')!.shadowRoot!;
    const preference = () => choices().querySelector('llm-tuning-preference')!.shadowRoot!;
    const prompt = `A conversation between a user and a helpful assistant.\nUser: What colour is the small green dog? Assistant:`;
    const pair = { prompt, chosen: ' The dog is green.', rejected: ' The dog is red.' };
    await client.tuning.choose(pair);
    panel.model = await client.model.info(); // the panel reads the tuning state again
    const play = () => preference().querySelector<HTMLButtonElement>('[part~="play-button"]')!;
    await waitFor(() => !play().disabled, 'a pair to tune on');
    play().click();
    await waitFor(() => play().textContent!.includes('Pause'), 'the run to start');
    await waitFor(() => play().textContent!.includes('Tune on my choices'), 'the run to end', 200_000);
    const points = preference().querySelector<HTMLElement & { points: TuningPoint[] }>('llm-tuning-margin-chart')!.points;
    expect(points).to.have.length(20);
    expect(points.at(-1)!.margin).to.be.above(points[0]!.margin!);
    const odds = await client.tuning.odds(pair);
    expect(odds.tuned).to.be.above(odds.reference);
    const shown = (text?: string | null) => text?.replace(/\s+/g, ' ') ?? '';
    await waitFor(
      () => shown(preference().querySelector('[part~="odds"]')?.textContent).includes(`${formatTimes(odds.tuned)}× as likely`),
      'the odds after the run',
    );
  });
});
