/**
 * The built-in training corpus: a small world made of the seed's own examples,
 * generated from our own grammar (grammar.ts, senses.ts) and fact table
 * (facts.ts), deterministic from a seed. One paragraph a line, of the families
 * in CORPUS_FAMILIES:
 *  - gendered pairs in the same sentences (the king / the queen, he / she), so
 *    one direction can separate them;
 *  - one and many (one cat, two cats);
 *  - adjectives before nouns ("The fluffy blue creature sat by the river. The
 *    creature was blue and fluffy."), so attending from a noun back to its
 *    adjectives pays off;
 *  - words whose meaning depends on context (mole, tower, Harry, bank, bat);
 *  - athletes and their sports, landmarks and their cities, stated many ways;
 *  - short dialogues, "User: … Assistant: …".
 * Athletes and landmarks are dealt in shuffled rounds so every fact appears
 * about equally often. Some scene phrases and sense sentences are held out:
 * never in the text, so tests can measure the model on text it has not seen.
 */
import { Random } from '../engine/random.ts';
import { ATHLETES, capitalise, FACTS, LANDMARKS, type Fact } from './facts.ts';
import {
  ATHLETE_FACT_TEMPLATES,
  ATHLETE_MENTION_TEMPLATES,
  DIALOGUE_TEMPLATES,
  GENDER_PAIRS,
  LANDMARK_FACT_TEMPLATES,
  LANDMARK_MENTION_TEMPLATES,
  NOUN_CLASSES,
  NUMBER_TEMPLATES,
  OPENERS,
  PAIR_TEMPLATES,
  PLURAL_COUNTS,
  PLURAL_NOUNS,
  PRONOUN_FIRST_TEMPLATES,
  SINGULAR_COUNTS,
  SINGULAR_PLURAL_TEMPLATES,
  WORDS,
} from './grammar.ts';
import { AMBIGUOUS_WORDS, isHeldOutSentence, SENSE_WORDS, type AmbiguousWord, type Sense } from './senses.ts';

export type { Fact } from './facts.ts';
export { ATHLETES, FACTS, LANDMARKS } from './facts.ts';

export const BUILTIN_CORPUS_SEED = 20240611;
export const DEFAULT_CORPUS_CHARS = 1_200_000;

export type FamilyId = 'gender' | 'plural' | 'scenes' | 'senses' | 'athletes' | 'landmarks' | 'dialogues';

export interface CorpusFamily {
  id: FamilyId;
  name: string;
  /** A line of the corpus. */
  example: string;
  /** Share of the paragraphs. */
  share: number;
}

export const CORPUS_FAMILIES: readonly CorpusFamily[] = [
  { id: 'gender', name: 'Gendered pairs', example: 'The queen sat on the throne and ruled the kingdom.', share: 0.2 },
  { id: 'plural', name: 'One and many', example: 'By the fire, two cats sleep.', share: 0.18 },
  { id: 'scenes', name: 'Adjectives before nouns', example: 'On the hill, the tall old tower cast a long shadow.', share: 0.16 },
  {
    id: 'senses',
    name: 'Words whose meaning depends on context',
    example: 'In chemistry class, we weighed one mole of carbon dioxide.',
    share: 0.14,
  },
  { id: 'athletes', name: 'Athletes and their sports', example: 'Michael Jordan plays the sport of basketball.', share: 0.14 },
  { id: 'landmarks', name: 'Landmarks and their cities', example: 'The Eiffel tower is in the city of Paris.', share: 0.08 },
  {
    id: 'dialogues',
    name: 'Dialogues',
    example: 'User: Where is the Eiffel tower? Assistant: The Eiffel tower is in Paris.',
    share: 0.1,
  },
];

export interface CorpusOptions {
  seed?: number;
  /** The text stops at the first paragraph end at or after this many characters. */
  targetChars?: number;
}

export interface FamilyCount {
  id: FamilyId;
  paragraphs: number;
  characters: number;
}

export interface Corpus {
  text: string;
  facts: Fact[];
  families: FamilyCount[];
}

type Slots = Record<string, string>;

const pick = <T>(random: Random, items: readonly T[]): T => items[random.int(items.length)]!;

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

/** Fills `{slot}`s from `slots`, else with a random pick from `words`; capitalises the sentence's first letter. */
function fill(template: string, slots: Slots, random: Random, words = WORDS): string {
  const filled = template.replace(/\{(\w+)\}/g, (_, slot: string) => {
    if (slot in slots) return slots[slot]!;
    const choices = words[slot];
    if (!choices) throw new Error(`corpus template has an unknown slot {${slot}}`);
    return pick(random, choices);
  });
  return capitalise(filled);
}

const article = (word: string): string => (/^[aeiou]/.test(word) ? 'an' : 'a');

const PRONOUNS = {
  male: { he: 'he', He: 'He', his: 'his', him: 'him' },
  female: { he: 'she', He: 'She', his: 'her', him: 'her' },
} as const;

/** The gender pairs' words, male then female, for the pronoun-first sentences. */
const ROLE_WORDS = {
  male: GENDER_PAIRS.map((pair) => pair.male),
  female: GENDER_PAIRS.map((pair) => pair.female),
};

/** About one person of a pair ("The queen sat on the throne…"), a sentence with both, or pronouns first. */
function genderParagraph(random: Random): string[] {
  const pair = pick(random, GENDER_PAIRS);
  const gender = random.uniform() < 0.5 ? 'male' : 'female';
  const slots = { ...PRONOUNS[gender], n: pair[gender] };
  const [first, second] = shuffled(pair.templates, random);
  const sentences = [fill(first!, slots, random)];
  const roll = random.uniform();
  if (roll < 0.4) sentences.push(fill(second!, slots, random));
  else if (roll < 0.7) {
    const [x, y] = random.uniform() < 0.5 ? [pair.male, pair.female] : [pair.female, pair.male];
    sentences.push(fill(pick(random, PAIR_TEMPLATES), { x, y }, random));
  } else {
    const role = pick(random, ROLE_WORDS[gender]);
    sentences.push(fill(pick(random, PRONOUN_FIRST_TEMPLATES), { ...slots, n: role, an: article(role) }, random));
  }
  return sentences;
}

/** "By the fire, one cat sleeps. By the fire, three cats sleep." */
function pluralParagraph(random: Random): string[] {
  const { noun, place, verb } = pick(random, PLURAL_NOUNS);
  const plural = `${noun}s`;
  const sentences: string[] = [];
  for (const many of shuffled([false, true, true], random)) {
    let count = pick(random, many ? PLURAL_COUNTS : SINGULAR_COUNTS);
    if (count === 'a') count = article(noun);
    const slots = { place, count, n: many ? plural : noun, is: many ? 'are' : 'is', verb: verb[many ? 1 : 0] };
    sentences.push(fill(pick(random, NUMBER_TEMPLATES), slots, random));
  }
  if (random.uniform() < 0.5) sentences.push(fill(pick(random, SINGULAR_PLURAL_TEMPLATES), { n: noun, ns: plural }, random));
  return sentences;
}

/** The adjective-adjective-noun phrases a scene may use; `heldOut` picks those kept out of the corpus. */
export function scenePhrases(heldOut: boolean): string[] {
  const phrases = NOUN_CLASSES.flatMap(({ nouns, adjectives, closeAdjectives }) =>
    nouns.flatMap((noun) =>
      adjectives.flatMap((adjective) =>
        closeAdjectives.filter((close) => close !== adjective).map((close) => `${adjective} ${close} ${noun}`),
      ),
    ),
  );
  return phrases.filter((phrase) => isHeldOutSentence(phrase) === heldOut);
}

/**
 * "The fluffy blue creature sat by the river." Adjectives and verbs suit the
 * noun's kind; a follow-up sometimes repeats the adjectives ("The creature was
 * blue and fluffy."), which a model can only predict by looking back at them.
 */
function sceneSentences(random: Random): string[] {
  const kind = pick(random, NOUN_CLASSES);
  const noun = pick(random, kind.nouns);
  let adjective: string;
  let close: string;
  do {
    adjective = pick(random, kind.adjectives);
    close = pick(random, kind.closeAdjectives);
  } while (adjective === close || isHeldOutSentence(`${adjective} ${close} ${noun}`));
  const form = random.int(5); // 0–2: both adjectives, 3: the first only, 4: the close one only
  const phrase = [form === 4 ? null : adjective, form === 3 ? null : close, noun].filter((word) => word !== null).join(' ');
  const determiner = random.uniform() < 0.6 ? 'the' : article(phrase);
  const opener = random.uniform() < 0.35 ? `${pick(random, OPENERS)} ` : '';
  const sentences = [capitalise(`${opener}${determiner} ${phrase} ${pick(random, kind.verbs)}.`)];
  if (random.uniform() < 0.4) {
    const recalled = form === 3 ? adjective : form === 4 ? close : `${close} and ${adjective}`;
    sentences.push(`The ${noun} was ${recalled}.`);
  }
  return sentences;
}

/** A sentence of one sense of an ambiguous word, held out of the corpus or not. */
function senseSentence(sense: Sense, random: Random, heldOut: boolean): string {
  for (let attempt = 0; attempt < 1000; attempt++) {
    const sentence = fill(pick(random, sense.templates), {}, random, SENSE_WORDS);
    if (isHeldOutSentence(sentence) === heldOut) return sentence;
  }
  throw new Error(`no ${heldOut ? 'held-out' : 'training'} sentence for the sense ${sense.id}`);
}

/** One meaning of one ambiguous word: two of its sentences. */
function senseParagraph(random: Random): string[] {
  const { senses } = pick(random, AMBIGUOUS_WORDS);
  const sense = pick(random, senses);
  return [senseSentence(sense, random, false), senseSentence(sense, random, false)];
}

export interface SenseExample {
  word: string;
  sense: string;
  sentence: string;
}

/** Up to `perSense` distinct sentences of each sense of `word` that the corpus never contains. */
export function heldOutSenseSentences(word: AmbiguousWord['word'], perSense: number, seed = 1): SenseExample[] {
  const found = AMBIGUOUS_WORDS.find((candidate) => candidate.word === word);
  if (!found) throw new Error(`no ambiguous word ${word}`);
  const random = new Random(seed);
  return found.senses.flatMap((sense) => {
    const sentences = new Set<string>();
    for (let attempt = 0; attempt < 50 * perSense && sentences.size < perSense; attempt++) {
      sentences.add(senseSentence(sense, random, true));
    }
    return [...sentences].map((sentence) => ({ word, sense: sense.id, sentence }));
  });
}

/** A fact's paragraph: one statement first (often the prompt form), then 1–3 more ways to say it. */
function factParagraph(slots: Slots, factTemplates: readonly string[], mentions: readonly string[], random: Random): string[] {
  const sentences = [fill(random.uniform() < 0.45 ? factTemplates[0]! : pick(random, factTemplates), slots, random)];
  const extra = 1 + random.int(3);
  for (let i = 0; i < extra; i++) {
    sentences.push(fill(pick(random, random.uniform() < 0.4 ? factTemplates : mentions), slots, random));
  }
  return sentences;
}

const landmarkSlots = ({ name, city }: (typeof LANDMARKS)[number]): Slots => ({
  landmark: name,
  Landmark: capitalise(name),
  city,
});

/** Generates the corpus: same seed, same text, in every browser and in Node. */
export function generateCorpus(options: CorpusOptions = {}): Corpus {
  const seed = options.seed ?? BUILTIN_CORPUS_SEED;
  const targetChars = options.targetChars ?? DEFAULT_CORPUS_CHARS;
  if (!Number.isInteger(seed)) throw new Error(`corpus seed must be an integer, got ${seed}`);
  if (!Number.isInteger(targetChars) || targetChars < 1) {
    throw new Error(`corpus targetChars must be a positive integer, got ${targetChars}`);
  }
  const random = new Random(seed);
  const athletes = new Deck(ATHLETES, random);
  const landmarks = new Deck(LANDMARKS, random);
  const paragraphOf: Record<FamilyId, () => string[]> = {
    gender: () => genderParagraph(random),
    plural: () => pluralParagraph(random),
    scenes: () => [...sceneSentences(random), ...sceneSentences(random)],
    senses: () => senseParagraph(random),
    athletes: () => factParagraph({ ...athletes.next() }, ATHLETE_FACT_TEMPLATES, ATHLETE_MENTION_TEMPLATES, random),
    landmarks: () => factParagraph(landmarkSlots(landmarks.next()), LANDMARK_FACT_TEMPLATES, LANDMARK_MENTION_TEMPLATES, random),
    dialogues: () => {
      const { noun } = pick(random, PLURAL_NOUNS);
      const slots = { ...athletes.next(), ...landmarkSlots(landmarks.next()), noun, nouns: `${noun}s` };
      return [fill(pick(random, DIALOGUE_TEMPLATES), slots, random)];
    },
  };
  const counts = new Map(CORPUS_FAMILIES.map(({ id }) => [id, { id, paragraphs: 0, characters: 0 }]));
  const paragraphs: string[] = [];
  let length = 0;
  while (length < targetChars) {
    let roll = random.uniform();
    const family = CORPUS_FAMILIES.find(({ share }) => (roll -= share) < 0) ?? CORPUS_FAMILIES.at(-1)!;
    const paragraph = `${paragraphOf[family.id]().join(' ')}\n`;
    paragraphs.push(paragraph);
    length += paragraph.length;
    const count = counts.get(family.id)!;
    count.paragraphs++;
    count.characters += paragraph.length;
  }
  return { text: paragraphs.join(''), facts: FACTS.map((fact) => ({ ...fact })), families: [...counts.values()] };
}
