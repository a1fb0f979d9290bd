// <llm-logit-lens> against an in-memory client of its slice with fresh random
// layers: the rows equal what the client returned, picking a token asks for
// its position, busy and error states.
import { sendKeys } from '@web/test-runner-commands';
import { expect } from 'chai';
import type { EngineClient } from '../../src/client.ts';
import '../../src/elements/logit-lens.ts';
import type { LogitLens, LogitLensClient } from '../../src/elements/logit-lens.ts';
import { formatPercent, visibleToken } from '../../src/visible-token.ts';
import type { LensLayer, PromptOdds } from '../../workers/api/index.ts';
import { random, randomInt, shuffle } from './seeded.ts';
import { waitFor } from './wait-for.ts';

// The inspector panel hands its EngineClient to the element.
const engineClientFits: EngineClient extends LogitLensClient ? true : never = true;

const VOCABULARY = [...'abcdefghijklmnopqrstuvwxyz .,\n'];
const randomText = (): string => Array.from({ length: randomInt(6, 20) }, () => VOCABULARY[randomInt(0, 26)]).join('');

/** Random layers: descending probabilities that leave some mass to other tokens, positive norms. */
function randomLens(nLayer: number, count: number): LensLayer[] {
  return Array.from({ length: nLayer + 1 }, (_, layer) => {
    let left = 0.3 + random() * 0.7;
    const ids = shuffle([...VOCABULARY.keys()]).slice(0, count);
    const top = ids.map((id) => {
      const score = left * (0.3 + random() * 0.6);
      left -= score;
      return { id, token: VOCABULARY[id]!, score };
    });
    return { layer, top, norm: 0.5 + random() * 40 };
  });
}

class FakeInspector implements LogitLensClient {
  readonly nLayer = randomInt(2, 7);
  readonly lensCalls: { text: string; position: number; count: number }[] = [];
  /** What the last logitLens call answered. */
  answered: LensLayer[] = [];
  failure = '';
  /** While holding, each call waits here until released by its index. */
  holding = false;
  readonly held: (() => void)[] = [];

  readonly inspector = {
    odds: async (text: string): Promise<PromptOdds> => {
      const tokens = text ? [...text] : ['\n'];
      const config = { vocabSize: VOCABULARY.length, blockSize: 64, nLayer: this.nLayer, nHead: 2, nEmbd: 8, tied: true };
      return {
        ids: tokens.map((token) => VOCABULARY.indexOf(token)),
        tokens,
        config,
        next: new Float32Array(0),
        top: [],
      };
    },

    logitLens: async (text: string, position: number, count: number): Promise<LensLayer[]> => {
      this.lensCalls.push({ text, position, count });
      if (this.holding) await new Promise<void>((resolve) => this.held.push(resolve));
      if (this.failure) throw new Error(this.failure);
      this.answered = randomLens(this.nLayer, count);
      return this.answered;
    },
  };
}

describe('<llm-logit-lens>', function () {
  let lens: LogitLens;
  let client: FakeInspector;
  const root = () => lens.shadowRoot!;
  const rows = () => [...root().querySelectorAll('[part~="layer-row"]')];
  const chips = () => [...root().querySelectorAll<HTMLInputElement>('[part~="position"] input')];
  const lastCall = () => client.lensCalls.at(-1)!;

  /** Waits until the table shows the latest answer, then checks every cell against it. */
  async function expectRowsMatch(expected?: LensLayer[]): Promise<void> {
    const answered = await waitFor(() => {
      const shown = expected ?? client.answered;
      return shown.length > 0 && rows().length === shown.length && !root().querySelector('[aria-busy="true"]') && shown;
    }, 'the rows');
    const longest = Math.max(...answered.map((layer) => layer.norm));
    const finalChoice = answered.at(-1)!.top[0]!.id;
    rows().forEach((row, i) => {
      const layer = answered[i]!;
      expect(row.querySelector('th')!.textContent!.trim()).to.equal(i === 0 ? 'embeddings' : `after layer ${i}`);
      const cells = [...row.querySelectorAll<HTMLElement>('[part~="prediction"]')];
      expect(cells.map((cell) => cell.querySelector('.token')!.textContent)).to.deep.equal(
        layer.top.map((t) => visibleToken(t.token)),
      );
      expect(cells.map((cell) => Number(cell.dataset['id']))).to.deep.equal(layer.top.map((t) => t.id));
      expect(cells.map((cell) => cell.querySelector('.value')!.textContent)).to.deep.equal(
        layer.top.map((t) => formatPercent(t.score)),
      );
      const widths = cells.map((cell) => parseFloat(cell.querySelector<HTMLElement>('[part~="prediction-fill"]')!.style.width));
      widths.forEach((width, rank) => expect(width).to.be.closeTo(layer.top[rank]!.score * 100, 0.01));
      expect(cells.map((cell) => cell.part.contains('final'))).to.deep.equal(layer.top.map((t) => t.id === finalChoice));
      const norm = row.querySelector('[part~="norm"]')!;
      expect(norm.textContent!.trim()).to.equal(layer.norm.toFixed(2));
      const normWidth = parseFloat(norm.querySelector<HTMLElement>('[part~="norm-fill"]')!.style.width);
      expect(normWidth).to.be.closeTo((layer.norm / longest) * 100, 0.01);
    });
  }

  beforeEach(() => {
    client = new FakeInspector();
    lens = document.createElement('llm-logit-lens');
    document.body.append(lens);
  });

  afterEach(() => lens.remove());

  it('fits the EngineClient', () => {
    expect(engineClientFits).to.equal(true);
  });

  it('reads out the last token by default: one row per layer, with its top tokens, probabilities and norm', async () => {
    const text = randomText();
    lens.text = text;
    lens.client = client;
    await expectRowsMatch();
    expect(client.lensCalls).to.deep.equal([{ text, position: text.length - 1, count: 5 }]);
    expect(rows()).to.have.length(client.nLayer + 1);
    const chosen = chips().filter((chip) => chip.checked);
    expect(chosen.map((chip) => chip.value)).to.deep.equal([String(text.length - 1)]);
    expect(chips().map((chip) => chip.parentElement!.textContent!.trim())).to.deep.equal(
      [...text].map((c) => visibleToken(c).trim()),
    );
    // The text alternative: a real table, each prediction named with its token and probability.
    const first = client.answered[0]!.top[0]!;
    expect(root().querySelector('[part~="prediction"]')!.getAttribute('aria-label')).to.match(
      new RegExp(`${formatPercent(first.score).replace('.', '\\.')}$`),
    );
  });

  it('asks for the position of a clicked chip, and moves with the arrow keys', async () => {
    const text = randomText();
    lens.text = text;
    lens.client = client;
    await expectRowsMatch();
    const position = randomInt(0, text.length - 2);
    chips()[position]!.click();
    await waitFor(() => client.lensCalls.length === 2, 'a second read-out');
    expect(lastCall()).to.deep.equal({ text, position, count: 5 });
    await expectRowsMatch();
    expect(root().querySelector('caption')!.textContent).to.contain(`position ${position}`);

    chips()[position]!.focus();
    await sendKeys({ press: 'ArrowRight' });
    await waitFor(() => client.lensCalls.length === 3, 'a read-out after the arrow key');
    expect(lastCall().position).to.equal(position + 1);
    await expectRowsMatch();
  });

  it('starts again at the last token when the prompt changes', async () => {
    lens.text = randomText();
    lens.client = client;
    await expectRowsMatch();
    chips()[0]!.click();
    await waitFor(() => lastCall().position === 0, 'the first token');
    const text = randomText() + randomText();
    lens.text = text;
    await waitFor(() => lastCall().text === text, 'the new prompt');
    expect(lastCall().position).to.equal(text.length - 1);
    await expectRowsMatch();
    expect(chips()).to.have.length(text.length);
  });

  it('says it is busy while the worker computes, and shows its error', async () => {
    lens.text = randomText();
    client.holding = true;
    lens.client = client;
    const status = await waitFor(() => root().querySelector('[part~="status"]'), 'the status line');
    await waitFor(() => /Reading out/.test(status.textContent!), 'the busy status');
    expect(status.getAttribute('role')).to.equal('status');
    client.holding = false;
    await waitFor(() => client.held.length === 1, 'the held call');
    client.held[0]!();
    await expectRowsMatch();
    expect(status.textContent!.trim()).to.equal('');

    const message = `No model loaded ${randomInt(1, 1000)}`;
    client.failure = message;
    chips()[0]!.click();
    const error = await waitFor(() => root().querySelector('[part~="error"]'), 'the error');
    expect(error.getAttribute('role')).to.equal('alert');
    expect(error.textContent).to.equal(message);

    client.failure = '';
    chips()[1]!.click();
    await waitFor(() => !root().querySelector('[part~="error"]'), 'the error to clear');
    await expectRowsMatch();
  });

  it('drops an answer that arrives after a newer question', async () => {
    const text = randomText();
    lens.text = text;
    lens.client = client;
    await expectRowsMatch();
    client.holding = true;
    chips()[0]!.click();
    chips()[1]!.click();
    await waitFor(() => client.held.length === 2, 'two held read-outs');
    client.held[1]!();
    await waitFor(() => client.answered.length && lastCall().position === 1 && client.lensCalls.length === 3, 'the newer answer');
    await expectRowsMatch();
    const newer = client.answered;
    client.held[0]!();
    await waitFor(() => client.answered !== newer, 'the older answer');
    await new Promise((resolve) => setTimeout(resolve, 50));
    await expectRowsMatch(newer);
    expect(root().querySelector('caption')!.textContent).to.contain('position 1');
  });
});
