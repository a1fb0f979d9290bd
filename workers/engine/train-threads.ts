/**
 * A CPU training step across threads (threads.ts): the batch's sequences are cut
 * into one shard per thread, and each thread runs the forward and backward pass
 * of its shard into a gradient buffer of its own (attention, matmuls and all:
 * a shard is a smaller batch). Then each thread sums the shards' gradients over
 * a range of the parameters, and after the norm is known (for clipping) AdamW
 * updates each range on its own thread. Only the cut, the norm and two copies
 * of the weights run on one thread.
 */
import { sharedFloats } from './gemm.ts';
import type { AdamW } from './optimizer.ts';
import { createParameters, type ParameterTensors } from './params.ts';
import { JOB, JobKind, shardStep, sumGradients, updateRange, writeConfig, writeRef } from './thread-jobs.ts';
import { isShared, runParallel, shared, threadCount } from './threads.ts';

/** Where a part's share starts and how long it is. */
interface Share {
  start: number;
  count: number;
}

/** `total` cut into `parts` shares as even as can be, each starting at a multiple of `unit`. */
function cut(total: number, parts: number, unit = 1): Share[] {
  const units = Math.ceil(total / unit);
  const boundary = (part: number) => Math.min(total, Math.floor((units * part) / parts) * unit);
  return Array.from({ length: parts }, (_, part) => ({ start: boundary(part), count: boundary(part + 1) - boundary(part) }));
}

/** How many threads a batch of B sequences trains on: one shard each, at least one sequence a shard. */
export const trainingThreads = (B: number): number => Math.min(threadCount(), B);

export class ThreadedTraining {
  /** A shared copy of the weights when the model's are not shared (copied in before a step, back after). */
  private readonly mirror: ParameterTensors | null;
  /** The gradient of each shard past the first (the first is `grads`). */
  private readonly shardGrads: ParameterTensors[] = [];
  private tokens: Int32Array = new Int32Array(0);
  private targets: Int32Array = new Int32Array(0);

  constructor(
    private readonly params: ParameterTensors,
    private readonly grads: ParameterTensors,
    private readonly optimizer: AdamW,
  ) {
    const { config, data } = params;
    this.mirror = isShared(data) ? null : createParameters(config, sharedFloats(data.length));
    if (!isShared(grads.data)) throw new Error('the gradient of a threaded step must be in shared memory');
  }

  /** Forward, backward, clipping and AdamW on threads; as CPUTrainingBackend.step. */
  step(inputs: Int32Array, targets: Int32Array, B: number, T: number, learningRate: number, gradClip: number) {
    const weights = this.weightsIn();
    const parts = trainingThreads(B);
    const grads = [this.grads, ...this.gradsFor(parts)];
    const loss = this.shards(JobKind.gradients, weights, inputs, targets, B, T, grads);
    if (!Number.isFinite(loss)) return { loss, gradNorm: NaN };
    const ranges = cut(weights.data.length, parts, 16);
    const views = grads.slice(0, parts).map((g) => g.data);
    const squares = runParallel(
      parts,
      (slot, block) => {
        slot[JOB.kind] = JobKind.sumGradients;
        const { start, count } = ranges[block];
        slot.set([start, start + count, parts], JOB.args);
        let at = JOB.args + 3;
        for (const view of views) at = writeRef(slot, at, shared(view));
      },
      (block) => sumGradients(views, ranges[block].start, ranges[block].start + ranges[block].count),
    ).results;
    const gradNorm = Math.sqrt(squares.reduce((sum, s) => sum + s, 0));
    if (!Number.isFinite(gradNorm)) return { loss, gradNorm };
    const update = this.optimizer.nextUpdate(learningRate, gradNorm > gradClip ? gradClip / gradNorm : 1);
    const buffers = { p: weights.data, g: this.grads.data, m: this.optimizer.m.data, v: this.optimizer.v.data };
    runParallel(
      parts,
      (slot, block) => {
        slot[JOB.kind] = JobKind.adamw;
        let at = writeConfig(slot, JOB.args, weights.config);
        for (const buffer of [buffers.p, buffers.g, buffers.m, buffers.v]) at = writeRef(slot, at, shared(buffer));
        const { start, count } = ranges[block];
        const { beta1, beta2, eps, weightDecay } = update.settings;
        const { learningRate: lr, gradScale, mScale, vScale } = update;
        slot.set([start, start + count, lr, gradScale, mScale, vScale, beta1, beta2, eps, weightDecay], at);
      },
      (block) => {
        updateRange(weights.config, buffers, update, ranges[block].start, ranges[block].start + ranges[block].count);
        return 0;
      },
    );
    if (this.mirror) this.params.data.set(this.mirror.data);
    return { loss, gradNorm };
  }

  /** Mean loss of one batch, its shards on threads. */
  loss(inputs: Int32Array, targets: Int32Array, B: number, T: number): number {
    return this.shards(JobKind.loss, this.weightsIn(), inputs, targets, B, T, null);
  }

  /** The weights as threads read them: the model's own when shared, else the mirror, brought up to date. */
  private weightsIn(): ParameterTensors {
    if (!this.mirror) return this.params;
    this.mirror.data.set(this.params.data);
    return this.mirror;
  }

  private gradsFor(parts: number): ParameterTensors[] {
    const { config, data } = this.grads;
    while (this.shardGrads.length < parts - 1) this.shardGrads.push(createParameters(config, sharedFloats(data.length)));
    return this.shardGrads;
  }

  /** Each thread's shard of the batch (gradients, or the loss alone); the batch's mean loss. */
  private shards(
    kind: (typeof JobKind)['gradients' | 'loss'],
    weights: ParameterTensors,
    inputs: Int32Array,
    targets: Int32Array,
    B: number,
    T: number,
    grads: ParameterTensors[] | null,
  ): number {
    if (this.tokens.length !== B * T) {
      this.tokens = new Int32Array(new SharedArrayBuffer(B * T * 4));
      this.targets = new Int32Array(new SharedArrayBuffer(B * T * 4));
    }
    this.tokens.set(inputs);
    this.targets.set(targets);
    const parts = trainingThreads(B);
    const shares = cut(B, parts);
    const scale = 1 / (B * T);
    const slice = (array: Int32Array, { start, count }: Share) => array.subarray(start * T, (start + count) * T);
    const losses = runParallel(
      parts,
      (slot, block) => {
        slot[JOB.kind] = kind;
        let at = writeConfig(slot, JOB.args, weights.config);
        at = writeRef(slot, at, shared(weights.data));
        at = writeRef(slot, at, grads ? shared(grads[block].data) : null);
        at = writeRef(slot, at, shared(slice(this.tokens, shares[block])));
        at = writeRef(slot, at, shared(slice(this.targets, shares[block])));
        slot.set([shares[block].count, T, scale], at);
      },
      (block) => {
        const share = shares[block];
        const [tokens, targets] = [slice(this.tokens, share), slice(this.targets, share)];
        return shardStep(weights, tokens, targets, share.count, T, scale, grads?.[block] ?? null);
      },
    ).results;
    return losses.reduce((sum, loss, block) => sum + (loss * shares[block].count) / B, 0);
  }
}
