// The rule that says a run is memorising its text (engine/memorising.ts), on
// loss histories made by hand: each step's training loss, and a validation
// loss every 10 steps.
import { expect } from 'chai';
import { memorising, MIN_RISE, RISES } from '../../workers/engine/memorising.ts';
import type { LossPoint } from '../../workers/api/index.ts';
import { random } from './seeded.ts';

const EVERY = 10;

/** A history whose validation losses are `validation` (one every EVERY steps) and whose training loss follows `training(step)`. */
function history(validation: number[], training: (step: number) => number): LossPoint[] {
  return Array.from({ length: validation.length * EVERY }, (_, i) => {
    const step = i + 1;
    const point: LossPoint = { step, loss: training(step) };
    if (step % EVERY === 0) point.validationLoss = validation[step / EVERY - 1]!;
    return point;
  });
}

const falling = (step: number) => 3 * Math.exp(-step / 100) + 0.2;
/** Noise of up to ±amplitude, from the test's seeded generator. */
const noise = (amplitude: number) => (2 * random() - 1) * amplitude;

describe('memorising', () => {
  it('states the rule this test checks: three rises in a row, 0.05 nats in all', () => {
    expect(RISES).to.equal(3);
    expect(MIN_RISE).to.equal(0.05);
  });

  it('warns once the validation loss has risen three times in a row while the training loss fell', () => {
    // A tiny model on a 1,000-character paste (measured in Node): lowest at step 10, then it climbs.
    const validation = [2.42, 2.7, 2.98, 3.43, 4.02, 4.51];
    for (let evaluations = 1; evaluations <= 3; evaluations++) {
      expect(memorising(history(validation.slice(0, evaluations), falling)), `${evaluations} evaluations`).to.equal(undefined);
    }
    expect(memorising(history(validation.slice(0, 4), falling))).to.deep.equal({ bestStep: 10, best: 2.42, latest: 3.43 });
    expect(memorising(history(validation, falling))).to.deep.equal({ bestStep: 10, best: 2.42, latest: 4.51 });
  });

  it('keeps warning through a dip, and stops once the validation loss is back near its lowest', () => {
    const climbed = [2.2, 2.1, 2.3, 2.5, 2.8];
    expect(memorising(history([...climbed, 2.6], falling))).to.deep.equal({ bestStep: 20, best: 2.1, latest: 2.6 });
    expect(memorising(history([...climbed, 2.6, 2.14], falling))).to.equal(undefined);
  });

  it('says nothing while both losses fall, even with noise', () => {
    const validation = Array.from({ length: 40 }, (_, i) => 3 - 0.04 * i + noise(0.03));
    expect(memorising(history(validation, (step) => falling(step) + noise(0.2)))).to.equal(undefined);
  });

  it('says nothing when the validation loss only wobbles about a level, however long', () => {
    // Rises in a row happen by chance here, but never add up to MIN_RISE.
    const validation = Array.from({ length: 200 }, () => 1.8 + noise(0.024));
    expect(memorising(history(validation, falling))).to.equal(undefined);
    const stairs = [1.8, 1.81, 1.82, 1.83, 1.84];
    expect(memorising(history(stairs, falling)), 'a rise of 0.04').to.equal(undefined);
  });

  it('says nothing when the training loss climbs too: that is a run going wrong, not memorising', () => {
    const validation = [2.0, 1.9, 2.1, 2.4, 2.8];
    expect(memorising(history(validation, (step) => 1 + step / 50))).to.equal(undefined);
  });

  it('needs the rises in a row: up, down, up, up is not yet a climb', () => {
    expect(memorising(history([2.0, 2.3, 2.2, 2.5, 2.8], falling))).to.equal(undefined);
    expect(memorising(history([2.0, 2.3, 2.2, 2.5, 2.8, 3.0], falling))).to.deep.equal({ bestStep: 10, best: 2.0, latest: 3.0 });
  });
});
