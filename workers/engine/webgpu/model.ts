/**
 * Inference on the GPU: the forward pass of one sequence (B = 1, up to
 * blockSize tokens) for generation and for the page's view of the model's
 * insides. Everything is allocated once for blockSize; each length T gets its
 * dispatch list the first time it is asked for (kernels bake sizes into their
 * uniforms) and keeps it. A forward writes the tokens, records one command
 * encoder and reads back what was asked in one mapAsync: the logits (or only
 * the last row of them), plus every captured activation with `capture`.
 *
 * No KV cache: each generated token is a full forward of the current context.
 */

import type { GPTConfig } from '../config.ts';
import { GenerationContext, type GenerateOptions, type GeneratedToken } from '../generate.ts';
import {
  ACTIVATION_NAMES,
  type ActivationName,
  activationShapes,
  causalMask,
  checkLength,
  checkSequence,
  type ForwardResult,
  type LayerCapture,
} from '../model.ts';
import { type ParameterName, parameterLayout, product } from '../params.ts';
import { OneAtATime } from '../one-at-a-time.ts';
import { checkedGPUWork, type GPUContext } from './device.ts';
import {
  attentionForward,
  encoderForward,
  layernormForward,
  matmulForward,
  matmulGeluForward,
  residualForward,
  unembedForward,
} from './forward.ts';
import { type Dispatch, type GPUTensor, offsetBy, Program } from './program.ts';

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
    dispatches.push(
      ...layernormForward(p, a('ln1'), a('ln1Mean'), a('ln1Rstd'), input, w('ln1w'), w('ln1b'), N, C),
      ...matmulForward(p, a('qkv'), a('ln1'), w('qkvw'), w('qkvb'), N, C, 3 * C),
      ...attentionForward(p, a('atty'), a('preatt'), a('att'), a('qkv'), B, T, C, NH, futureScores),
      ...matmulForward(p, a('attproj'), a('atty'), w('attprojw'), w('attprojb'), N, C, C),
      ...residualForward(p, a('residual2'), input, a('attproj'), N * C),
      ...layernormForward(p, a('ln2'), a('ln2Mean'), a('ln2Rstd'), a('residual2'), w('ln2w'), w('ln2b'), N, C),
      ...matmulGeluForward(p, a('fch'), a('fchGelu'), a('ln2'), w('fcw'), w('fcb'), N, C, 4 * C),
      ...matmulForward(p, a('fcproj'), a('fchGelu'), w('fcprojw'), w('fcprojb'), N, 4 * C, C),
      ...residualForward(p, a('residual3'), a('residual2'), a('fcproj'), N * C),
    );
  }
  dispatches.push(
    ...layernormForward(p, acts.lnf, acts.lnfMean, acts.lnfRstd, act('residual3', L - 1), param('lnfw'), param('lnfb'), N, C),
    ...unembedForward(p, acts.logits, acts.lnf, param(tied ? 'wte' : 'lmHead'), N, C, V),
  );
  return dispatches;
}

/** The per-layer captured fields, with the activation each one is read from (all stacked [L, ...]). */
const CAPTURED = {
  scores: 'preatt',
  pattern: 'att',
  mlpPre: 'fch',
  mlpPost: 'fchGelu',
  residAfterAttn: 'residual2',
  residAfterMlp: 'residual3',
} as const satisfies Partial<Record<keyof LayerCapture, ActivationName>>;
const CAPTURED_FIELDS = Object.keys(CAPTURED) as (keyof typeof CAPTURED)[];

export class GPUModel {
  readonly config: GPTConfig;
  private readonly ctx: GPUContext;
  private readonly program: Program;
  private readonly params: GPUBuffer;
  private readonly paramFloats: number;
  private readonly wteOffset: number;
  private readonly wpeOffset: number;
  private readonly param: ParameterAccessor;
  private readonly inputs: GPUBuffer;
  private readonly tokens: Int32Array<ArrayBuffer>;
  private readonly acts: Record<ActivationName, GPUBuffer>;
  /** Where every readback lands: sized for a full capture at blockSize. */
  private readonly staging: GPUBuffer;
  private readonly dispatches = new Map<number, Dispatch[]>();
  /** GPU work on the shared buffers runs one call at a time. */
  private readonly calls = new OneAtATime();
  private readbackBytes = 0;

  constructor(ctx: GPUContext, config: GPTConfig) {
    const { vocabSize: V, blockSize, nLayer: L, nHead: NH, nEmbd: C } = config;
    this.ctx = ctx;
    this.config = config;
    const p = new Program(ctx);
    this.program = p;
    const { offsets, sizes, total } = parameterLayout(config);
    this.paramFloats = total;
    this.wteOffset = offsets.wte;
    this.wpeOffset = offsets.wpe;
    this.params = p.buffer(4 * total, 'parameters');
    this.param = (name, l = 0) => offsetBy(this.params, offsets[name] + l * (sizes[name] / L));
    this.inputs = p.buffer(4 * blockSize, 'tokens');
    this.tokens = new Int32Array(blockSize);
    const shapes = activationShapes(config, 1, blockSize);
    this.acts = Object.fromEntries(
      ACTIVATION_NAMES.map((name) => [name, p.buffer(4 * product(shapes[name]), `activation ${name}`)]),
    ) as Record<ActivationName, GPUBuffer>;
    // Logits, the two embeddings, and per layer two [NH, T, T] and four [T, 4C] or [T, C] tensors.
    const T = blockSize;
    const captureFloats = T * V + 2 * T * C + L * (2 * NH * T * T + 2 * T * 4 * C + 2 * T * C);
    this.staging = ctx.device.createBuffer({
      label: 'forward readback',
      size: 4 * captureFloats,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
  }

  /** Bytes the last forward read back from the GPU. */
  get lastReadbackBytes(): number {
    return this.readbackBytes;
  }

  /** The flat parameters (params.ts layout) for every forward called after this. */
  setParameters(data: Float32Array): void {
    if (data.length !== this.paramFloats) {
      throw new Error(`parameter buffer has ${data.length} floats, config needs ${this.paramFloats}`);
    }
    // A copy: the write waits for forwards already called, and the caller may reuse its array meanwhile.
    const copy = data.slice();
    void this.calls.run(async () => this.ctx.device.queue.writeBuffer(this.params, 0, copy));
  }

  /** Copies flat parameters of the same config (GPUTrainer.params) on the GPU, for every forward called after this. */
  copyParametersFrom(buffer: GPUBuffer): void {
    const bytes = 4 * this.paramFloats;
    if (buffer.size < bytes)
      throw new Error(`a parameter buffer of ${buffer.size} bytes is smaller than the ${bytes} this model needs`);
    void this.calls.run(async () => {
      const encoder = this.ctx.device.createCommandEncoder();
      encoder.copyBufferToBuffer(buffer, 0, this.params, 0, bytes);
      this.ctx.device.queue.submit([encoder.finish()]);
    });
  }

  /**
   * Logits [T, V] for one sequence of 1..blockSize tokens, as model.ts forward();
   * with `lastOnly` only the last row [V] (all that is read back), with
   * `capture` also the insides (model.ts Capture, each array in its own buffer).
   * Rejects with GPUFailure when the GPU fails or is lost.
   */
  async forward(ids: ArrayLike<number>, options: { capture?: boolean; lastOnly?: boolean } = {}): Promise<ForwardResult> {
    checkSequence(ids, this.config);
    const tokens = Array.from(ids);
    return this.calls.run(() => checkedGPUWork(this.ctx, () => this.run(tokens, options)));
  }

  /** Dispatches of one forward over T tokens. */
  dispatchCount(T: number): number {
    checkLength(T, this.config);
    return this.dispatchesFor(T).length;
  }

  destroy(): void {
    this.staging.destroy();
    this.program.destroy();
  }

  private dispatchesFor(T: number): Dispatch[] {
    let list = this.dispatches.get(T);
    if (!list) {
      list = forwardDispatches(this.program, this.config, 1, T, this.acts, this.param, this.inputs);
      this.dispatches.set(T, list);
    }
    return list;
  }

  private async run(
    ids: number[],
    { capture = false, lastOnly = false }: { capture?: boolean; lastOnly?: boolean },
  ): Promise<ForwardResult> {
    const { vocabSize: V, nLayer: L, nHead: NH, nEmbd: C } = this.config;
    const T = ids.length;
    const { device } = this.ctx;
    this.tokens.set(ids);
    device.queue.writeBuffer(this.inputs, 0, this.tokens, 0, T);
    const encoder = device.createCommandEncoder();
    this.program.encode(encoder, this.dispatchesFor(T));

    // Everything read back goes one after the other into the staging buffer: [start, length] in floats.
    let floats = 0;
    const readBack = (source: GPUBuffer, sourceOffset: number, length: number): [number, number] => {
      encoder.copyBufferToBuffer(source, 4 * sourceOffset, this.staging, 4 * floats, 4 * length);
      floats += length;
      return [floats - length, length];
    };
    const logitRows = lastOnly ? 1 : T;
    const logits = readBack(this.acts.logits, (T - logitRows) * V, logitRows * V);
    const shapes = activationShapes(this.config, 1, T);
    const insides = capture
      ? {
          // One copy per token's row of wte; the rows land one after the other: [T, C].
          tokenEmbedding: [ids.map((id) => readBack(this.params, this.wteOffset + id * C, C))[0]![0], T * C] as [number, number],
          positions: readBack(this.params, this.wpeOffset, T * C),
          // Each field for every layer at once: the layers lie one after the other.
          fields: CAPTURED_FIELDS.map(
            (field) => [field, readBack(this.acts[CAPTURED[field]], 0, product(shapes[CAPTURED[field]]))] as const,
          ),
        }
      : null;
    device.queue.submit([encoder.finish()]);
    this.readbackBytes = 4 * floats;

    await this.staging.mapAsync(GPUMapMode.READ, 0, 4 * floats);
    try {
      const data = new Float32Array(this.staging.getMappedRange(0, 4 * floats));
      // slice() gives every array its own buffer, so each can be transferred.
      const piece = (start: number, length: number) => data.slice(start, start + length);
      const result: ForwardResult = { logits: piece(...logits) };
      if (insides) {
        const layers = Array.from({ length: L }, (_, l) => {
          const layer = { mask: causalMask(NH, T) } as LayerCapture;
          for (const [field, [start, length]] of insides.fields) layer[field] = piece(start + l * (length / L), length / L);
          return layer;
        });
        result.capture = {
          tokenEmbedding: piece(...insides.tokenEmbedding),
          positionEmbedding: piece(...insides.positions),
          layers,
        };
      }
      return result;
    } finally {
      this.staging.unmap();
    }
  }
}

/**
 * generate() on the GPU: the same checks, draws and sliding context (so the
 * same seed gives the same tokens), each token from a full forward of the
 * current context that reads back only the last row of logits.
 */
export async function* generateOnGPU(
  model: GPUModel,
  promptIds: readonly number[],
  options: GenerateOptions,
): AsyncGenerator<GeneratedToken> {
  const context = new GenerationContext(promptIds, model.config.blockSize, options);
  for (let i = 0; i < options.maxTokens; i++) {
    const { logits } = await model.forward(context.ids, { lastOnly: true });
    const token = context.draw(logits);
    yield token;
    context.append(token.id);
  }
}
