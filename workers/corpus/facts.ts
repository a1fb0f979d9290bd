/**
 * The built-in corpus's fact table: invented people with the sport each plays,
 * invented landmarks with their cities. Every name starts with one of a few
 * capital letters (the same ones that start sentences) so the corpus keeps a
 * small character vocabulary. Sports and cities differ in their first letter:
 * once a character model has chosen that letter, the rest of the word follows.
 */

export interface Person {
  name: string;
  sport: string;
}

export interface Landmark {
  name: string;
  city: string;
}

// A table, two entries a line.
// prettier-ignore
export const PEOPLE: readonly Person[] = [
  { name: 'Mara Pell', sport: 'tennis' }, { name: 'Tobin Wren', sport: 'rugby' },
  { name: 'Lina Marsh', sport: 'golf' }, { name: 'Orin Bale', sport: 'cricket' },
  { name: 'Sela Rook', sport: 'hockey' }, { name: 'Nico Stamp', sport: 'polo' },
  { name: 'Ilsa Trent', sport: 'squash' }, { name: 'Bram Ollis', sport: 'darts' },
  { name: 'Esme Lorn', sport: 'netball' }, { name: 'Wilf Ambry', sport: 'badminton' },
  { name: 'Pia Nolt', sport: 'volleyball' }, { name: 'Rudo Ember', sport: 'lacrosse' },
  { name: 'Alba Sorrel', sport: 'football' }, { name: 'Tamsin Birch', sport: 'korfball' },
  { name: 'Elio Pask', sport: 'water polo' }, { name: 'Nessa Wolde', sport: 'tennis' },
  { name: 'Osric Tallow', sport: 'golf' }, { name: 'Bea Linden', sport: 'rugby' },
  { name: 'Ruth Ivers', sport: 'cricket' }, { name: 'Leon Ashby', sport: 'hockey' },
  { name: 'Ines Rowan', sport: 'squash' }, { name: 'Milo Sutter', sport: 'darts' },
  { name: 'Sami Penn', sport: 'football' }, { name: 'Wes Brand', sport: 'badminton' },
];

// A table, two entries a line.
// prettier-ignore
export const LANDMARKS: readonly Landmark[] = [
  { name: 'Amber Arch', city: 'Orvale' }, { name: 'Bellwater Bridge', city: 'Tarnwick' },
  { name: 'Emerald Tower', city: 'Sarnow' }, { name: 'Ironwood Mill', city: 'Lunholt' },
  { name: 'Lantern Pier', city: 'Ravensey' }, { name: 'Moonstone Palace', city: 'Ardwyn' },
  { name: 'Needle Spire', city: 'Ivrenne' }, { name: 'Old Observatory', city: 'Brisca' },
  { name: 'Pebble Market', city: 'Wyndle' }, { name: 'Salt Abbey', city: 'Morrowick' },
  { name: 'Thimble Steps', city: 'Nimbry' }, { name: 'Willow Baths', city: 'Pindor' },
  { name: 'Iris Well', city: 'Eskerby' }, { name: 'Stone Lion', city: 'Orvale' },
  { name: 'Rain Bell', city: 'Tarnwick' }, { name: 'Oak Throne', city: 'Lunholt' },
];

/**
 * One fact as a prompt and the answer a model should continue it with: the
 * corpus contains `prompt + answer` many times, and never `prompt` followed by
 * anything else.
 */
export interface Fact {
  subject: string;
  relation: string;
  object: string;
  prompt: string;
  answer: string;
}

export const FACTS: readonly Fact[] = [
  ...PEOPLE.map(({ name, sport }) => ({
    subject: name,
    relation: 'plays',
    object: sport,
    prompt: `${name} plays`,
    answer: ` ${sport}`,
  })),
  ...LANDMARKS.map(({ name, city }) => ({
    subject: name,
    relation: 'is in',
    object: city,
    prompt: `${name} is in`,
    answer: ` ${city}`,
  })),
];
