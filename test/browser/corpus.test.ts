import { expect } from 'chai';
import {
  BUILTIN_CORPUS_SEED,
  CORPUS_FAMILIES,
  generateCorpus,
  heldOutSenseSentences,
  scenePhrases,
} from '../../workers/corpus/corpus.ts';
import { isCorpusWebPage } from '../../workers/api/index.ts';
import { looksLikeHtml, textOfHtml } from '../../workers/corpus/html.ts';
import { CORPUS_LIMITS, checkCorpusText, corpusFromBytes, corpusFromText } from '../../workers/corpus/validate.ts';

/** Non-overlapping occurrences, counted with a plain indexOf loop. */
function occurrences(text: string, needle: string): number {
  let count = 0;
  for (let at = text.indexOf(needle); at !== -1; at = text.indexOf(needle, at + needle.length)) count++;
  return count;
}

const sentencesOf = (text: string): string[] => text.split(/(?<=[.?])\s+|\n/).filter((s) => s.length > 0);

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

/** `length` characters of ordinary lowercase text. */
const plainText = (length: number): string =>
  'the quick brown fox jumps over the lazy dog.\n'.repeat(Math.ceil(length / 45)).slice(0, length);

describe('generateCorpus', () => {
  const { text, facts, families } = generateCorpus();
  const sentences = sentencesOf(text);

  it('is the same text for the same seed and a different one for another seed', () => {
    const a = generateCorpus({ seed: 7, targetChars: 20_000 }).text;
    expect(generateCorpus({ seed: 7, targetChars: 20_000 }).text).to.equal(a);
    expect(generateCorpus({ seed: 8, targetChars: 20_000 }).text).to.not.equal(a);
    expect(generateCorpus({ seed: BUILTIN_CORPUS_SEED }).text).to.equal(text);
  });

  it('stops at the first paragraph end past the target size, 1.2 MB by default', () => {
    expect(text.length).to.be.within(1_200_000, 1_201_000);
    const small = generateCorpus({ seed: 3, targetChars: 5_000 }).text;
    expect(small.length).to.be.within(5_000, 6_000);
    expect(small.endsWith('\n')).to.equal(true);
    const withoutLastParagraph = small.slice(0, small.lastIndexOf('\n', small.length - 2) + 1);
    expect(withoutLastParagraph.length).to.be.below(5_000);
    for (const line of text.split('\n').slice(0, -1)) expect(line, 'paragraph of whole sentences').to.match(/^[A-Z].*[.?!]$/);
  });

  it('counts every family, and each family example is a sentence of the text', () => {
    expect(families.map((family) => family.id)).to.deep.equal(CORPUS_FAMILIES.map((family) => family.id));
    expect(families.reduce((sum, family) => sum + family.characters, 0)).to.equal(text.length);
    expect(families.reduce((sum, family) => sum + family.paragraphs, 0)).to.equal(text.split('\n').length - 1);
    for (const family of CORPUS_FAMILIES) {
      const count = families.find(({ id }) => id === family.id)!;
      expect(count.characters / text.length, family.id).to.be.within(family.share * 0.6, family.share * 1.8);
      expect(text, family.id).to.include(family.example);
    }
  });

  it('states every fact many times, and never continues a prompt any other way', () => {
    const athletes = facts.filter((fact) => fact.relation === 'plays the sport of');
    const landmarks = facts.filter((fact) => fact.relation === 'is in the city of');
    expect(athletes.length).to.be.at.least(30);
    expect(landmarks.length).to.be.at.least(10);
    expect(facts).to.deep.include({
      subject: 'Michael Jordan',
      relation: 'plays the sport of',
      object: 'basketball',
      prompt: 'Michael Jordan plays the sport of',
      answer: ' basketball',
    });
    expect(new Set(facts.map((fact) => fact.subject)).size).to.equal(facts.length);
    for (const fact of facts) {
      expect(fact.answer).to.equal(` ${fact.object}`);
      const stated = occurrences(text, fact.prompt + fact.answer);
      expect(stated, fact.prompt).to.be.at.least(20);
      expect(occurrences(text, fact.prompt), `${fact.prompt} continued otherwise`).to.equal(stated);
      expect(occurrences(text, `\n${fact.prompt}${fact.answer}.`), `${fact.prompt} as its own paragraph opening`).to.be.at.least(
        5,
      );
    }
  });

  it('returns a fresh fact table each time', () => {
    const first = generateCorpus({ targetChars: 1_000 }).facts;
    first[0]!.answer = ' changed';
    expect(generateCorpus({ targetChars: 1_000 }).facts[0]!.answer).to.not.equal(' changed');
  });

  it('says each gendered sentence of a pair both ways, with pronouns that agree', () => {
    const pairs = [
      ['king', 'queen'],
      ['man', 'woman'],
      ['prince', 'princess'],
      ['boy', 'girl'],
      ['father', 'mother'],
      ['brother', 'sister'],
      ['uncle', 'aunt'],
    ];
    for (const [male, female] of pairs) {
      const of = (word: string) => sentences.filter((s) => new RegExp(`\\b${word}\\b`).test(s)).length;
      expect(of(male!), male).to.be.at.least(150);
      expect(of(female!) / of(male!), `${female} / ${male}`).to.be.within(0.6, 1.6);
      expect(text).to.include(`The ${male} and the ${female}`);
      expect(text).to.include(`The ${female} and the ${male}`);
    }
    expect(text).to.include('In the castle lived a queen. She wore a golden crown.');
    expect(text).to.include('In the castle lived a king. He wore a golden crown.');
    expect(text).to.not.match(
      /lived a queen\. He\b|lived a king\. She\b|\b[Ss]he is an? (king|man|boy|father|brother|uncle|prince)\b/,
    );
  });

  it('has at least 11 nouns with their plurals, a count before each', () => {
    const nouns = ['cat', 'dog', 'tower', 'bird', 'horse', 'tree', 'house', 'book', 'boat', 'apple', 'flower'];
    for (const noun of nouns) {
      expect(occurrences(text, ` two ${noun}s `) + occurrences(text, ` three ${noun}s`), noun).to.be.at.least(5);
      expect(occurrences(text, ` one ${noun}`), noun).to.be.at.least(5);
    }
  });

  it('puts adjectives before nouns, and sometimes recalls them later', () => {
    const twoAdjectives = text.match(
      /\b[Tt]he (fluffy|sleepy|hungry|brave|shy|tiny|furry) (red|blue|green|yellow|grey|white) (creature|cat|dog)\b/g,
    );
    expect(twoAdjectives?.length).to.be.at.least(20);
    expect(text).to.include('fluffy blue creature');
    expect(text).to.include('the tall old tower');
    const recalled = text.match(/\b(\w+) (\w+) (\w+) [a-z ]+\. The \3 was \2 and \1\./g) ?? [];
    expect(recalled.length).to.be.at.least(200);
  });

  it('keeps the held-out phrases and sentences out of the text', () => {
    const phrases = scenePhrases(true);
    expect(phrases.length).to.be.at.least(100);
    for (const phrase of phrases) expect(text, phrase).to.not.include(` ${phrase} `);
    for (const word of ['mole', 'tower', 'Harry']) {
      const examples = heldOutSenseSentences(word, 4);
      expect(examples.length, word).to.be.at.least(8);
      for (const { sentence } of examples) expect(text, sentence).to.not.include(sentence);
    }
  });

  describe('words whose meaning depends on context', () => {
    const cases: [string, RegExp[]][] = [
      [
        'mole',
        [
          /\b(garden|field|meadow|orchard|park|yard|dug|dig)\b/,
          /\b(chemistry|chemist|lab|experiment)\b/,
          /\b(doctor|nurse|clinic)\b/,
        ],
      ],
      ['tower', [/\b(Eiffel)\b/, /\b(miniature)\b/]],
      ['Harry', [/\b(wizard|magic)\b/, /\b(Prince)\b/]],
      ['bank', [/\b(river|stream|lake|reeds|muddy|grassy)\b/, /\b(money|coins|savings|gold|lends)\b/]],
      ['bat', [/\b(cave|wings|moths|dusk)\b/, /\b(ball|swung|cricket|willow)\b/]],
    ];
    for (const [word, senses] of cases) {
      it(`uses "${word}" in each sense, with a clue before it`, () => {
        const withWord = sentences.filter((sentence) => new RegExp(`\\b${word}\\b`).test(sentence));
        for (const index of senses.keys()) {
          const only = withWord.filter((s) => senses.every((other, j) => (j === index) === other.test(s)));
          expect(only.length, `${word}: sense ${index}`).to.be.at.least(40);
        }
      });
    }
  });

  it('has dialogues of one line, "User: … Assistant: …"', () => {
    const dialogues = text.split('\n').filter((line) => line.startsWith('User: '));
    expect(dialogues.length).to.be.at.least(500);
    for (const line of dialogues) expect(line).to.match(/^User: [^\n]+ Assistant: [^\n]+$/);
    expect(text).to.include('User: What sport does Michael Jordan play? Assistant: Michael Jordan plays basketball.');
  });

  it('is itself a valid corpus', () => {
    expect(checkCorpusText(text)).to.equal(text);
  });
});

describe('corpusFromBytes and checkCorpusText', () => {
  it('accepts UTF-8 text, drops a byte-order mark and turns Windows line ends into \\n', () => {
    const text = 'héllo wörld, naïve café\r\n'.repeat(60);
    const bytes = new Uint8Array([0xef, 0xbb, 0xbf, ...utf8(text)]);
    const decoded = corpusFromBytes(bytes, 'notes.txt');
    expect(decoded).to.equal('héllo wörld, naïve café\n'.repeat(60));
  });

  it('rejects a file with NUL bytes as binary, naming the file', () => {
    const bytes = utf8(plainText(2_000));
    bytes[500] = 0;
    expect(() => corpusFromBytes(bytes, 'photo.png')).to.throw(
      '"photo.png" looks like a binary file, not text. Choose a plain-text file (.txt).',
    );
  });

  it('rejects a file full of control characters as binary but keeps text with a few', () => {
    const bytes = utf8(plainText(2_000));
    for (let i = 0; i < bytes.length; i += 20) bytes[i] = 0x01; // 5% control bytes
    expect(() => corpusFromBytes(bytes, 'data.bin')).to.throw(/"data\.bin" looks like a binary file/);
    const few = utf8(plainText(2_000));
    few[100] = 0x1b; // one escape character
    expect(corpusFromBytes(few, 'log.txt').length).to.equal(2_000);
  });

  it('rejects invalid UTF-8 and UTF-16 with a message about the encoding', () => {
    const bytes = new Uint8Array([...utf8(plainText(1_500)), 0xc3, 0x28, ...utf8(plainText(100))]);
    expect(() => corpusFromBytes(bytes, 'latin1.txt')).to.throw(
      '"latin1.txt" is not UTF-8 text. Save it as UTF-8 (plain text) and try again.',
    );
    const utf16 = new Uint8Array(2 + 2 * 1_500);
    utf16.set([0xff, 0xfe]);
    for (let i = 0; i < 1_500; i++) utf16[2 + 2 * i] = 0x61; // "a" in UTF-16LE: 0x61 0x00
    expect(() => corpusFromBytes(utf16, 'wide.txt')).to.throw(/"wide\.txt" is not UTF-8 text/);
  });

  it('rejects a file over the size limit before reading it, and accepts one exactly at the limit', () => {
    expect(CORPUS_LIMITS.maxBytes).to.equal(20 * 1024 * 1024);
    const bytes = new Uint8Array(CORPUS_LIMITS.maxBytes + 1).fill(0x61);
    expect(() => corpusFromBytes(bytes, 'huge.txt')).to.throw('"huge.txt" is 20.1 MB, over the 20 MB limit. Use a smaller file.');
    expect(corpusFromBytes(bytes.subarray(0, CORPUS_LIMITS.maxBytes), 'big.txt').length).to.equal(CORPUS_LIMITS.maxBytes);
  });

  it('rejects text that is too short, counting characters rather than bytes', () => {
    expect(CORPUS_LIMITS.minChars).to.equal(1_000);
    expect(() => checkCorpusText(plainText(999))).to.throw(
      'The text has only 999 characters; training needs at least 1,000. Add more text.',
    );
    expect(() => corpusFromBytes(utf8(''), 'empty.txt')).to.throw('"empty.txt" has only 0 characters');
    expect(checkCorpusText(plainText(1_000)).length).to.equal(1_000);
    // 999 two-byte characters are 1,998 bytes but still too few characters.
    expect(() => corpusFromBytes(utf8('é'.repeat(999)), 'accents.txt')).to.throw('"accents.txt" has only 999 characters');
  });

  it('rejects text with more distinct characters than a character vocabulary allows', () => {
    const distinct = (n: number): string => Array.from({ length: n }, (_, i) => String.fromCodePoint(0x4e00 + i)).join('');
    expect(() => checkCorpusText(distinct(300).repeat(4))).to.throw('The text uses 300 different characters; the limit is 256');
    expect(checkCorpusText(distinct(256).repeat(4)).length).to.equal(1_024);
  });
});

describe('pasted text and web pages', () => {
  it('caps pasted text at the file limit, counted in UTF-8 bytes', () => {
    const limit = CORPUS_LIMITS.maxBytes;
    const at = 'ab'.repeat(limit / 2);
    expect(() => corpusFromText(at, 'Your text')).to.not.throw(/limit/);
    expect(() => corpusFromText(`${at}c`, 'Your text')).to.throw(
      '"Your text" is 20.1 MB, over the 20 MB limit. Paste less text.',
    );
    // Half as many characters, each two bytes in UTF-8 (é) or a four-byte pair (😀): the same bytes.
    expect(() => corpusFromText('é'.repeat(limit / 2), 'x')).to.not.throw(/limit/);
    expect(() => corpusFromText(`${'é'.repeat(limit / 2)}!`, 'x')).to.throw(/is 20\.1 MB/);
    expect(() => corpusFromText(`${'😀'.repeat(limit / 4)}!`, 'x')).to.throw(/is 20\.1 MB/);
  });

  it('tells a web page by its start or its type, not by tags inside text', () => {
    expect(looksLikeHtml('<!DOCTYPE html>\n<html lang="en">')).to.equal(true);
    expect(looksLikeHtml('  \n<html><body>hi</body></html>')).to.equal(true);
    expect(looksLikeHtml('<!-- saved page --><HTML>')).to.equal(true);
    expect(looksLikeHtml('<body class="x">text')).to.equal(true);
    expect(looksLikeHtml('Plain words, then <html> mentioned later.')).to.equal(false);
    expect(looksLikeHtml('<htmlish> is not a tag we know')).to.equal(false);
    expect(looksLikeHtml('plain text', 'text/html; charset=utf-8')).to.equal(true);
    expect(looksLikeHtml('plain text', 'text/plain')).to.equal(false);
  });

  it("takes a page's text: scripts, styles and comments dropped, block tags end lines, entities decoded", () => {
    const page = `<!doctype html><html><head><title>Tea &amp; Toast</title>
      <style>body { font: 12px serif }</style><script type="module">alert("no")</script></head>
      <body><!-- menu --><nav><a href="/">Home</a></nav>
      <h1>On   <em>brewing</em></h1><p>Warm the pot.<br>Add leaves &#8212; one per cup &lt;or more&gt;.</p>
      <ul><li>Black</li><li>Gr<b>ee</b>n&nbsp;tea</li></ul><p>Caf&eacute;? &#x263A; &constructor; &Uuml;ber</p></body></html>`;
    expect(textOfHtml(page)).to.equal(
      [
        'Tea & Toast',
        '',
        'Home',
        '',
        'On brewing',
        '',
        'Warm the pot.',
        'Add leaves — one per cup <or more>.',
        '',
        'Black',
        '',
        'Green tea',
        '',
        'Café? ☺ &constructor; Über',
      ].join('\n'),
    );
  });

  it('refuses a web page with CorpusIsWebPage, and trains on its text when asked', () => {
    const body = 'The tide comes in and the tide goes out. '.repeat(40).trim();
    const page = `<!DOCTYPE html><html><body><p>${body}</p><script>var x = 1;</script></body></html>`;
    let refused: unknown;
    try {
      corpusFromBytes(new TextEncoder().encode(page), 'tides.txt');
    } catch (error) {
      refused = error;
    }
    expect(isCorpusWebPage(refused)).to.equal(true);
    expect((refused as Error).message).to.equal(
      '"tides.txt" looks like a web page (HTML), not plain text: a model trained on it would learn its tags.',
    );
    expect(corpusFromBytes(new TextEncoder().encode(page), 'tides.txt', { htmlToText: true })).to.equal(body);
    expect(corpusFromText(page, 'Your text', { htmlToText: true })).to.equal(body);
  });
});
