/**
 * The built-in corpus's fact table: real athletes and the sport each plays,
 * with the seed's own example, Michael Jordan and basketball, first; and real
 * landmarks with their cities. The corpus states each fact many ways.
 */

export interface Athlete {
  name: string;
  sport: string;
}

export interface Landmark {
  /** As it reads inside a sentence ("the Eiffel tower"); the corpus capitalises it at a sentence start. */
  name: string;
  city: string;
}

// A table, two entries a line.
// prettier-ignore
export const ATHLETES: readonly Athlete[] = [
  { name: 'Michael Jordan', sport: 'basketball' }, { name: 'LeBron James', sport: 'basketball' },
  { name: 'Kobe Bryant', sport: 'basketball' }, { name: 'Stephen Curry', sport: 'basketball' },
  { name: 'Serena Williams', sport: 'tennis' }, { name: 'Roger Federer', sport: 'tennis' },
  { name: 'Rafael Nadal', sport: 'tennis' }, { name: 'Novak Djokovic', sport: 'tennis' },
  { name: 'Lionel Messi', sport: 'football' }, { name: 'Cristiano Ronaldo', sport: 'football' },
  { name: 'Zinedine Zidane', sport: 'football' }, { name: 'Mia Hamm', sport: 'football' },
  { name: 'Tiger Woods', sport: 'golf' }, { name: 'Jack Nicklaus', sport: 'golf' },
  { name: 'Rory McIlroy', sport: 'golf' }, { name: 'Babe Ruth', sport: 'baseball' },
  { name: 'Derek Jeter', sport: 'baseball' }, { name: 'Shohei Ohtani', sport: 'baseball' },
  { name: 'Wayne Gretzky', sport: 'hockey' }, { name: 'Sidney Crosby', sport: 'hockey' },
  { name: 'Alex Ovechkin', sport: 'hockey' }, { name: 'Sachin Tendulkar', sport: 'cricket' },
  { name: 'Virat Kohli', sport: 'cricket' }, { name: 'Don Bradman', sport: 'cricket' },
  { name: 'Jonny Wilkinson', sport: 'rugby' }, { name: 'Richie McCaw', sport: 'rugby' },
  { name: 'Lin Dan', sport: 'badminton' }, { name: 'Carolina Marin', sport: 'badminton' },
  { name: 'Karch Kiraly', sport: 'volleyball' }, { name: 'Ma Long', sport: 'table tennis' },
  { name: 'Diego Maradona', sport: 'football' }, { name: 'Venus Williams', sport: 'tennis' },
];

// A table, two entries a line.
// prettier-ignore
export const LANDMARKS: readonly Landmark[] = [
  { name: 'the Eiffel tower', city: 'Paris' }, { name: 'the Colosseum', city: 'Rome' },
  { name: 'Big Ben', city: 'London' }, { name: 'the Statue of Liberty', city: 'New York' },
  { name: 'the Brandenburg Gate', city: 'Berlin' }, { name: 'the Acropolis', city: 'Athens' },
  { name: 'the Sagrada Familia', city: 'Barcelona' }, { name: 'the Taj Mahal', city: 'Agra' },
  { name: 'the Kremlin', city: 'Moscow' }, { name: 'the Golden Gate Bridge', city: 'San Francisco' },
  { name: 'the Sydney Opera House', city: 'Sydney' }, { name: 'the Space Needle', city: 'Seattle' },
  { name: 'the Forbidden City', city: 'Beijing' }, { name: 'the Burj Khalifa', city: 'Dubai' },
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

/** "The Eiffel tower" at the start of a sentence. */
export const capitalise = (text: string): string => text[0]!.toUpperCase() + text.slice(1);

export const athletePrompt = (name: string): string => `${name} plays the sport of`;
export const landmarkPrompt = (name: string): string => `${capitalise(name)} is in the city of`;

export const FACTS: readonly Fact[] = [
  ...ATHLETES.map(({ name, sport }) => ({
    subject: name,
    relation: 'plays the sport of',
    object: sport,
    prompt: athletePrompt(name),
    answer: ` ${sport}`,
  })),
  ...LANDMARKS.map(({ name, city }) => ({
    subject: capitalise(name),
    relation: 'is in the city of',
    object: city,
    prompt: landmarkPrompt(name),
    answer: ` ${city}`,
  })),
];
