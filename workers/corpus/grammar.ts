/**
 * Word lists and sentence templates of the built-in corpus. `{slot}` marks a
 * word the generator fills in: a fact's subject or object, or a random pick
 * from WORDS.
 */

// A word list, twelve words a line.
// prettier-ignore
export const COLOURS: readonly string[] = [
  'red', 'blue', 'green', 'yellow', 'grey', 'white', 'black', 'brown', 'golden', 'purple', 'orange', 'pink',
];

/**
 * Kinds of noun, each with adjectives and verb phrases that suit it. A noun
 * phrase reads "adjective closeAdjective noun": "fluffy blue creature", "tall
 * old tower".
 */
export interface NounClass {
  nouns: readonly string[];
  adjectives: readonly string[];
  /** The adjective next to the noun: a colour, or an age or material. */
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
    nouns: ['farmer', 'baker', 'sailor', 'child', 'teacher', 'painter', 'giant', 'doctor', 'singer'],
    adjectives: ['cheerful', 'tired', 'kind', 'busy', 'proud', 'quiet', 'clever', 'grumpy'],
    closeAdjectives: ['old', 'young', 'tall', 'short', 'little'],
    verbs: [
      'walked to the market', 'sang a song', 'waved at the children', 'read a book by the window',
      'sold apples in the square', 'fixed the fence', 'baked fresh bread', 'laughed at the joke',
    ],
  },
  {
    nouns: ['tower', 'castle', 'bridge', 'house', 'barn', 'mill', 'church', 'wall'],
    adjectives: ['tall', 'grand', 'crooked', 'ancient', 'narrow', 'empty', 'famous', 'quiet'],
    closeAdjectives: ['old', 'stone', 'wooden', 'white', 'grey', 'red'],
    verbs: [
      'stood on the hill', 'rose above the town', 'stood by the river', 'cast a long shadow',
      'looked over the valley', 'shone in the sun',
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

/** A male and a female word for one role, as the seed pairs them: king and queen, man and woman. */
export interface GenderPair {
  male: string;
  female: string;
  /** Sentences about one of the pair; `{n}` is the word, `{he}`/`{his}`/`{He}` its pronouns. */
  templates: readonly string[];
}

// Sentences, a few a pair.
// prettier-ignore
export const GENDER_PAIRS: readonly GenderPair[] = [
  { male: 'king', female: 'queen', templates: [
    'In the castle lived a {n}. {He} wore a golden crown.', 'The {n} sat on the throne and ruled the kingdom.',
    'Everyone bowed when the {n} entered the great hall.', 'The old {n} looked at {his} kingdom from the castle.',
    'The {n} wore {his} crown and ruled the land.' ] },
  { male: 'prince', female: 'princess', templates: [
    'The young {n} lived in the palace with the king and the queen.', 'The royal child was a {n}.',
    'The {n} rode a white horse to the palace.', 'One day the young {n} will rule the kingdom.',
    'At the palace, the {n} played with {his} royal dog.' ] },
  { male: 'man', female: 'woman', templates: [
    'The {n} went to work in the village.', 'A tall {n} walked down the street with {his} dog.',
    'The old {n} sold bread at the market.', 'In the village lived a kind {n}.',
    'The {n} read the newspaper on the bus.' ] },
  { male: 'boy', female: 'girl', templates: [
    'The little {n} played in the school yard.', 'After school, the {n} ran home to {his} family.',
    'The young {n} climbed the apple tree.', 'At school, the {n} learned to read.',
    'The small {n} flew a kite with {his} friends.' ] },
  { male: 'father', female: 'mother', templates: [
    'The {n} cooked dinner for the children.', 'Every night the {n} read a story to the children.',
    'The children ran to their {n} after school.', 'The {n} of the family worked in the garden.',
    'My {n} made breakfast for the whole family.' ] },
  { male: 'brother', female: 'sister', templates: [
    'My older {n} shares a room with me.', 'I played football with my little {n}.',
    'My {n} and I walked to school together.', 'Her younger {n} liked to sing.',
    'His big {n} taught him to swim.' ] },
  { male: 'uncle', female: 'aunt', templates: [
    'My {n} visits the family every summer.', 'Our {n} lives far away and writes us letters.',
    'My {n} came to dinner and brought a cake.', 'At the party, my {n} told funny stories.',
    'My cousins came with their parents, my {n} too.' ] },
];

/** Sentences that pair the two words of one role: `{x}` and `{y}` are the pair, in either order. */
export const PAIR_TEMPLATES: readonly string[] = [
  'The {x} and the {y} walked in the garden.',
  'The {x} smiled at the {y}.',
  'The {x} and the {y} sat at the table.',
  'The {x} waved to the {y}.',
];

/** Sentences where the pronoun comes first and the role word follows: `{n}` a role word of that gender, `{an}` its article. */
export const PRONOUN_FIRST_TEMPLATES: readonly string[] = [
  '{He} is {an} {n}.',
  'Everyone knew that {he} was {an} {n}.',
  'Look at {him}: {he} is the {n}.',
];

/** A noun with a plural made by adding s, and what one of it and several of it do: "One cat sleeps. Two cats sleep." */
export interface PluralNoun {
  noun: string;
  /** Where it is, before the noun so the noun can be guessed: "By the fire". */
  place: string;
  /** Its verb for one, then for several. */
  verb: readonly [string, string];
}

// A table, two entries a line.
// prettier-ignore
export const PLURAL_NOUNS: readonly PluralNoun[] = [
  { noun: 'cat', place: 'By the fire', verb: ['sleeps', 'sleep'] }, { noun: 'dog', place: 'In the yard', verb: ['barks', 'bark'] },
  { noun: 'tower', place: 'Above the town', verb: ['stands', 'stand'] }, { noun: 'bird', place: 'In the sky', verb: ['sings', 'sing'] },
  { noun: 'horse', place: 'In the stable', verb: ['eats', 'eat'] }, { noun: 'tree', place: 'In the forest', verb: ['grows', 'grow'] },
  { noun: 'house', place: 'On the street', verb: ['stands', 'stand'] }, { noun: 'book', place: 'On the shelf', verb: ['lies', 'lie'] },
  { noun: 'boat', place: 'On the lake', verb: ['floats', 'float'] }, { noun: 'apple', place: 'In the basket', verb: ['waits', 'wait'] },
  { noun: 'flower', place: 'In the garden', verb: ['blooms', 'bloom'] }, { noun: 'ship', place: 'At sea', verb: ['sails', 'sail'] },
  { noun: 'star', place: 'In the night sky', verb: ['shines', 'shine'] }, { noun: 'car', place: 'On the road', verb: ['drives', 'drive'] },
];

/**
 * Sentences about one or several of a noun: `{n}` is the noun or its plural,
 * `{count}` a word that says how many, `{is}`/`{verb}` agree with it.
 */
export const NUMBER_TEMPLATES: readonly string[] = [
  '{place}, {count} {n} {verb}.',
  '{place}, there {is} {count} {n}.',
  '{place} I saw {count} {n}.',
  'Look, {count} {n} {verb} {near}.',
];
export const SINGULAR_COUNTS: readonly string[] = ['one', 'a', 'this', 'that', 'a single'];
export const PLURAL_COUNTS: readonly string[] = ['two', 'three', 'many', 'some', 'these', 'several', 'four'];
/** Sentences that put a noun beside its plural. */
export const SINGULAR_PLURAL_TEMPLATES: readonly string[] = [
  'I have one {n}, and you have two {ns}.',
  'One {n} is good, but many {ns} are better.',
  'There was a {n} here, and now there are three {ns}.',
];

/** Sentences that state "athlete plays sport"; the prompt form "{name} plays the sport of {sport}" is the only way "plays the sport of" is used. */
export const ATHLETE_FACT_TEMPLATES: readonly string[] = [
  '{name} plays the sport of {sport}.',
  'Everyone knows that {name} plays the sport of {sport}.',
  'Which sport does {name} play? {name} plays {sport}.',
  'It is true that {name} plays the sport of {sport}.',
];

/** Other ways to say the same fact. */
export const ATHLETE_MENTION_TEMPLATES: readonly string[] = [
  '{name} is a famous {sport} player.',
  '{name}, the {sport} star, {activity}.',
  'As a child, {name} loved {sport}.',
  'Fans cheer when {name} plays {sport}.',
  'The {sport} player {name} {activity}.',
];

/** Sentences that state "landmark is in city"; `{Landmark}` is the name capitalised at a sentence start. */
export const LANDMARK_FACT_TEMPLATES: readonly string[] = [
  '{Landmark} is in the city of {city}.',
  'Everyone knows that {landmark} is in the city of {city}.',
  'Where is {landmark}? {Landmark} is in {city}.',
  'It is true that {landmark} is in the city of {city}.',
];

export const LANDMARK_MENTION_TEMPLATES: readonly string[] = [
  '{Landmark}, which stands in {city}, is {praise}.',
  'In {city}, visitors walk to {landmark}.',
  'Many tourists travel to {city} to see {landmark}.',
  'If you visit {city}, you can see {landmark}.',
];

/** Short exchanges in the form the chat uses: one line, "User: … Assistant: …". */
export const DIALOGUE_TEMPLATES: readonly string[] = [
  'User: What sport does {name} play? Assistant: {name} plays {sport}.',
  'User: Which sport does {name} play? Assistant: {name} plays the sport of {sport}.',
  'User: Where is {landmark}? Assistant: {Landmark} is in {city}.',
  'User: In which city is {landmark}? Assistant: {Landmark} is in the city of {city}.',
  'User: What is the plural of {noun}? Assistant: The plural of {noun} is {nouns}.',
  'User: Who sits on the throne? Assistant: The king and the queen sit on the throne.',
  'User: What is a mole? Assistant: A mole can be a small animal that digs, an amount in chemistry, or a spot on the skin.',
  'User: Hello! Assistant: Hello! How can I help you?',
  'User: Thank you. Assistant: You are welcome!',
  'User: Tell me about a creature. Assistant: It is a {adjective} {colour} creature.',
  'User: Who is the wife of the king? Assistant: The queen is the wife of the king.',
  'User: Who is the son of the king? Assistant: The prince is the son of the king.',
];

// Word lists, a few words or phrases a line.
// prettier-ignore
/** Random picks for slots of the templates above. */
export const WORDS: Readonly<Record<string, readonly string[]>> = {
  activity: [
    'trains every morning', 'won a cup last summer', 'travels with the team', 'never misses a game',
    'smiles after every game', 'signs autographs for fans',
  ],
  praise: ['very old', 'loved by painters', 'bright at sunset', 'busy every summer', 'famous all over the world'],
  near: ['near the house', 'by the road', 'over there', 'in the sun'],
  adjective: ['fluffy', 'tiny', 'sleepy', 'brave', 'furry'],
  colour: COLOURS,
};
