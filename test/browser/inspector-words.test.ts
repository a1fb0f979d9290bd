// Every "look inside" panel on a word-piece (BPE) model, in the real playground
// with its real worker: a small random-weight model whose tokenizer is learned
// here from sentences with the seed's example words, opened from a checkpoint
// written here. The chips show word pieces with their space marked, each panel
// opens on its example, and the embedding numbers shown equal ones computed
// here from the checkpoint's own embedding matrix.
import { expect } from 'chai';
import type { LlmPlayground } from '../../src/llm-playground.ts';
import { ADJECTIVE_HEAD } from '../../workers/api/index.ts';
import { BpeTokenizer } from '../../workers/engine/bpe.ts';
import { writeCheckpoint } from '../../workers/engine/checkpoint.ts';
import type { GPTConfig } from '../../workers/engine/config.ts';
import { initParameters, type ParameterTensors } from '../../workers/engine/params.ts';
import {
  addPlayground,
  goThroughInspectorPanels,
  inspectorPanel,
  insideInspector,
  openInspectorTab,
} from './playground-drives.ts';
import { waitFor } from './wait-for.ts';

/** Sentences holding each example word at least twice, so a vocabulary of LEARNED tokens merges every one whole. */
const SENTENCES = [
  'a fluffy blue creature sat by the tall old tower.',
  'the king and the queen, the man and the woman.',
  'the cats and the cat, the dogs and the dog.',
  'In the garden, a mole dug a tunnel under the grass.',
  'The gardener saw a mole dig under the lawn of the yard.',
  'In chemistry class, we weighed one mole of carbon dioxide.',
  'With glue and paper, she made a miniature tower.',
  'In Paris, the Eiffel tower stood tall.',
  'Tourists in Paris climbed the Eiffel tower at night.',
  'The young wizard Harry Potter waved his wand.',
  'With a wand in his hand, the wizard Harry Potter cast a spell.',
  'At the palace, Prince Harry greeted the crowd.',
  'Michael Jordan plays the sport of basketball.',
];
const CORPUS = Array.from({ length: 3 }, () => SENTENCES.join(' ')).join('\n');
/** Every pair that occurs twice merged: the most this corpus can fill. */
const LEARNED = 481;

const text = (element: Element | null | undefined) => element?.textContent!.replace(/\s+/g, ' ').trim() ?? '';
/** How the page writes a number: fixed digits, a real minus sign. */
const shown = (value: number, digits: number) => value.toFixed(digits).replace('-', '−');

describe('the inspector on a word-piece model', function () {
  this.timeout(180_000);
  let playground: LlmPlayground;
  let url: string;
  let tokenizer: BpeTokenizer;
  let params: ParameterTensors;
  const id = (token: string) => tokenizer.vocab.indexOf(token);

  /** A token's row of the embedding matrix. */
  const row = (token: number) => {
    const C = params.config.nEmbd;
    return Array.from(params.wte.subarray(token * C, (token + 1) * C));
  };
  const dot = (a: number[], b: number[]) => a.reduce((sum, x, i) => sum + x * b[i]!, 0);
  const cosine = (a: number[], b: number[]) => dot(a, b) / Math.sqrt(dot(a, a) * dot(b, b));
  const minus = (a: number[], b: number[]) => a.map((x, i) => x - b[i]!);

  /** The open embedding section's shadow root. */
  const section = async (tab: string, tag: string, selector: string) => {
    const explorer = await waitFor(
      () => inspectorPanel(playground).shadowRoot!.querySelector('llm-embedding-explorer'),
      'the embedding explorer',
    );
    explorer.shadowRoot!.querySelector<HTMLButtonElement>(`#tab-${tab}`)!.click();
    await insideInspector(playground, ['llm-embedding-explorer', tag], selector, `the ${tab} section`);
    return explorer.shadowRoot!.querySelector(tag)!.shadowRoot!;
  };

  before(async () => {
    tokenizer = BpeTokenizer.train(CORPUS, LEARNED);
    // Just big enough to have the default model's adjective head.
    const [nLayer, nHead] = [ADJECTIVE_HEAD.layer + 1, ADJECTIVE_HEAD.head + 1];
    const config: GPTConfig = { vocabSize: tokenizer.size, blockSize: 32, nLayer, nHead, nEmbd: 8 * nHead, tied: true };
    params = initParameters(config, 15);
    url = URL.createObjectURL(new Blob([writeCheckpoint({ config, params, tokenizer }) as Uint8Array<ArrayBuffer>]));
    playground = await addPlayground({ model: url, inspect: '' });
    await waitFor(() => inspectorPanel(playground).model?.tokenizer === 'bpe', 'the word-piece model', 60_000);
  });
  // The panels open on their examples while the prompt is empty.
  afterEach(() => (playground.prompt = ''));
  after(() => {
    playground.remove();
    URL.revokeObjectURL(url);
  });

  it('the vocabulary has each example word as one token', () => {
    const words = [' fluffy', ' blue', ' creature', ' tower', ' king', ' man', ' woman', ' cats', ' cat', ' dogs', ' dog'];
    expect(words.concat(' mole', ' Harry', ' sport', ' basketball').filter((word) => id(word) < 0)).to.deep.equal([]);
  });

  it("the prompt's chips are word pieces, each leading space a dimmed mark", async () => {
    playground.prompt = 'a king and the queen';
    const chips = await waitFor(() => {
      const list = playground.shadowRoot!.querySelector('llm-prompt-tokens')?.shadowRoot!.querySelectorAll('[part~="chip"]');
      return list && list.length === 5 ? [...list] : null;
    }, 'five chips');
    expect(chips.map((chip) => text(chip.querySelector('[part~="chip-text"]')))).to.deep.equal([
      'a',
      '␣king',
      '␣and',
      '␣the',
      '␣queen',
    ]);
    expect(chips[1]!.querySelector('.space-mark')!.textContent).to.equal('␣');
    expect(chips[1]!.getAttribute('aria-label')).to.equal(`space then "king" id ${id(' king')}`);
    expect(text(playground.shadowRoot!.querySelector('#prompt-heading + .caption'))).to.contain('in word pieces');
  });

  it('attention opens on "a fluffy blue creature", the adjective head chosen and the noun as the query', async () => {
    await openInspectorTab(playground, 'attention');
    await insideInspector(playground, ['llm-attention-inspector'], '[part~="update-row"]', "the heads' updates");
    const inspector = inspectorPanel(playground).shadowRoot!.querySelector('llm-attention-inspector')!.shadowRoot!;
    const queries = [...inspector.querySelectorAll('[part~="query"]')];
    expect(queries.map((query) => query.textContent)).to.deep.equal(['a', '␣fluffy', '␣blue', '␣creature']);
    expect(queries.map((query) => query.getAttribute('aria-checked'))).to.deep.equal(['false', 'false', 'false', 'true']);
    expect(text(inspector.querySelector('[part~="head-title"]'))).to.equal(
      `Layer ${ADJECTIVE_HEAD.layer + 1}, head ${ADJECTIVE_HEAD.head + 1}`,
    );
    expect(text(inspectorPanel(playground).shadowRoot!.querySelector('[part~="example-note"]'))).to.contain(
      '"a fluffy blue creature"',
    );
  });

  it('the embeddings open on " tower" and cats − cat beside dogs − dog, with the cosines of this embedding matrix', async () => {
    await openInspectorTab(playground, 'embeddings');
    const neighbours = await section('neighbours', 'llm-embedding-neighbours', '[part~="neighbour"]');
    const picker = neighbours.querySelector<HTMLSelectElement>('[part~="token-picker"]')!;
    expect(picker.selectedOptions[0]!.text).to.equal(`␣tower · ${id(' tower')}`);
    const rows = [...neighbours.querySelectorAll('[part~="neighbour"]')];
    expect(rows).to.have.length(10);
    for (const shownRow of rows) {
      const neighbour = Number(shownRow.querySelector('.id')!.textContent);
      expect(text(shownRow.querySelector('[part~="neighbour-value"]'))).to.equal(
        shown(cosine(row(neighbour), row(id(' tower'))), 4),
      );
    }

    const directions = await section('directions', 'llm-embedding-directions', '[part~="directions-cosine"]');
    const [cats, cat, dogs, dog] = [' cats', ' cat', ' dogs', ' dog'].map((word) => row(id(word)));
    expect(text(directions.querySelector('[part~="directions-cosine"]'))).to.contain(
      `: ${shown(cosine(minus(cats!, cat!), minus(dogs!, dog!)), 4)} (`,
    );

    const arithmetic = await section('arithmetic', 'llm-embedding-arithmetic', '[part~="neighbour"]');
    expect(text(arithmetic.querySelector('[part~="explanation"]'))).to.contain(
      'space then "king" − space then "man" + space then "woman"',
    );
  });

  it('"In context" compares " mole" in the same sense and in another, layer by layer', async () => {
    const context = await section('context', 'llm-embedding-context', '[part~="context-table"]');
    const rows = [...context.querySelectorAll('[part~="context-table"] tbody tr')];
    // The embeddings and after each layer, for the same-sense pair and the other-sense pair.
    expect(rows.map((tableRow) => tableRow.querySelectorAll('td').length)).to.deep.equal(
      Array.from({ length: params.config.nLayer + 1 }, () => 2),
    );
    expect(text(context.querySelector('[part~="context-summary"]'))).to.contain('space then "mole" and space then "mole"');
  });

  it('every panel draws (the MLP neurons, experiments and logit lens on the fact prompt)', async () => {
    await goThroughInspectorPanels(playground);
    await openInspectorTab(playground, 'lens');
    await insideInspector(playground, ['llm-logit-lens'], '[part~="layer-row"]', 'the lens');
    expect(text(inspectorPanel(playground).shadowRoot!.querySelector('[part~="example-note"]'))).to.contain(
      '"Michael Jordan plays the sport of"',
    );
  });
});
