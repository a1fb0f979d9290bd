/**
 * The superposition lab: how close to 90° random vectors sit as the dimension
 * grows, and gradient descent packing many more vectors than dimensions so that
 * nearly every pair sits within a few degrees of 90°.
 */
import { Random } from '../engine/random.ts';
import { nextMacrotask } from '../training-session.ts';
import type { AngleHistogram, PackingFrame, PackingRequest } from '../api/labs.ts';
import { excerpt } from '../api/errors.ts';

const DEGREES_PER_RADIAN = 180 / Math.PI;
/** The range of dimensions, and a count whose pairs stay a few seconds of work. */
const MAX_DIMENSION = 10_000;
const MAX_COUNT = 2_000;
/** Packing frames' histograms: one bin per degree. */
const PACKING_BINS = 180;
/** About 50 frames per run. */
const FRAMES_PER_RUN = 50;
/**
 * The first step moves the most-pushed vector this far (radians, roughly); the
 * steps shrink geometrically to 2% of it by the last. Larger first steps reach
 * the same end but the largest deviation bounces up on the way.
 */
const FIRST_STEP = 0.03;
const LAST_STEP_FRACTION = 0.02;

function checkWhole(value: number, min: number, max: number, what: string): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(
      `${what} must be a whole number from ${min.toLocaleString('en-US')} to ${max.toLocaleString('en-US')}, got ${excerpt(value)}`,
    );
  }
}

function checkShape(dimension: number, count: number): void {
  checkWhole(dimension, 2, MAX_DIMENSION, 'the dimension');
  checkWhole(count, 2, MAX_COUNT, 'the number of vectors');
}

/** Row a · row b of rows of length d; four running sums, since this loop is nearly all the work. */
function dotRows(vectors: Float32Array, a: number, b: number, d: number): number {
  const x = a * d;
  const y = b * d;
  let s0 = 0,
    s1 = 0,
    s2 = 0,
    s3 = 0;
  let k = 0;
  for (; k + 3 < d; k += 4) {
    s0 += vectors[x + k] * vectors[y + k];
    s1 += vectors[x + k + 1] * vectors[y + k + 1];
    s2 += vectors[x + k + 2] * vectors[y + k + 2];
    s3 += vectors[x + k + 3] * vectors[y + k + 3];
  }
  for (; k < d; k++) s0 += vectors[x + k] * vectors[y + k];
  return s0 + s1 + s2 + s3;
}

/** Scales every row to length 1. */
function normaliseRows(vectors: Float32Array, count: number, d: number): void {
  for (let i = 0; i < count; i++) {
    const scale = 1 / Math.sqrt(dotRows(vectors, i, i, d));
    for (let k = 0; k < d; k++) vectors[i * d + k] *= scale;
  }
}

/** `count` unit vectors in `dimension` dimensions, uniformly spread over the sphere (normalised Gaussians). */
function randomUnitVectors(dimension: number, count: number, seed: number): Float32Array {
  const vectors = new Float32Array(count * dimension);
  new Random(seed).fillNormal(vectors, 1);
  normaliseRows(vectors, count, dimension);
  return vectors;
}

/** Histogram (0° … 180°) and summary of the angles between every pair of unit rows. */
function angleHistogram(
  vectors: Float32Array,
  count: number,
  d: number,
  bins: number,
  tolerance = 0,
): { histogram: AngleHistogram; within: number } {
  const counts = new Array<number>(bins).fill(0);
  let [sum, sumSquares, maxDeviation, within] = [0, 0, 0, 0];
  for (let i = 0; i < count; i++) {
    for (let j = i + 1; j < count; j++) {
      const cosine = Math.min(1, Math.max(-1, dotRows(vectors, i, j, d)));
      const angle = Math.acos(cosine) * DEGREES_PER_RADIAN;
      counts[Math.min(bins - 1, Math.floor((angle / 180) * bins))]++;
      sum += angle;
      sumSquares += angle * angle;
      const deviation = Math.abs(angle - 90);
      maxDeviation = Math.max(maxDeviation, deviation);
      if (deviation <= tolerance) within++;
    }
  }
  const pairs = (count * (count - 1)) / 2;
  const meanDegrees = sum / pairs;
  const histogram = {
    edges: Array.from({ length: bins + 1 }, (_, b) => (180 * b) / bins),
    counts,
    pairs,
    meanDegrees,
    spreadDegrees: Math.sqrt(Math.max(0, sumSquares / pairs - meanDegrees * meanDegrees)),
    maxDeviation,
  };
  return { histogram, within: within / pairs };
}

/** Angles between every pair of `count` random vectors in `dimension` dimensions, in `bins` bins. */
export function randomAngles(dimension: number, count: number, seed: number, bins: number): AngleHistogram {
  checkShape(dimension, count);
  checkWhole(bins, 1, 360, 'the number of bins');
  return angleHistogram(randomUnitVectors(dimension, count, seed), count, dimension, bins).histogram;
}

/**
 * One step of gradient descent on Σ_{i<j} (v_i·v_j)⁴, then every vector back to
 * length 1. The fourth power rather than the square: the square's minimum is any
 * tight frame, which leaves its worst pairs where they are; the fourth power
 * pushes hardest on the pairs furthest from 90°, so the largest deviation falls.
 * Only the gradient's direction along the sphere counts, scaled so the most
 * pushed vector moves `rate`: the same schedule suits any dimension and count.
 */
function packingStep(vectors: Float32Array, gradient: Float32Array, count: number, d: number, rate: number): void {
  gradient.fill(0);
  for (let i = 0; i < count; i++) {
    for (let j = i + 1; j < count; j++) {
      const cosine = dotRows(vectors, i, j, d);
      const weight = cosine * cosine * cosine;
      const x = i * d;
      const y = j * d;
      for (let k = 0; k < d; k++) {
        gradient[x + k] += weight * vectors[y + k];
        gradient[y + k] += weight * vectors[x + k];
      }
    }
  }
  let largest = 0;
  for (let i = 0; i < count; i++) {
    let along = 0;
    for (let k = 0; k < d; k++) along += gradient[i * d + k] * vectors[i * d + k];
    let squared = 0;
    for (let k = 0; k < d; k++) {
      gradient[i * d + k] -= along * vectors[i * d + k];
      squared += gradient[i * d + k] ** 2;
    }
    largest = Math.max(largest, Math.sqrt(squared));
  }
  if (largest === 0) return; // already orthogonal
  const scale = rate / largest;
  for (let n = 0; n < vectors.length; n++) vectors[n] -= scale * gradient[n];
  normaliseRows(vectors, count, d);
}

/**
 * Packs `count` random unit vectors toward orthogonality for `steps` steps. A
 * frame before the first step, every ~steps/50 steps and after the last; the
 * worker answers other calls between steps. Resolves with the last frame.
 */
export async function packVectors(request: PackingRequest, onFrame: (frame: PackingFrame) => void): Promise<PackingFrame> {
  const { dimension: d, count, steps, tolerance, seed } = request;
  checkShape(d, count);
  checkWhole(steps, 0, 100_000, 'the number of steps');
  if (!(tolerance > 0 && tolerance < 90)) throw new Error(`ε must be between 0° and 90°, got ${excerpt(tolerance)}`);
  const vectors = randomUnitVectors(d, count, seed);
  const gradient = new Float32Array(vectors.length);
  const frameEvery = Math.max(1, Math.round(steps / FRAMES_PER_RUN));
  const frameAt = (step: number): PackingFrame => {
    const { histogram, within } = angleHistogram(vectors, count, d, PACKING_BINS, tolerance);
    const frame = { step, histogram, withinTolerance: within };
    onFrame(frame);
    return frame;
  };
  let frame = frameAt(0);
  for (let step = 1; step <= steps; step++) {
    await nextMacrotask();
    packingStep(vectors, gradient, count, d, FIRST_STEP * LAST_STEP_FRACTION ** ((step - 1) / steps));
    if (step % frameEvery === 0 || step === steps) frame = frameAt(step);
  }
  return frame;
}
