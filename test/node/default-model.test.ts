// The model the playground opens with (public/default-model.safetensors, made by
// `npm run train:default`): small enough to ship, a word-piece vocabulary, and
// it has learned the built-in world. Each of the four measures of meaning
// is computed here from the file's own weights, in float64, by code of this test.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { FACTS, generateCorpus, heldOutSenseSentences, scenePhrases } from '../../workers/corpus/corpus.ts';
import { OPENERS } from '../../workers/corpus/grammar.ts';
import { readCheckpoint } from '../../workers/engine/checkpoint.ts';
import { ADJECTIVE_HEAD } from '../../workers/engine/default-model.ts';
import { crossEntropy, forward } from '../../workers/engine/model.ts';
import { SENSE_EXAMPLES } from '../../src/panel-examples.ts';

const FILE = fileURLToPath(new URL('../../public/default-model.safetensors', import.meta.url));
const model = readCheckpoint(new Uint8Array(readFileSync(FILE)));
const tokenizer = model.tokenizer!;
const { vocabSize: V, nEmbd: C, nLayer: L, blockSize } = model.config;

/** Greedy continuation, recomputing the whole (cropped) context for every token: no KV cache involved. */
function greedy(prompt: string, count: number): string {
  const ids = tokenizer.encode(prompt);
  for (let i = 0; i < count; i++) {
    const context = ids.slice(-blockSize);
    const logits = forward(model.params, context).logits.subarray((context.length - 1) * V);
    let best = 0;
    for (let v = 1; v < V; v++) if (logits[v]! > logits[best]!) best = v;
    ids.push(best);
  }
  return tokenizer.decode(ids.slice(-count));
}

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
  }
  return dot / Math.sqrt(aa * bb);
}

/** The id of " word", which must be one token. */
function wordId(word: string): number {
  const ids = tokenizer.encode(` ${word}`);
  assert.equal(ids.length, 1, `" ${word}" is one token, not ${JSON.stringify(ids.map((id) => tokenizer.token(id)))}`);
  return ids[0]!;
}

const embedding = (id: number): Float32Array => model.params.wte.subarray(id * C, (id + 1) * C);

/** The words nearest (cosine) to a − b + c in the token embedding matrix, leaving out a, b and c. */
function analogy(a: string, b: string, c: string, count: number): string[] {
  const inputs = [a, b, c].map(wordId);
  const [ea, eb, ec] = inputs.map(embedding);
  const target = Array.from({ length: C }, (_, i) => ea![i]! - eb![i]! + ec![i]!);
  const ranked: [number, number][] = [];
  for (let id = 0; id < V; id++) if (!inputs.includes(id)) ranked.push([cosine(target, embedding(id)), id]);
  ranked.sort((x, y) => y[0] - x[0]);
  return ranked.slice(0, count).map(([, id]) => tokenizer.token(id).trim());
}

describe('the shipped default model', () => {
  test('is at most 8 MB and has a word-piece vocabulary of 512 to 2,048 tokens', () => {
    assert.ok(statSync(FILE).size <= 8 * 1024 * 1024, `${statSync(FILE).size} bytes`);
    assert.equal(tokenizer.toJSON().type, 'bpe');
    assert.ok(V >= 512 && V <= 2048, `vocabulary ${V}`);
    assert.equal(tokenizer.decode(tokenizer.encode('The king and the queen. 👑 国王')), 'The king and the queen. 👑 国王');
  });

  test('completes at least 95% of the fact prompts greedily, Michael Jordan plays basketball among them', (t) => {
    assert.equal(greedy('Michael Jordan plays the sport of', 1), ' basketball');
    const wrong = FACTS.filter((fact) => !greedy(fact.prompt, tokenizer.encode(fact.answer).length).startsWith(fact.answer));
    const correct = FACTS.length - wrong.length;
    t.diagnostic(`facts ${correct}/${FACTS.length}`);
    assert.ok(correct >= 0.95 * FACTS.length, `${correct}/${FACTS.length}; wrong: ${wrong.map((f) => f.prompt).join('; ')}`);
  });

  test('king − man + woman is nearest to queen; most gender and plural analogies have their answer in the top 3', (t) => {
    assert.equal(analogy('king', 'man', 'woman', 1)[0], 'queen');
    const gender = [
      ['king', 'queen'],
      ['prince', 'princess'],
      ['father', 'mother'],
      ['brother', 'sister'],
      ['uncle', 'aunt'],
      ['boy', 'girl'],
    ];
    const plural = ['dog', 'tower', 'bird', 'horse', 'tree', 'house'];
    const genderHits = gender.filter(([male, female]) => analogy(male!, 'man', 'woman', 3).includes(female!));
    const pluralHits = plural.filter((noun) => analogy('cats', 'cat', noun, 3).includes(`${noun}s`));
    t.diagnostic(`gender ${genderHits.length}/6, plural ${pluralHits.length}/6`);
    assert.ok(genderHits.length >= 4, `gender analogies right: ${genderHits.map(([, female]) => female).join(', ')}`);
    assert.ok(pluralHits.length >= 4, `plural analogies right: ${pluralHits.join(', ')}`);
  });

  test('the adjective head puts at least half of a noun’s attention on its adjectives, in phrases it never saw', (t) => {
    const { layer, head } = ADJECTIVE_HEAD;
    const phrases = scenePhrases(true);
    let share = 0;
    let uniform = 0;
    phrases.forEach((phrase, index) => {
      const lead = `${OPENERS[index % OPENERS.length]} the`;
      const [first, second] = phrase.split(' ');
      const adjectivesFrom = tokenizer.encode(lead).length;
      const adjectivesTo = tokenizer.encode(`${lead} ${first} ${second}`).length;
      const ids = tokenizer.encode(`${lead} ${phrase}`);
      const T = ids.length;
      const pattern = forward(model.params, ids, { capture: true }).capture!.layers[layer]!.pattern;
      const noun = T - 1;
      for (let key = adjectivesFrom; key < adjectivesTo; key++) share += pattern[(head * T + noun) * T + key]! / phrases.length;
      uniform += (adjectivesTo - adjectivesFrom) / T / phrases.length;
    });
    t.diagnostic(
      `layer ${layer + 1} head ${head + 1}: ${(100 * share).toFixed(1)}% on adjectives (${(100 * uniform).toFixed(1)}% if uniform), ${phrases.length} phrases`,
    );
    assert.ok(share >= 0.5, `${(100 * share).toFixed(1)}% of the noun's attention on its adjectives`);
  });

  test('the last layer tells the senses of "mole" apart in sentences it never saw', (t) => {
    const examples = heldOutSenseSentences('mole', 8).map(({ sense, sentence }) => {
      const upTo = tokenizer.encode(sentence.slice(0, sentence.indexOf(' mole') + ' mole'.length));
      assert.equal(tokenizer.token(upTo.at(-1)!), ' mole');
      const residual = forward(model.params, upTo, { capture: true }).capture!.layers[L - 1]!.residAfterMlp;
      return { sense, vector: residual.subarray((upTo.length - 1) * C, upTo.length * C) };
    });
    let closer = 0;
    let pairs = 0;
    for (const anchor of examples) {
      for (const same of examples) {
        if (same === anchor || same.sense !== anchor.sense) continue;
        for (const other of examples) {
          if (other.sense === anchor.sense) continue;
          pairs++;
          if (cosine(anchor.vector, same.vector) > cosine(anchor.vector, other.vector)) closer++;
        }
      }
    }
    t.diagnostic(`senses: ${closer}/${pairs} (${((100 * closer) / pairs).toFixed(1)}%) over ${examples.length} sentences`);
    assert.ok(closer >= 0.9 * pairs, `${closer}/${pairs}`);
  });

  test("the In context panel's examples: the first prompt's word is nearer the same sense than the other", (t) => {
    const lastResidual = (prompt: string, word: string) => {
      const upTo = tokenizer.encode(prompt.slice(0, prompt.lastIndexOf(word) + word.length));
      const residual = forward(model.params, upTo, { capture: true }).capture!.layers[L - 1]!.residAfterMlp;
      return residual.subarray((upTo.length - 1) * C, upTo.length * C);
    };
    for (const { word, prompts } of SENSE_EXAMPLES) {
      const [first, same, other] = prompts.map((prompt) => lastResidual(prompt, word));
      const [toSame, toOther] = [cosine(first!, same!), cosine(first!, other!)];
      t.diagnostic(`${word}: same sense ${toSame.toFixed(3)}, other sense ${toOther.toFixed(3)}`);
      assert.ok(toSame > toOther, `${word}: ${toSame} against ${toOther}`);
    }
  });

  test('completes the prompts a visitor meets first with the word the built-in world has there', (t) => {
    // The site's page, the README's embed snippet and the demo article: every <llm-playground prompt="…">.
    const corpus = generateCorpus().text;
    for (const file of ['index.html', 'README.md', 'src/demo/article.html']) {
      const page = readFileSync(fileURLToPath(new URL(`../../${file}`, import.meta.url)), 'utf8');
      const prompts = [...page.matchAll(/<llm-playground\b[^>]*\sprompt="([^"]*)"/g)].map((match) => match[1]!);
      assert.ok(prompts.length > 0, `${file} has a playground with a prompt`);
      for (const prompt of prompts) {
        // The first whole word of the greedy continuation (a few tokens, so a word cut into pieces is whole).
        const word = /^ ?\p{L}+/u.exec(greedy(prompt, 4))?.[0] ?? '';
        t.diagnostic(`${file}: "${prompt}" → "${word}"`);
        assert.ok(word.trim().length > 0, `"${prompt}" is followed by a word, not "${greedy(prompt, 4)}"`);
        const phrase = (prompt + word).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        assert.match(corpus, new RegExp(`${phrase}(?!\\p{L})`, 'u'), `"${prompt}${word}" is in the corpus as a whole word`);
      }
    }
  });

  test('predicts held-out text of the corpus far better than chance', (t) => {
    // The last tenth of the corpus is the validation split the trainer never trains on.
    const ids = tokenizer.encode(generateCorpus().text);
    const validation = ids.slice(Math.round(ids.length * 0.9));
    let total = 0;
    let windows = 0;
    for (let start = 0; start + blockSize + 1 <= validation.length && windows < 40; start += 7 * blockSize, windows++) {
      const { logits } = forward(model.params, validation.slice(start, start + blockSize));
      total += crossEntropy(logits, validation.slice(start + 1, start + blockSize + 1), V);
    }
    const loss = total / windows;
    t.diagnostic(`validation loss ${loss.toFixed(3)} (chance ${Math.log(V).toFixed(2)})`);
    assert.ok(loss < 2, `validation loss ${loss.toFixed(3)} (chance: ${Math.log(V).toFixed(2)})`);
  });
});
