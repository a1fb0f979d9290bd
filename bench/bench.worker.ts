/**
 * The benchmark itself, in a dedicated worker like the playground's engine: the
 * matmul kernel's GFLOP/s on the nano-cpu model's shapes, training and
 * generation speed of that model, each on every gemm path this browser runs.
 */
import { gemm, initGemm, supportedGemmPaths, type GemmPath } from '../workers/engine/gemm.ts';
import { generate } from '../workers/engine/generate.ts';
import { initParameters } from '../workers/engine/params.ts';
import { presetConfig } from '../workers/engine/presets.ts';
import { Random } from '../workers/engine/random.ts';
import { Trainer } from '../workers/engine/train.ts';

/** The reference config of the issue: nano-cpu with a 65-character vocabulary, batch 12 of 64 positions. */
export const VOCAB = 65;
export const BATCH = 12;
export const CONTEXT = 64;
export const GENERATED_TOKENS = 200;

export interface MatmulFigure { name: string; M: number; K: number; N: number; gflops: Partial<Record<GemmPath, number>> }
export interface GenerationFigure { path: GemmPath; tokensPerSecond: number; windowTokensPerSecond: number }
export interface TrainingFigure { path: GemmPath; tokensPerSecond: number; millisecondsPerStep: number; steps: number }
export interface BenchResult {
  userAgent: string;
  hardwareConcurrency: number;
  paths: GemmPath[];
  parameters: number;
  matmul: MatmulFigure[];
  generation: GenerationFigure[];
  training: TrainingFigure[];
}
export type BenchMessage =
  | { kind: 'progress'; line: string }
  | { kind: 'done'; result: BenchResult }
  | { kind: 'failed'; error: string };

const post = (message: BenchMessage) => postMessage(message);
const progress = (line: string) => post({ kind: 'progress', line });

/** Milliseconds per call of run, averaged over at least minMs after one warm-up call. */
function millisecondsPer(run: () => void, minMs: number): number {
  run();
  let calls = 0;
  const start = performance.now();
  let elapsed = 0;
  do {
    run();
    calls++;
    elapsed = performance.now() - start;
  } while (elapsed < minMs);
  return elapsed / calls;
}

interface MatmulShape { name: string; M: number; K: number; N: number; aRow: number; aCol: number; bRow: number; bCol: number }

/**
 * Every kind of matmul a nano-cpu training step and a generated token do, with the
 * strides the engine passes (N = B·T = 768 rows, C = 128, V = 65, heads of 32
 * columns inside the 384-wide qkv rows).
 */
function nanoCpuShapes(): MatmulShape[] {
  const rows = BATCH * CONTEXT;
  const C = 128;
  const C3 = 3 * C;
  const hs = 32;
  const T = CONTEXT;
  const shape = (name: string, M: number, K: number, N: number, aRow: number, aCol: number, bRow: number, bCol: number) =>
    ({ name, M, K, N, aRow, aCol, bRow, bCol });
  // x·W (A [M,K], B [K,N]), x·Wᵀ (B stored [N,K]), xᵀ·dy (A stored [K,M]).
  const plain = (name: string, M: number, K: number, N: number) => shape(name, M, K, N, K, 1, N, 1);
  const transposedB = (name: string, M: number, K: number, N: number) => shape(name, M, K, N, K, 1, 1, K);
  const transposedA = (name: string, M: number, K: number, N: number) => shape(name, M, K, N, 1, M, N, 1);
  return [
    plain('qkv x·W', rows, C, C3),
    plain('attn proj x·W', rows, C, C),
    plain('mlp fc x·W', rows, C, 4 * C),
    plain('mlp proj x·W', rows, 4 * C, C),
    transposedB('unembed x·Wᵀ', rows, C, VOCAB),
    transposedB('qkv dx = dy·Wᵀ', rows, C3, C),
    transposedA('qkv dW = xᵀ·dy', C, rows, C3),
    transposedA('mlp proj dW = xᵀ·dy', 4 * C, rows, C),
    shape('head q·kᵀ', T, hs, T, C3, 1, 1, C3),
    shape('head att·v', T, T, hs, T, 1, C3, 1),
    plain('1 token qkv', 1, C, C3),
    plain('1 token mlp fc', 1, C, 4 * C),
    transposedB('1 token unembed', 1, C, VOCAB),
  ];
}

function matmulFigures(paths: readonly GemmPath[]): Promise<MatmulFigure[]> {
  const random = new Random(1);
  const filled = (length: number) => {
    const values = new Float32Array(length);
    random.fillNormal(values, 1);
    return values;
  };
  return sequence(nanoCpuShapes(), async ({ name, M, K, N, aRow, aCol, bRow, bCol }) => {
    const a = filled((M - 1) * aRow + (K - 1) * aCol + 1);
    const b = filled((K - 1) * bRow + (N - 1) * bCol + 1);
    const out = new Float32Array(M * N);
    const gflops: Partial<Record<GemmPath, number>> = {};
    for (const path of paths) {
      await initGemm(path);
      const ms = millisecondsPer(() => gemm(out, a, b, null, M, K, N, aRow, aCol, bRow, bCol, false), 300);
      gflops[path] = (2 * M * K * N) / ms / 1e6;
    }
    progress(`matmul ${name.padEnd(22)} ${M}×${K}·${K}×${N}  ${paths.map((p) => `${p} ${gflops[p]!.toFixed(1)}`).join('  ')} GFLOP/s`);
    return { name, M, K, N, gflops };
  });
}

async function generationFigures(paths: readonly GemmPath[]): Promise<GenerationFigure[]> {
  const params = initParameters(presetConfig('nano-cpu', VOCAB), 1);
  const tokensPerSecond = (maxTokens: number) => {
    const ms = millisecondsPer(() => {
      let count = 0;
      for (const _token of generate(params, [1], { maxTokens, temperature: 1, seed: 7 })) count++;
      if (count !== maxTokens) throw new Error(`generated ${count} tokens, expected ${maxTokens}`);
    }, 1000);
    return (1000 * maxTokens) / ms;
  };
  return sequence(paths, async (path) => {
    await initGemm(path);
    // 200 tokens from a 1-token prompt: each time the 64 positions are full, the context slides forward by half
    // and the cache is rebuilt from the newest 32 tokens (one 32-token forward per 32 generated tokens).
    const all = tokensPerSecond(GENERATED_TOKENS);
    // The first 63 tokens fit the 64-position cache: one position's work per token.
    const window = tokensPerSecond(CONTEXT - 1);
    progress(`generation ${path}: ${all.toFixed(0)} tokens/s over ${GENERATED_TOKENS} tokens, ${window.toFixed(0)} tokens/s within the ${CONTEXT}-position cache`);
    return { path, tokensPerSecond: all, windowTokensPerSecond: window };
  });
}

/** Random token data is enough: the time of a step does not depend on what the tokens say. */
function randomTokens(length: number, random: Random): Uint16Array {
  const tokens = new Uint16Array(length);
  for (let i = 0; i < length; i++) tokens[i] = random.int(VOCAB);
  return tokens;
}

async function trainingFigures(paths: readonly GemmPath[]): Promise<TrainingFigure[]> {
  const random = new Random(3);
  const dataset = { train: randomTokens(200_000, random), validation: randomTokens(10_000, random) };
  return sequence(paths, async (path) => {
    await initGemm(path);
    const trainer = new Trainer(initParameters(presetConfig('nano-cpu', VOCAB), 1), dataset, {
      batchSize: BATCH, seqLen: CONTEXT, totalSteps: 1_000_000, evalInterval: 1_000_000,
    });
    trainer.step(); // warm-up: compiles the code paths
    let steps = 0;
    const start = performance.now();
    let elapsed = 0;
    // At least 3 steps and 3 seconds.
    do {
      trainer.step();
      steps++;
      elapsed = performance.now() - start;
    } while (steps < 3 || elapsed < 3000);
    const millisecondsPerStep = elapsed / steps;
    const tokensPerSecond = (BATCH * CONTEXT * 1000) / millisecondsPerStep;
    progress(`training ${path}: ${tokensPerSecond.toFixed(0)} tokens/s, ${millisecondsPerStep.toFixed(1)} ms/step (${steps} steps of ${BATCH}×${CONTEXT} tokens)`);
    return { path, tokensPerSecond, millisecondsPerStep, steps };
  });
}

/** Runs step on each item one after another (not in parallel: timings must not overlap). */
async function sequence<T, R>(items: readonly T[], step: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (const item of items) results.push(await step(item));
  return results;
}

async function run(): Promise<BenchResult> {
  const paths = supportedGemmPaths();
  progress(`gemm paths in this browser: ${paths.join(', ')}`);
  const config = presetConfig('nano-cpu', VOCAB);
  const parameters = initParameters(config, 1).data.length;
  const matmul = await matmulFigures(paths);
  const training = await trainingFigures(paths);
  const generation = await generationFigures(paths);
  return {
    userAgent: navigator.userAgent, hardwareConcurrency: navigator.hardwareConcurrency,
    paths, parameters, matmul, training, generation,
  };
}

run().then(
  (result) => post({ kind: 'done', result }),
  (error: unknown) => post({ kind: 'failed', error: error instanceof Error ? `${error.message}\n${error.stack}` : String(error) }),
);
