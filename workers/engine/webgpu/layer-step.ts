/**
 * A cached step of a small model in one dispatch per layer, or in one
 * dispatch for the whole step: one workgroup runs the phases (embedding,
 * then per layer LayerNorm, qkv, scores, softmax, weighted values,
 * projection, LayerNorm, MLP, then the final LayerNorm and the logits) one
 * after the other, with barriers between them instead of dispatches. On
 * SwiftShader (the software adapter in tests) a dispatch costs about as much
 * as 15 barriers, and a small model's step was mostly dispatches: nano-cpu's
 * step went from 26 dispatches to 6 (a layer each), then to 1. A wide model's
 * layer is more work than one workgroup should do: it keeps a dispatch per
 * product (inference.ts stepDispatches).
 *
 * Needs each layer's weights in one buffer (weights.ts LayerBuffer; for the
 * whole step all layers and the final LayerNorm in one, the qkv caches in one,
 * and the embedding and unembedding one block each) and every width a
 * multiple of 4 (C and the head size): everything is read as vec4s.
 */

import type { GPTConfig } from '../config.ts';
import type { ParameterName } from '../params.ts';
import { geluWGSL } from './matmul.ts';
import { type Dispatch, type GPUTensor, type Program, uniforms } from './program.ts';
import type { GPUWeights, LayerBuffer } from './weights.ts';

/** The layer's tensors, in the order of the uniforms that say where each starts. */
const LAYER_TENSORS = [
  'ln1w',
  'ln1b',
  'qkvw',
  'qkvb',
  'attprojw',
  'attprojb',
  'ln2w',
  'ln2b',
  'fcw',
  'fcb',
  'fcprojw',
  'fcprojb',
] as const satisfies readonly ParameterName[];

/** The step scratch: where each row starts, in floats (logits only for a whole step). The residual stream `x` is updated in place. */
export const stepScratchLayout = (C: number, V: number) => ({
  x: 0,
  ln: C,
  x2: 2 * C,
  atty: 3 * C,
  fc: 4 * C,
  logits: 8 * C,
  floats: 8 * C + 4 * Math.ceil(V / 4),
});

/**
 * Invocations of the one workgroup. SwiftShader runs a workgroup's invocations on one
 * thread, a few at a time, switching at every barrier: 16 to 32 ran nano-cpu's layer
 * faster there than 64 or 128, which a real GPU would prefer.
 */
const WORKGROUP = 32;

/** Whether a config's step can run a layer per dispatch. */
export const layerStepFits = (config: GPTConfig, layers: LayerBuffer[] | null, maxWidth: number): boolean =>
  layers !== null && config.nEmbd <= maxWidth && config.nEmbd % 4 === 0 && (config.nEmbd / config.nHead) % 4 === 0;

/**
 * WGSL of a layer step (`whole` false: one layer, at the offsets the uniforms
 * give) or of a whole step (`whole`: the embedding, every layer, the final
 * LayerNorm and the logits, into the scratch at u.logits).
 */
const stepWGSL = (uniformBlock: string, whole: boolean, tied: boolean, sizes: StepSizes): string => /* wgsl */ `
@group(0) @binding(0) var<storage, read> w: array<vec4f>;
@group(0) @binding(1) var<storage, read_write> qkv: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> s: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> att: array<f32>;
@group(0) @binding(4) var<storage, read> step: array<i32>;
${whole ? '@group(0) @binding(5) var<storage, read> wte: array<vec4f>;\n@group(0) @binding(6) var<storage, read> wpe: array<vec4f>;' : ''}
${whole && !tied ? '@group(0) @binding(7) var<storage, read> unembedding: array<vec4f>;' : ''}
${uniformBlock}
${geluWGSL('vec4f')}
const WG = ${WORKGROUP}u;
// The model's sizes as constants: loops of known length compile to tighter code.
const C4 = ${sizes.C4}u;
const NH = ${sizes.NH}u;
const HS4 = ${sizes.hs4}u;
const T = ${sizes.T}u;
const L = ${sizes.L}u;
const V = ${sizes.V}u;
var<workgroup> stats: vec2f;

fn phaseDone() {
  storageBarrier();
  workgroupBarrier();
}

// LayerNorm of the row at s[source] into s[u.ln] (two passes, as layernormForward; one invocation
// computes the statistics, all write the row).
fn layernorm(lid: u32, source: u32, weight: u32, bias: u32) {
  if (lid == 0u) {
    var sum = vec4f(0.0);
    for (var c = 0u; c < C4; c++) { sum += s[source + c]; }
    let m = dot(sum, vec4f(1.0)) / f32(4u * C4);
    var squares = vec4f(0.0);
    for (var c = 0u; c < C4; c++) { let d = s[source + c] - m; squares += d * d; }
    stats = vec2f(m, 1.0 / sqrt(dot(squares, vec4f(1.0)) / f32(4u * C4) + 1e-5));
  }
  workgroupBarrier();
  let st = stats;
  for (var c = lid; c < C4; c += WG) { s[u.ln + c] = (s[source + c] - st.x) * st.y * w[weight + c] + w[bias + c]; }
  phaseDone();
}

// Columns 4n..4n+3 of the row at s[input] (K4 vec4s) times the [4·K4, 4·N4] matrix at w[weight].
fn product(input: u32, K4: u32, weight: u32, N4: u32, n: u32) -> vec4f {
  var acc = vec4f(0.0);
  var at = weight + n;
  for (var k = 0u; k < K4; k++) {
    let xs = s[input + k];
    acc += xs.x * w[at] + xs.y * w[at + N4] + xs.z * w[at + 2u * N4] + xs.w * w[at + 3u * N4];
    at += 4u * N4;
  }
  return acc;
}

// One layer on the residual row s[u.x], its weights \`base\` vec4s after layer 0's, its cache from qkv[cache].
fn layer(lid: u32, base: u32, cache: u32, position: u32) {
  let keys = position + 1u;
  let row = cache + position * 3u * C4;

  layernorm(lid, u.x, base + u.ln1w, base + u.ln1b);
  // This position's query, key and value, into its row of the cache.
  for (var n = lid; n < 3u * C4; n += WG) { qkv[row + n] = w[base + u.qkvb + n] + product(u.ln, C4, base + u.qkvw, 3u * C4, n); }
  phaseDone();
  // Its query against every cached key, head by head.
  for (var i = lid; i < NH * keys; i += WG) {
    let h = i / keys;
    let j = i % keys;
    let q = row + h * HS4;
    let k = cache + j * 3u * C4 + C4 + h * HS4;
    var d = 0.0;
    for (var e = 0u; e < HS4; e++) { d += dot(qkv[q + e], qkv[k + e]); }
    att[u.attOff + h * T + j] = d * u.scale;
  }
  phaseDone();
  if (lid < NH) {
    let r = u.attOff + lid * T;
    var maxScore = -0x1.fffffep+127f;
    for (var j = 0u; j < keys; j++) { maxScore = max(maxScore, att[r + j]); }
    var sum = 0.0;
    for (var j = 0u; j < keys; j++) { let e = exp(att[r + j] - maxScore); att[r + j] = e; sum += e; }
    let inverse = 1.0 / sum;
    for (var j = 0u; j < keys; j++) { att[r + j] *= inverse; }
  }
  phaseDone();
  for (var c = lid; c < C4; c += WG) {
    let r = u.attOff + (c / HS4) * T;
    var acc = vec4f(0.0);
    var at = cache + 2u * C4 + c;
    for (var j = 0u; j < keys; j++) { acc += att[r + j] * qkv[at]; at += 3u * C4; }
    s[u.atty + c] = acc;
  }
  phaseDone();
  for (var n = lid; n < C4; n += WG) {
    s[u.x2 + n] = s[u.x + n] + w[base + u.attprojb + n] + product(u.atty, C4, base + u.attprojw, C4, n);
  }
  phaseDone();
  layernorm(lid, u.x2, base + u.ln2w, base + u.ln2b);
  for (var n = lid; n < 4u * C4; n += WG) { s[u.fc + n] = gelu(w[base + u.fcb + n] + product(u.ln, C4, base + u.fcw, 4u * C4, n)); }
  phaseDone();
  for (var n = lid; n < C4; n += WG) {
    s[u.x + n] = s[u.x2 + n] + w[base + u.fcprojb + n] + product(u.fc, 4u * C4, base + u.fcprojw, C4, n);
  }
}

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(local_invocation_index) lid: u32) {
  let position = u32(step[u.stepOff + 1u]);
${
  whole
    ? /* wgsl */ `
  let token = u32(step[u.stepOff]);
  for (var c = lid; c < C4; c += WG) { s[u.x + c] = wte[token * C4 + c] + wpe[u.wpeOff + position * C4 + c]; }
  phaseDone();
  for (var l = 0u; l < L; l++) {
    layer(lid, l * u.layerStride, u.qkvOff + l * u.cacheStride, position);
    phaseDone();
  }
  layernorm(lid, u.x, u.lnfw, u.lnfb);
  // Logits 4v..4v+3 (those past V are 0) against the unembedding's rows.
  for (var v = lid; v < (V + 3u) / 4u; v += WG) {
    var logits = vec4f(0.0);
    for (var j = 0u; j < 4u; j++) {
      let r = min(4u * v + j, V - 1u) * C4;
      var d = 0.0;
      for (var c = 0u; c < C4; c++) { d += dot(s[u.ln + c], ${tied ? 'wte' : 'unembedding'}[r + c]); }
      logits[j] = select(0.0, d, 4u * v + j < V);
    }
    s[u.logits + v] = logits;
  }`
    : /* wgsl */ `
  layer(lid, 0u, u.qkvOff, position);`
}
}`;

/** The sizes a step kernel is compiled for. */
interface StepSizes {
  C4: number;
  NH: number;
  hs4: number;
  T: number;
  L: number;
  V: number;
}

const stepSizes = (config: GPTConfig, whole: boolean): StepSizes => ({
  C4: config.nEmbd / 4,
  NH: config.nHead,
  hs4: config.nEmbd / config.nHead / 4,
  T: config.blockSize,
  L: whole ? config.nLayer : 1,
  V: whole ? config.vocabSize : 1,
});

const sizesName = (sizes: StepSizes): string => Object.values(sizes).join(' ');

/** Uniforms both kernels declare (the layer kernel leaves the whole step's at 0). */
function stepUniforms(
  config: GPTConfig,
  layer: LayerBuffer,
  bound: { offset: number }[],
  whole: Partial<Record<'L' | 'layerStride' | 'cacheStride' | 'lnfw' | 'lnfb' | 'wpeOff' | 'V' | 'logits', number>> = {},
) {
  const { nEmbd: C, nHead: NH, blockSize } = config;
  const hs = C / NH;
  const layout = stepScratchLayout(C, config.vocabSize);
  const vec4 = (floats: number) => {
    if (floats % 4 !== 0) throw new Error('a step reads vec4s: offsets must be multiples of 4 floats');
    return floats / 4;
  };
  return uniforms(
    bound.length,
    {
      C4: C / 4,
      NH,
      hs4: hs / 4,
      T: blockSize,
      ...Object.fromEntries(LAYER_TENSORS.map((name) => [name, vec4(layer.offsets[name]!)])),
      qkvOff: vec4(bound[1]!.offset),
      stepOff: bound[4]!.offset,
      attOff: bound[3]!.offset,
      x: vec4(layout.x),
      ln: vec4(layout.ln),
      x2: vec4(layout.x2),
      atty: vec4(layout.atty),
      fc: vec4(layout.fc),
      L: whole.L ?? 1,
      layerStride: whole.layerStride ?? 0,
      cacheStride: whole.cacheStride ?? 0,
      lnfw: whole.lnfw ?? 0,
      lnfb: whole.lnfb ?? 0,
      wpeOff: whole.wpeOff ?? 0,
      V: whole.V ?? 0,
      logits: whole.logits ?? 0,
    },
    { scale: 1 / Math.sqrt(hs) },
  );
}

/**
 * Layer `layer` of a cached step in one dispatch: reads the residual row at
 * `scratch` (stepScratchLayout's x) and leaves the layer's output there; the
 * position's queries, keys and values go to its row of `qkvCache`; `att`
 * [NH, blockSize] is scratch for the scores.
 */
export function layerStep(
  p: Program,
  config: GPTConfig,
  layer: LayerBuffer,
  scratch: GPUBuffer,
  qkvCache: GPUTensor,
  att: GPUTensor,
  step: GPUTensor,
): Dispatch {
  const { nEmbd: C, nHead: NH, blockSize } = config;
  const bound = [
    p.bind(layer.buffer),
    p.bind(qkvCache, blockSize * 3 * C),
    p.bind(scratch),
    p.bind(att, NH * blockSize),
    p.bind(step, 2),
  ];
  if (bound[0]!.offset !== 0 || bound[2]!.offset !== 0) throw new Error('a layer step binds whole buffers');
  const u = stepUniforms(config, layer, bound);
  const sizes = stepSizes(config, false);
  const pipeline = p.pipeline(`layer step ${sizesName(sizes)}`, () => stepWGSL(u.wgsl(), false, true, sizes));
  return p.dispatch(
    pipeline,
    bound.map((b) => b.binding),
    u.data,
    [1, 1, 1],
  );
}

/** Logits computed inside a whole step: at most this many multiply-adds (V × C) in its one workgroup. */
const WHOLE_STEP_UNEMBEDDING = 2 ** 20;

/**
 * A whole cached step in one dispatch, for small models whose layers share
 * one buffer, whose qkv caches share one, and whose embedding and
 * unembedding are one block each (nano-cpu: 1 dispatch instead of 6): the
 * logits [V] land in `scratch` at stepScratchLayout's logits. Null where the
 * model is not such a model.
 */
export function wholeStep(
  p: Program,
  config: GPTConfig,
  weights: GPUWeights,
  scratch: GPUBuffer,
  qkvCache: readonly GPUTensor[],
  att: GPUTensor,
  step: GPUTensor,
): Dispatch | null {
  const { nEmbd: C, nHead: NH, nLayer: L, blockSize, vocabSize: V, tied } = config;
  const wte = weights.rowBlocks('wte');
  const unembedding = weights.rowBlocks('unembedding');
  const cache = qkvCache.map((t) => ('buffer' in t ? t : { buffer: t, offset: 0 }));
  const sharedCache = cache.every((t, l) => t.buffer === cache[0]!.buffer && t.offset === l * blockSize * 3 * C);
  if (
    !weights.shared ||
    !weights.layers ||
    wte.length !== 1 ||
    unembedding.length !== 1 ||
    !sharedCache ||
    V * C > WHOLE_STEP_UNEMBEDDING
  ) {
    return null;
  }
  const wpe = weights.param('wpe');
  const bound = [
    p.bind(weights.shared.buffer),
    p.bind(cache[0]!.buffer),
    p.bind(scratch),
    p.bind(att, NH * blockSize),
    p.bind(step, 2),
    p.bind(wte[0]!.buffer),
    p.bind(wpe),
    ...(tied ? [] : [p.bind(unembedding[0]!.buffer)]),
  ];
  if ([0, 1, 2, 5, 7].some((i) => (bound[i]?.offset ?? 0) !== 0)) throw new Error('a whole step binds whole buffers');
  const lnf = (name: 'lnfw' | 'lnfb') => {
    const t = weights.param(name);
    return ('buffer' in t ? t.offset : 0) / 4;
  };
  const u = stepUniforms(config, weights.layers[0]!, bound, {
    L,
    layerStride: weights.shared.layerFloats / 4,
    cacheStride: (blockSize * 3 * C) / 4,
    lnfw: lnf('lnfw'),
    lnfb: lnf('lnfb'),
    wpeOff: bound[6]!.offset / 4,
    V,
    logits: stepScratchLayout(C, V).logits / 4,
  });
  const sizes = stepSizes(config, true);
  const pipeline = p.pipeline(`whole step${tied ? '' : ' untied'} ${sizesName(sizes)}`, () =>
    stepWGSL(u.wgsl(), true, tied, sizes),
  );
  return p.dispatch(
    pipeline,
    bound.map((b) => b.binding),
    u.data,
    [1, 1, 1],
  );
}
