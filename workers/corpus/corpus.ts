/**
 * The built-in training corpus: simple English generated from our own grammar
 * (workers/corpus/grammar.ts) and fact table (workers/corpus/facts.ts),
 * deterministic from a seed. Paragraphs, one per line, of four kinds:
 *  - scenes: nouns with adjectives before them ("The fluffy blue creature sat
 *    by the river. The creature was blue."), so attending from a noun back to
 *    its adjectives pays off;
 *  - a word with two meanings (bank, bat, bark, spring, match) in a sentence
 *    whose other words tell which one is meant;
 *  - a person and the sport they play, stated many ways;
 *  - a landmark and its city, stated many ways.
 * People and landmarks are dealt in shuffled rounds so every fact appears
 * about equally often.
 */
import { Random } from '../engine/random.ts';
import { FACTS, LANDMARKS, PEOPLE, type Fact } from './facts.ts';
import {
  AMBIGUOUS_WORDS,
  LANDMARK_FACT_TEMPLATES,
  LANDMARK_MENTION_TEMPLATES,
  NOUN_CLASSES,
  OPENERS,
  PERSON_FACT_TEMPLATES,
  PERSON_MENTION_TEMPLATES,
  WORDS,
} from './grammar.ts';

export type { Fact } from './facts.ts';
export { FACTS, LANDMARKS, PEOPLE } from './facts.ts';

export const BUILTIN_CORPUS_SEED = 20240611;
export const DEFAULT_CORPUS_CHARS = 300_000;

export interface CorpusOptions {
  seed?: number;
  /** The text stops at the first paragraph end at or after this many characters. */
  targetChars?: number;
}

export interface Corpus {
  text: string;
  facts: Fact[];
}

/** The shortest statement of each fact: the form a fact prompt is cut from. */
const PERSON_CANONICAL = '{name} plays {sport}.';
const LANDMARK_CANONICAL = '{landmark} is in {city}.';

type Slots = Record<string, string>;

const pick = <T>(random: Random, items: readonly T[]): T => items[random.int(items.length)]!;

const capitalise = (sentence: string): string => sentence[0]!.toUpperCase() + sentence.slice(1);

function shuffled<T>(items: readonly T[], random: Random): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = random.int(i + 1);
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}

/** Deals items in shuffled rounds, so over a long text each comes up equally often. */
class Deck<T> {
  private remaining: T[] = [];

  constructor(
    private readonly items: readonly T[],
    private readonly random: Random,
  ) {}

  next(): T {
    if (this.remaining.length === 0) this.remaining = shuffled(this.items, this.random);
    return this.remaining.pop()!;
  }
}

const CITIES = [...new Set(LANDMARKS.map((landmark) => landmark.city))];

/** Fills `{slot}`s from `slots`, else with a random person, city or WORDS entry. */
function fill(template: string, slots: Slots, random: Random): string {
  return template.replace(/\{(\w+)\}/g, (_, slot: string) => {
    if (slot in slots) return slots[slot]!;
    if (slot === 'name') return pick(random, PEOPLE).name;
    if (slot === 'city') return pick(random, CITIES);
    const words = WORDS[slot];
    if (!words) throw new Error(`corpus template has an unknown slot {${slot}}`);
    return pick(random, words);
  });
}

const article = (word: string): string => (/^[aeiou]/.test(word) ? 'an' : 'a');

/**
 * "The fluffy blue creature sat by the river." Adjectives and verbs suit the
 * noun's kind; a follow-up sometimes repeats the adjectives ("The creature was
 * blue and fluffy."), which a model can only predict by looking back at them.
 */
function sceneSentences(random: Random): string[] {
  const kind = pick(random, NOUN_CLASSES);
  const noun = pick(random, kind.nouns);
  const form = random.int(5); // 0–2: both adjectives, 3: the first only, 4: the close one only
  const adjective = form === 4 ? null : pick(random, kind.adjectives);
  const close = form === 3 ? null : pick(random, kind.closeAdjectives);
  const phrase = [adjective, close, noun].filter((word) => word !== null).join(' ');
  const determiner = random.uniform() < 0.6 ? 'the' : article(phrase);
  const opener = random.uniform() < 0.35 ? `${pick(random, OPENERS)} ` : '';
  const sentences = [`${capitalise(`${opener}${determiner} ${phrase}`)} ${pick(random, kind.verbs)}.`];
  if (random.uniform() < 0.4) {
    const recalled = adjective && close ? `${close} and ${adjective}` : (adjective ?? close);
    sentences.push(`The ${noun} was ${recalled}.`);
  }
  return sentences;
}

/** A fact's paragraph: one statement in prompt form first, then 1–3 more sentences. */
function factParagraph(
  slots: Slots,
  canonical: string,
  factTemplates: readonly string[],
  mentionTemplates: readonly string[],
  random: Random,
): string[] {
  const sentences = [fill(random.uniform() < 0.45 ? canonical : pick(random, factTemplates), slots, random)];
  const extra = 1 + random.int(3);
  for (let i = 0; i < extra; i++) {
    const roll = random.uniform();
    if (roll < 0.35) sentences.push(fill(pick(random, [canonical, ...factTemplates]), slots, random));
    else if (roll < 0.85) sentences.push(fill(pick(random, mentionTemplates), slots, random));
    else sentences.push(...sceneSentences(random));
  }
  return sentences;
}

/** One meaning of one ambiguous word: two of its sentences, sometimes with a scene. */
function ambiguousParagraph(random: Random): string[] {
  const { senses } = pick(random, AMBIGUOUS_WORDS);
  const [first, second] = shuffled(pick(random, senses), random);
  const sentences = [fill(first!, {}, random), fill(second!, {}, random)];
  if (random.uniform() < 0.3) sentences.push(...sceneSentences(random));
  return sentences;
}

/** Generates the corpus: same seed, same text, in every browser and in Node. */
export function generateCorpus(options: CorpusOptions = {}): Corpus {
  const seed = options.seed ?? BUILTIN_CORPUS_SEED;
  const targetChars = options.targetChars ?? DEFAULT_CORPUS_CHARS;
  if (!Number.isInteger(seed)) throw new Error(`corpus seed must be an integer, got ${seed}`);
  if (!Number.isInteger(targetChars) || targetChars < 1) {
    throw new Error(`corpus targetChars must be a positive integer, got ${targetChars}`);
  }
  const random = new Random(seed);
  const people = new Deck(PEOPLE, random);
  const landmarks = new Deck(LANDMARKS, random);
  const paragraphs: string[] = [];
  let length = 0;
  while (length < targetChars) {
    const roll = random.uniform();
    let sentences: string[];
    if (roll < 0.3) {
      const { name, sport } = people.next();
      sentences = factParagraph({ name, sport }, PERSON_CANONICAL, PERSON_FACT_TEMPLATES, PERSON_MENTION_TEMPLATES, random);
    } else if (roll < 0.5) {
      const { name, city } = landmarks.next();
      sentences = factParagraph(
        { landmark: name, city },
        LANDMARK_CANONICAL,
        LANDMARK_FACT_TEMPLATES,
        LANDMARK_MENTION_TEMPLATES,
        random,
      );
    } else if (roll < 0.75) {
      sentences = [...sceneSentences(random), ...sceneSentences(random), ...sceneSentences(random)];
    } else {
      sentences = ambiguousParagraph(random);
    }
    const paragraph = `${sentences.join(' ')}\n`;
    paragraphs.push(paragraph);
    length += paragraph.length;
  }
  return { text: paragraphs.join(''), facts: FACTS.map((fact) => ({ ...fact })) };
}
