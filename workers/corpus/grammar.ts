/**
 * Word lists and sentence templates of the built-in corpus. `{slot}` marks a
 * word the generator fills in: a fact's subject or object, or a random pick
 * from WORDS. Only lowercase letters, the capitals that start names and
 * sentences, space and . , ? appear, so a character model's vocabulary stays
 * small.
 */

// A word list, twelve words a line.
// prettier-ignore
export const COLOURS: readonly string[] = [
  'red', 'blue', 'green', 'yellow', 'grey', 'white', 'black', 'brown', 'golden', 'purple', 'orange', 'pink',
];

/**
 * Three kinds of noun, each with adjectives and verb phrases that suit it.
 * A noun phrase reads "adjective closeAdjective noun": "fluffy blue creature",
 * "cheerful old baker".
 */
export interface NounClass {
  nouns: readonly string[];
  adjectives: readonly string[];
  /** The adjective next to the noun: a colour, or an age or size for people. */
  closeAdjectives: readonly string[];
  verbs: readonly string[];
}

// Word lists, a few words or phrases a line.
// prettier-ignore
export const NOUN_CLASSES: readonly NounClass[] = [
  {
    nouns: ['creature', 'cat', 'dog', 'fox', 'owl', 'frog', 'rabbit', 'horse', 'bird', 'mouse', 'goat', 'duck', 'lamb'],
    adjectives: ['fluffy', 'tiny', 'sleepy', 'hungry', 'brave', 'clever', 'shy', 'wild', 'furry', 'noisy'],
    closeAdjectives: COLOURS,
    verbs: [
      'sat by the river', 'slept under the oak tree', 'ran across the field', 'hid in the tall grass',
      'drank from the pond', 'chased a butterfly', 'watched the moon', 'curled up by the fire',
    ],
  },
  {
    nouns: ['farmer', 'baker', 'sailor', 'child', 'girl', 'boy', 'teacher', 'painter', 'queen', 'giant'],
    adjectives: ['cheerful', 'tired', 'kind', 'busy', 'proud', 'quiet', 'clever', 'grumpy'],
    closeAdjectives: ['old', 'young', 'tall', 'short', 'little'],
    verbs: [
      'walked to the market', 'sang a song', 'waved at the children', 'read a book by the window',
      'sold apples in the square', 'fixed the fence', 'baked fresh bread', 'laughed at the joke',
    ],
  },
  {
    nouns: ['boat', 'kite', 'lamp', 'chair', 'cup', 'box', 'ball', 'bell', 'wagon', 'basket', 'hat', 'coat'],
    adjectives: ['shiny', 'broken', 'heavy', 'small', 'round', 'soft', 'dusty', 'wooden'],
    closeAdjectives: COLOURS,
    verbs: [
      'lay on the table', 'floated on the lake', 'stood in the corner', 'rolled down the hill',
      'sat on the shelf', 'waited by the door',
    ],
  },
];

// A list of phrases, a few a line.
// prettier-ignore
/** Phrases that may open a scene sentence; the noun phrase follows in lowercase. */
export const OPENERS: readonly string[] = [
  'In the morning,', 'Near the barn,', 'Last night,', 'On the hill,', 'After the rain,', 'When the sun rose,',
  'Once,', 'Every day,', 'Later,', 'Suddenly,', 'By the old gate,',
];

// Word lists, a few words or phrases a line.
// prettier-ignore
/** Random picks for slots of the templates below. */
export const WORDS: Readonly<Record<string, readonly string[]>> = {
  animal: ['dog', 'cat', 'fox', 'goat', 'horse', 'duck'],
  tiny: ['tiny', 'small', 'little', 'sleepy'],
  activity: [
    'trains every morning', 'won a cup last summer', 'lives in a small house', 'walks to practice',
    'never misses a game', 'owns a red bicycle', 'smiles after every game', 'travels with the team',
  ],
  praise: ['very old', 'loved by painters', 'bright at sunset', 'busy every summer', 'built of pale stone'],
};

/** Sentences that state "person plays sport"; each contains `{name} plays {sport}` literally. */
export const PERSON_FACT_TEMPLATES: readonly string[] = [
  'Everyone knows that {name} plays {sport}.',
  'Which sport does {name} play? {name} plays {sport}.',
  'On weekends {name} plays {sport} with friends.',
  'Ask anyone in town and they will tell you that {name} plays {sport}.',
  'It is true that {name} plays {sport}.',
  'Most evenings {name} plays {sport} in the park.',
];

/** Other ways to mention the same fact, without the prompt form. */
export const PERSON_MENTION_TEMPLATES: readonly string[] = [
  '{name}, who plays {sport}, {activity}.',
  'The {sport} player {name} {activity}.',
  '{name} loves {sport} and practises it every day.',
  '{name} has played {sport} since childhood.',
  'People often see {name} playing {sport}.',
];

/** Sentences that state "landmark is in city"; each contains `{landmark} is in {city}` literally. */
export const LANDMARK_FACT_TEMPLATES: readonly string[] = [
  'Everyone knows that {landmark} is in {city}.',
  'Where is {landmark}? {landmark} is in {city}.',
  'The famous {landmark} is in {city}.',
  'Travellers say that {landmark} is in {city}.',
  'As every map shows, {landmark} is in {city}.',
];

export const LANDMARK_MENTION_TEMPLATES: readonly string[] = [
  '{landmark}, which stands in {city}, is {praise}.',
  'In {city}, visitors walk to {landmark}.',
  'Many tourists travel to {city} to see {landmark}.',
  'If you visit {city}, you can see {landmark}.',
];

/**
 * Words whose meaning depends on context. Each sense's sentences contain the
 * word and words that point to that sense only.
 */
export interface AmbiguousWord {
  word: string;
  senses: readonly (readonly string[])[];
}

export const AMBIGUOUS_WORDS: readonly AmbiguousWord[] = [
  {
    word: 'bank',
    senses: [
      [
        'The {animal} rested on the muddy bank of the river.',
        'Reeds grow along the bank of the stream.',
        '{name} sat on the grassy bank and watched the river flow past.',
        'The boat drifted close to the river bank.',
      ],
      [
        '{name} put some coins in the bank.',
        'The bank in {city} lends money to bakers.',
        'The bank opens at nine and counts the money.',
        '{name} went to the bank to save money.',
      ],
    ],
  },
  {
    word: 'bat',
    senses: [
      [
        'A {tiny} bat flew out of the cave at night.',
        'The bat hung upside down in the cave and slept all day.',
        'At dusk a bat hunted moths above the barn.',
        'The bat flapped its wings in the dark cave.',
      ],
      [
        '{name} swung the bat and hit the ball.',
        'The wooden bat leaned against the wall next to the ball.',
        'The player gripped the bat and waited for the ball.',
        'A good cricket bat is made of willow.',
      ],
    ],
  },
  {
    word: 'bark',
    senses: [
      [
        'The {animal} heard the dog bark at the gate.',
        'We heard the loud bark of the puppy.',
        'The dog gave a happy bark when its owner came home.',
        'Every night the old dog would bark at the moon.',
      ],
      [
        'The bark of the old oak tree was rough.',
        'Soft green moss grew on the bark of the tree.',
        'A beetle crawled under the bark of the pine tree.',
        'The {tiny} owl sat on the bark of a tall tree.',
      ],
    ],
  },
  {
    word: 'spring',
    senses: [
      [
        'In spring the flowers bloom and the days grow warm.',
        'Every spring the birds build new nests.',
        'The snow melts when spring arrives and the flowers open.',
      ],
      [
        '{name} drank cold water from the spring in the hills.',
        'A clear spring bubbles up from the rocks.',
        'The {animal} drank water from the spring under the rocks.',
      ],
    ],
  },
  {
    word: 'match',
    senses: [
      [
        'The team won the match by two goals.',
        '{name} watched the match and cheered for the team.',
        'The match ended in a draw after extra time.',
      ],
      [
        '{name} struck a match to light the candle.',
        'The match burned down and the flame went out.',
        'A single match lit the campfire.',
      ],
    ],
  },
];
