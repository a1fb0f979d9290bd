/**
 * A whole training step on the GPU: forward, cross-entropy, backward, gradient
 * clipping and AdamW over parameters, gradients, moments and activations that
 * never leave it. The step's dispatches are built once; each step writes the
 * batch, sets the learning rate, records everything in one command encoder and
 * reads back two floats: the mean loss and the gradient norm. It is a
 * TrainingBackend: Trainer (../train.ts) draws the batches and keeps the
 * schedule and the history. A step whose loss
 * or gradient norm is not finite changes nothing: the GPU decides that itself,
 * between clipping and AdamW, so no readback stands before the update.
 *
 * Buffers: parameters and their flat gradient copy follow params.ts's layout
 * (what AdamWGPU and clipping read). The backward pass adds each parameter's
 * gradient into a buffer of its own and the step then copies them into the flat
 * one: kernels that write two gradients at once (a LayerNorm's gain and shift,
 * wte and wpe) must not write two ranges of one buffer, which WebGPU forbids.
 * Activations and their gradients get one buffer per name, stacked over layers
 * like model.ts's, so nothing needs zeroing between layers.
 */

import { ACTIVATION_NAMES, type ActivationName, activationShapes } from '../model.ts';
import { PARAMETER_NAMES, type ParameterName, type ParameterTensors, parameterLayout, product } from '../params.ts';
import {
  type BackendFactory,
  type BatchPair,
  DEFAULT_TRAINING,
  type TrainingBackend,
  type TrainingSettings,
  type TrainingSnapshot,
} from '../train.ts';
import {
  attentionBackward,
  crossEntropySoftmaxBackward,
  encoderBackward,
  layernormBackward,
  matmulBackward,
  residualBackward,
  unembedBackward,
} from './backward.ts';
import { OneAtATime } from '../one-at-a-time.ts';
import { checkedGPUWork, type GPUContext } from './device.ts';
import { crossEntropyForward } from './forward.ts';
import { forwardDispatches } from './model.ts';
import { AdamWGPU, clipGradientNorm } from './optimizer.ts';
import { type Dispatch, type GPUTensor, offsetBy, perIndex, perIndexKernel, Program } from './program.ts';

/** The activation gradients the backward pass uses (the saved means and 1/stds have none). */
const GRADIENT_NAMES = ACTIVATION_NAMES.filter((name) => !/Mean|Rstd/.test(name));

const MEAN_LOSS = perIndexKernel(
  'meanLoss',
  ['mean: rw', 'losses'],
  ['N'],
  [],
  /* wgsl */ `
  var sum = 0.0;
  for (var n = 0u; n < u.N; n++) { sum += losses[u.lossesOff + n]; }
  mean[u.meanOff] = sum / f32(u.N);`,
);

export class GPUTrainer implements TrainingBackend {
  readonly kind = 'webgpu';
  readonly settings: TrainingSettings;
  readonly optimizer: AdamWGPU;
  /** The flat parameters on the GPU (params.ts layout). */
  readonly params: GPUBuffer;
  private readonly program: Program;
  private readonly total: number;
  private readonly inputs: GPUBuffer;
  private readonly targets: GPUBuffer;
  private readonly meanLoss: GPUBuffer;
  private readonly gradNorm: GPUBuffer;
  private readonly readback: GPUBuffer;
  /** Buffers the step clears before it starts: every gradient is added into. */
  private readonly cleared: GPUBuffer[];
  /** [per-tensor gradient, its offset in the flat gradients in floats, length]. */
  private readonly gradientCopies: [GPUBuffer, number, number][];
  private readonly flatGrads: GPUBuffer;
  /** forward: the loss alone (evaluate); backprop: forward and backward; update: clipping and AdamW. */
  private readonly passes: { forward: Dispatch[]; backprop: Dispatch[]; update: Dispatch[] };
  private readonly calls = new OneAtATime();

  /** Copies params to the GPU; settings as Trainer's (batchSize × seqLen per step, schedule, AdamW, clipping). */
  constructor(
    private readonly ctx: GPUContext,
    params: ParameterTensors,
    settings: Partial<TrainingSettings> = {},
  ) {
    const { config } = params;
    const seqLen = settings.seqLen ?? Math.min(DEFAULT_TRAINING.seqLen, config.blockSize);
    this.settings = { ...DEFAULT_TRAINING, ...settings, seqLen };
    const { batchSize: B, gradClip } = this.settings;
    const T = seqLen;
    if (!(Number.isInteger(B) && B >= 1 && Number.isInteger(T) && T >= 1 && T <= config.blockSize)) {
      throw new Error(`batches of ${B} × ${T} tokens do not fit a model with a context of ${config.blockSize}`);
    }
    const { vocabSize: V, nLayer: L, nHead: NH, nEmbd: C, tied } = config;
    const N = B * T;
    const p = new Program(ctx);
    this.program = p;
    const { offsets, sizes, total } = parameterLayout(config);
    this.total = total;
    this.params = p.upload(params.data);
    this.inputs = p.buffer(4 * N, 'inputs');
    this.targets = p.buffer(4 * N, 'targets');

    const shapes = activationShapes(config, B, T);
    const stack = (names: readonly ActivationName[], label: string) =>
      Object.fromEntries(names.map((name) => [name, p.buffer(4 * product(shapes[name]), `${label} ${name}`)])) as Record<
        ActivationName,
        GPUBuffer
      >;
    const acts = stack(ACTIVATION_NAMES, 'activation');
    const dacts = stack(GRADIENT_NAMES, 'activation gradient');
    const stored = PARAMETER_NAMES.filter((name) => sizes[name] > 0);
    const grads = Object.fromEntries(stored.map((name) => [name, p.buffer(4 * sizes[name], `gradient ${name}`)])) as Record<
      ParameterName,
      GPUBuffer
    >;
    this.cleared = [...GRADIENT_NAMES.map((name) => dacts[name]), ...stored.map((name) => grads[name])];
    this.flatGrads = p.buffer(4 * total, 'gradients');
    this.gradientCopies = stored.map((name) => [grads[name], offsets[name], sizes[name]]);

    // Layer l's slice of a stacked tensor: a parameter (in the flat buffer), its gradient, an activation.
    // Tensors that are not per layer are only ever asked for at l = 0.
    const param = (name: ParameterName, l = 0): GPUTensor => offsetBy(this.params, offsets[name] + l * (sizes[name] / L));
    const grad = (name: ParameterName, l = 0): GPUTensor => offsetBy(grads[name], l * (sizes[name] / L));
    const act = (set: Record<ActivationName, GPUBuffer>, name: ActivationName, l = 0): GPUTensor =>
      offsetBy(set[name], l * (product(shapes[name]) / L));
    const unembedding: ParameterName = tied ? 'wte' : 'lmHead';
    const losses = p.buffer(4 * N, 'losses');
    this.meanLoss = p.buffer(4, 'mean loss');

    const forward: Dispatch[] = [
      // The scores of keys after each query are for the page to show only: training skips them.
      ...forwardDispatches(p, config, B, T, acts, param, this.inputs, false),
      ...crossEntropyForward(p, losses, acts.logits, this.targets, N, V),
      perIndex(p, MEAN_LOSS, { count: 1, fields: [N] }, [this.meanLoss, 1], [losses, N]),
    ];

    const lastOutput = act(acts, 'residual3', L - 1);
    // Backward, as model.ts lossAndGradients; layer l's output gradient is
    // dresidual3[l], and its input gradient goes to dresidual3[l − 1] (dencoded for l = 0).
    const backward: Dispatch[] = [
      ...crossEntropySoftmaxBackward(p, dacts.logits, acts.logits, this.targets, N, V, 1 / N),
      ...unembedBackward(p, dacts.lnf, grad(unembedding), dacts.logits, acts.lnf, param(unembedding), N, C, V),
      ...layernormBackward(
        p,
        act(dacts, 'residual3', L - 1),
        grad('lnfw'),
        grad('lnfb'),
        dacts.lnf,
        lastOutput,
        param('lnfw'),
        acts.lnfMean,
        acts.lnfRstd,
        N,
        C,
      ),
    ];
    for (let l = L - 1; l >= 0; l--) {
      const a = (name: ActivationName) => act(acts, name, l);
      const d = (name: ActivationName) => act(dacts, name, l);
      const w = (name: ParameterName) => param(name, l);
      const g = (name: ParameterName) => grad(name, l);
      const input = l === 0 ? acts.encoded : act(acts, 'residual3', l - 1);
      const dinput = l === 0 ? dacts.encoded : act(dacts, 'residual3', l - 1);
      backward.push(
        ...residualBackward(p, d('residual2'), d('fcproj'), d('residual3'), N * C),
        ...matmulBackward(p, d('fchGelu'), g('fcprojw'), g('fcprojb'), d('fcproj'), a('fchGelu'), w('fcprojw'), N, 4 * C, C, {
          dinp: d('fch'),
          inp: a('fch'),
        }),
        ...matmulBackward(p, d('ln2'), g('fcw'), g('fcb'), d('fch'), a('ln2'), w('fcw'), N, C, 4 * C),
        ...layernormBackward(
          p,
          d('residual2'),
          g('ln2w'),
          g('ln2b'),
          d('ln2'),
          a('residual2'),
          w('ln2w'),
          a('ln2Mean'),
          a('ln2Rstd'),
          N,
          C,
        ),
        ...residualBackward(p, dinput, d('attproj'), d('residual2'), N * C),
        ...matmulBackward(p, d('atty'), g('attprojw'), g('attprojb'), d('attproj'), a('atty'), w('attprojw'), N, C, C),
        ...attentionBackward(p, d('qkv'), d('preatt'), d('att'), d('atty'), a('qkv'), a('att'), B, T, C, NH),
        ...matmulBackward(p, d('ln1'), g('qkvw'), g('qkvb'), d('qkv'), a('ln1'), w('qkvw'), N, C, 3 * C),
        ...layernormBackward(p, dinput, g('ln1w'), g('ln1b'), d('ln1'), input, w('ln1w'), a('ln1Mean'), a('ln1Rstd'), N, C),
      );
    }
    backward.push(...encoderBackward(p, grad('wte'), grad('wpe'), dacts.encoded, this.inputs, B, T, C));

    const clip = clipGradientNorm(p, this.flatGrads, total, gradClip, this.meanLoss);
    this.gradNorm = clip.norm;
    // AdamW reads clipping's finite flag (norm[2]) and skips a diverged update.
    this.optimizer = new AdamWGPU(p, config, this.params, this.flatGrads, this.settings, offsetBy(clip.norm, 2));
    this.passes = { forward, backprop: [...forward, ...backward], update: [...clip.dispatches, ...this.optimizer.dispatches] };
    this.readback = p.device.createBuffer({
      label: 'step readback',
      size: 8,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
  }

  /** Dispatches per step (the backprop and update compute passes). */
  get dispatchCount(): number {
    return this.passes.backprop.length + this.passes.update.length;
  }

  /** Bytes a step reads back: the mean loss and the gradient norm. */
  get readbackBytesPerStep(): number {
    return this.readback.size;
  }

  /**
   * One optimisation step on a batch of inputs and targets [batchSize·seqLen]
   * (targets[i] the token after inputs[i]) at learningRate. When the loss or the
   * gradient norm it returns is not finite, the GPU skipped the update: the
   * parameters, moments and step count are as they were. Rejects with a
   * GPUFailure when the GPU fails.
   */
  step({ inputs, targets }: BatchPair, learningRate: number): Promise<{ loss: number; gradNorm: number }> {
    return this.exclusive(async () => {
      const { device } = this.program;
      this.writeBatch(inputs, targets);
      this.optimizer.beginUpdate(learningRate);
      const encoder = device.createCommandEncoder();
      for (const buffer of this.cleared) encoder.clearBuffer(buffer);
      this.program.encode(encoder, this.passes.backprop);
      for (const [buffer, offset, length] of this.gradientCopies)
        encoder.copyBufferToBuffer(buffer, 0, this.flatGrads, 4 * offset, 4 * length);
      this.program.encode(encoder, this.passes.update);
      encoder.copyBufferToBuffer(this.meanLoss, 0, this.readback, 0, 4);
      encoder.copyBufferToBuffer(this.gradNorm, 0, this.readback, 4, 4);
      device.queue.submit([encoder.finish()]);
      await this.readback.mapAsync(GPUMapMode.READ);
      const [loss, gradNorm] = new Float32Array(this.readback.getMappedRange().slice(0));
      this.readback.unmap();
      // The same test the GPU made on the same two floats: it skipped the update.
      if (!Number.isFinite(loss) || !Number.isFinite(gradNorm)) this.optimizer.cancelUpdate();
      return { loss: loss!, gradNorm: gradNorm! };
    });
  }

  /**
   * Mean loss over batches of inputs and targets [batchSize·seqLen] each, the
   * parameters unchanged: the forward dispatches alone, every batch queued
   * before one readback.
   */
  evaluate(batches: BatchPair[]): Promise<number> {
    if (batches.length === 0) return Promise.reject(new Error('evaluate needs at least one batch'));
    return this.exclusive(async () => {
      const { device } = this.program;
      const losses = device.createBuffer({
        label: 'evaluation losses',
        size: 4 * batches.length,
        usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      });
      try {
        batches.forEach(({ inputs, targets }, i) => {
          this.writeBatch(inputs, targets);
          const encoder = device.createCommandEncoder();
          this.program.encode(encoder, this.passes.forward);
          encoder.copyBufferToBuffer(this.meanLoss, 0, losses, 4 * i, 4);
          device.queue.submit([encoder.finish()]);
        });
        await losses.mapAsync(GPUMapMode.READ);
        let total = 0;
        for (const loss of new Float32Array(losses.getMappedRange())) total += loss;
        return total / batches.length;
      } finally {
        losses.destroy();
      }
    });
  }

  /** The weights and both moments, read back in one copy. */
  snapshot(): Promise<TrainingSnapshot> {
    return this.exclusive(async () => {
      const { device } = this.program;
      const bytes = 4 * this.total;
      const staging = device.createBuffer({
        label: 'snapshot readback',
        size: 3 * bytes,
        usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      });
      try {
        const encoder = device.createCommandEncoder();
        [this.params, this.optimizer.m, this.optimizer.v].forEach((buffer, i) =>
          encoder.copyBufferToBuffer(buffer, 0, staging, i * bytes, bytes),
        );
        device.queue.submit([encoder.finish()]);
        await staging.mapAsync(GPUMapMode.READ);
        const all = new Float32Array(staging.getMappedRange().slice(0));
        const [params, m, v] = [0, 1, 2].map((i) => all.subarray(i * this.total, (i + 1) * this.total)) as [
          Float32Array,
          Float32Array,
          Float32Array,
        ];
        return { params, m, v, updates: this.optimizer.step };
      } finally {
        staging.destroy();
      }
    });
  }

  restore({ params, m, v, updates }: TrainingSnapshot): void {
    const { queue } = this.program.device;
    queue.writeBuffer(this.params, 0, params as Float32Array<ArrayBuffer>);
    queue.writeBuffer(this.optimizer.m, 0, m as Float32Array<ArrayBuffer>);
    queue.writeBuffer(this.optimizer.v, 0, v as Float32Array<ArrayBuffer>);
    this.optimizer.step = updates;
  }

  /** The flat parameters (params.ts layout), copied back to the CPU. */
  parameters(): Promise<Float32Array> {
    return this.exclusive(() => this.program.read(this.params, this.total));
  }

  /**
   * Runs GPU work on the trainer's buffers, one call at a time (they must not
   * interleave), under error scopes: a GPU failure rejects with a GPUFailure.
   */
  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    return this.calls.run(() => checkedGPUWork(this.ctx, work));
  }

  /** Queues a batch's upload; checks its size first. */
  private writeBatch(inputs: Int32Array<ArrayBuffer>, targets: Int32Array<ArrayBuffer>): void {
    const N = this.settings.batchSize * this.settings.seqLen;
    if (inputs.length !== N || targets.length !== N)
      throw new Error(`a batch needs ${N} inputs and targets, got ${inputs.length} and ${targets.length}`);
    this.program.device.queue.writeBuffer(this.inputs, 0, inputs);
    this.program.device.queue.writeBuffer(this.targets, 0, targets);
  }

  destroy(): void {
    this.readback.destroy();
    this.program.destroy();
  }
}

/** Trains on this GPU (Trainer's `backend` option; cpuBackend's counterpart). */
export const gpuBackend =
  (ctx: GPUContext): BackendFactory =>
  (params, settings) =>
    new GPUTrainer(ctx, params, settings);
