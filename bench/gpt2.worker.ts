/**
 * The GPT-2 small case of the benchmark, in a dedicated worker of a browser of
 * its own (run.mjs reads that renderer's peak memory): a model of GPT-2 small's
 * exact shapes with random weights (nothing is downloaded), a 64-token prompt
 * read with capture, and generation with the KV cache; then the same on WebGPU
 * when there is an adapter. It first times nano-cpu training on the fastest
 * gemm path, so that run.mjs can scale the targets to this machine.
 * All of that on one thread; then, before the WebGPU part, the forwards and
 * generation again at 2 and the hardware's thread counts.
 */
import { gemmPath, initGemm, supportedGemmPaths } from '../workers/engine/gemm.ts';
import { generate } from '../workers/engine/generate.ts';
import { forward } from '../workers/engine/model.ts';
import { initParameters, KNOWN_CONFIGS, type ParameterTensors } from '../workers/engine/params.ts';
import { Random } from '../workers/engine/random.ts';
import { setThreads } from '../workers/engine/threads.ts';
import { adapterName, isSoftwareAdapter, requestGPU } from '../workers/engine/webgpu/device.ts';
import { generateOnGPU, GPUModel } from '../workers/engine/webgpu/model.ts';
import {
  benchTrainer,
  millisecondsPer,
  randomDataset,
  stepsLine,
  threadCounts,
  threadsInfo,
  type ThreadsInfo,
  timeSteps,
  useThreads,
} from './nano.ts';

export const PROMPT_TOKENS = 64;
/** Tokens generated after the prompt's prefill on the CPU; the first one (which waits for the prefill) is not timed. */
export const CPU_GENERATED = 65;
/** The same on WebGPU, where a software adapter is slow. */
export const GPU_GENERATED = 5;

export interface Gpt2CpuFigures {
  path: string;
  /** nano-cpu training on the same path, in the same run: what the targets are scaled by. */
  nanoTokensPerSecond: number;
  parameters: number;
  initMs: number;
  /** Mean ms of a 64-token forward with capture and the last row of logits (what the inspector shows), and with every row. */
  captureMs: number;
  captureAllLogitsMs: number;
  /** Mean ms of a 64-token prefill (no capture, last row of logits). */
  prefillMs: number;
  tokensPerSecond: number;
}
/** The CPU case at one thread count, on the same path. */
export interface Gpt2ThreadFigure {
  threads: number;
  captureMs: number;
  prefillMs: number;
  tokensPerSecond: number;
}
export interface Gpt2ThreadFigures {
  info: ThreadsInfo;
  /** Fewest threads first, 1 included (the 1-thread figures of Gpt2CpuFigures). */
  figures: Gpt2ThreadFigure[];
}
export interface Gpt2GpuFigures {
  adapter: string | null;
  software: boolean;
  /** null: the case did not run, for `reason`. */
  captureMs: number | null;
  tokensPerSecond: number | null;
  reason: string | null;
}
export type Gpt2Message =
  | { kind: 'progress'; line: string }
  | { kind: 'cpu'; figures: Gpt2CpuFigures }
  | { kind: 'threads'; figures: Gpt2ThreadFigures }
  | { kind: 'gpu'; figures: Gpt2GpuFigures }
  | { kind: 'failed'; error: string };

const post = (message: Gpt2Message) => postMessage(message);
const progress = (line: string) => post({ kind: 'progress', line });
const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

function promptIds(): number[] {
  const random = new Random(11);
  return Array.from({ length: PROMPT_TOKENS }, () => random.int(KNOWN_CONFIGS['GPT-2 small']!.vocabSize));
}

/** Tokens per second of `tokens`, timed from the first one (which comes after the prefill) to the last. */
async function decodeRate(tokens: AsyncIterable<unknown> | Iterable<unknown>): Promise<number> {
  let start = 0;
  let count = 0;
  for await (const _token of tokens) {
    if (count === 0) start = performance.now();
    count++;
  }
  return (1000 * (count - 1)) / (performance.now() - start);
}

/** A 64-token forward with capture and its last row of logits (the inspector's), timed over minMs after one warm-up. */
const captureMilliseconds = (params: ParameterTensors, ids: number[], minMs: number) =>
  millisecondsPer(() => void forward(params, ids, { capture: true, lastOnly: true }), minMs);
/** The same without capture: a prefill. */
const prefillMilliseconds = (params: ParameterTensors, ids: number[], minMs: number) =>
  millisecondsPer(() => void forward(params, ids, { lastOnly: true }), minMs);

/** Generation after the prompt, after a warm-up generation of 8 (as the forwards have theirs: it also touches the KV cache's fresh pages). */
async function cpuGenerationRate(params: ParameterTensors, ids: number[]): Promise<number> {
  await decodeRate(generate(params, ids, { maxTokens: 8, temperature: 1, seed: 6 }));
  return decodeRate(generate(params, ids, { maxTokens: CPU_GENERATED, temperature: 1, seed: 7 }));
}

async function cpuFigures(): Promise<{ figures: Gpt2CpuFigures; params: ParameterTensors }> {
  const path = await initGemm(supportedGemmPaths()[0]);
  // One thread (before the threads' cases): the figures and the scale of the targets stay comparable with earlier runs.
  await setThreads(1);
  const nano = await timeSteps(benchTrainer(randomDataset()));
  progress(`gpt2: nano-cpu training on ${path}: ${stepsLine(nano)}`);
  const config = KNOWN_CONFIGS['GPT-2 small']!;
  const start = performance.now();
  const params = initParameters(config, 1);
  const initMs = performance.now() - start;
  progress(`gpt2: ${params.data.length.toLocaleString('en-US')} random parameters in ${initMs.toFixed(0)} ms`);
  const ids = promptIds();
  const captureMs = await captureMilliseconds(params, ids, 3000);
  const captureAllLogitsMs = await millisecondsPer(() => void forward(params, ids, { capture: true }), 3000);
  const prefillMs = await prefillMilliseconds(params, ids, 2000);
  progress(
    `gpt2 cpu: 64-token forward with capture ${captureMs.toFixed(0)} ms (every row of logits: ${captureAllLogitsMs.toFixed(0)} ms), without ${prefillMs.toFixed(0)} ms`,
  );
  const tokensPerSecond = await cpuGenerationRate(params, ids);
  progress(`gpt2 cpu: generation ${tokensPerSecond.toFixed(1)} tokens/s (${CPU_GENERATED - 1} tokens after a 64-token prompt)`);
  return {
    figures: {
      path: gemmPath(),
      nanoTokensPerSecond: nano.tokensPerSecond,
      parameters: params.data.length,
      initMs,
      captureMs,
      captureAllLogitsMs,
      prefillMs,
      tokensPerSecond,
    },
    params,
  };
}

/**
 * The forwards and generation at each thread count above 1 (threadCounts()), each after its threads started and
 * warmed up; the 1-thread figures are cpuFigures'. Leaves one thread running.
 */
async function threadFigures(params: ParameterTensors, cpu: Gpt2CpuFigures): Promise<Gpt2ThreadFigures> {
  const ids = promptIds();
  const figures: Gpt2ThreadFigure[] = [
    { threads: 1, captureMs: cpu.captureMs, prefillMs: cpu.prefillMs, tokensPerSecond: cpu.tokensPerSecond },
  ];
  try {
    for (const threads of threadCounts().filter((count) => count > 1)) {
      await useThreads(threads);
      const captureMs = await captureMilliseconds(params, ids, 3000);
      const prefillMs = await prefillMilliseconds(params, ids, 2000);
      const tokensPerSecond = await cpuGenerationRate(params, ids);
      progress(
        `gpt2 cpu, ${threads} threads: 64-token forward with capture ${captureMs.toFixed(0)} ms, without ${prefillMs.toFixed(0)} ms; generation ${tokensPerSecond.toFixed(1)} tokens/s`,
      );
      figures.push({ threads, captureMs, prefillMs, tokensPerSecond });
    }
  } finally {
    await setThreads(1);
  }
  return { info: threadsInfo(), figures };
}

/** One forward with capture and a few generated tokens on the GPU; any failure (buffers over the limits, a lost device) is the reason. */
async function gpuFigures(params: ParameterTensors): Promise<Gpt2GpuFigures> {
  const gpu = await requestGPU();
  if (!gpu) return { adapter: null, software: false, captureMs: null, tokensPerSecond: null, reason: 'no adapter' };
  const adapter = adapterName(gpu.adapterInfo);
  const software = isSoftwareAdapter(gpu.adapterInfo);
  let model: GPUModel | null = null;
  try {
    model = new GPUModel(gpu, params.config);
    model.setParameters(params.data);
    const ids = promptIds();
    // One warm-up (pipelines), one timed: on a software adapter each takes seconds.
    await model.forward(ids, { capture: true, lastOnly: true });
    const start = performance.now();
    await model.forward(ids, { capture: true, lastOnly: true });
    const captureMs = performance.now() - start;
    progress(`gpt2 webgpu: 64-token forward with capture ${captureMs.toFixed(0)} ms`);
    const tokensPerSecond = await decodeRate(generateOnGPU(model, ids, { maxTokens: GPU_GENERATED, temperature: 1, seed: 7 }));
    progress(`gpt2 webgpu: generation ${tokensPerSecond.toFixed(2)} tokens/s`);
    return { adapter, software, captureMs, tokensPerSecond, reason: null };
  } catch (error) {
    progress(`gpt2 webgpu: ${messageOf(error)}`);
    return { adapter, software, captureMs: null, tokensPerSecond: null, reason: messageOf(error) };
  } finally {
    model?.destroy();
    gpu.device.destroy();
  }
}

/** Posts `message` and waits for the page's answer: it answers 'cpu' and 'threads' once run.mjs has read the renderer's peak memory. */
function answered(message: Gpt2Message): Promise<void> {
  const answer = new Promise<void>((resolve) => {
    self.onmessage = () => resolve();
  });
  post(message);
  return answer;
}

async function run(): Promise<void> {
  const { figures, params } = await cpuFigures();
  await answered({ kind: 'cpu', figures });
  await answered({ kind: 'threads', figures: await threadFigures(params, figures) });
  post({ kind: 'gpu', figures: await gpuFigures(params) });
}

run().catch((error: unknown) =>
  post({ kind: 'failed', error: error instanceof Error ? `${error.message}\n${error.stack}` : String(error) }),
);
