// The training panel's tokenizer choice in a real page with its real worker: word pieces learned on pasted
// text with their merges shown, the choice reaching the model Play builds, the keyboard, and a vocabulary too
// big for the text refused with nothing else changed.
import { sendKeys } from '@web/test-runner-commands';
import { expect } from 'chai';
import type { EngineClient } from '../../src/client.ts';
import '../../src/elements/bpe-merges.ts';
import type { LlmPlayground } from '../../src/llm-playground.ts';
import type { ModelInfo } from '../../workers/api/index.ts';
import { BUILTIN_BPE_VOCAB } from '../../workers/engine/defaults.ts';
import { addPlayground, trainingPanel } from './playground-drives.ts';
import { waitFor } from './wait-for.ts';

const STORY =
  'The lighthouse keeper climbed the stairs every evening. He carried a lamp and a notebook, and he wrote down ' +
  'the weather, the ships he saw and the birds on the rail. In winter the wind came from the north and the waves ' +
  'broke over the rocks. In summer the sea was calm and the children rowed out to wave at him. ';

describe('tokenizer choice in the training panel', function () {
  let playground: LlmPlayground;
  const panel = () => playground.shadowRoot!.querySelector('llm-training-panel')!;
  const inner = (tag: string) => panel().shadowRoot!.querySelector(tag)!.shadowRoot!;
  const picker = () => inner('llm-tokenizer-picker');
  const merges = () => picker().querySelector('llm-bpe-merges')!.shadowRoot!;
  const radio = (value: string) => picker().querySelector<HTMLInputElement>(`input[value="${value}"]`)!;
  const sizeField = () => picker().querySelector<HTMLInputElement>('[part~="vocab-size"]')!;
  const summary = () => inner('llm-corpus-picker').querySelector('[part~="corpus-summary"]')?.textContent ?? '';
  const vocabulary = () => inner('llm-corpus-picker').querySelectorAll('[part~="vocabulary"] li').length;
  const text = (root: ShadowRoot, part: string) => root.querySelector(`[part~="${part}"]`)?.textContent!.replace(/\s+/g, ' ');
  const number = (digits: string) => Number(digits.replace(/,/g, ''));

  before(async () => {
    playground = await addPlayground({ model: 'random', train: '', prompt: 'The keeper' });
    await trainingPanel(playground);
    const corpus = inner('llm-corpus-picker');
    corpus.querySelector<HTMLInputElement>('input[value="text"]')!.click();
    await waitFor(() => corpus.querySelector('#paste'), 'the paste box');
    corpus.querySelector<HTMLTextAreaElement>('#paste')!.value = STORY.repeat(6);
    corpus.querySelector<HTMLButtonElement>('.row button')!.click();
    await waitFor(() => summary().includes('Your text'), 'the summary of the paste');
  });
  after(() => playground.remove());

  it('starts with characters, and learns word pieces of the size typed, showing the merges and the shrink', async () => {
    expect(radio('char').checked).to.equal(true);
    expect(summary()).to.match(/so as many tokens/);
    expect(merges().textContent!.trim()).to.equal('');

    const field = sizeField();
    field.value = '300';
    field.dispatchEvent(new Event('change'));
    await waitFor(() => /word-piece tokens/.test(summary()), 'the summary in word pieces');
    expect(radio('bpe').checked).to.equal(true);
    expect(vocabulary()).to.equal(300);

    const latest = text(merges(), 'latest-merge')!;
    expect(latest).to.match(/The last merge: the most frequent pair, .+ \+ .+ → .+, found [\d,]+ times\./);
    const bytes = new TextEncoder().encode(STORY.repeat(6)).length;
    const [, start, now] = text(merges(), 'shrink')!.match(/([\d,]+) bytes at the start, ([\d,]+) tokens now/)!;
    expect(number(start!)).to.equal(bytes);
    // The summary counts the same tokens: the corpus after the last merge.
    expect(summary()).to.contain(`${now} word-piece tokens`);
    expect(number(now!)).to.be.below(bytes);
    const bar = merges().querySelector<HTMLElement>('[part~="shrink-bar"]')!;
    expect(Number.parseFloat(bar.style.width)).to.be.closeTo((number(now!) / bytes) * 100, 0.01);
    expect(merges().querySelector<HTMLProgressElement>('[part~="vocabulary-progress"]')!.value).to.equal(300);
    expect(merges().querySelectorAll('[part~="merges"] tbody tr')).to.have.length(8);
  });

  it('builds the model Play trains with those word pieces', async () => {
    const changed = new Promise<ModelInfo>((resolve) =>
      document.addEventListener('llm-model-change', (event) => resolve((event as CustomEvent<ModelInfo>).detail), { once: true }),
    );
    const play = panel().shadowRoot!.querySelector<HTMLButtonElement>('[part~="play-button"]')!;
    play.click();
    const model = await changed;
    expect(model).to.include({ tokenizer: 'bpe' });
    expect(model.config.vocabSize).to.equal(300);
    expect(model.vocabulary).to.have.length(300);
    await waitFor(() => play.textContent!.trim() === 'Pause' && !play.disabled, 'training');
    play.click();
    await waitFor(() => play.textContent!.trim() === 'Play', 'the pause');
  });

  it('refuses a vocabulary the text cannot fill: the message, and nothing else changes', async () => {
    const client = panel().client as EngineClient;
    const modelBefore = await client.model.info();
    const summaryBefore = summary();
    const field = sizeField();
    field.value = '4000';
    field.dispatchEvent(new Event('change'));
    const error = await waitFor(() => picker().querySelector('[part~="tokenizer-error"]'), 'the error');
    expect(error.getAttribute('role')).to.equal('alert');
    expect(error.textContent).to.match(/choose at most [\d,]+/);
    expect(sizeField().value).to.equal('300');
    expect(radio('bpe').checked).to.equal(true);
    expect(summary()).to.equal(summaryBefore);
    expect(text(merges(), 'latest-merge')).to.match(/The last merge/);
    expect(panel().shadowRoot!.textContent).to.not.match(/You changed the setup/);
    expect(await client.model.info()).to.deep.equal(modelBefore);
  });

  it('goes back to characters from the keyboard', async () => {
    radio('bpe').focus();
    await sendKeys({ press: 'ArrowLeft' });
    await waitFor(() => /so as many tokens/.test(summary()), 'the summary in characters');
    expect(radio('char').checked).to.equal(true);
    expect(picker().querySelector('[part~="tokenizer-error"]')).to.equal(null);
    expect(merges().textContent!.trim()).to.equal('');
    expect(vocabulary()).to.equal(new Set(STORY).size + 1);
    expect(panel().shadowRoot!.textContent).to.match(/You changed the setup: Reset starts a new model/);
  });
});

describe('word pieces of the built-in corpus in the training panel', function () {
  let playground: LlmPlayground;
  after(() => playground.remove());

  it('shows the merges while they are learned, then the vocabulary of the size the built-in model uses', async () => {
    playground = await addPlayground({ model: 'random', train: '', prompt: 'The king' });
    const { panel } = await trainingPanel(playground);
    const picker = panel.shadowRoot!.querySelector('llm-tokenizer-picker')!.shadowRoot!;
    const merges = picker.querySelector('llm-bpe-merges')!.shadowRoot!;
    const corpus = panel.shadowRoot!.querySelector('llm-corpus-picker')!.shadowRoot!;
    expect(picker.querySelector<HTMLInputElement>('[part~="vocab-size"]')!.value).to.equal(String(BUILTIN_BPE_VOCAB));
    // While it learns: the merge under way, and the corpus picker is not said to be reading. Read as each render
    // lands: a busy page can take every merge and the end in one go, between two looks of a poll.
    let whileMerging: { heading: string; corpus: string } | null = null;
    const watch = new MutationObserver(() => {
      if (whileMerging || !/Merging now/.test(merges.textContent!)) return;
      whileMerging = { heading: merges.querySelector('h5')!.textContent!, corpus: corpus.textContent! };
    });
    watch.observe(merges, { subtree: true, childList: true, characterData: true });
    picker.querySelector<HTMLInputElement>('input[value="bpe"]')!.click();
    const seen = await waitFor(() => whileMerging, 'a merge under way', 60_000);
    watch.disconnect();
    expect(seen.heading).to.equal('Learning word pieces…');
    expect(seen.corpus).to.not.contain('Reading the text');
    await waitFor(
      () => /word-piece tokens/.test(corpus.querySelector('[part~="corpus-summary"]')?.textContent ?? ''),
      'the summary',
      60_000,
    );
    expect(merges.querySelector('h5')!.textContent).to.equal('Word pieces learned');
    expect(corpus.querySelectorAll('[part~="vocabulary"] li')).to.have.length(BUILTIN_BPE_VOCAB);
  });
});

describe('<llm-bpe-merges> while BPE learns', () => {
  it('shows the pair merging now, its count and new token, the vocabulary so far and the corpus shrinking', async () => {
    const view = document.createElement('llm-bpe-merges');
    document.body.append(view);
    const merges = [
      { rank: 0, left: 't', right: 'h', token: 'th', count: 900, corpusTokens: 9100 },
      { rank: 1, left: 'e', right: 'r', token: 'er', count: 700, corpusTokens: 8400 },
      { rank: 2, left: 'th', right: 'e', token: 'the', count: 650, corpusTokens: 7750 },
    ];
    view.learning = { merges, vocabSize: 1024, baseTokens: 256, corpusBytes: 10000, done: false };
    await view.updateComplete;
    const root = view.shadowRoot!;
    const text = (part: string) => root.querySelector(`[part~="${part}"]`)!.textContent!.replace(/\s+/g, ' ').trim();
    expect(root.querySelector('h5')!.textContent).to.equal('Learning word pieces…');
    expect(text('latest-merge')).to.equal('Merging now: the most frequent pair, th + e → the, found 650 times.');
    expect(text('shrink')).to.equal('The corpus: 10,000 bytes at the start, 7,750 tokens now (78% as many).');
    expect(root.querySelector<HTMLElement>('[part~="shrink-bar"]')!.style.width).to.equal('77.5%');
    const progress = root.querySelector<HTMLProgressElement>('[part~="vocabulary-progress"]')!;
    expect([progress.value, progress.max]).to.deep.equal([259, 1024]);
    const rows = [...root.querySelectorAll('[part~="merges"] tbody tr')].map((row) =>
      row.textContent!.replace(/\s+/g, ' ').trim(),
    );
    expect(rows).to.deep.equal(['3 th + e → the 650', '2 e + r → er 700', '1 t + h → th 900']);
    view.remove();
  });
});
