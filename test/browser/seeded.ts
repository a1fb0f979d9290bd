/**
 * Random test inputs, seeded. Every test draws from its own generator, seeded
 * by the run's seed and the test's full title, so a test gets the same inputs
 * whatever runs before it. The run's seed is new each run (web-test-runner's
 * config picks it, or takes TEST_SEED), and a failing test prints it:
 * `TEST_SEED=<seed> npm test` replays the failure.
 */
import { Random } from '../../workers/engine/random.ts';

declare global {
  // Set by web-test-runner.config.mjs in every test page.
  var TEST_SEED: number | undefined;
}

/** The run's seed, for messages. */
export const RUN_SEED = globalThis.TEST_SEED ?? 1;

/** A 32-bit hash of the run's seed and a title (FNV-1a). */
function seedFor(title: string): number {
  let hash = 0x811c9dc5 ^ RUN_SEED;
  for (let i = 0; i < title.length; i++) hash = Math.imul(hash ^ title.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

let generator = new Random(seedFor(''));

beforeEach(function () {
  generator = new Random(seedFor(this.currentTest?.fullTitle() ?? ''));
});

afterEach(function () {
  const test = this.currentTest;
  if (test?.state === 'failed') console.error(`"${test.fullTitle()}" failed with random inputs of TEST_SEED=${RUN_SEED}`);
});

/** A generator of its own for inputs a test file makes once, outside its tests (seeded by the run's seed and `label`). */
export const randomFor = (label: string): Random => new Random(seedFor(label));

/** A number in [0, 1), like Math.random(), from the test's seeded generator. */
export const random = (): number => generator.uniform();

/** A whole number in [low, high). */
export const randomInt = (low: number, high: number): number => low + Math.floor(random() * (high - low));

/** One of the items. */
export const pick = <T>(items: readonly T[]): T => items[randomInt(0, items.length)]!;

/** A number in [low, high). */
export const randomIn = (low: number, high: number): number => low + random() * (high - low);

/** The items in a random order, every order as likely (Fisher–Yates); `items` is left as it was. */
export function shuffle<T>(items: readonly T[]): T[] {
  const shuffled = [...items];
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = randomInt(0, i + 1);
    [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
  }
  return shuffled;
}
