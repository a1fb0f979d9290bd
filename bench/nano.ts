/**
 * What both benchmark workers share: the nano-cpu reference config, a trainer
 * for it and the timing of its steps (bench.worker.ts times every path;
 * gpt2.worker.ts times the fastest, to scale the GPT-2 targets to this machine),
 * and the thread counts both time their cases at.
 */
import type { TokenDataset } from '../workers/engine/data.ts';
import { gemm, type GemmPath } from '../workers/engine/gemm.ts';
import { initParameters } from '../workers/engine/params.ts';
import { presetConfig } from '../workers/engine/presets.ts';
import { Random } from '../workers/engine/random.ts';
import { maxThreads, setThreads, threadCount } from '../workers/engine/threads.ts';
import { Trainer, type TrainerOptions } from '../workers/engine/train.ts';

/** The reference config of the issue: nano-cpu with a 65-character vocabulary, batch 12 of 64 positions. */
export const VOCAB = 65;
export const BATCH = 12;
export const CONTEXT = 64;

export interface TrainingFigure {
  column: GemmPath | 'webgpu';
  tokensPerSecond: number;
  millisecondsPerStep: number;
  steps: number;
  /** WebGPU only: compute dispatches and bytes read back per step. */
  dispatchesPerStep?: number;
  readbackBytesPerStep?: number;
}

/**
 * Milliseconds per call of run, averaged over at least minMs after one warm-up
 * call. A run that returns nothing is timed without an await between calls.
 */
export async function millisecondsPer(run: () => void | Promise<void>, minMs: number): Promise<number> {
  await run();
  let calls = 0;
  const start = performance.now();
  let elapsed: number;
  do {
    const pending = run();
    if (pending) await pending;
    calls++;
    elapsed = performance.now() - start;
  } while (elapsed < minMs);
  return elapsed / calls;
}

/** Random token data is enough: the time of a step does not depend on what the tokens say. */
export function randomTokens(length: number, random: Random): Uint16Array {
  const tokens = new Uint16Array(length);
  for (let i = 0; i < length; i++) tokens[i] = random.int(VOCAB);
  return tokens;
}

/** Random nano-cpu training data (train and validation splits). */
export function randomDataset(): TokenDataset {
  const random = new Random(3);
  return { train: randomTokens(200_000, random), validation: randomTokens(10_000, random) };
}

/** A nano-cpu trainer on batches of 12 × 64 that never evaluates during the bench. */
export function benchTrainer(dataset: TokenDataset, options: TrainerOptions = {}): Trainer {
  return new Trainer(
    initParameters(presetConfig('nano-cpu', VOCAB), 1),
    dataset,
    {
      batchSize: BATCH,
      seqLen: CONTEXT,
      totalSteps: 1_000_000,
      evalInterval: 1_000_000,
    },
    options,
  );
}

/**
 * Times trainer's steps after a warm-up step (code paths, pipelines): at least 5
 * steps and 8 seconds, so a slow path's mean is not two or three steps' worth of this host's noise.
 */
export async function timeSteps(trainer: Trainer): Promise<Omit<TrainingFigure, 'column'>> {
  await trainer.step();
  let steps = 0;
  const start = performance.now();
  let elapsed: number;
  do {
    await trainer.step();
    steps++;
    elapsed = performance.now() - start;
  } while (steps < 5 || elapsed < 8000);
  const millisecondsPerStep = elapsed / steps;
  return { tokensPerSecond: (BATCH * CONTEXT * 1000) / millisecondsPerStep, millisecondsPerStep, steps };
}

export const stepsLine = (figure: Omit<TrainingFigure, 'column'>) =>
  `${figure.tokensPerSecond.toFixed(0)} tokens/s, ${figure.millisecondsPerStep.toFixed(1)} ms/step (${figure.steps} steps of ${BATCH}×${CONTEXT} tokens)`;

/** What a worker tells run.mjs about its threads: whether it could run more than one, and how many it could. */
export interface ThreadsInfo {
  /** The worker's crossOriginIsolated: threads share memory only where it is true. */
  isolated: boolean;
  hardwareConcurrency: number;
  /** The most threads the CPU backend runs here (threads.ts's maxThreads()). */
  maxThreads: number;
}

export const threadsInfo = (): ThreadsInfo => ({
  isolated: (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true,
  hardwareConcurrency: navigator.hardwareConcurrency,
  maxThreads: maxThreads(),
});

/** The thread counts of the issue: 1, 2 and the hardware's, as far as this page runs them (1 alone without isolation). */
export function threadCounts(): number[] {
  const max = maxThreads();
  return [...new Set([1, 2, max])].filter((count) => count <= max).sort((a, b) => a - b);
}

/** Milliseconds of a 512³ product in the gemm path and threads in use, after `warmMs` of the same products. */
async function squareGemmMilliseconds(warmMs: number, minMs: number): Promise<number> {
  const random = new Random(5);
  const [a, b] = [0, 1].map(() => {
    const values = new Float32Array(512 * 512);
    random.fillNormal(values, 1);
    return values;
  });
  const out = new Float32Array(512 * 512);
  const product = () => gemm({ out, a, b, M: 512, K: 512, N: 512 });
  for (const start = performance.now(); performance.now() - start < warmMs;) product();
  return millisecondsPer(product, minMs);
}

/**
 * Runs the CPU backend on `count` threads (threads.ts) and warms them up: helpers
 * start asynchronously and spin a moment before they sleep, so the first jobs
 * after a start are slower than the rest. Returns the GFLOP/s of a 512³ product
 * on those threads, timed after the warm-up. Throws when fewer threads run than asked.
 */
export async function useThreads(count: number): Promise<number> {
  const status = await setThreads(count);
  if (threadCount() !== count)
    throw new Error(
      `asked the CPU backend for ${count} threads, it runs ${threadCount()}${status.note ? `: ${status.note}` : ''}`,
    );
  const ms = await squareGemmMilliseconds(500, 300);
  return (2 * 512 ** 3) / ms / 1e6;
}
