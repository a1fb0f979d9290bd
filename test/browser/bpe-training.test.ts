// Word pieces in the training area, through the real worker: learning a BPE vocabulary from a corpus (its merges
// reported as they are learned), training a model on it, saving and reopening it, and a corpus too small for the
// vocabulary asked for; then the corpus of a saved model, made again with the model's own tokenizer.
import { expect } from 'chai';
import type { EngineClient } from '../../src/client.ts';
import { isTokenizerProblem, type LossPoint, type NewModelRequest, type TokenizerLearning } from '../../workers/api/index.ts';
import { BpeTokenizer } from '../../workers/engine/bpe.ts';
import { CharTokenizer } from '../../workers/engine/tokenizer.ts';
import { PreparedCorpus } from '../../workers/prepared-corpus.ts';
import { engineClients } from './engine-clients.ts';
import { randomFor } from './seeded.ts';
import { rejection } from './wait-for.ts';

const WORDS = ['the', 'cat', 'sat', 'on', 'a', 'red', 'mat', 'and', 'dog', 'ran', 'to', 'big', 'hat'];

/** Random sentences over a few words (none repeats a letter pair, so every merge shrinks the text by its count). */
function sentences(characters: number): string {
  const random = randomFor('bpe-training sentences');
  let text = '';
  while (text.length < characters) {
    const words = Array.from({ length: 3 + random.int(5) }, () => WORDS[random.int(WORDS.length)]!);
    text += `${words.join(' ')}.\n`;
  }
  return text;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** GPT-2's pre-tokenisation: a word keeps its leading space. */
const GPT2_SPLIT = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

/** The first merge, counted the slow, obvious way: the most frequent pair of bytes inside a word, ties to the smaller pair. */
function firstMerge(text: string): { left: string; right: string; count: number } {
  const counts = new Map<string, number>();
  for (const word of text.match(GPT2_SPLIT)!) {
    for (let i = 0; i + 1 < word.length; i++) counts.set(word.slice(i, i + 2), (counts.get(word.slice(i, i + 2)) ?? 0) + 1);
  }
  const [pair, count] = [...counts].sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1))[0]!;
  return { left: pair[0]!, right: pair[1]!, count };
}

describe('word pieces in the training area', function () {
  const text = sentences(8000);
  const corpus = { kind: 'text', text, name: 'sentences' } as const;
  const bpe = { type: 'bpe', vocabSize: 280 } as const;
  const newClient = engineClients();
  let client: EngineClient;

  beforeEach(() => {
    client = newClient({ database: `test-${crypto.randomUUID()}` });
  });

  it('learns a BPE vocabulary, reporting each merge, the new token and the corpus shrinking', async () => {
    const reports: TokenizerLearning[] = [];
    const summary = await client.training.describeCorpus(corpus, undefined, bpe, (report) => reports.push(report));
    expect(summary).to.include({ tokenizer: 'bpe', characters: text.length, bytes: text.length });
    expect(summary.vocabulary).to.have.length(280);
    expect(summary.trainTokens + summary.validationTokens).to.equal(summary.tokens);

    // The first report, at once, has no merge yet; the last says it is done.
    expect(reports[0]!).to.deep.include({ merges: [], done: false });
    expect(reports.at(-1)!.done).to.equal(true);
    expect(reports.slice(0, -1).every((report) => !report.done)).to.equal(true);
    const merges = reports.flatMap((report) => report.merges);
    const { baseTokens, corpusBytes, vocabSize } = reports.at(-1)!;
    expect({ baseTokens, corpusBytes, vocabSize }).to.deep.equal({ baseTokens: 256, corpusBytes: text.length, vocabSize: 280 });
    // Every merge once, in order: its new token is the next entry of the vocabulary, made of the pair.
    expect(merges).to.have.length(280 - 256);
    expect(merges.map((merge) => merge.token)).to.deep.equal(summary.vocabulary.slice(256));
    for (const merge of merges) expect(merge.token).to.equal(merge.left + merge.right);
    expect(merges[0]).to.include(firstMerge(text));
    // Each merge joins `count` pairs into one token each: the corpus shrinks by exactly that much.
    let tokens = corpusBytes;
    for (const merge of merges) {
      tokens -= merge.count;
      expect(merge.corpusTokens).to.equal(tokens);
    }
    expect(tokens).to.equal(summary.tokens);
  });

  it('trains a model on the word pieces it learned: its vocabulary, its loss, samples that decode', async () => {
    const request: NewModelRequest = {
      corpus,
      size: { nLayer: 1, nHead: 2, nEmbd: 16, blockSize: 16 },
      seed: 3,
      tokenizer: bpe,
      training: { totalSteps: 20, batchSize: 4, learningRate: 1e-2, warmupSteps: 2, evalInterval: 10, sampleInterval: 10 },
    };
    const { corpus: summary, model } = await client.training.newModel(request);
    expect(summary.tokenizer).to.equal('bpe');
    expect(model).to.include({ tokenizer: 'bpe' });
    expect(model.config.vocabSize).to.equal(280);
    expect(model.vocabulary).to.deep.equal(summary.vocabulary);
    const outcome = await client.training.play(() => {});
    expect(outcome).to.include({ reason: 'finished', step: 20 });
    const state = (await client.training.state())!;
    expect(state.history[0]!.loss).to.be.closeTo(Math.log(280), 0.2);
    expect(state.samples.map((sample) => sample.step)).to.deep.equal([0, 10, 20]);
    for (const sample of state.samples) {
      expect(sample.text.length).to.be.greaterThan(0);
      // Decoded as UTF-8 (a stray byte becomes U+FFFD), not joined from the readable token strings (\xNN).
      expect(sample.text)
        .to.not.match(LONE_SURROGATE)
        .and.not.match(/\\x[0-9a-f]{2}/);
    }
  });

  it("learns the built-in corpus's word pieces in a few seconds, reporting as it goes", async () => {
    const reports: { at: number; learning: TokenizerLearning }[] = [];
    const started = performance.now();
    const builtin = { type: 'bpe', vocabSize: 1024 } as const;
    const summary = await client.training.describeCorpus({ kind: 'builtin' }, undefined, builtin, (learning) =>
      reports.push({ at: performance.now(), learning }),
    );
    const seconds = (performance.now() - started) / 1000;
    expect(summary.vocabulary).to.have.length(1024);
    expect(summary.families.map((family) => family.id)).to.include.members(['gender', 'plural', 'athletes', 'dialogues']);
    // Reports while it learns, a few a second (not one per merge), then the last one.
    expect(reports.length).to.be.within(3, seconds * 10 + 3);
    expect(reports.at(-1)!.learning.done).to.equal(true);
    expect(reports.slice(1, -1).every(({ learning }) => !learning.done && learning.merges.length > 0)).to.equal(true);
    expect(reports.flatMap(({ learning }) => learning.merges).at(-1)!.corpusTokens).to.equal(summary.tokens);
    expect(summary.tokens).to.be.below(summary.bytes / 2);
  });

  it('saves a BPE model as it trains, and reopens it with its word pieces to go on as if it never stopped', async () => {
    const request = (totalSteps: number, decaySteps?: number): NewModelRequest => ({
      corpus,
      size: { nLayer: 1, nHead: 2, nEmbd: 16, blockSize: 16 },
      seed: 11,
      tokenizer: bpe,
      training: {
        totalSteps,
        ...(decaySteps && { decaySteps }),
        batchSize: 4,
        learningRate: 1e-2,
        warmupSteps: 2,
        evalInterval: 5,
      },
    });
    const lossesOf = async (engine: EngineClient) => {
      const points: LossPoint[] = [];
      expect((await engine.training.play((progress) => points.push(...progress.points))).reason).to.equal('finished');
      return points;
    };
    await client.library.setAutosave(0);
    await client.training.newModel(request(20, 10));
    const reference = await lossesOf(client);

    const database = `test-${crypto.randomUUID()}`;
    const first = newClient({ database });
    const { corpus: summary } = await first.training.newModel(request(10));
    // Finishing saves it.
    expect(await lossesOf(first)).to.deep.equal(reference.slice(0, 10));
    first.terminate();
    const second = newClient({ database });
    expect(await second.model.info()).to.include({ weights: 'trained', step: 10, tokenizer: 'bpe' });
    const reopened = (await second.training.state())!;
    expect(reopened.corpus).to.deep.equal(summary);
    expect(await second.training.keepGoing(10)).to.equal(20);
    expect(await lossesOf(second)).to.deep.equal(reference.slice(10));
  });

  it('refuses a vocabulary the corpus cannot fill, and the model in use stays', async () => {
    await client.training.newModel({ corpus, size: 'tiny', seed: 1 });
    const before = await client.model.info();
    const error = await rejection(client.training.describeCorpus(corpus, undefined, { type: 'bpe', vocabSize: 4096 }));
    expect(isTokenizerProblem(error)).to.equal(true);
    expect(error.message).to.match(/choose at most \d+/);
    expect(await client.model.info()).to.deep.equal(before);
    expect((await client.training.state())!.corpus.tokenizer).to.equal('char');
  });
});

describe('the corpus of a saved model', () => {
  const text = sentences(3000);
  const stored = { name: 'sentences', kind: 'text', text, characters: text.length } as const;

  it("comes back with the model's own tokenizer, characters or word pieces, its tokens as before", () => {
    for (const tokenizer of [CharTokenizer.fromText(text), BpeTokenizer.train(text, 270)]) {
      const made = new PreparedCorpus('sentences', text, tokenizer);
      const reopened = PreparedCorpus.fromStored(made.stored(), tokenizer);
      expect(reopened.tokenizer).to.equal(tokenizer);
      expect(reopened.summary).to.deep.equal(made.summary);
      expect([...reopened.dataset.train]).to.deep.equal([...made.dataset.train]);
    }
  });

  it('refuses a text that is no longer the one the model was trained on', () => {
    const changed = /the text of sentences has changed since the model was saved/;
    expect(() => PreparedCorpus.fromStored({ ...stored, characters: text.length + 1 }, BpeTokenizer.train(text, 270))).to.throw(
      changed,
    );
    // A character model's vocabulary is its text's characters: another text's will not do.
    expect(() => PreparedCorpus.fromStored(stored, CharTokenizer.fromText(`${text}!`))).to.throw(changed);
  });
});
