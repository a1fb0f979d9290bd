/**
 * The backend area: the one owner of the GPU device, of what runs the model
 * (the CPU or WebGPU), of the CPU's thread count, and of the single way back to
 * the CPU when the GPU fails. The other areas run the model through it.
 */
import { messageOf } from '../api/errors.ts';
import { type BackendApi, type BackendChoice, type BackendInfo, type BackendKind } from '../api/backend.ts';
import type { GenerateRequest } from '../api/model.ts';
import type { StepProgress, TrainingProgress } from '../api/training.ts';
import { backendInfo, cpuCode, decideBackend } from '../backend-choice.ts';
import { sameShape } from '../engine/config.ts';
import { type GeneratedToken, generate } from '../engine/generate.ts';
import { gemmChosen, gemmPath, gemmRefusal } from '../engine/gemm.ts';
import type { ParameterTensors } from '../engine/params.ts';
import { SharedWeights } from '../engine/shared-weights.ts';
import { setThreads, threadsStatus } from '../engine/threads.ts';
import { forward, type ForwardResult } from '../engine/model.ts';
import { type BackendFactory, cpuBackend } from '../engine/train.ts';
import { type GPUContext, GPUFailure } from '../engine/webgpu/device.ts';
import { generateOnGPU, GPUModel } from '../engine/webgpu/model.ts';
import { gpuBackend, GPUTrainer } from '../engine/webgpu/trainer.ts';
import type { ActiveModel } from './active-model.ts';

export class Backends implements BackendApi {
  private choice: BackendChoice = 'auto';
  private active: BackendKind = 'cpu';
  private reason = '';
  /** The backend changed by itself since the last training report (which tells the page). */
  private news = false;
  /** Settles once the first choice is made: until then everything runs on the CPU. */
  private readonly ready: Promise<void>;
  /** The CPU's threads as last described (count and note), to tell the page when they changed by themselves. */
  private describedThreads = '';
  /** The GPU once looked for (null: there is none), looked for again after it is lost. */
  private gpu: Promise<GPUContext | null> | null = null;
  /** What the last look found. */
  private gpuFound: GPUContext | null = null;
  /** Inference on the GPU, for the current model's shape. */
  private gpuModel: GPUModel | null = null;
  /** Which weights gpuModel holds (the model's version, moved by every tuning step, and training step); null: none yet. */
  private gpuWeights: string | null = null;
  /** The weights CPU inference reads, in shared memory where the page allows it. */
  private readonly cpuWeights = new SharedWeights();

  constructor(
    private readonly model: ActiveModel,
    private readonly findGPU: () => Promise<GPUContext | null>,
    choice: BackendChoice,
  ) {
    // A forced WebGPU with no adapter leaves the CPU running; info() says why. It also says what the CPU runs
    // in, known once the worker's WebAssembly kernel is compiled or refused, and on how many threads: as many as
    // the hardware has, started once that kernel is chosen (the threads run it). A thread that cannot start leaves
    // one, and the threads' note says why.
    const applied = this.apply(choice).catch((error: unknown) => {
      this.reason = messageOf(error);
    });
    const threaded = gemmChosen().then(() => setThreads(0));
    this.ready = Promise.all([applied, threaded.catch(() => {})]).then(() => {});
  }

  async info(): Promise<BackendInfo> {
    await this.ready;
    return this.describe();
  }

  async choose(choice: BackendChoice): Promise<BackendInfo> {
    await this.ready;
    await this.apply(choice);
    return this.describe();
  }

  /** Runs the CPU on `count` threads (0: the hardware's; more than the page can run: as many as it can). */
  async threads(count: number): Promise<BackendInfo> {
    await this.ready;
    await setThreads(count);
    return this.describe();
  }

  /** Where a new training run trains: the active backend. */
  async trainingBackend(): Promise<BackendFactory> {
    await this.ready;
    const gpu = this.active === 'webgpu' ? await this.gpuContext() : null;
    return gpu ? gpuBackend(gpu) : cpuBackend;
  }

  /**
   * One forward pass of the model in use on the active backend: all logits
   * [T, V], or with lastOnly the last row [V]. When the GPU fails, the CPU
   * takes over and answers.
   */
  async run(ids: readonly number[], options: { capture?: boolean; lastOnly?: boolean }): Promise<ForwardResult> {
    await this.ready;
    if (this.active === 'webgpu') {
      try {
        return await (await this.inferenceOnGPU()).forward(ids, options);
      } catch (error) {
        if (!(error instanceof GPUFailure)) throw error;
        await this.fallBack(`${capitalize(error.message)}; the CPU took over.`);
      }
    }
    const params = await this.weightsOnCPU();
    return forward(params, ids, { capture: options.capture ?? false, lastOnly: options.lastOnly ?? false });
  }

  /** Sampled tokens after ids, on the active backend; a GPU failure part way hands the rest to the CPU. */
  async *sample(ids: readonly number[], request: GenerateRequest): AsyncGenerator<GeneratedToken> {
    await this.ready;
    const drawn: number[] = [];
    if (this.active === 'webgpu') {
      try {
        for await (const token of generateOnGPU(await this.inferenceOnGPU(), ids, request)) {
          drawn.push(token.id);
          yield token;
        }
        return;
      } catch (error) {
        if (!(error instanceof GPUFailure)) throw error;
        await this.fallBack(`${capitalize(error.message)}; the CPU took over.`);
      }
    }
    const params = await this.weightsOnCPU();
    const context = [...ids, ...drawn].slice(-params.config.blockSize);
    yield* generate(params, context, { ...request, maxTokens: request.maxTokens - drawn.length });
  }

  /**
   * A training report, with the backend added when it changed by itself: a GPU failure moved training to the CPU,
   * or a thread failed and the CPU went on on one.
   */
  async report(progress: StepProgress): Promise<TrainingProgress> {
    if (progress.fellBack) await this.fallBack(`${capitalize(progress.fellBack.message)}.`);
    if (this.describedThreads && threadsKey() !== this.describedThreads) this.news = true;
    if (!this.news) return progress;
    this.news = false;
    return { ...progress, backend: this.describe() };
  }

  /**
   * The one way back to the CPU, whoever found the GPU failing (an inference, or
   * training, which has then already gone back to its last backup): inference
   * and training go on on the CPU, and the next training report says why.
   */
  private async fallBack(reason: string): Promise<void> {
    if (this.active === 'cpu') return;
    this.active = 'cpu';
    this.reason = reason;
    this.news = true;
    this.gpuModel = null;
    this.gpuWeights = null;
    const session = this.model.session;
    if (session && session.trainingBackend.kind !== 'cpu') await session.useBackend(cpuBackend);
  }

  /** Applies a choice: decides the backend and moves inference and training there. */
  private async apply(choice: BackendChoice): Promise<void> {
    const gpu = await this.gpuContext();
    const { active, reason } = decideBackend(choice, gpu);
    if (active !== this.active) {
      await this.model.session?.useBackend(active === 'webgpu' ? gpuBackend(gpu!) : cpuBackend);
      this.active = active;
      this.gpuWeights = null;
    }
    this.choice = choice;
    this.reason = reason;
  }

  /** The GPU inference model for the current shape, holding the current weights. */
  private async inferenceOnGPU(): Promise<GPUModel> {
    const gpu = await this.gpuContext();
    if (!gpu) throw new GPUFailure('the GPU is no longer available');
    const { config, session } = this.model.model;
    if (!this.gpuModel || !(sameShape(this.gpuModel.config, config) && this.gpuModel.config.tied === config.tied)) {
      this.gpuModel?.destroy();
      this.gpuModel = new GPUModel(gpu, config);
      this.gpuWeights = null;
    }
    const key = this.weightsKey();
    if (this.gpuWeights !== key) {
      const trainer = session?.trainingBackend;
      // Weights the GPU trains are copied on the GPU; nothing comes back to the CPU.
      if (trainer instanceof GPUTrainer) this.gpuModel.copyParametersFrom(trainer.params);
      else this.gpuModel.setParameters((await this.model.use()).params.data);
      this.gpuWeights = key;
    }
    return this.gpuModel;
  }

  /** The current weights as CPU inference reads them (SharedWeights: in place on every thread, on an isolated page). */
  private async weightsOnCPU(): Promise<ParameterTensors> {
    const { params } = await this.model.use();
    return this.cpuWeights.of(params, this.weightsKey());
  }

  /** Names the weights' version: training moves the step; tuning edits the weights in place and moves the version. */
  private weightsKey(): string {
    return `${this.model.version}:${this.model.model.session?.step ?? 0}`;
  }

  /** Looks for a GPU once, and again after the one found was lost. */
  private async gpuContext(): Promise<GPUContext | null> {
    this.gpu ??= this.findGPU();
    let gpu = await this.gpu;
    if (gpu?.lostReason) {
      this.gpu = this.findGPU();
      this.gpuModel = null;
      gpu = await this.gpu;
    }
    this.gpuFound = gpu;
    return gpu;
  }

  private describe(): BackendInfo {
    const threads = threadsStatus();
    this.describedThreads = threadsKey(threads);
    return backendInfo(this.choice, this.active, this.reason, this.gpuFound, cpuCode(gemmPath(), gemmRefusal(), threads));
  }
}

/** What the page shows of the threads: how many run, and why no more. */
const threadsKey = ({ count, note } = threadsStatus()): string => `${count} ${note ?? ''}`;

const capitalize = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1);
