/**
 * The benchmark itself, in a dedicated worker like the playground's engine: the
 * matmul kernel's GFLOP/s on the nano-cpu model's shapes, training and
 * generation speed of that model, on every gemm path this browser runs and on
 * WebGPU when the browser has an adapter, all on one thread; then training and
 * generation on the fastest path at 1, 2 and the hardware's thread counts.
 */
import { gemm, initGemm, supportedGemmPaths, type GemmPath } from '../workers/engine/gemm.ts';
import { generate } from '../workers/engine/generate.ts';
import { initParameters, type ParameterTensors } from '../workers/engine/params.ts';
import { presetConfig } from '../workers/engine/presets.ts';
import { Random } from '../workers/engine/random.ts';
import { setThreads } from '../workers/engine/threads.ts';
import { transpose } from '../workers/engine/webgpu/backward.ts';
import { adapterName, checkedGPUWork, type GPUContext, isSoftwareAdapter, requestGPU } from '../workers/engine/webgpu/device.ts';
import { gemm as gpuGemm, rowMajor, transposed } from '../workers/engine/webgpu/matmul.ts';
import { generateOnGPU, GPUModel } from '../workers/engine/webgpu/model.ts';
import { type Dispatch, Program } from '../workers/engine/webgpu/program.ts';
import { gpuBackend, GPUTrainer } from '../workers/engine/webgpu/trainer.ts';
import {
  benchTrainer,
  BATCH,
  CONTEXT,
  millisecondsPer,
  randomDataset,
  stepsLine,
  threadCounts,
  threadsInfo,
  type ThreadsInfo,
  timeSteps,
  type TrainingFigure,
  useThreads,
  VOCAB,
} from './nano.ts';

export { BATCH, CONTEXT, type TrainingFigure, VOCAB };
export const GENERATED_TOKENS = 200;

/** A column of the tables: a gemm path of the CPU backend, or the WebGPU backend. */
export type Column = GemmPath | 'webgpu';
export interface WebGPUAdapter {
  name: string;
  software: boolean;
}
export interface MatmulFigure {
  name: string;
  M: number;
  K: number;
  N: number;
  gflops: Partial<Record<Column, number>>;
}
export interface GenerationFigure {
  column: Column;
  tokensPerSecond: number;
  windowTokensPerSecond: number;
}
/** The nano-cpu cases on one gemm path at one thread count. */
export interface ThreadFigure {
  threads: number;
  trainingTokensPerSecond: number;
  millisecondsPerStep: number;
  /** The generation table's two cases: 200 tokens, and 63 within the context. */
  generationTokensPerSecond: number;
  windowTokensPerSecond: number;
  /** A 512³ product, timed right after the threads started (their warm-up). */
  squareGflops: number;
}
export interface BenchResult {
  userAgent: string;
  hardwareConcurrency: number;
  threadsInfo: ThreadsInfo;
  /** The gemm path of the thread counts' cases (the fastest), and their figures, fewest threads first. */
  threadsPath: GemmPath;
  threads: ThreadFigure[];
  paths: GemmPath[];
  /** null: no WebGPU adapter in this browser, and no WebGPU figures. */
  webgpu: WebGPUAdapter | null;
  parameters: number;
  matmul: MatmulFigure[];
  generation: GenerationFigure[];
  training: TrainingFigure[];
}
export type BenchMessage =
  { kind: 'progress'; line: string } | { kind: 'done'; result: BenchResult } | { kind: 'failed'; error: string };

const post = (message: BenchMessage) => postMessage(message);
const progress = (line: string) => post({ kind: 'progress', line });

/**
 * Milliseconds per submission of GPU work, averaged over at least minMs after
 * one warm-up (pipeline compilation): submissions are queued back to back in
 * batches of doubling size with one wait for the queue after each batch, so the
 * round trip to the GPU is not what is measured.
 */
async function gpuMillisecondsPer(device: GPUDevice, submit: () => void, minMs: number): Promise<number> {
  submit();
  await device.queue.onSubmittedWorkDone();
  let calls = 0;
  const start = performance.now();
  let elapsed = 0;
  for (let batch = 1; elapsed < minMs; batch *= 2) {
    for (let i = 0; i < batch; i++) submit();
    calls += batch;
    await device.queue.onSubmittedWorkDone();
    elapsed = performance.now() - start;
  }
  return elapsed / calls;
}

/**
 * How the WebGPU backend runs a product: matmul.ts's gemm reading the operands
 * with the shape's strides, or for a matmul's input gradient dy·Wᵀ a transpose
 * of W and then the x·W gemm ('transposedWeight', as matmulBackward does).
 */
type GPUKernel = 'gemm' | 'transposedWeight';

/** Where A's or B's element (row, column) lies: matmul.ts's View (not exported there), made by rowMajor() and transposed(). */
type View = ReturnType<typeof rowMajor>;

interface MatmulShape {
  name: string;
  M: number;
  K: number;
  N: number;
  /** How A [M, K] and B [K, N] lie in memory: the GPU gemm reads them so, and the CPU gemm with the same strides. */
  aView: View;
  bView: View;
  gpu: GPUKernel;
}

/**
 * Every kind of matmul a nano-cpu training step and a generated token do, with the
 * strides the engine passes (N = B·T = 768 rows, C = 128, V = 65, heads of 32
 * columns inside the 384-wide qkv rows), and a square 512³ for reference.
 */
function nanoCpuShapes(): MatmulShape[] {
  const rows = BATCH * CONTEXT;
  const C = 128;
  const C3 = 3 * C;
  const hs = 32;
  const T = CONTEXT;
  function shape(name: string, M: number, K: number, N: number, aView: View, bView: View, gpu: GPUKernel = 'gemm'): MatmulShape {
    return { name, M, K, N, aView, bView, gpu };
  }
  // x·W (A [M,K], B [K,N]), x·Wᵀ (B stored [N,K]), xᵀ·dy (A stored [K,M]).
  const plain = (name: string, M: number, K: number, N: number) => shape(name, M, K, N, rowMajor(K), rowMajor(N));
  const transposedB = (name: string, M: number, K: number, N: number, gpu?: GPUKernel) =>
    shape(name, M, K, N, rowMajor(K), transposed(rowMajor(K)), gpu);
  const transposedA = (name: string, M: number, K: number, N: number) =>
    shape(name, M, K, N, transposed(rowMajor(M)), rowMajor(N));
  return [
    plain('qkv x·W', rows, C, C3),
    plain('attn proj x·W', rows, C, C),
    plain('mlp fc x·W', rows, C, 4 * C),
    plain('mlp proj x·W', rows, 4 * C, C),
    transposedB('unembed x·Wᵀ', rows, C, VOCAB),
    transposedB('qkv dx = dy·Wᵀ', rows, C3, C, 'transposedWeight'),
    transposedA('qkv dW = xᵀ·dy', C, rows, C3),
    transposedA('mlp proj dW = xᵀ·dy', 4 * C, rows, C),
    shape('head q·kᵀ', T, hs, T, rowMajor(C3), transposed(rowMajor(C3))),
    shape('head att·v', T, T, hs, rowMajor(T), rowMajor(C3)),
    plain('1 token qkv', 1, C, C3),
    plain('1 token mlp fc', 1, C, 4 * C),
    transposedB('1 token unembed', 1, C, VOCAB),
    plain('square 512³', 512, 512, 512),
  ];
}

/** The dispatches of one product on the GPU: out [M, N] from a and b read through the shape's views. */
function gpuMatmul(p: Program, shape: MatmulShape, out: GPUBuffer, a: GPUBuffer, b: GPUBuffer): Dispatch[] {
  const { M, K, N, aView, bView } = shape;
  if (shape.gpu === 'transposedWeight') {
    const bT = p.buffer(4 * K * N, 'transposed b');
    return [transpose(p, bT, b, N, K), ...gpuGemm(p, { out, a, b: bT, M, K, N })];
  }
  return gpuGemm(p, { out, a, b, M, K, N, aView, bView });
}

async function gpuGflops(ctx: GPUContext, shape: MatmulShape, a: Float32Array, b: Float32Array): Promise<number> {
  const p = new Program(ctx);
  try {
    const dispatches = gpuMatmul(p, shape, p.buffer(4 * shape.M * shape.N, 'out'), p.upload(a), p.upload(b));
    const ms = await checkedGPUWork(ctx, () => gpuMillisecondsPer(ctx.device, () => p.run(dispatches), 300));
    return (2 * shape.M * shape.K * shape.N) / ms / 1e6;
  } finally {
    p.destroy();
  }
}

function matmulFigures(paths: readonly GemmPath[], gpu: GPUContext | null): Promise<MatmulFigure[]> {
  const random = new Random(1);
  const filled = (length: number) => {
    const values = new Float32Array(length);
    random.fillNormal(values, 1);
    return values;
  };
  return sequence(nanoCpuShapes(), async (shape) => {
    const { name, M, K, N, aView, bView } = shape;
    // The CPU gemm's strides are the views' (offsets 0).
    const [aRow, aCol, bRow, bCol] = [aView.row, aView.col, bView.row, bView.col];
    const a = filled((M - 1) * aRow + (K - 1) * aCol + 1);
    const b = filled((K - 1) * bRow + (N - 1) * bCol + 1);
    const out = new Float32Array(M * N);
    const gflops: Partial<Record<Column, number>> = {};
    for (const path of paths) {
      await initGemm(path);
      const ms = await millisecondsPer(() => gemm({ out, a, b, M, K, N, aRow, aCol, bRow, bCol }), 300);
      gflops[path] = (2 * M * K * N) / ms / 1e6;
    }
    if (gpu) gflops.webgpu = await gpuGflops(gpu, shape, a, b);
    const columns = Object.keys(gflops) as Column[];
    progress(
      `matmul ${name.padEnd(22)} ${M}×${K}·${K}×${N}  ${columns.map((c) => `${c} ${gflops[c]!.toFixed(1)}`).join('  ')} GFLOP/s`,
    );
    return { name, M, K, N, gflops };
  });
}

const generationOptions = (maxTokens: number) => ({ maxTokens, temperature: 1, seed: 7 });
const checkCount = (count: number, maxTokens: number) => {
  if (count !== maxTokens) throw new Error(`generated ${count} tokens, expected ${maxTokens}`);
};

/** Tokens per second of maxTokens generated on the CPU (gemm path and threads as set), with the KV cache: one position's work per token, and one 32-token forward per slide. */
async function cpuTokensPerSecond(params: ParameterTensors, maxTokens: number): Promise<number> {
  const ms = await millisecondsPer(() => {
    let count = 0;
    for (const _token of generate(params, [1], generationOptions(maxTokens))) count++;
    checkCount(count, maxTokens);
  }, 1000);
  return (1000 * maxTokens) / ms;
}

async function generationFigures(paths: readonly GemmPath[], gpu: GPUContext | null): Promise<GenerationFigure[]> {
  const params = initParameters(presetConfig('nano-cpu', VOCAB), 1);
  // Both figures of one column: 200 tokens from a 1-token prompt (each time the 64 positions are full, the
  // context slides forward by half), and the first 63 tokens, which fit the 64-position context.
  const figure = async (column: Column, tokensPerSecond: (maxTokens: number) => Promise<number>): Promise<GenerationFigure> => {
    const all = await tokensPerSecond(GENERATED_TOKENS);
    const window = await tokensPerSecond(CONTEXT - 1);
    progress(
      `generation ${column}: ${all.toFixed(0)} tokens/s over ${GENERATED_TOKENS} tokens, ${window.toFixed(0)} tokens/s within the ${CONTEXT}-position context`,
    );
    return { column, tokensPerSecond: all, windowTokensPerSecond: window };
  };
  const figures = await sequence(paths, async (path) => {
    await initGemm(path);
    return figure(path, (maxTokens) => cpuTokensPerSecond(params, maxTokens));
  });
  if (gpu) {
    // With the GPU's KV cache: a prefill, then one position's work a token, reading back its row of logits.
    const model = new GPUModel(gpu, params.config);
    try {
      model.setParameters(params.data);
      figures.push(
        await figure('webgpu', async (maxTokens) => {
          const ms = await millisecondsPer(async () => {
            let count = 0;
            for await (const _token of generateOnGPU(model, [1], generationOptions(maxTokens))) count++;
            checkCount(count, maxTokens);
          }, 1000);
          return (1000 * maxTokens) / ms;
        }),
      );
    } finally {
      model.destroy();
    }
  }
  return figures;
}

async function trainingFigures(paths: readonly GemmPath[], gpu: GPUContext | null): Promise<TrainingFigure[]> {
  const dataset = randomDataset();
  const figures: TrainingFigure[] = await sequence(paths, async (path) => {
    await initGemm(path);
    const figure = await timeSteps(benchTrainer(dataset));
    progress(`training ${path}: ${stepsLine(figure)}`);
    return { column: path, ...figure };
  });
  if (gpu) {
    // The step alone: the trainer's periodic copy of the weights back to the CPU (its fallback backup) is left out.
    const trainer = benchTrainer(dataset, { backend: gpuBackend(gpu), backupInterval: Infinity, backupSeconds: Infinity });
    try {
      const figure = await timeSteps(trainer);
      const backend = trainer.backend;
      if (!(backend instanceof GPUTrainer))
        throw new Error(`WebGPU training fell back to the CPU: ${trainer.takeFallback()?.message}`);
      const { dispatchCount: dispatchesPerStep, readbackBytesPerStep } = backend;
      progress(
        `training webgpu: ${stepsLine(figure)}, ${dispatchesPerStep} dispatches and ${readbackBytesPerStep} bytes read back per step`,
      );
      figures.push({ column: 'webgpu', ...figure, dispatchesPerStep, readbackBytesPerStep });
    } finally {
      trainer.destroy();
    }
  }
  return figures;
}

/**
 * Training and generation on `path` at each thread count of threadCounts(), in
 * that order; each count starts its threads and warms them up first (useThreads).
 * Leaves one thread running.
 */
async function threadFigures(path: GemmPath): Promise<ThreadFigure[]> {
  await initGemm(path); // before the threads start: they run the path this thread runs
  const dataset = randomDataset();
  const params = initParameters(presetConfig('nano-cpu', VOCAB), 1);
  try {
    return await sequence(threadCounts(), async (threads) => {
      const squareGflops = await useThreads(threads);
      const training = await timeSteps(benchTrainer(dataset));
      const generationTokensPerSecond = await cpuTokensPerSecond(params, GENERATED_TOKENS);
      const windowTokensPerSecond = await cpuTokensPerSecond(params, CONTEXT - 1);
      progress(
        `threads ${threads} (${path}): training ${stepsLine(training)}; generation ${generationTokensPerSecond.toFixed(0)} tokens/s over ${GENERATED_TOKENS} tokens, ${windowTokensPerSecond.toFixed(0)} within the context; 512³ gemm ${squareGflops.toFixed(1)} GFLOP/s`,
      );
      return {
        threads,
        trainingTokensPerSecond: training.tokensPerSecond,
        millisecondsPerStep: training.millisecondsPerStep,
        generationTokensPerSecond,
        windowTokensPerSecond,
        squareGflops,
      };
    });
  } finally {
    await setThreads(1);
  }
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
  const threads = threadsInfo();
  progress(
    `cross-origin isolated: ${threads.isolated ? 'yes' : 'no'}; hardware threads ${threads.hardwareConcurrency}, the CPU backend runs at most ${threads.maxThreads}`,
  );
  // The per-path tables run on one thread, as before threads came: their figures stay comparable.
  await setThreads(1);
  const gpu = await requestGPU();
  const webgpu = gpu && { name: adapterName(gpu.adapterInfo), software: isSoftwareAdapter(gpu.adapterInfo) };
  progress(
    webgpu
      ? `WebGPU adapter: ${webgpu.name} (${webgpu.software ? 'software: it runs on the CPU' : 'hardware'})`
      : 'WebGPU: no adapter in this browser',
  );
  const config = presetConfig('nano-cpu', VOCAB);
  const parameters = initParameters(config, 1).data.length;
  const matmul = await matmulFigures(paths, gpu);
  const training = await trainingFigures(paths, gpu);
  const generation = await generationFigures(paths, gpu);
  gpu?.device.destroy();
  const threadsPath = paths[0];
  const threadCases = await threadFigures(threadsPath);
  return {
    userAgent: navigator.userAgent,
    hardwareConcurrency: navigator.hardwareConcurrency,
    threadsInfo: threads,
    threadsPath,
    threads: threadCases,
    paths,
    webgpu,
    parameters,
    matmul,
    training,
    generation,
  };
}

run().then(
  (result) => post({ kind: 'done', result }),
  (error: unknown) =>
    post({ kind: 'failed', error: error instanceof Error ? `${error.message}\n${error.stack}` : String(error) }),
);
