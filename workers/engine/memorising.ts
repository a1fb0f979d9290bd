/**
 * Whether a training run has started memorising its text instead of learning
 * its language: the loss on held-out text climbs while the training loss falls.
 * A text too small to generalise from (a paste of a thousand characters, say)
 * does this within a few hundred steps.
 *
 * The rule: the validation loss rose at RISES evaluations in a row, by at least
 * MIN_RISE nats in all, while the mean training loss of the steps before each
 * evaluation fell from the first of them to the last. Once that has happened,
 * the warning holds for as long as the newest validation loss is still at least
 * MIN_RISE above the lowest so far.
 */

/** A step of the history: its training loss, and the validation loss when one was measured then. */
interface HistoryPoint {
  step: number;
  loss: number;
  validationLoss?: number;
}

export interface Memorising {
  /** The step with the lowest validation loss so far, and that loss. */
  bestStep: number;
  best: number;
  /** The newest validation loss. */
  latest: number;
}

/** Rises in a row that make a steady climb rather than noise. */
export const RISES = 3;
/** How far, in nats, the validation loss must climb in all (and stay above its lowest). */
export const MIN_RISE = 0.05;

interface Evaluation {
  step: number;
  validation: number;
  /** Mean training loss of the steps since the evaluation before. */
  training: number;
}

/** The evaluations of a history, each with the mean training loss that led up to it. */
function evaluations(history: readonly HistoryPoint[]): Evaluation[] {
  const found: Evaluation[] = [];
  let sum = 0;
  let steps = 0;
  for (const { step, loss, validationLoss } of history) {
    sum += loss;
    steps++;
    if (validationLoss === undefined) continue;
    found.push({ step, validation: validationLoss, training: sum / steps });
    sum = 0;
    steps = 0;
  }
  return found;
}

/** Whether the RISES evaluations before `end` and `end` itself climb steadily while training loss falls. */
function climbsTo(list: Evaluation[], end: number): boolean {
  const start = end - RISES;
  if (start < 0) return false;
  for (let i = start + 1; i <= end; i++) if (!(list[i]!.validation > list[i - 1]!.validation)) return false;
  return list[end]!.validation - list[start]!.validation >= MIN_RISE && list[end]!.training < list[start]!.training;
}

/** What the warning says when the rule above holds for this history (steps in order), else undefined. */
export function memorising(history: readonly HistoryPoint[]): Memorising | undefined {
  const list = evaluations(history);
  if (!list.some((_, end) => climbsTo(list, end))) return undefined;
  const lowest = list.reduce((best, evaluation) => (evaluation.validation < best.validation ? evaluation : best));
  const latest = list.at(-1)!.validation;
  if (latest - lowest.validation < MIN_RISE) return undefined;
  return { bestStep: lowest.step, best: lowest.validation, latest };
}
