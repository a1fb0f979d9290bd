/**
 * The dispatches of inference (B = 1) over split weights (weights.ts): a
 * forward over T tokens up to the final LayerNorm, the unembedding of some of
 * its rows, and one cached step (decode.ts). Each layer's queries, keys and
 * values go to that layer's qkv cache [blockSize, 3C], rows 0..T-1 for a
 * forward, the step's position for a step: a forward is also the prefill of
 * the KV cache.
 */

import type { GPTConfig } from '../config.ts';
import type { ActivationName } from '../model.ts';
import { cachedAttention, encoderBlocks, layernormRow, matvec, unembedRow } from './decode.ts';
import { blockForward, layernormForward } from './forward.ts';
import { gemm, rowMajor, transposed } from './matmul.ts';
import { layerStep, layerStepFits, stepScratchLayout, wholeStep } from './layer-step.ts';
import { type Dispatch, type GPUTensor, offsetBy, type Program } from './program.ts';
import type { GPUWeights, RowBlock } from './weights.ts';

/** Activation `name` of layer `layer` (tensors not per layer: any layer). */
export type ActivationAccessor = (name: ActivationName, layer: number) => GPUTensor;

/**
 * Embedding, the nLayer blocks and the final LayerNorm over T tokens (int32
 * `inputs`), leaving lnf [T, C]. With `futureScores` false the scores of keys
 * after each query are not all computed (nothing reads them without capture).
 */
export function forwardBody(
  p: Program,
  config: GPTConfig,
  T: number,
  act: ActivationAccessor,
  weights: GPUWeights,
  inputs: GPUTensor,
  qkvCache: readonly GPUTensor[],
  futureScores: boolean,
): Dispatch[] {
  const { nLayer: L, nHead: NH, nEmbd: C } = config;
  const N = T;
  const encoded = act('encoded', 0);
  const dispatches = encoderBlocks(p, encoded, inputs, weights.rowBlocks('wte'), weights.param('wpe'), T, C);
  for (let l = 0; l < L; l++) {
    const a = (name: ActivationName) => act(name, l);
    const w = (name: Parameters<GPUWeights['param']>[0]) => weights.param(name, l);
    const input = l === 0 ? encoded : act('residual3', l - 1);
    dispatches.push(...blockForward(p, a, w, input, qkvCache[l]!, 1, T, C, NH, futureScores));
  }
  dispatches.push(
    ...layernormForward(
      p,
      act('lnf', 0),
      act('lnfMean', 0),
      act('lnfRstd', 0),
      act('residual3', L - 1),
      weights.param('lnfw'),
      weights.param('lnfb'),
      N,
      C,
    ),
  );
  return dispatches;
}

/**
 * logits [rows, V] = x [rows, C]·Wᵀ over the unembedding's row blocks (one
 * product per block, each writing its columns of logits); one row through the
 * one-row kernel.
 */
export function unembedRows(
  p: Program,
  logits: GPUTensor,
  x: GPUTensor,
  blocks: RowBlock[],
  rows: number,
  C: number,
  V: number,
  step: GPUTensor,
): Dispatch[] {
  if (rows === 1) return unembedRow(p, logits, x, blocks, C, step);
  return blocks.flatMap((block) =>
    gemm(p, {
      out: logits,
      outView: rowMajor(V, block.firstRow),
      a: x,
      b: block.buffer,
      bView: transposed(rowMajor(C)),
      M: rows,
      K: C,
      N: block.rows,
    }),
  );
}

/**
 * Widths up to which a step runs a layer (or all of it) in one workgroup
 * (layer-step.ts), or, where that cannot run (widths not multiples of 4),
 * LayerNorms inside the product that follows (each invocation recomputing the
 * row's statistics) instead of in a dispatch of its own: on a small model a
 * dispatch costs more than the work, on a wide one the work is too much for
 * one workgroup, or the recomputation costs more than a dispatch.
 */
export const FUSED_NORM_WIDTH = 256;

/**
 * One cached step: the token and position in `step`, every activation one row
 * (`act` at row 0; `att` [NH, blockSize] scratch), its keys and values written
 * to the caches' row at the position, logits [V] at the end (where: the
 * second value returned, a buffer and a float offset). A small model runs the
 * whole step, or each layer, in one dispatch (layer-step.ts) on `stepScratch`.
 */
export function stepDispatches(
  p: Program,
  config: GPTConfig,
  act: ActivationAccessor,
  att: GPUTensor,
  weights: GPUWeights,
  step: GPUTensor,
  qkvCache: readonly GPUTensor[],
  logits: GPUBuffer,
  stepScratch: GPUBuffer,
): { dispatches: Dispatch[]; logits: [GPUBuffer, number] } {
  const { nLayer: L, nHead: NH, nEmbd: C, blockSize, vocabSize: V } = config;
  const lnf = { weight: weights.param('lnfw'), bias: weights.param('lnfb') };
  if (layerStepFits(config, weights.layers, FUSED_NORM_WIDTH)) {
    const whole = wholeStep(p, config, weights, stepScratch, qkvCache, att, step);
    if (whole) return { dispatches: [whole], logits: [stepScratch, stepScratchLayout(C, V).logits] };
    // A layer per dispatch; the residual row lives at the start of the step scratch.
    const dispatches = [
      ...encoderBlocks(p, stepScratch, step, weights.rowBlocks('wte'), weights.param('wpe'), 1, C, true),
      ...weights.layers!.map((layer, l) => layerStep(p, config, layer, stepScratch, qkvCache[l]!, att, step)),
      ...unembedRow(p, logits, stepScratch, weights.rowBlocks('unembedding'), C, step, lnf),
    ];
    return { dispatches, logits: [logits, 0] };
  }
  const fused = C <= FUSED_NORM_WIDTH;
  const a = (name: ActivationName) => act(name, 0);
  const dispatches = encoderBlocks(p, a('encoded'), step, weights.rowBlocks('wte'), weights.param('wpe'), 1, C, true);
  // LayerNorm of x into `out` with weights `w` and `b`: the input of the product that follows (x itself when fused).
  const normed = (out: ActivationName, x: GPUTensor, w: GPUTensor, b: GPUTensor) => {
    if (fused) return { input: x, norm: { weight: w, bias: b } };
    const stats =
      out === 'ln1'
        ? (['ln1Mean', 'ln1Rstd'] as const)
        : out === 'ln2'
          ? (['ln2Mean', 'ln2Rstd'] as const)
          : (['lnfMean', 'lnfRstd'] as const);
    dispatches.push(...layernormRow(p, a(out), a(stats[0]), a(stats[1]), x, w, b, C));
    return { input: a(out), norm: null };
  };
  for (let l = 0; l < L; l++) {
    const w = (name: Parameters<GPUWeights['param']>[0]) => weights.param(name, l);
    const residual = l === 0 ? a('encoded') : a('residual3');
    const qkv = qkvCache[l]!;
    const ln1 = normed('ln1', residual, w('ln1w'), w('ln1b'));
    dispatches.push(
      matvec(p, qkv, ln1.input, w('qkvw'), C, 3 * C, step, { bias: w('qkvb'), positionStride: 3 * C, norm: ln1.norm }),
      ...cachedAttention(p, a('atty'), att, qkv, step, blockSize, C, NH),
      matvec(p, a('residual2'), a('atty'), w('attprojw'), C, C, step, { bias: w('attprojb'), add: residual }),
    );
    const ln2 = normed('ln2', a('residual2'), w('ln2w'), w('ln2b'));
    dispatches.push(
      matvec(p, a('fch'), ln2.input, w('fcw'), C, 4 * C, step, { bias: w('fcb'), gelu: a('fchGelu'), norm: ln2.norm }),
      matvec(p, a('residual3'), a('fchGelu'), w('fcprojw'), 4 * C, C, step, { bias: w('fcprojb'), add: a('residual2') }),
    );
  }
  const final = normed('lnf', a('residual3'), lnf.weight, lnf.bias);
  dispatches.push(...unembedRow(p, logits, final.input, weights.rowBlocks('unembedding'), C, step, final.norm));
  return { dispatches, logits: [logits, 0] };
}

/** `tensor` moved on by `rows` rows of `width` floats. */
export const rowsOn = (tensor: GPUTensor, rows: number, width: number): GPUTensor => offsetBy(tensor, rows * width);
