/**
 * The fact lab: one MLP neuron that reads "Michael + Jordan" from the residual
 * stream and writes "basketball" back, small enough to see every number.
 */
import { gelu } from '../engine/gelu.ts';
import type { FactMlpResult, FactMlpSetup } from './types.ts';

const dot = (a: readonly number[], b: readonly number[]): number => a.reduce((sum, x, i) => sum + x * b[i], 0);

const activations = { relu: (x: number): number => Math.max(0, x), gelu };

/** The neuron applied to the input the setup names: up-projection, bias, activation, down-projection. */
export function factMlp(setup: FactMlpSetup): FactMlpResult {
  const { directions, up, bias, down, activation } = setup;
  const dimension = directions.basketball.length;
  for (const [name, vector] of Object.entries({ ...directions, up, down })) {
    if (vector.length !== dimension) throw new Error(`${name} has ${vector.length} numbers, the others ${dimension}`);
  }
  const input = new Array<number>(dimension).fill(0);
  for (const name of ['michael', 'jordan'] as const) {
    if (setup.input[name]) directions[name].forEach((x, i) => (input[i] += x));
  }
  const activate = activations[activation];
  if (!activate) throw new Error(`the activation must be relu or gelu, got ${activation}`);
  const pre = dot(up, input) + bias;
  const post = activate(pre);
  const output = down.map((x) => post * x);
  const basketballLength = dot(directions.basketball, directions.basketball);
  return {
    input,
    pre,
    post,
    output,
    residual: input.map((x, i) => x + output[i]),
    basketball: basketballLength > 0 ? dot(output, directions.basketball) / basketballLength : 0,
  };
}

/**
 * Michael, Jordan and basketball along the first three axes (orthonormal, so
 * each is read without the others leaking in); the neuron sums the two names,
 * so with the bias of −1 only both together get past the ReLU.
 */
export function defaultFactMlp(dimension = 6): FactMlpSetup {
  if (!Number.isInteger(dimension) || dimension < 3) throw new Error(`the fact needs at least 3 dimensions, got ${dimension}`);
  const axis = (index: number): number[] => Array.from({ length: dimension }, (_, i) => (i === index ? 1 : 0));
  const [michael, jordan, basketball] = [axis(0), axis(1), axis(2)];
  return {
    directions: { michael, jordan, basketball },
    input: { michael: true, jordan: true },
    up: michael.map((x, i) => x + jordan[i]),
    bias: -1,
    down: basketball,
    activation: 'relu',
  };
}
