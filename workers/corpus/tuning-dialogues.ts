/**
 * The built-in dialogues to fine-tune on. They ask, in the corpus's dialogue
 * form ("User: … Assistant: …", one a line), what the corpus only states as
 * prose: the colour of a creature named in the question, and what an athlete
 * or a landmark is. The shipped model has read the facts but never these
 * questions, so before fine-tuning it goes on with some other line of its
 * corpus, and after it answers.
 *
 * The held-out dialogues are drawn the same way but never learned from; the
 * question the panel compares before and after is among them.
 */
import { Random } from '../engine/random.ts';
import { ATHLETES, capitalise, LANDMARKS } from './facts.ts';
import { COLOURS, NOUN_CLASSES, WORDS } from './grammar.ts';

/** The question the tuning panel asks before and after fine-tuning: never among the dialogues learned from. */
export const COMPARE_QUESTION = 'What colour is the fluffy blue creature?';

export const TUNING_DIALOGUES_SEED = 7;
const LEARNED = 400;
const HELD_OUT = 40;

const ANIMALS = NOUN_CLASSES[0]!.nouns;

/** One dialogue of each kind, in turn; `random` picks the words. */
const KINDS: readonly ((random: Random) => string)[] = [
  (random) => {
    const [adjective, colour, animal] = [pick(random, WORDS.adjective!), pick(random, COLOURS), pick(random, ANIMALS)];
    return `User: What colour is the ${adjective} ${colour} ${animal}? Assistant: The ${animal} is ${colour}.`;
  },
  (random) => {
    const { name, sport } = pick(random, ATHLETES);
    return `User: Tell me about ${name}. Assistant: ${name} plays ${sport}.`;
  },
  (random) => {
    const { name, city } = pick(random, LANDMARKS);
    return `User: Tell me about ${name}. Assistant: ${capitalise(name)} is in ${city}.`;
  },
];

const pick = <T>(random: Random, items: readonly T[]): T => items[random.int(items.length)]!;

/** The dialogues to learn from and the held-out ones (none of which is learned from), the same every time. */
export function tuningDialogues(): { learned: string[]; heldOut: string[] } {
  const random = new Random(TUNING_DIALOGUES_SEED);
  const draw = (count: number) => Array.from({ length: count }, (_, i) => KINDS[i % KINDS.length]!(random));
  const heldOut = [...new Set(draw(HELD_OUT))];
  const compared = heldOut.find((line) => line.includes(COMPARE_QUESTION));
  if (!compared) heldOut.unshift(`User: ${COMPARE_QUESTION} Assistant: The creature is blue.`);
  const kept = new Set(heldOut);
  return { learned: draw(LEARNED).filter((line) => !kept.has(line)), heldOut };
}
