/**
 * A corpus as a model sees it: its text read and checked, the tokenizer made
 * from it (characters, or word pieces learned by BPE), and its tokens split into
 * training and validation.
 */
import { CORPUS_FAMILIES, generateCorpus } from './corpus/corpus.ts';
import { CORPUS_LIMITS, corpusFromBytes, corpusFromText } from './corpus/validate.ts';
import { download, type DownloadOptions, readFile } from './download.ts';
import { messageOf } from './api/errors.ts';
import {
  type CorpusFamilySummary,
  type CorpusSource,
  type CorpusSummary,
  type MergeStep,
  type TokenizerLearning,
  TokenizerProblem,
} from './api/training.ts';
import { BpeTokenizer } from './engine/bpe.ts';
import { splitTokens, type TokenDataset } from './engine/data.ts';
import { CharTokenizer, type Tokenizer, type TokenizerChoice, tokenizerForCorpus } from './engine/tokenizer.ts';
import type { StoredCorpus } from './store/records.ts';

export const BUILTIN_CORPUS_NAME = 'the built-in corpus';

export const CHARACTER_TOKENS: TokenizerChoice = { type: 'char' };

/** Share of the corpus held out to measure the validation loss. */
const VALIDATION_FRACTION = 0.1;
/** While BPE learns, merges go to the page at most this often. */
const LEARNING_REPORT_MS = 100;

let generated: ReturnType<typeof generateCorpus> | undefined;
/** Generated once per worker: the same seed always gives the same text. */
const builtin = () => (generated ??= generateCorpus());

/** The built-in corpus's families of paragraphs, named, with their share of the text. */
function builtinFamilies(): CorpusFamilySummary[] {
  const counted = builtin().families;
  return CORPUS_FAMILIES.map(({ id, name, example }) => {
    const { paragraphs = 0, characters = 0 } = counted.find((family) => family.id === id) ?? {};
    return { id, name, example, paragraphs, characters };
  });
}

/**
 * The text of a corpus source, checked; throws an Error that says what is wrong.
 * A file or a download is read with `reading`'s limit (the corpus limit),
 * progress, cancel and timeout.
 */
export async function readCorpus(
  source: CorpusSource,
  reading: Omit<DownloadOptions, 'maxBytes'> = {},
): Promise<{ name: string; text: string }> {
  const options = { ...reading, maxBytes: CORPUS_LIMITS.maxBytes };
  switch (source.kind) {
    case 'builtin':
      return { name: BUILTIN_CORPUS_NAME, text: builtin().text };
    case 'text':
      return { name: source.name, text: corpusFromText(source.text, source.name, { htmlToText: source.htmlToText }) };
    case 'file': {
      const { name, type } = source.file;
      const bytes = await readFile(source.file, name, options);
      return { name, text: corpusFromBytes(bytes, name, { type, htmlToText: source.htmlToText }) };
    }
    case 'url': {
      const { bytes, name, type } = await download(source.url, options);
      return { name, text: corpusFromBytes(bytes, name, { type, htmlToText: source.htmlToText }) };
    }
  }
}

/** Number of Unicode code points (what the page calls characters) in text. */
function codePoints(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

type LearningReport = (learning: TokenizerLearning) => unknown;

/**
 * Reports on BPE learning `vocabSize` tokens from text: at once, then its merges a few times a second
 * (onMerge hears each), and at the end (finish(), which answers the whole learning as one report).
 */
function learningReports(text: string, vocabSize: number, onLearn?: LearningReport) {
  const corpusBytes = BpeTokenizer.corpusBytes(text);
  const baseTokens = BpeTokenizer.baseSize(text, vocabSize);
  const merges: MergeStep[] = [];
  let reported = 0;
  let lastReport = performance.now();
  const report = (done: boolean) => {
    // Not awaited: learning runs in one go, and each report leaves for the page at once.
    void onLearn?.({ merges: merges.slice(reported), vocabSize, baseTokens, corpusBytes, done });
    reported = merges.length;
    lastReport = performance.now();
  };
  // The page hears at once that learning started (counting the pairs may take a second).
  report(false);
  return {
    onMerge(merge: MergeStep): void {
      merges.push(merge);
      if (onLearn && performance.now() - lastReport >= LEARNING_REPORT_MS) report(false);
    },
    finish(): TokenizerLearning {
      report(true);
      return { merges, vocabSize, baseTokens, corpusBytes, done: true };
    },
  };
}

export class PreparedCorpus {
  readonly dataset: TokenDataset;
  readonly summary: CorpusSummary;

  constructor(
    readonly name: string,
    readonly text: string,
    readonly tokenizer: Tokenizer,
    /** How its BPE vocabulary was learned, when it was learned here. */
    readonly learning: TokenizerLearning | null = null,
  ) {
    const ids = tokenizer.encode(text);
    this.dataset = splitTokens(ids, VALIDATION_FRACTION);
    this.summary = {
      name,
      characters: codePoints(text),
      bytes: BpeTokenizer.corpusBytes(text),
      tokenizer: tokenizer.type,
      tokens: ids.length,
      vocabulary: [...tokenizer.vocab],
      trainTokens: this.dataset.train.length,
      validationTokens: this.dataset.validation.length,
      families: this.builtin ? builtinFamilies() : [],
    };
  }

  /**
   * The corpus with a tokenizer made from it as chosen; learning BPE reports its merges to onLearn.
   * Throws a TokenizerProblem when the text cannot fill the vocabulary.
   */
  static make(name: string, text: string, choice: TokenizerChoice, onLearn?: LearningReport): PreparedCorpus {
    let learning: ReturnType<typeof learningReports> | undefined;
    let tokenizer: Tokenizer;
    try {
      learning = choice.type === 'bpe' ? learningReports(text, choice.vocabSize, onLearn) : undefined;
      tokenizer = tokenizerForCorpus(text, choice, learning?.onMerge);
    } catch (error) {
      throw new TokenizerProblem(messageOf(error));
    }
    return new PreparedCorpus(name, text, tokenizer, learning?.finish() ?? null);
  }

  /** True when this corpus is `text` with the tokenizer `choice` would make. */
  matches(name: string, text: string, choice: TokenizerChoice): boolean {
    if (name !== this.name || text !== this.text || choice.type !== this.tokenizer.type) return false;
    return choice.type === 'char' || choice.vocabSize === this.tokenizer.size;
  }

  get builtin(): boolean {
    return this.name === BUILTIN_CORPUS_NAME;
  }

  /** How a saved model keeps its corpus: the built-in text is made again from its seed, any other is kept whole. */
  stored(): StoredCorpus {
    const characters = this.summary.characters;
    return this.builtin
      ? { name: this.name, kind: 'builtin', characters }
      : { name: this.name, kind: 'text', text: this.text, characters };
  }

  /**
   * The corpus a saved model was trained on, with the model's own tokenizer (a BPE is not learned again).
   * Throws when the text is no longer the one the model was trained on.
   */
  static fromStored(stored: StoredCorpus, tokenizer: Tokenizer): PreparedCorpus {
    const text = stored.kind === 'builtin' ? builtin().text : stored.text;
    if (text === undefined) throw new Error(`the saved model has lost the text of ${stored.name}`);
    // A character vocabulary is the text's characters: made again, it must be the same one.
    const changed =
      codePoints(text) !== stored.characters ||
      (tokenizer.type === 'char' && CharTokenizer.fromText(text).vocab.join('') !== tokenizer.vocab.join(''));
    if (changed) throw new Error(`the text of ${stored.name} has changed since the model was saved`);
    return new PreparedCorpus(stored.kind === 'builtin' ? BUILTIN_CORPUS_NAME : stored.name, text, tokenizer);
  }

  /** The fixed prompt of the samples: a fact for the built-in corpus, else the text's opening words. */
  samplePrompt(): string {
    if (this.builtin) return builtin().facts[0]!.prompt;
    const opening = this.text.slice(0, 24);
    const wordEnd = opening.lastIndexOf(' ');
    return wordEnd > 0 ? opening.slice(0, wordEnd) : opening;
  }
}
