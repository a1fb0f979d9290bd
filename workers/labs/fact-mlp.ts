/**
 * The fact lab: one MLP neuron that reads "Michael + Jordan" from the residual
 * stream and writes "basketball" back, small enough to see every number.
 */
import { gelu } from '../engine/gelu.ts';
import type { FactMlpResult, FactMlpSetup } from '../api/labs.ts';
import { excerpt } from '../api/errors.ts';

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
  if (!activate) throw new Error(`the activation must be relu or gelu, got ${excerpt(activation)}`);
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
