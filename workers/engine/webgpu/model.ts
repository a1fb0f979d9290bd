/**
 * Inference on the GPU: the forward pass of one sequence (B = 1, up to
 * blockSize tokens) for the page's view of the model's insides, and generation
 * with a KV cache: a forward fills each layer's cache of queries, keys and
 * values (inference.ts), after which each generated token costs one
 * position's work (decode.ts) and reads back only its logits [V].
 *
 * Within WebGPU's default limits, so GPT-2 small fits: no buffer is bound past
 * the binding limit (weights.ts splits the weights, wte into row blocks),
 * activations are one layer deep for blockSize tokens, stacked over layers
 * only for a capture (captureLength(config) tokens), logits are computed a few
 * rows at a time, and readback is staged in buffers of at most 64 MiB.
 * Dispatch lists are built the first time a length is asked for (kernels bake
 * sizes into their uniforms) and kept.
 */

import type { GPTConfig } from '../config.ts';
import { GenerationContext, type GenerateOptions, type GeneratedToken } from '../generate.ts';
import {
  ACTIVATION_NAMES,
  type ActivationName,
  activationShapes,
  captureLength,
  causalMask,
  checkLength,
  checkSequence,
  type ForwardResult,
  type LayerCapture,
} from '../model.ts';
import { type ParameterName, product } from '../params.ts';
import { OneAtATime } from '../one-at-a-time.ts';
import { checkedGPUWork, type GPUContext } from './device.ts';
import { blockForward, encoderForward, layernormForward, unembedForward } from './forward.ts';
import { type ActivationAccessor, forwardBody, rowsOn, stepDispatches, unembedRows } from './inference.ts';
import { stepScratchLayout } from './layer-step.ts';
import { type Dispatch, type GPUTensor, offsetBy, Program } from './program.ts';
import { Readback } from './readback.ts';
import { floatsWithin, GPUWeights } from './weights.ts';

/** Layer `layer`'s slice of a parameter tensor stacked over layers; tensors not per layer are asked for at layer 0. */
export type ParameterAccessor = (name: ParameterName, layer?: number) => GPUTensor;

/**
 * The forward pass of B sequences of T tokens (int32 `inputs` [B, T]) as
 * dispatches, up to and including the logits. Each activation tensor is laid
 * out as activationShapes(config, B, T) says (stacked ones with layer l at
 * l × its per-layer size) from the start of its buffer, which may be larger.
 * With `futureScores` false, preatt's scores of keys after the query are not
 * all computed (see attentionForward).
 */
export function forwardDispatches(
  p: Program,
  config: GPTConfig,
  B: number,
  T: number,
  acts: Readonly<Record<ActivationName, GPUTensor>>,
  param: ParameterAccessor,
  inputs: GPUTensor,
  futureScores = true,
): Dispatch[] {
  const { vocabSize: V, nLayer: L, nHead: NH, nEmbd: C, tied } = config;
  const N = B * T;
  const shapes = activationShapes(config, B, T);
  const act = (name: ActivationName, l: number): GPUTensor => offsetBy(acts[name], l * (product(shapes[name]) / L));
  const dispatches = encoderForward(p, acts.encoded, inputs, param('wte'), param('wpe'), B, T, C);
  for (let l = 0; l < L; l++) {
    const a = (name: ActivationName) => act(name, l);
    const w = (name: ParameterName) => param(name, l);
    const input = l === 0 ? acts.encoded : act('residual3', l - 1);
    dispatches.push(...blockForward(p, a, w, input, a('qkv'), B, T, C, NH, futureScores));
  }
  dispatches.push(
    ...layernormForward(p, acts.lnf, acts.lnfMean, acts.lnfRstd, act('residual3', L - 1), param('lnfw'), param('lnfb'), N, C),
    ...unembedForward(p, acts.logits, acts.lnf, param(tied ? 'wte' : 'lmHead'), N, C, V),
  );
  return dispatches;
}

/** The per-layer captured fields, with the activation each one is read from (stacked [L, ...] for a capture). */
const CAPTURED = {
  scores: 'preatt',
  pattern: 'att',
  mlpPre: 'fch',
  mlpPost: 'fchGelu',
  residAfterAttn: 'residual2',
  residAfterMlp: 'residual3',
} as const satisfies Partial<Record<keyof LayerCapture, ActivationName>>;
const CAPTURED_FIELDS = Object.keys(CAPTURED) as (keyof typeof CAPTURED)[];

/** Logits are computed (and staged for readback) at most this many bytes of rows at a time. */
const LOGIT_CHUNK_BYTES = 32 * 2 ** 20;

export interface GPUModelOptions {
  /**
   * The most bytes one binding may hold: the device's limit by default. Less
   * makes a small model split its weights as a big one does (tests).
   */
  maxBindingBytes?: number;
}

export class GPUModel {
  readonly config: GPTConfig;
  /** The most tokens a forward with capture reads (model.ts captureLength). */
  readonly captureLength: number;
  /** Rows of logits computed at a time. */
  readonly logitRows: number;
  /** The binding limit this model keeps to. */
  readonly maxBindingBytes: number;
  private readonly ctx: GPUContext;
  private readonly program: Program;
  private readonly weights: GPUWeights;
  private readonly inputs: GPUBuffer;
  private readonly tokens: Int32Array<ArrayBuffer>;
  /** int32 [token, position] of a cached step. */
  private readonly step: GPUBuffer;
  private readonly stepData = new Int32Array(2);
  /** Per layer [blockSize, 3C]: the queries, keys and values of the positions cached (one buffer when they fit). */
  private readonly qkvCache: GPUTensor[];
  /** One layer's activations for blockSize tokens, reused by every layer (qkv lives in the cache). */
  private readonly scratch: Partial<Record<ActivationName, GPUBuffer>>;
  /** The captured activations stacked over layers for captureLength tokens, made at the first capture. */
  private captured: Partial<Record<ActivationName, GPUBuffer>> | null = null;
  /** [logitRows, V] */
  private readonly logits: GPUBuffer;
  /** The rows a step works on when it runs a layer per dispatch (layer-step.ts). */
  private readonly stepScratch: GPUBuffer;
  private readonly readback: Readback;
  private readonly forwards = new Map<string, Dispatch[]>();
  private readonly unembeddings = new Map<string, Dispatch[]>();
  /** A step's dispatches, and where its logits [V] land. */
  private stepList: ReturnType<typeof stepDispatches> | null = null;
  /** A step has run without an error. */
  private stepChecked = false;
  /** The tokens (from position 0) whose queries, keys and values the cache holds. */
  private cached: number[] = [];
  /** GPU work on the shared buffers runs one call at a time. */
  private readonly calls = new OneAtATime();
  private pending = 0;
  private readbackBytes = 0;
  private dispatched = 0;
  private computed = 0;

  constructor(ctx: GPUContext, config: GPTConfig, options: GPUModelOptions = {}) {
    const { vocabSize: V, blockSize, nLayer: L, nEmbd: C } = config;
    const deviceLimit = ctx.limits.maxStorageBufferBindingSize;
    const limit = Math.min(options.maxBindingBytes ?? deviceLimit, deviceLimit);
    this.ctx = ctx;
    this.config = config;
    this.maxBindingBytes = limit;
    // The program sees this model's limit: every binding is checked against it, and gemm splits by it.
    const p = new Program({ ...ctx, limits: { ...ctx.limits, maxStorageBufferBindingSize: limit } });
    this.program = p;
    this.weights = new GPUWeights(p, config, limit);
    this.captureLength = captureLength(config);
    const most = floatsWithin(limit, ctx.device.limits.minStorageBufferOffsetAlignment);
    if (V > most) throw new Error(`one row of logits (${4 * V} bytes) does not fit one GPU binding of ${limit} bytes`);
    this.logitRows = Math.max(1, Math.min(blockSize, Math.floor(Math.min(most, LOGIT_CHUNK_BYTES / 4) / V)));
    const buffer = (floats: number, label: string): GPUBuffer => {
      if (floats > most) throw new Error(`${label} (${4 * floats} bytes) does not fit one GPU binding of ${limit} bytes`);
      return p.buffer(4 * floats, label);
    };
    this.inputs = buffer(blockSize, 'tokens');
    this.tokens = new Int32Array(blockSize);
    this.step = buffer(2, 'step');
    const cacheFloats = blockSize * 3 * C;
    const sharedCache = L * cacheFloats <= most ? buffer(L * cacheFloats, 'qkv cache') : null;
    this.qkvCache = Array.from({ length: L }, (_, l) =>
      sharedCache ? offsetBy(sharedCache, l * cacheFloats) : buffer(cacheFloats, `qkv cache, layer ${l}`),
    );
    const shapes = activationShapes({ ...config, nLayer: 1 }, 1, blockSize);
    this.scratch = Object.fromEntries(
      ACTIVATION_NAMES.filter((name) => name !== 'qkv' && name !== 'logits').map((name) => [
        name,
        buffer(product(shapes[name]), `activation ${name}`),
      ]),
    );
    this.logits = buffer(this.logitRows * V, 'logits');
    this.stepScratch = buffer(stepScratchLayout(C, V).floats, 'step scratch');
    this.readback = new Readback(ctx.device);
  }

  /** Bytes the last call read back from the GPU. */
  get lastReadbackBytes(): number {
    return this.readbackBytes;
  }

  /** Dispatches the last call ran. */
  get lastDispatchCount(): number {
    return this.dispatched;
  }

  /** Positions the last call computed: all T of a forward, 1 for a cached step. */
  get lastPositions(): number {
    return this.computed;
  }

  /** The flat parameters (params.ts layout) for every call made after this. */
  setParameters(data: Float32Array): void {
    if (data.length !== this.weights.total) {
      throw new Error(`parameter buffer has ${data.length} floats, config needs ${this.weights.total}`);
    }
    const write = (from: Float32Array) => {
      this.weights.write(this.ctx.device.queue, from);
      this.cached = [];
    };
    // Nothing in flight: written now, no copy (GPT-2 small's are 498 MB). Else a copy (the caller may reuse
    // its array) waits for the calls made before.
    if (this.pending === 0) write(data);
    else {
      const copy = data.slice();
      void this.queue(async () => write(copy));
    }
  }

  /** Copies flat parameters of the same config (GPUTrainer.params) on the GPU, for every call made after this. */
  copyParametersFrom(buffer: GPUBuffer): void {
    const bytes = 4 * this.weights.total;
    if (buffer.size < bytes) {
      throw new Error(`a parameter buffer of ${buffer.size} bytes is smaller than the ${bytes} this model needs`);
    }
    void this.queue(async () => {
      const encoder = this.ctx.device.createCommandEncoder();
      this.weights.copyFrom(encoder, buffer);
      this.ctx.device.queue.submit([encoder.finish()]);
      this.cached = [];
    });
  }

  /**
   * Logits [T, V] for one sequence of 1..blockSize tokens, as model.ts forward();
   * with `lastOnly` only the last row [V] (all that is read back), with
   * `capture` also the insides (model.ts Capture, each array in its own buffer),
   * for at most captureLength tokens. Rejects with GPUFailure when the GPU
   * fails or is lost.
   */
  async forward(ids: ArrayLike<number>, options: { capture?: boolean; lastOnly?: boolean } = {}): Promise<ForwardResult> {
    checkSequence(ids, this.config);
    if (options.capture && ids.length > this.captureLength) {
      throw new Error(
        `a forward with capture reads at most ${this.captureLength} tokens of this model, and ${ids.length} were given: cut the text first`,
      );
    }
    const tokens = Array.from(ids);
    return this.queue(() => checkedGPUWork(this.ctx, () => this.run(tokens, options)));
  }

  /**
   * Logits [V] after the last of `ids`: one cached step when ids are the tokens
   * the KV cache holds plus one more, else a forward of them all (which fills
   * the cache). Rejects with GPUFailure when the GPU fails or is lost.
   */
  async nextLogits(ids: readonly number[]): Promise<Float32Array> {
    checkSequence(ids, this.config);
    const tokens = [...ids];
    return this.queue(async () => {
      const T = tokens.length;
      const cachedBefore = T > 1 && this.cached.length === T - 1 && this.cached.every((id, i) => id === tokens[i]);
      if (!cachedBefore) return checkedGPUWork(this.ctx, async () => (await this.run(tokens, { lastOnly: true })).logits);
      // Every step replays the same dispatches on the same buffers: once one passed the error scopes, the
      // next ones only watch for a lost device.
      const logits = await checkedGPUWork(this.ctx, () => this.runStep(tokens[T - 1]!, T - 1), { scopes: !this.stepChecked });
      this.stepChecked = true;
      return logits;
    });
  }

  /** Dispatches of one forward over T tokens, all its logits included. */
  dispatchCount(T: number): number {
    checkLength(T, this.config);
    let count = this.body(T, false).length;
    for (let first = 0; first < T; first += this.logitRows)
      count += this.unembedding(first, Math.min(this.logitRows, T - first)).length;
    return count;
  }

  destroy(): void {
    this.readback.destroy();
    this.program.destroy();
  }

  private queue<T>(work: () => Promise<T>): Promise<T> {
    this.pending++;
    const result = this.calls.run(work);
    const done = () => {
      this.pending--;
    };
    result.then(done, done);
    return result;
  }

  /** The forward over T tokens up to lnf; with capture, the captured activations stacked over layers. */
  private body(T: number, capture: boolean): Dispatch[] {
    const key = `${T} ${capture}`;
    let list = this.forwards.get(key);
    if (!list) {
      const shapes = activationShapes(this.config, 1, T);
      const L = this.config.nLayer;
      const stacked = capture ? this.captureBuffers() : {};
      const act: ActivationAccessor = (name, l) => {
        const buffer = stacked[name];
        return buffer ? offsetBy(buffer, l * (product(shapes[name]) / L)) : this.scratch[name]!;
      };
      list = forwardBody(this.program, this.config, T, act, this.weights, this.inputs, this.qkvCache, capture);
      this.forwards.set(key, list);
    }
    return list;
  }

  /** Logits of `rows` rows of lnf from row `first` into the logits buffer's first rows. */
  private unembedding(first: number, rows: number): Dispatch[] {
    const key = `${first} ${rows}`;
    let list = this.unembeddings.get(key);
    if (!list) {
      const { nEmbd: C, vocabSize: V } = this.config;
      const lnf = rowsOn(this.scratch.lnf!, first, C);
      list = unembedRows(this.program, this.logits, lnf, this.weights.rowBlocks('unembedding'), rows, C, V, this.step);
      this.unembeddings.set(key, list);
    }
    return list;
  }

  private captureBuffers(): Partial<Record<ActivationName, GPUBuffer>> {
    if (!this.captured) {
      const shapes = activationShapes(this.config, 1, this.captureLength);
      const limit = this.ctx.device.limits.maxBufferSize;
      this.captured = Object.fromEntries(
        Object.values(CAPTURED).map((name) => {
          const bytes = 4 * product(shapes[name]);
          // Bound a layer at a time; the whole must stay within a buffer's limit.
          if (bytes > limit) throw new Error(`captured ${name} (${bytes} bytes) is larger than a GPU buffer may be (${limit})`);
          return [name, this.program.buffer(bytes, `captured ${name}`)];
        }),
      );
    }
    return this.captured;
  }

  private async run(
    ids: number[],
    { capture = false, lastOnly = false }: { capture?: boolean; lastOnly?: boolean },
  ): Promise<ForwardResult> {
    const { vocabSize: V, nLayer: L, nHead: NH, nEmbd: C } = this.config;
    const T = ids.length;
    const { device } = this.ctx;
    this.cached = [];
    this.tokens.set(ids);
    device.queue.writeBuffer(this.inputs, 0, this.tokens, 0, T);
    const encoder = device.createCommandEncoder();
    const body = this.body(T, capture);
    this.program.encode(encoder, body);
    let dispatched = body.length;

    const first = lastOnly ? T - 1 : 0;
    const captureFloats = capture ? 2 * T * C + L * (2 * NH * T * T + 2 * T * 4 * C + 2 * T * C) : 0;
    this.readback.begin((T - first) * V + captureFloats);
    // The logits buffer holds logitRows rows: each piece is read back before the next is computed.
    const logits = new Float32Array((T - first) * V);
    for (let row = first; row < T; row += this.logitRows) {
      const rows = Math.min(this.logitRows, T - row);
      const list = this.unembedding(row, rows);
      this.program.encode(encoder, list);
      dispatched += list.length;
      this.readback.add(encoder, this.logits, 0, rows * V, logits, (row - first) * V);
    }
    const result: ForwardResult = { logits };
    if (capture) {
      const tokenEmbedding = new Float32Array(T * C);
      const blocks = this.weights.rowBlocks('wte');
      ids.forEach((id, t) => {
        const block = blocks.find((b) => id < b.firstRow + b.rows)!;
        this.readback.add(encoder, block.buffer, (id - block.firstRow) * C, C, tokenEmbedding, t * C);
      });
      const positionEmbedding = new Float32Array(T * C);
      const wpe = this.weights.param('wpe');
      const [wpeBuffer, wpeOffset] = 'buffer' in wpe ? [wpe.buffer, wpe.offset] : [wpe, 0];
      this.readback.add(encoder, wpeBuffer, wpeOffset, T * C, positionEmbedding);
      const shapes = activationShapes(this.config, 1, T);
      const mask = causalMask(NH, T);
      const layers = Array.from({ length: L }, (_, l) => {
        const layer = { mask: mask.slice() } as LayerCapture;
        for (const field of CAPTURED_FIELDS) {
          const name = CAPTURED[field];
          const floats = product(shapes[name]) / L;
          layer[field] = new Float32Array(floats);
          this.readback.add(encoder, this.captured![name]!, l * floats, floats, layer[field]);
        }
        return layer;
      });
      result.capture = { tokenEmbedding, positionEmbedding, layers };
    }
    device.queue.submit([encoder.finish()]);
    this.readbackBytes = this.readback.bytes;
    this.dispatched = dispatched;
    this.computed = T;
    await this.readback.finish();
    this.cached = ids;
    return result;
  }

  /** One cached step: `token` at `position`, the positions before it in the cache. Logits [V] after it. */
  private async runStep(token: number, position: number): Promise<Float32Array> {
    const V = this.config.vocabSize;
    const { device } = this.ctx;
    const cached = this.cached;
    this.cached = [];
    this.stepData[0] = token;
    this.stepData[1] = position;
    device.queue.writeBuffer(this.step, 0, this.stepData);
    const encoder = device.createCommandEncoder();
    this.stepList ??= stepDispatches(
      this.program,
      this.config,
      (name) => this.scratch[name]!,
      this.scratch.preatt!,
      this.weights,
      this.step,
      this.qkvCache,
      this.logits,
      this.stepScratch,
    );
    const {
      dispatches,
      logits: [source, offset],
    } = this.stepList;
    this.program.encode(encoder, dispatches);
    this.readback.begin(V);
    const logits = new Float32Array(V);
    this.readback.add(encoder, source, offset, V, logits);
    device.queue.submit([encoder.finish()]);
    this.readbackBytes = this.readback.bytes;
    this.dispatched = dispatches.length;
    this.computed = 1;
    await this.readback.finish();
    cached.push(token);
    this.cached = cached;
    return logits;
  }
}

/**
 * generate() on the GPU: the same checks, draws and sliding context (so the
 * same seed gives the same tokens). The prompt is one forward that fills the
 * KV cache; each token after it is one cached step; a slide refills the cache
 * from the tokens kept. Each reads back only the logits [V] it draws from.
 */
export async function* generateOnGPU(
  model: GPUModel,
  promptIds: readonly number[],
  options: GenerateOptions,
): AsyncGenerator<GeneratedToken> {
  const context = new GenerationContext(promptIds, model.config.blockSize, options);
  checkSequence(context.ids, model.config);
  for (let i = 0; i < options.maxTokens; i++) {
    const token = context.draw(await model.nextLogits(context.ids));
    yield token;
    context.append(token.id);
  }
}
