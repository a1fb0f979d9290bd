import { expect } from 'chai';
import { requestGPU, type GPUContext } from '../../workers/engine/webgpu/device.ts';
import { Program, type Dispatch } from '../../workers/engine/webgpu/program.ts';
import * as gpu from '../../workers/engine/webgpu/forward.ts';
import * as cpu from '../../workers/engine/kernels.ts';
import { Random } from '../../workers/engine/random.ts';
import { initParameters, parameterLayout, type ParameterName } from '../../workers/engine/params.ts';
import { activationShapes, createActivations, forwardActivations, type ActivationName } from '../../workers/engine/model.ts';
import type { GPTConfig } from '../../workers/engine/config.ts';

const TOLERANCE = 1e-4;

function randomArray(random: Random, n: number, std = 1): Float32Array {
  const a = new Float32Array(n);
  random.fillNormal(a, std);
  return a;
}

function randomTokens(random: Random, n: number, V: number): Int32Array {
  return Int32Array.from({ length: n }, () => random.int(V));
}

/** Relative error norm-wise, and per entry against |expected| with a floor of 1e-2 of the largest entry. */
function expectClose(actual: Float32Array, expected: Float32Array, what: string): void {
  expect(actual.length, what).to.equal(expected.length);
  let diff = 0;
  let norm = 0;
  let largest = 0;
  for (let i = 0; i < expected.length; i++) largest = Math.max(largest, Math.abs(expected[i]));
  for (let i = 0; i < expected.length; i++) {
    const d = actual[i] - expected[i];
    diff += d * d;
    norm += expected[i] * expected[i];
    if (!(Math.abs(d) <= TOLERANCE * Math.max(Math.abs(expected[i]), 1e-2 * largest))) {
      throw new Error(`${what}[${i}]: GPU ${actual[i]} vs CPU ${expected[i]}`);
    }
  }
  expect(Math.sqrt(diff / norm), `${what} relative error`).to.be.at.most(TOLERANCE);
}

let ctx: GPUContext | null = null;
let p: Program;

/** Whether every dispatch runs one of the gemm's vec4 loops, not its scalar one; its pipelines are named by loop. */
const usesVec4Loop = (dispatches: Dispatch[]): boolean => dispatches.every((d) => !d.pipeline.label.startsWith('gemm scalar'));

async function run(dispatches: Dispatch[]): Promise<void> {
  p.device.pushErrorScope('validation');
  p.run(dispatches);
  const error = await p.device.popErrorScope();
  if (error) throw new Error(error.message);
}

describe('WebGPU forward kernels against the CPU kernels', function () {
  before(async function () {
    ctx = await requestGPU();
    if (!ctx) this.skip();
    p = new Program(ctx);
  });
  after(() => p?.destroy());

  it('requestGPU finds an adapter here and describes it', () => {
    expect(ctx!.adapterInfo.architecture).to.be.a('string');
    expect(ctx!.adapterInfo.vendor.length + ctx!.adapterInfo.architecture.length).to.be.greaterThan(0);
    expect(ctx!.adapterInfo.isFallbackAdapter).to.be.a('boolean');
    expect(ctx!.limits.maxStorageBufferBindingSize).to.be.greaterThan(0);
    expect(ctx!.limits.maxComputeWorkgroupsPerDimension).to.be.greaterThan(0);
  });

  it('encoderForward', async () => {
    const random = new Random(11);
    for (const [B, T, C, V] of [
      [1, 1, 1, 2],
      [2, 5, 7, 13],
      [3, 17, 64, 97],
    ]) {
      const tokens = randomTokens(random, B * T, V);
      const wte = randomArray(random, V * C);
      const wpe = randomArray(random, T * C);
      const expected = new Float32Array(B * T * C);
      cpu.encoderForward(expected, tokens, wte, wpe, B, T, C);
      const out = p.buffer(B * T * C * 4);
      await run(gpu.encoderForward(p, out, p.upload(tokens), p.upload(wte), p.upload(wpe), B, T, C));
      expectClose(await p.read(out, B * T * C), expected, `encoder ${B}×${T}×${C}`);
    }
  });

  it('layernormForward writes out, mean and rstd', async () => {
    const random = new Random(12);
    for (const [N, C] of [
      [1, 3],
      [7, 13],
      [70, 64],
      [33, 768],
    ]) {
      const inp = randomArray(random, N * C, 2);
      for (let i = 0; i < inp.length; i++) inp[i] += 0.5; // rows with a nonzero mean
      const weight = randomArray(random, C);
      const bias = randomArray(random, C);
      const [out, mean, rstd] = [new Float32Array(N * C), new Float32Array(N), new Float32Array(N)];
      cpu.layernormForward(out, mean, rstd, inp, weight, bias, N, C);
      const [gOut, gMean, gRstd] = [p.buffer(N * C * 4), p.buffer(N * 4), p.buffer(N * 4)];
      await run(gpu.layernormForward(p, gOut, gMean, gRstd, p.upload(inp), p.upload(weight), p.upload(bias), N, C));
      expectClose(await p.read(gOut, N * C), out, `layernorm out ${N}×${C}`);
      expectClose(await p.read(gMean, N), mean, `layernorm mean ${N}×${C}`);
      expectClose(await p.read(gRstd, N), rstd, `layernorm rstd ${N}×${C}`);
    }
  });

  it('matmulForward, with and without bias, at sizes that are and are not multiples of 4', async () => {
    const random = new Random(13);
    for (const [N, C, OC] of [
      [1, 1, 1],
      [5, 3, 7],
      [8, 16, 12],
      [13, 64, 192],
      [130, 67, 61],
      [64, 256, 64],
      [3, 4, 4],
      [70, 36, 8],
      [9, 12, 13],
    ]) {
      const inp = randomArray(random, N * C);
      const weight = randomArray(random, C * OC);
      for (const withBias of [true, false]) {
        const bias = withBias ? randomArray(random, OC) : new Float32Array(OC);
        const expected = new Float32Array(N * OC);
        cpu.matmulForward(expected, inp, weight, bias, N, C, OC);
        const out = p.buffer(N * OC * 4);
        const dispatches = gpu.matmulForward(p, out, p.upload(inp), p.upload(weight), withBias ? p.upload(bias) : null, N, C, OC);
        // Whole buffers start aligned: the weight's rows, OC wide, alone decide between the loops.
        expect(usesVec4Loop(dispatches), `vec4 loop at ${N}×${C}×${OC}`).to.equal(OC % 4 === 0);
        await run(dispatches);
        expectClose(await p.read(out, N * OC), expected, `matmul ${N}×${C}×${OC} bias ${withBias}`);
      }
    }
  });

  it('matmulForward and unembedForward on slices of shared buffers, at offsets off and on multiples of 4', async () => {
    const random = new Random(14);
    const [N, C, OC] = [9, 8, 12];
    // Gaps before inp, weight and bias in one buffer, and where out starts in its own.
    for (const [gaps, outOff, aligned] of [
      [[3, 2, 2], 5, false],
      [[4, 8, 1], 3, true],
      [[68, 4, 4], 20, true],
    ] as const) {
      const inp = randomArray(random, N * C);
      const weight = randomArray(random, C * OC);
      const bias = randomArray(random, OC);
      const inpOff = gaps[0];
      const weightOff = inpOff + N * C + gaps[1];
      const biasOff = weightOff + C * OC + gaps[2];
      const packed = new Float32Array(biasOff + OC);
      packed.set(inp, inpOff);
      packed.set(weight, weightOff);
      packed.set(bias, biasOff);
      const buffer = p.upload(packed);
      const out = p.buffer((outOff + N * OC) * 4);
      const what = `at offsets ${inpOff}, ${weightOff}, ${biasOff} → ${outOff}`;

      const expected = new Float32Array(N * OC);
      cpu.matmulForward(expected, inp, weight, bias, N, C, OC);
      const matmul = gpu.matmulForward(
        p,
        { buffer: out, offset: outOff },
        { buffer, offset: inpOff },
        { buffer, offset: weightOff },
        { buffer, offset: biasOff },
        N,
        C,
        OC,
      );
      expect(usesVec4Loop(matmul), `matmul vec4 loop ${what}`).to.equal(aligned);
      await run(matmul);
      expectClose(await p.read(out, N * OC, outOff), expected, `matmul ${what}`);

      // The same weight read as [OC, C], the unembedding's layout.
      const logits = new Float32Array(N * OC);
      cpu.unembedForward(logits, inp, weight, N, C, OC);
      const unembed = gpu.unembedForward(
        p,
        { buffer: out, offset: outOff },
        { buffer, offset: inpOff },
        { buffer, offset: weightOff },
        N,
        C,
        OC,
      );
      expect(usesVec4Loop(unembed), `unembed vec4 loop ${what}`).to.equal(aligned);
      await run(unembed);
      expectClose(await p.read(out, N * OC, outOff), logits, `unembed ${what}`);
    }
  });

  it('unembedForward, also split over the vocabulary when the matrix exceeds one binding', async () => {
    const random = new Random(15);
    /** Fresh inputs through unembedForward on `program`; checked against the CPU. */
    const unembedOn = async (program: Program, N: number, C: number, V: number): Promise<Dispatch[]> => {
      const inp = randomArray(random, N * C);
      const weight = randomArray(random, V * C);
      const expected = new Float32Array(N * V);
      cpu.unembedForward(expected, inp, weight, N, C, V);
      const logits = program.buffer(N * V * 4);
      const dispatches = gpu.unembedForward(program, logits, program.upload(inp), program.upload(weight), N, C, V);
      await run(dispatches); // the same device as p: its validation errors are caught too
      expectClose(await program.read(logits, N * V), expected, `unembed ${N}×${C}×${V}`);
      return dispatches;
    };
    for (const [N, C, V] of [
      [1, 4, 1],
      [6, 7, 13],
      [20, 64, 97],
      [9, 32, 1001],
      [5, 12, 8],
      [7, 18, 16],
    ] as const) {
      const dispatches = await unembedOn(p, N, C, V);
      // Columns past V are clamped, so only C decides between the two loops.
      expect(usesVec4Loop(dispatches), `vec4 loop at ${N}×${C}×${V}`).to.equal(C % 4 === 0);
    }
    // A device whose bindings hold only 4 KiB: the weight [1001, 32] needs 34 chunks.
    const small = new Program({ ...ctx!, limits: { ...ctx!.limits, maxStorageBufferBindingSize: 4096 } });
    expect((await unembedOn(small, 5, 32, 1001)).length).to.be.greaterThan(1);
    small.destroy();
  });

  it('attentionForward: scores for every key, masked weights exactly 0', async () => {
    const random = new Random(16);
    for (const [B, T, C, NH] of [
      [1, 1, 4, 1],
      [2, 5, 6, 2],
      [1, 13, 15, 3],
      [4, 64, 64, 4],
    ]) {
      const qkv = randomArray(random, B * T * 3 * C);
      const [out, preatt, att] = [
        new Float32Array(B * T * C),
        new Float32Array(B * NH * T * T),
        new Float32Array(B * NH * T * T),
      ];
      cpu.attentionForward(out, preatt, att, qkv, B, T, C, NH);
      const [gOut, gPre, gAtt] = [p.buffer(out.length * 4), p.buffer(preatt.length * 4), p.buffer(att.length * 4)];
      await run(gpu.attentionForward(p, gOut, gPre, gAtt, p.upload(qkv), B, T, C, NH));
      const what = `attention ${B}×${T}×${C}/${NH}`;
      expectClose(await p.read(gPre, preatt.length), preatt, `${what} preatt`);
      const weights = await p.read(gAtt, att.length);
      expectClose(weights, att, `${what} att`);
      expectClose(await p.read(gOut, out.length), out, `${what} out`);
      for (let row = 0; row < B * NH * T; row++) {
        const t = row % T;
        for (let j = t + 1; j < T; j++) expect(weights[row * T + j]).to.equal(0);
      }
    }
  });

  it('geluForward and residualForward (also in place)', async () => {
    const random = new Random(17);
    for (const N of [1, 7, 4096 + 3]) {
      const inp = randomArray(random, N, 3);
      const expected = new Float32Array(N);
      // The tanh formula itself, in float64: an independent reference for the x·σ(2u) form.
      for (let i = 0; i < N; i++) {
        const x = inp[i];
        expected[i] = 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
      }
      const out = p.buffer(N * 4);
      await run(gpu.geluForward(p, out, p.upload(inp), N));
      expectClose(await p.read(out, N), expected, `gelu ${N}`);

      const other = randomArray(random, N);
      const sum = new Float32Array(N);
      cpu.residualForward(sum, inp, other, N);
      const a = p.upload(inp);
      await run(gpu.residualForward(p, out, a, p.upload(other), N));
      expectClose(await p.read(out, N), sum, `residual ${N}`);
      await run(gpu.residualForward(p, a, a, p.upload(other), N));
      expectClose(await p.read(a, N), sum, `residual in place ${N}`);
    }
  });

  it('crossEntropyForward, also in row chunks', async () => {
    const random = new Random(18);
    for (const [N, V, bindingLimit] of [
      [1, 2, 0],
      [9, 97, 0],
      [65, 1000, 0],
      [13, 37, 256 + 37 * 4 * 3],
    ]) {
      const logits = randomArray(random, N * V, 4);
      const targets = randomTokens(random, N, V);
      const expected = new Float32Array(N);
      cpu.crossEntropyForward(expected, logits, targets, N, V);
      const program = bindingLimit
        ? new Program({ ...ctx!, limits: { ...ctx!.limits, maxStorageBufferBindingSize: bindingLimit } })
        : p;
      const losses = program.buffer(N * 4);
      const dispatches = gpu.crossEntropyForward(program, losses, program.upload(logits), program.upload(targets), N, V);
      if (bindingLimit) expect(dispatches.length).to.equal(5);
      await run(dispatches);
      expectClose(await program.read(losses, N), expected, `cross-entropy ${N}×${V}`);
    }
  });

  it("a whole-model forward pass in one command encoder gives the CPU model's logits", async () => {
    const config: GPTConfig = { vocabSize: 37, blockSize: 16, nLayer: 2, nHead: 3, nEmbd: 24, tied: true };
    const [B, T] = [2, 11];
    const { vocabSize: V, nLayer: L, nHead: NH, nEmbd: C } = config;
    const N = B * T;
    const params = initParameters(config, 19);
    // Perturb biases and LayerNorm parameters away from their 0/1 initial values so every input matters.
    const random = new Random(20);
    for (let i = 0; i < params.data.length; i++) params.data[i] += 0.05 * random.normal();
    const tokens = randomTokens(random, N, V);
    const expected = forwardActivations(params, tokens, B, T, createActivations(config, B, T)).logits;

    // Parameters in one flat buffer, as the integration will keep them; each activation in its own.
    const { offsets, sizes } = parameterLayout(config);
    const flat = p.upload(params.data);
    const param = (name: ParameterName, layer = 0) => ({ buffer: flat, offset: offsets[name] + (layer * sizes[name]) / L });
    const shapes = activationShapes(config, B, T);
    const acts = {} as Record<ActivationName, GPUBuffer>;
    for (const name of Object.keys(shapes) as ActivationName[])
      acts[name] = p.buffer(shapes[name].reduce((a, b) => a * b, 1) * 4);
    const act = (name: ActivationName, layer: number) => ({
      buffer: acts[name],
      offset: layer * shapes[name].slice(1).reduce((a, b) => a * b, 1),
    });

    const d: Dispatch[] = [];
    d.push(...gpu.encoderForward(p, acts.encoded, p.upload(tokens), param('wte'), param('wpe'), B, T, C));
    let residual: { buffer: GPUBuffer; offset: number } = { buffer: acts.encoded, offset: 0 };
    for (let l = 0; l < L; l++) {
      const a = (name: ActivationName) => act(name, l);
      const w = (name: ParameterName) => param(name, l);
      d.push(...gpu.layernormForward(p, a('ln1'), a('ln1Mean'), a('ln1Rstd'), residual, w('ln1w'), w('ln1b'), N, C));
      d.push(...gpu.matmulForward(p, a('qkv'), a('ln1'), w('qkvw'), w('qkvb'), N, C, 3 * C));
      d.push(...gpu.attentionForward(p, a('atty'), a('preatt'), a('att'), a('qkv'), B, T, C, NH));
      d.push(...gpu.matmulForward(p, a('attproj'), a('atty'), w('attprojw'), w('attprojb'), N, C, C));
      d.push(...gpu.residualForward(p, a('residual2'), residual, a('attproj'), N * C));
      d.push(...gpu.layernormForward(p, a('ln2'), a('ln2Mean'), a('ln2Rstd'), a('residual2'), w('ln2w'), w('ln2b'), N, C));
      d.push(...gpu.matmulForward(p, a('fch'), a('ln2'), w('fcw'), w('fcb'), N, C, 4 * C));
      d.push(...gpu.geluForward(p, a('fchGelu'), a('fch'), N * 4 * C));
      d.push(...gpu.matmulForward(p, a('fcproj'), a('fchGelu'), w('fcprojw'), w('fcprojb'), N, 4 * C, C));
      d.push(...gpu.residualForward(p, a('residual3'), a('residual2'), a('fcproj'), N * C));
      residual = a('residual3');
    }
    d.push(...gpu.layernormForward(p, acts.lnf, acts.lnfMean, acts.lnfRstd, residual, param('lnfw'), param('lnfb'), N, C));
    d.push(...gpu.unembedForward(p, acts.logits, acts.lnf, param('wte'), N, C, V));
    const encoder = p.device.createCommandEncoder();
    p.encode(encoder, d);
    p.device.pushErrorScope('validation');
    p.device.queue.submit([encoder.finish()]);
    const error = await p.device.popErrorScope();
    if (error) throw new Error(error.message);
    expectClose(await p.read(acts.logits, N * V), expected, 'logits');
  });

  it('matmulForward and unembedForward speed (logged, not checked)', async () => {
    const random = new Random(21);
    const logSpeed = async (what: string, dispatches: Dispatch[], flops: number) => {
      p.run(dispatches);
      await p.device.queue.onSubmittedWorkDone();
      const repeats = 10;
      const start = performance.now();
      p.run(Array.from({ length: repeats }, () => dispatches).flat());
      await p.device.queue.onSubmittedWorkDone();
      const seconds = (performance.now() - start) / 1000;
      console.log(
        `${what} on ${ctx!.adapterInfo.architecture || ctx!.adapterInfo.vendor}: ${((flops * repeats) / seconds / 1e9).toFixed(2)} GFLOP/s`,
      );
    };
    for (const [N, C, OC] of [
      [768, 128, 512],
      [512, 512, 512],
    ]) {
      const [out, inp, weight] = [
        p.buffer(N * OC * 4),
        p.upload(randomArray(random, N * C)),
        p.upload(randomArray(random, C * OC)),
      ];
      await logSpeed(
        `matmulForward ${N}×${C}·${C}×${OC}`,
        gpu.matmulForward(p, out, inp, weight, p.upload(randomArray(random, OC)), N, C, OC),
        2 * N * C * OC,
      );
      await logSpeed(`unembedForward ${N}×${C}·(${OC}×${C})ᵀ`, gpu.unembedForward(p, out, inp, weight, N, C, OC), 2 * N * C * OC);
    }
  });
});
