/**
 * A whole layer of a cached step in one dispatch, for small models: one
 * workgroup runs the layer's phases (LayerNorm, qkv, scores, softmax, weighted
 * values, projection, LayerNorm, MLP) one after the other, with barriers
 * between them instead of dispatches. On SwiftShader (the software adapter in
 * tests) a dispatch costs about as much as 15 barriers, and a small model's
 * step is mostly dispatches: nano-cpu's step goes from 26 dispatches to 6.
 * A wide model's layer is more work than one workgroup should do: it takes the
 * dispatch per product path (inference.ts stepDispatches).
 *
 * Needs the layer's weights in one buffer (weights.ts LayerBuffer) and every
 * width a multiple of 4 (C and the head size): everything is read as vec4s.
 */

import type { GPTConfig } from '../config.ts';
import type { ParameterName } from '../params.ts';
import { geluWGSL } from './matmul.ts';
import { type Dispatch, type GPUTensor, type Program, uniforms } from './program.ts';
import type { LayerBuffer } from './weights.ts';

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

/** The step scratch [8C]: where each row starts, in floats. The residual stream `x` is updated in place. */
export const stepScratchLayout = (C: number) => ({ x: 0, ln: C, x2: 2 * C, atty: 3 * C, fc: 4 * C, floats: 8 * C });

/**
 * Invocations of the one workgroup. SwiftShader runs a workgroup's invocations on one
 * thread, a few at a time, switching at every barrier: 16 to 32 ran nano-cpu's layer
 * faster there than 64 or 128, which a real GPU would prefer.
 */
const WORKGROUP = 32;

/** Whether a config's step can run a layer per dispatch. */
export const layerStepFits = (config: GPTConfig, layers: LayerBuffer[] | null, maxWidth: number): boolean =>
  layers !== null && config.nEmbd <= maxWidth && config.nEmbd % 4 === 0 && (config.nEmbd / config.nHead) % 4 === 0;

const layerStepWGSL = (uniformBlock: string): string => /* wgsl */ `
@group(0) @binding(0) var<storage, read> w: array<vec4f>;
@group(0) @binding(1) var<storage, read_write> qkv: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> s: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> att: array<f32>;
@group(0) @binding(4) var<storage, read> step: array<i32>;
${uniformBlock}
${geluWGSL('vec4f')}
const WG = ${WORKGROUP}u;
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
    for (var c = 0u; c < u.C4; c++) { sum += s[source + c]; }
    let m = dot(sum, vec4f(1.0)) / f32(4u * u.C4);
    var squares = vec4f(0.0);
    for (var c = 0u; c < u.C4; c++) { let d = s[source + c] - m; squares += d * d; }
    stats = vec2f(m, 1.0 / sqrt(dot(squares, vec4f(1.0)) / f32(4u * u.C4) + 1e-5));
  }
  workgroupBarrier();
  let st = stats;
  for (var c = lid; c < u.C4; c += WG) { s[u.ln + c] = (s[source + c] - st.x) * st.y * w[weight + c] + w[bias + c]; }
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

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(local_invocation_index) lid: u32) {
  let C4 = u.C4;
  let position = u32(step[u.stepOff + 1u]);
  let keys = position + 1u;
  let row = u.qkvOff + position * 3u * C4;

  layernorm(lid, u.x, u.ln1w, u.ln1b);
  // This position's query, key and value, into its row of the cache.
  for (var n = lid; n < 3u * C4; n += WG) { qkv[row + n] = w[u.qkvb + n] + product(u.ln, C4, u.qkvw, 3u * C4, n); }
  phaseDone();
  // Its query against every cached key, head by head.
  for (var i = lid; i < u.NH * keys; i += WG) {
    let h = i / keys;
    let j = i % keys;
    let q = row + h * u.hs4;
    let k = u.qkvOff + j * 3u * C4 + C4 + h * u.hs4;
    var d = 0.0;
    for (var e = 0u; e < u.hs4; e++) { d += dot(qkv[q + e], qkv[k + e]); }
    att[u.attOff + h * u.T + j] = d * u.scale;
  }
  phaseDone();
  if (lid < u.NH) {
    let r = u.attOff + lid * u.T;
    var maxScore = -0x1.fffffep+127f;
    for (var j = 0u; j < keys; j++) { maxScore = max(maxScore, att[r + j]); }
    var sum = 0.0;
    for (var j = 0u; j < keys; j++) { let e = exp(att[r + j] - maxScore); att[r + j] = e; sum += e; }
    let inverse = 1.0 / sum;
    for (var j = 0u; j < keys; j++) { att[r + j] *= inverse; }
  }
  phaseDone();
  for (var c = lid; c < C4; c += WG) {
    let r = u.attOff + (c / u.hs4) * u.T;
    var acc = vec4f(0.0);
    var at = u.qkvOff + 2u * C4 + c;
    for (var j = 0u; j < keys; j++) { acc += att[r + j] * qkv[at]; at += 3u * C4; }
    s[u.atty + c] = acc;
  }
  phaseDone();
  for (var n = lid; n < C4; n += WG) { s[u.x2 + n] = s[u.x + n] + w[u.attprojb + n] + product(u.atty, C4, u.attprojw, C4, n); }
  phaseDone();
  layernorm(lid, u.x2, u.ln2w, u.ln2b);
  for (var n = lid; n < 4u * C4; n += WG) { s[u.fc + n] = gelu(w[u.fcb + n] + product(u.ln, C4, u.fcw, 4u * C4, n)); }
  phaseDone();
  for (var n = lid; n < C4; n += WG) { s[u.x + n] = s[u.x2 + n] + w[u.fcprojb + n] + product(u.fc, 4u * C4, u.fcprojw, C4, n); }
}`;

/**
 * Layer `layer` of a cached step in one dispatch: reads the residual row at
 * `scratch` (stepScratchLayout's x) and leaves the layer's output there; the
 * position's queries, keys and values go to its row of `qkvCache`; `att`
 * [NH, blockSize] is scratch for the scores.
 */
export function layerStep(
  p: Program,
  config: GPTConfig,
  weights: LayerBuffer,
  scratch: GPUBuffer,
  qkvCache: GPUBuffer,
  att: GPUTensor,
  step: GPUTensor,
): Dispatch {
  const { nEmbd: C, nHead: NH, blockSize } = config;
  const hs = C / NH;
  const bound = [p.bind(weights.buffer), p.bind(qkvCache), p.bind(scratch), p.bind(att, NH * blockSize), p.bind(step, 2)];
  if (bound.slice(0, 3).some((b) => b.offset !== 0)) throw new Error('a layer step binds whole buffers');
  const layout = stepScratchLayout(C);
  const vec4 = (floats: number) => floats / 4;
  const tensorOffsets = Object.fromEntries(LAYER_TENSORS.map((name) => [name, vec4(weights.offsets[name]!)]));
  const u = uniforms(
    bound.length,
    {
      C4: C / 4,
      NH,
      hs4: hs / 4,
      T: blockSize,
      ...tensorOffsets,
      qkvOff: 0,
      stepOff: bound[4]!.offset,
      attOff: bound[3]!.offset,
      x: vec4(layout.x),
      ln: vec4(layout.ln),
      x2: vec4(layout.x2),
      atty: vec4(layout.atty),
      fc: vec4(layout.fc),
    },
    { scale: 1 / Math.sqrt(hs) },
  );
  const pipeline = p.pipeline('layer step', () => layerStepWGSL(u.wgsl()));
  return p.dispatch(
    pipeline,
    bound.map((b) => b.binding),
    u.data,
    [1, 1, 1],
  );
}
