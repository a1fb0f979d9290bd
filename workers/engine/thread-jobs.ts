/**
 * What the CPU threads share (threads.ts, cpu-thread.ts): the layout of the
 * control block, how a job is written into a thread's slot, and the jobs
 * themselves, which the coordinator runs for its own part as the helpers do.
 */
import type { GPTConfig } from './config.ts';
import { gemm, type GemmModules, type Product, type SharedResident } from './gemm.ts';
import {
  type ActivationTensors,
  backward,
  createActivationGradients,
  createActivations,
  crossEntropy,
  forwardActivations,
} from './model.ts';
import { adamwRange, decaySegments, type Segment, type UpdateNumbers } from './optimizer.ts';
import type { ParameterTensors } from './params.ts';

/** Numbers per block's job slot (a Float64Array): the kind, the arguments, a fault flag (tests) and the result. */
export const JOB_WORDS = 64;
export const JOB = { kind: 0, args: 1, fault: JOB_WORDS - 2, result: JOB_WORDS - 1 } as const;
/** UTF-16 units of a failed thread's error message. */
export const MESSAGE_CHARS = 256;

/**
 * The control block: three Int32 words, then one job slot per block (at most one
 * block per thread), then each thread's error message. The claim word packs a job's
 * generation, its number of blocks and the next block to take, so that a block is
 * claimed with one compare-and-exchange, and never twice or for the wrong job.
 */
export const CONTROL = {
  /** generation (15 bits) << 16 | blocks << 8 | next block to claim. */
  claim: 0,
  /** Blocks of the current job finished (by whichever thread). */
  done: 1,
  /** The index of a helper whose block threw (0: none). */
  failed: 2,
  jobsByte: 64,
  messagesByte: (threads: number) => 64 + threads * JOB_WORDS * 8,
  bytes: (threads: number) => 64 + threads * JOB_WORDS * 8 + threads * MESSAGE_CHARS * 2,
};

export const claimWord = (generation: number, blocks: number, next: number): number =>
  ((generation & 0x7fff) << 16) | (blocks << 8) | next;
export const generationOf = (word: number): number => word >>> 16;
export const blocksOf = (word: number): number => (word >>> 8) & 0xff;
export const nextOf = (word: number): number => word & 0xff;

/**
 * Takes the next block of the job `word` announced: its index, or -1 when all are
 * taken or a newer job replaced it. Each thread, the coordinator too, takes
 * blocks until none is left, so a helper that wakes late only finds less to do.
 */
export function claimBlock(control: Int32Array, generation: number): number {
  for (;;) {
    const word = Atomics.load(control, CONTROL.claim);
    if (generationOf(word) !== generation || nextOf(word) >= blocksOf(word)) return -1;
    if (Atomics.compareExchange(control, CONTROL.claim, word, word + 1) === word) return nextOf(word);
  }
}

export const JobKind = { gemm: 1, gradients: 2, loss: 3, sumGradients: 4, adamw: 5 } as const;

/** A view into a buffer helpers were sent: its id, and the view's offset and length in elements. */
export interface BufferRef {
  id: number;
  offset: number;
  length: number;
}

/** Messages to a helper: set up, take a buffer, drop one. */
export type ThreadMessage =
  | { kind: 'init'; index: number; control: SharedArrayBuffer; kernels: GemmModules | null }
  | { kind: 'adopt'; id: number; buffer: SharedArrayBuffer; resident?: SharedResident }
  | { kind: 'forget'; id: number };

/** Writes a reference (id 0: none) at `at`; returns where the next argument goes. */
export function writeRef(slot: Float64Array, at: number, ref: BufferRef | null): number {
  slot[at] = ref ? ref.id : 0;
  slot[at + 1] = ref ? ref.offset : 0;
  slot[at + 2] = ref ? ref.length : 0;
  return at + 3;
}

export const readRef = (slot: Float64Array, at: number): BufferRef | null =>
  slot[at] ? { id: slot[at], offset: slot[at + 1], length: slot[at + 2] } : null;

/** One thread's temporary [rows, columns] block of a product cut by columns. */
let blockScratch = new Float32Array(0);

/**
 * Rows m0..m1 and columns n0..n1 of a product, computed as gemm() computes them
 * for the whole (each output is the same sum in the same order, so the result is
 * the same to the bit). A block of all columns or of one row is contiguous in
 * out and is written in place; another goes through a dense block and back.
 */
export function gemmBlock(p: Product, m0: number, m1: number, n0: number, n1: number): void {
  const { out, K, N, aRow, aCol, bRow, bCol, accumulate } = p;
  const rows = m1 - m0;
  const columns = n1 - n0;
  const a = p.a.subarray(m0 * aRow);
  const b = p.b.subarray(n0 * bCol);
  const bias = p.bias ? p.bias.subarray(n0, n1) : null;
  const part = { a, b, M: rows, K, N: columns, aRow, aCol, bRow, bCol, bias, accumulate };
  if (columns === N || rows === 1) {
    gemm({ ...part, out: out.subarray(m0 * N + n0, (m1 - 1) * N + n1) });
    return;
  }
  if (blockScratch.length < rows * columns) blockScratch = new Float32Array(rows * columns);
  const block = blockScratch.subarray(0, rows * columns);
  if (accumulate) for (let r = 0; r < rows; r++) block.set(out.subarray((m0 + r) * N + n0, (m0 + r) * N + n1), r * columns);
  gemm({ ...part, out: block });
  for (let r = 0; r < rows; r++) out.set(block.subarray(r * columns, (r + 1) * columns), (m0 + r) * N + n0);
}

/** The config as numbers in a job slot, and back. */
export function writeConfig(slot: Float64Array, at: number, c: GPTConfig): number {
  slot.set([c.vocabSize, c.blockSize, c.nLayer, c.nHead, c.nEmbd, c.tied ? 1 : 0], at);
  return at + 6;
}

export const readConfig = (slot: Float64Array, at: number): GPTConfig => ({
  vocabSize: slot[at],
  blockSize: slot[at + 1],
  nLayer: slot[at + 2],
  nHead: slot[at + 3],
  nEmbd: slot[at + 4],
  tied: slot[at + 5] === 1,
});

/** A thread's activation buffers for shards of one size, kept for the next step. */
let shardBuffers: { key: string; acts: ActivationTensors; dacts: ActivationTensors } | null = null;

function buffersFor(config: GPTConfig, B: number, T: number): { acts: ActivationTensors; dacts: ActivationTensors } {
  const key = JSON.stringify([config, B, T]);
  if (shardBuffers?.key !== key)
    shardBuffers = { key, acts: createActivations(config, B, T), dacts: createActivationGradients(config, B, T) };
  return shardBuffers;
}

/**
 * One shard of a training batch (B sequences of T tokens): its mean loss, and,
 * with grads, the gradient of Σ scale·(−log p) over its positions written into
 * grads (scale 1 / the whole batch's positions: the shards' gradients then add up
 * to the batch's).
 */
export function shardStep(
  params: ParameterTensors,
  tokens: Int32Array,
  targets: Int32Array,
  B: number,
  T: number,
  scale: number,
  grads: ParameterTensors | null,
): number {
  const { acts, dacts } = buffersFor(params.config, B, T);
  forwardActivations(params, tokens, B, T, acts);
  const loss = crossEntropy(acts.logits, targets, params.config.vocabSize);
  if (grads && Number.isFinite(loss)) backward(params, tokens, targets, scale, grads, acts, dacts);
  return loss;
}

/** grads[0][start..end) += the other shards' gradients there; returns Σ g² over the range, after the sum. */
export function sumGradients(grads: Float32Array[], start: number, end: number): number {
  const total = grads[0];
  for (let s = 1; s < grads.length; s++) {
    const other = grads[s];
    for (let i = start; i < end; i++) total[i] += other[i];
  }
  let squares = 0;
  for (let i = start; i < end; i++) squares += total[i] * total[i];
  return squares;
}

const segmentsByConfig = new Map<string, Segment[]>();

/** AdamW over [start, end) of the flat parameters, the gradient first scaled by gradScale (clipping). */
export function updateRange(
  config: GPTConfig,
  buffers: { p: Float32Array; g: Float32Array; m: Float32Array; v: Float32Array },
  job: UpdateNumbers,
  start: number,
  end: number,
): void {
  const key = JSON.stringify(config);
  let segments = segmentsByConfig.get(key);
  if (!segments) segmentsByConfig.set(key, (segments = decaySegments(config)));
  adamwRange(buffers, segments, job, start, end);
}
