// Characters that would hide themselves or reorder their line (bidirectional
// controls, zero-width and other invisible characters, control characters)
// are shown as their code, U+202E, in a marked style: in visibleToken and
// visibleText, on the prompt's chips, on the next-token bars and in a saved
// model's name. The expected codes come from the list, written out here.
import { expect } from 'chai';
import { html, render } from 'lit';
import '../../src/elements/chat-reply.ts';
import '../../src/elements/next-token-chart.ts';
import '../../src/elements/prompt-tokens.ts';
import { renderSavedModel, type SavedModelActions } from '../../src/elements/saved-model-card.ts';
import { describeToken, visibleText, visibleToken } from '../../src/visible-token.ts';
import type { CheckpointSummary, Prediction, Tokenization } from '../../workers/api/index.ts';
import { pick, randomInt } from './seeded.ts';

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const LINE_BREAKS_AND_TAB = [0x09, 0x0a, 0x0d];

/** What the issue names: bidirectional controls, zero-width and invisible characters, control characters. */
const HIDDEN_CODES = [
  ...range(0x202a, 0x202e),
  ...range(0x2066, 0x2069),
  0x200e,
  0x200f,
  0x061c,
  ...range(0x200b, 0x200d),
  0x2060,
  0xfeff,
  0x00ad,
  ...range(0x00, 0x1f).filter((code) => !LINE_BREAKS_AND_TAB.includes(code)),
  0x7f,
  ...range(0x80, 0x9f),
];
const HEX = '0123456789ABCDEF';
/** "U+" and four hex digits, written out digit by digit. */
const codeOf = (code: number): string => `U+${[12, 8, 4, 0].map((shift) => HEX[(code >> shift) & 15]).join('')}`;

/** Characters drawn as themselves: letters of several scripts, digits, punctuation, an emoji, spaces and line breaks. */
const PLAIN = [...'abcXYZ019.,;!?-()éßøЖж中文かなשלוםمرحبا😀 \n\t'];

const RLO = '\u202e';

describe('hidden characters shown as their code', () => {
  it('every bidirectional control, invisible and control character the issue names is shown as its code', () => {
    for (const code of HIDDEN_CODES) {
      const char = String.fromCodePoint(code);
      expect(visibleToken(char), codeOf(code)).to.equal(codeOf(code));
      expect(describeToken(char), codeOf(code)).to.match(new RegExp(`^${codeOf(code).replace('+', '\\+')} \\(\\w`));
    }
    expect(describeToken(RLO)).to.equal('U+202E (right-to-left override)');
    // Space, line break and tab keep their symbols.
    expect(['␣', '⏎', '⇥', '␍']).to.deep.equal([' ', '\n', '\t', '\r'].map(visibleToken));
  });

  it('inside longer text each hidden character is replaced where it stands, and nothing else changes', () => {
    for (let trial = 0; trial < 50; trial++) {
      const pieces = Array.from({ length: randomInt(1, 30) }, () =>
        randomInt(0, 4) === 0 ? String.fromCodePoint(pick(HIDDEN_CODES)) : pick(PLAIN),
      );
      const expected = pieces.map((piece) =>
        HIDDEN_CODES.includes(piece.codePointAt(0)!) ? codeOf(piece.codePointAt(0)!) : piece,
      );
      const text = pieces.join('');
      expect(visibleText(text), JSON.stringify(text)).to.equal(expected.join(''));
    }
    expect(visibleText(PLAIN.join(''))).to.equal(PLAIN.join(''));
  });

  it('a chip and a bar show U+202E marked, and the raw character nowhere', async () => {
    const pieces = ['a', RLO, 'b', 'c'];
    const tokenization: Tokenization = {
      ids: [2, 3, 4, 5],
      tokens: pieces,
      pieces,
      unknown: [],
      dropped: 0,
      truncated: false,
    };
    const prediction: Prediction = {
      top: [
        { id: 3, token: RLO, prob: 0.6 },
        { id: 2, token: 'a', prob: 0.3 },
      ],
      rest: 0.1,
      probs: Float32Array.from([0, 0, 0.3, 0.6, 0.05, 0.05]),
      contextLength: 4,
    };
    const chips = document.createElement('llm-prompt-tokens');
    chips.tokenization = tokenization;
    const chart = document.createElement('llm-next-token-chart');
    chart.prediction = prediction;
    document.body.append(chips, chart);
    try {
      await Promise.all([chips.updateComplete, chart.updateComplete]);
      const chip = chips.shadowRoot!.querySelectorAll('[part~="chip"]')[1]!;
      expect(chip.querySelector('[part~="chip-text"] .escape')!.textContent).to.equal('U+202E');
      expect(chip.getAttribute('aria-label')).to.equal('U+202E (right-to-left override) id 3');
      const bar = chart.shadowRoot!.querySelector('[part~="bar"]')!;
      expect(bar.querySelector('[part~="bar-label"] .escape')!.textContent).to.equal('U+202E');
      expect(bar.getAttribute('aria-label')).to.equal('U+202E (right-to-left override): 60.0%');
      // Marked: drawn unlike the text around it.
      const escape = chip.querySelector<HTMLElement>('.escape')!;
      expect(getComputedStyle(escape).borderStyle).to.equal('dashed');
      for (const root of [chips.shadowRoot!, chart.shadowRoot!]) {
        expect(root.textContent).to.not.include(RLO);
        expect(
          [...root.querySelectorAll('*')].some((element) => [...element.attributes].some((a) => a.value.includes(RLO))),
        ).to.equal(false);
      }
    } finally {
      chips.remove();
      chart.remove();
    }
  });

  it("a chat reply's token with U+202E in it shows the code, in the text and among the alternatives", async () => {
    const alternatives = [
      { token: `ab${RLO}`, logprob: Math.log(0.7), prob: 0.7 },
      { token: 'x', logprob: Math.log(0.2), prob: 0.2 },
    ];
    const reply = document.createElement('llm-chat-reply');
    reply.tokens = [
      { token: 'Hi ', logprob: 0, prob: 1, alternatives: [] },
      { token: `ab${RLO}`, logprob: alternatives[0]!.logprob, prob: 0.7, alternatives },
    ];
    document.body.append(reply);
    try {
      await reply.updateComplete;
      const tokens = [...reply.shadowRoot!.querySelectorAll<HTMLButtonElement>('[part~="token"]')];
      expect(tokens[1]!.textContent).to.equal('abU+202E');
      expect(tokens[1]!.querySelector('.escape')).to.not.equal(null);
      tokens[1]!.click();
      await reply.updateComplete;
      expect(reply.shadowRoot!.querySelector('[part~="alternative-label"]')!.textContent).to.equal('abU+202E ✓');
      expect(reply.shadowRoot!.textContent).to.not.include(RLO);
    } finally {
      reply.remove();
    }
  });

  it("a saved model's name with U+202E in it shows the code, not a reversed name", () => {
    const model: CheckpointSummary = {
      id: 'x',
      name: `photo${RLO}gnp.exe`,
      config: { vocabSize: 10, blockSize: 8, nLayer: 1, nHead: 1, nEmbd: 4, tied: true },
      step: 3,
      bytes: 1024,
      corpus: `notes${RLO}txt.js`,
      created: Date.now(),
      updated: Date.now(),
    };
    const none = () => {};
    const actions: SavedModelActions = {
      open: none,
      startRename: none,
      commitRename: none,
      stopRename: none,
      duplicate: none,
      download: none,
      askDelete: none,
      cancelDelete: none,
      confirmDelete: none,
    };
    const host = document.createElement('ul');
    document.body.append(host);
    try {
      for (const mode of ['view', 'confirm-delete'] as const) {
        render(
          html`${renderSavedModel({ model, active: true, locked: false, canSave: true, mode, running: null }, actions)}`,
          host,
        );
        expect(host.querySelector('[part~="model-name"]')!.textContent).to.equal('photoU+202Egnp.exe');
        expect(host.querySelector('[part~="model-meta"]')!.textContent).to.include('trained on notesU+202Etxt.js');
        expect(host.textContent).to.not.include(RLO);
      }
      expect(host.querySelector('[part~="confirm-delete"]')!.getAttribute('aria-label')).to.equal('Delete photoU+202Egnp.exe?');
    } finally {
      host.remove();
    }
  });
});

describe('word pieces shown with their leading space', () => {
  it('marks the space of a word piece, says it, and keeps everything else as written', () => {
    expect(visibleToken(' king')).to.equal('␣king');
    expect(describeToken(' king')).to.equal('space then "king"');
    expect(visibleToken('\n\nThe')).to.equal('⏎⏎The');
    expect(describeToken('   ')).to.equal('space then space then space');
    // A BPE vocabulary writes a byte that is not a whole character as \xNN, and a backslash as \\.
    expect(visibleToken(' \\xE2\\x82')).to.equal('␣\\xE2\\x82');
    expect(describeToken('\\xE2\\x82')).to.equal('byte E2 then byte 82');
    expect(visibleToken('a\\\\b')).to.equal('a\\b');
    expect(visibleToken('\\\\xE2')).to.equal('\\xE2');
    expect(describeToken('\\\\xE2')).to.equal('"\\xE2"');
    // One character is itself, whatever it is: a character tokenizer's backslash stays one.
    expect(visibleToken('\\')).to.equal('\\');
    expect(describeToken(` a${RLO}`)).to.equal('space then "aU+202E"');
  });

  it('a chip shows the space as a dimmed mark before the word, a byte boxed, and says "space"', async () => {
    const pieces = ['The', ' king', ' \\xE2', '\\x82\\xAC', ' '];
    const chips = document.createElement('llm-prompt-tokens');
    chips.tokenization = { ids: [1, 2, 3, 4, 5], tokens: pieces, pieces, unknown: [], dropped: 0, truncated: false };
    document.body.append(chips);
    try {
      await chips.updateComplete;
      const chip = (i: number) => chips.shadowRoot!.querySelectorAll('[part~="chip"]')[i]!;
      const king = chip(1).querySelector('[part~="chip-text"]')!;
      expect(king.textContent).to.equal('␣king');
      const mark = king.querySelector<HTMLElement>('.space-mark')!;
      expect(mark.textContent).to.equal('␣');
      expect(mark.title).to.equal('space');
      // Dimmed: drawn in another colour than the word.
      expect(getComputedStyle(mark).color).to.not.equal(getComputedStyle(king).color);
      expect(chip(1).getAttribute('aria-label')).to.equal('space then "king" id 2');
      const bytes = [...chip(3).querySelectorAll<HTMLElement>('.byte')];
      expect(bytes.map((byte) => [byte.textContent, byte.title])).to.deep.equal([
        ['\\x82', 'byte 82'],
        ['\\xAC', 'byte AC'],
      ]);
      expect(chip(2).getAttribute('aria-label')).to.equal('space then byte E2 id 3');
      // A token that is one space keeps its symbol, undimmed.
      expect(chip(4).querySelector('.space-mark')).to.equal(null);
      expect(chip(4).querySelector('[part~="chip-text"]')!.textContent).to.equal('␣');
    } finally {
      chips.remove();
    }
  });
});
