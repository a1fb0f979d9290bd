/**
 * Words whose meaning depends on context, after the seed's examples: mole (an
 * animal, an amount in chemistry, a spot on the skin), tower (the Eiffel tower,
 * a miniature paper tower), Harry (the wizard, the prince), bank and bat.
 *
 * The clue comes before the word ("In chemistry class, we weighed one mole"),
 * because a causal model can only use what came before; the words after it
 * differ by sense ("of carbon dioxide", "dug a tunnel"), so a model that
 * predicts them well has to tell the senses apart at the word itself.
 *
 * Templates have `{slot}`s filled from SENSE_WORDS. One filled sentence in five
 * (by a hash of its text) is held out: the corpus never contains it, and tests
 * use those sentences to measure how the model tells senses apart.
 */

export interface Sense {
  /** A short name for the sense, as the corpus summary and tests show it. */
  id: string;
  templates: readonly string[];
}

export interface AmbiguousWord {
  word: string;
  senses: readonly Sense[];
}

// Word lists, a few words a line.
// prettier-ignore
export const SENSE_WORDS: Readonly<Record<string, readonly string[]>> = {
  garden: ['garden', 'field', 'meadow', 'orchard', 'park', 'yard'],
  ground: ['grass', 'lawn', 'soil', 'mud', 'roots'],
  small: ['small', 'tiny', 'little', 'sleepy', 'busy'],
  chemical: ['carbon dioxide', 'water', 'salt', 'carbon', 'oxygen', 'sugar', 'iron'],
  owner: ['his', 'her'],
  skin: ['skin', 'arm', 'cheek', 'neck', 'back', 'shoulder', 'hand'],
  person: ['Anna', 'Tom', 'Lucy', 'Sam', 'Maya', 'Leo', 'Nora', 'Ben'],
  eiffel: [
    'stood tall above the city', 'shone with lights at night', 'was made of iron', 'rose over the river',
    'was full of tourists',
  ],
  time: ['at sunrise', 'in the morning', 'at night', 'in the summer', 'after lunch'],
  miniature: ['on the kitchen table', 'for the school fair', 'as tall as a cup', 'on the desk', 'for a game'],
  magic: ['waved his wand', 'cast a spell', 'read a book of spells', 'flew on a broom', 'rode his broom over the lake'],
  royal: ['greeted the crowd', 'rode in a golden carriage', 'waved to the people', 'visited the soldiers', 'opened a new school'],
  river: ['river', 'stream', 'lake'],
  coins: ['coins', 'money', 'savings', 'gold'],
  animal: ['dog', 'cat', 'fox', 'goat', 'horse', 'duck'],
};

export const AMBIGUOUS_WORDS: readonly AmbiguousWord[] = [
  {
    word: 'mole',
    senses: [
      {
        id: 'animal',
        templates: [
          'In the {garden}, a {small} mole dug a tunnel under the {ground}.',
          'The gardener saw a mole dig under the {ground} of the {garden}.',
          'Deep in the {garden}, the blind mole dug for worms in the {ground}.',
          'A {small} furry mole dug through the {ground} and ate a worm.',
          'Under the {garden}, the {small} mole dug a new tunnel.',
        ],
      },
      {
        id: 'chemistry',
        templates: [
          'In chemistry class, we weighed one mole of {chemical}.',
          'The chemist measured a mole of {chemical} in the lab.',
          'In the lab, one mole of {chemical} holds a huge number of molecules.',
          'For the experiment, the student weighed a mole of {chemical} on the scale.',
          'In chemistry, a mole of {chemical} is a fixed amount of it.',
        ],
      },
      {
        id: 'skin',
        templates: [
          'At the clinic, the doctor looked at the mole on {owner} {skin}.',
          'The doctor examined a dark mole on {owner} {skin}.',
          'In the mirror, the nurse saw a small mole on {owner} {skin}.',
          'The nurse said the mole on {owner} {skin} was harmless.',
          'At the clinic, the doctor checked a brown mole on {owner} {skin}.',
        ],
      },
    ],
  },
  {
    word: 'tower',
    senses: [
      {
        id: 'Eiffel',
        templates: [
          'In Paris, the Eiffel tower {eiffel}.',
          'Tourists in Paris climbed the Eiffel tower {time}.',
          'From the top of the Eiffel tower, {person} could see all of Paris.',
          'The iron Eiffel tower {eiffel}.',
          'In Paris, {person} took a photo of the Eiffel tower {time}.',
        ],
      },
      {
        id: 'miniature',
        templates: [
          'With glue and paper, {person} made a miniature tower {miniature}.',
          '{person} folded paper into a miniature tower {miniature}.',
          'The miniature paper tower fell over {miniature}.',
          'With scissors and paper, {person} cut out a miniature tower {miniature}.',
          'Out of paper and glue, {person} built a miniature tower {miniature}.',
        ],
      },
    ],
  },
  {
    word: 'Harry',
    senses: [
      {
        id: 'wizard',
        templates: [
          'The young wizard Harry Potter {magic}.',
          'At the school of magic, Harry Potter {magic}.',
          'With a wand in his hand, the wizard Harry Potter {magic}.',
          'The boy wizard Harry Potter {magic} {time}.',
        ],
      },
      {
        id: 'prince',
        templates: [
          'At the palace, Prince Harry {royal}.',
          'The king smiled as Prince Harry {royal}.',
          'In London, Prince Harry {royal} {time}.',
          'At the castle, the royal Prince Harry {royal}.',
        ],
      },
    ],
  },
  {
    word: 'bank',
    senses: [
      {
        id: 'river',
        templates: [
          'The {animal} rested on the muddy bank of the {river}.',
          'Reeds grow along the bank of the {river}.',
          '{person} sat on the grassy bank and watched the {river}.',
          'The boat drifted close to the {river} bank.',
        ],
      },
      {
        id: 'money',
        templates: [
          '{person} put {owner} {coins} in the bank.',
          'The bank in the town lends money to bakers.',
          'With a bag of {coins}, {person} went to the bank to save money.',
          'The bank opens at nine and counts the {coins}.',
        ],
      },
    ],
  },
  {
    word: 'bat',
    senses: [
      {
        id: 'animal',
        templates: [
          'A {small} bat flew out of the cave at night.',
          'In the dark cave, the bat hung upside down and slept.',
          'At dusk a {small} bat hunted moths above the barn.',
          'The furry bat flapped its wings in the dark.',
        ],
      },
      {
        id: 'sport',
        templates: [
          '{person} swung the bat and hit the ball.',
          'The wooden bat leaned against the wall next to the ball.',
          'The player gripped the bat and waited for the ball.',
          'A good cricket bat is made of willow.',
        ],
      },
    ],
  },
];

/** FNV-1a: a fixed hash of the text, the same in every browser and in Node. */
export function textHash(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

/** One filled sentence in five is kept out of the corpus, for tests of what the model makes of unseen sentences. */
export const isHeldOutSentence = (sentence: string): boolean => textHash(sentence) % 5 === 0;
