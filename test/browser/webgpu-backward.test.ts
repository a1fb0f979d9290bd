// The GPU backward kernels, AdamW and clipping against the CPU ones (themselves
// tested against finite differences in engine-backward.test.ts) on the same fixed-seed
// random inputs. Gradient buffers start random, not zero: the kernels must add.
// Sizes are deliberately not multiples of 4 (the gemm block) or of the workgroups.
import { expect } from 'chai';
import type { GPTConfig } from '../../workers/engine/config.ts';
import * as cpu from '../../workers/engine/kernels.ts';
import { AdamW, clipGradientNorm } from '../../workers/engine/optimizer.ts';
import { createParameters, parameterLayout } from '../../workers/engine/params.ts';
import { Random } from '../../workers/engine/random.ts';
import * as gpu from '../../workers/engine/webgpu/backward.ts';
import { requestGPU } from '../../workers/engine/webgpu/device.ts';
import { AdamWGPU, clipGradientNorm as clipGradientNormGPU, decaySegments } from '../../workers/engine/webgpu/optimizer.ts';
import { type Dispatch, type GPUTensor, Program } from '../../workers/engine/webgpu/program.ts';
import { expectClose, expectCloseToScale, randomArray, randomTokens } from './engine-reference.ts';

const random = new Random(27_182_818);
const TOLERANCE = 1e-4;

type HostArray = Float32Array | Int32Array;
/**
 * Tensors start this many floats into their buffers: kernels must honour
 * offsets and stay inside. A multiple of 4 where the sizes are too, so the
 * gemm's vec4 paths run.
 */
const padFor = (...sizes: number[]): number => (sizes.every((n) => n % 4 === 0) ? 8 : 5);

describe('WebGPU backward kernels', () => {
  let program: Program;

  before(async function () {
    const ctx = await requestGPU();
    if (!ctx) this.skip();
    program = new Program(ctx);
  });

  after(() => program?.destroy());

  /**
   * Uploads `arrays`, each `pad` floats into its own buffer between random
   * floats, runs the dispatches `build` makes on those slices and returns what
   * the slices at `outputs` hold afterwards (checking the floats around them
   * were left alone); the CPU kernel then runs on the host arrays themselves.
   */
  async function onGPU(
    arrays: HostArray[],
    outputs: number[],
    build: (tensors: GPUTensor[]) => Dispatch[],
    p = program,
    pads: number | number[] = 5,
  ): Promise<Float32Array[]> {
    const padOf = (i: number): number => (typeof pads === 'number' ? pads : pads[i]!);
    const padded = arrays.map((a, i) => {
      const pad = padOf(i);
      const whole = a instanceof Int32Array ? new Int32Array(a.length + 2 * pad) : randomArray(random, a.length + 2 * pad);
      whole.set(a, pad);
      return whole;
    });
    const buffers = padded.map((a) => p.upload(a));
    p.device.pushErrorScope('validation');
    p.run(build(buffers.map((buffer, i) => ({ buffer, offset: padOf(i) }))));
    const error = await p.device.popErrorScope();
    if (error) expect.fail(`WebGPU validation error: ${error.message}`);
    return Promise.all(
      outputs.map(async (i) => {
        const whole = await p.read(buffers[i]!, padded[i]!.length);
        const n = arrays[i]!.length;
        const pad = padOf(i);
        expect(Array.from(whole.subarray(0, pad)), 'floats before the tensor').to.deep.equal(
          Array.from(padded[i]!.subarray(0, pad)),
        );
        expect(Array.from(whole.subarray(pad + n)), 'floats after the tensor').to.deep.equal(
          Array.from(padded[i]!.subarray(pad + n)),
        );
        return whole.slice(pad, pad + n);
      }),
    );
  }

  function expectAllClose(actual: Float32Array[], expected: Float32Array[], rtol = TOLERANCE): void {
    expected.forEach((e, i) => expectCloseToScale(actual[i]!, e, rtol));
  }

  for (const [B, T, C, V] of [
    [2, 5, 7, 3],
    [3, 9, 70, 5],
  ] as const) {
    it(`encoderBackward B=${B} T=${T} C=${C} V=${V}: repeated tokens add up`, async () => {
      const tokens = Int32Array.from(randomTokens(random, B * T, V));
      const dwte = randomArray(random, V * C);
      const dwpe = randomArray(random, T * C);
      const dout = randomArray(random, B * T * C);
      const got = await onGPU([dwte, dwpe, dout, tokens], [0, 1], ([a, b, d, t]) =>
        gpu.encoderBackward(program, a!, b!, d!, t!, B, T, C),
      );
      cpu.encoderBackward(dwte, dwpe, dout, tokens, B, T, C);
      expectAllClose(got, [dwte, dwpe]);
    });
  }

  for (const [N, C] of [
    [9, 77],
    [70, 13],
    [3, 1],
  ] as const) {
    it(`layernormBackward N=${N} C=${C}`, async () => {
      const inp = randomArray(random, N * C);
      const weight = randomArray(random, C);
      const mean = new Float32Array(N);
      const rstd = new Float32Array(N);
      cpu.layernormForward(new Float32Array(N * C), mean, rstd, inp, weight, randomArray(random, C), N, C);
      const dinp = randomArray(random, N * C);
      const dweight = randomArray(random, C);
      const dbias = randomArray(random, C);
      const dout = randomArray(random, N * C);
      const got = await onGPU([dinp, dweight, dbias, dout, inp, weight, mean, rstd], [0, 1, 2], (b) =>
        gpu.layernormBackward(program, b[0]!, b[1]!, b[2]!, b[3]!, b[4]!, b[5]!, b[6]!, b[7]!, N, C),
      );
      cpu.layernormBackward(dinp, dweight, dbias, dout, inp, weight, mean, rstd, N, C);
      expectAllClose(got, [dinp, dweight, dbias]);
    });
  }

  // Aligned sizes take the gemm's vec4 paths; the last case offsets some tensors
  // onto vec4 boundaries and some off them, mixing vec4 and scalar loads.
  const matmulCases: [number, number, number, boolean, number[]?][] = [
    [37, 13, 70, true],
    [70, 45, 99, false],
    [5, 3, 1, true],
    [36, 12, 40, true],
    [68, 20, 8, false],
    [24, 16, 12, true, [8, 4, 3, 8, 5, 5]],
  ];
  for (const [N, C, OC, withBias, pads] of matmulCases) {
    it(`matmulBackward N=${N} C=${C} OC=${OC} ${withBias ? 'with' : 'without'} bias${pads ? ', mixed offsets' : ''}`, async () => {
      const dinp = randomArray(random, N * C);
      const dweight = randomArray(random, C * OC);
      const dbias = randomArray(random, OC);
      const dout = randomArray(random, N * OC);
      const inp = randomArray(random, N * C);
      const weight = randomArray(random, C * OC);
      const got = await onGPU(
        [dinp, dweight, dbias, dout, inp, weight],
        [0, 1, 2],
        (b) => gpu.matmulBackward(program, b[0]!, b[1]!, withBias ? b[2]! : null, b[3]!, b[4]!, b[5]!, N, C, OC),
        program,
        pads ?? padFor(N, C, OC),
      );
      const untouchedBias = dbias.slice();
      cpu.matmulBackward(dinp, dweight, withBias ? dbias : null, dout, inp, weight, N, C, OC);
      expectAllClose(got, [dinp, dweight, withBias ? dbias : untouchedBias]);
    });
  }

  // Through a GELU the input gradient also takes the GELU's backward as it is stored: on the
  // transposed-weight path (multiples of 4) and on the strided one.
  for (const [N, C, OC] of [
    [36, 12, 40],
    [37, 13, 70],
  ] as const) {
    it(`matmulBackward through GELU N=${N} C=${C} OC=${OC}`, async () => {
      const dinp = randomArray(random, N * C);
      const dweight = randomArray(random, C * OC);
      const dbias = randomArray(random, OC);
      const dout = randomArray(random, N * OC);
      const inp = randomArray(random, N * C);
      const weight = randomArray(random, C * OC);
      const dpre = randomArray(random, N * C);
      const pre = randomArray(random, N * C, 2);
      const got = await onGPU(
        [dinp, dweight, dbias, dout, inp, weight, dpre, pre],
        [0, 1, 2, 6],
        (b) => gpu.matmulBackward(program, b[0]!, b[1]!, b[2]!, b[3]!, b[4]!, b[5]!, N, C, OC, { dinp: b[6]!, inp: b[7]! }),
        program,
        padFor(N, C, OC),
      );
      cpu.matmulBackward(dinp, dweight, dbias, dout, inp, weight, N, C, OC);
      cpu.geluBackward(dpre, pre, dinp, N * C);
      expectAllClose(got, [dinp, dweight, dbias, dpre]);
    });
  }

  for (const [N, C, V] of [
    [13, 6, 67],
    [40, 33, 5],
    [12, 16, 44],
  ] as const) {
    it(`unembedBackward N=${N} C=${C} V=${V}`, async () => {
      const dinp = randomArray(random, N * C);
      const dweight = randomArray(random, V * C);
      const dlogits = randomArray(random, N * V);
      const inp = randomArray(random, N * C);
      const weight = randomArray(random, V * C);
      const got = await onGPU(
        [dinp, dweight, dlogits, inp, weight],
        [0, 1],
        (b) => gpu.unembedBackward(program, b[0]!, b[1]!, b[2]!, b[3]!, b[4]!, N, C, V),
        program,
        padFor(N, C, V),
      );
      cpu.unembedBackward(dinp, dweight, dlogits, inp, weight, N, C, V);
      expectAllClose(got, [dinp, dweight]);
    });
  }

  for (const [B, T, C, NH] of [
    [2, 7, 12, 3],
    [1, 11, 10, 2],
    [3, 37, 18, 2],
    [2, 12, 16, 2],
  ] as const) {
    it(`attentionBackward B=${B} T=${T} C=${C} NH=${NH}: dqkv added, datt and dpreatt written`, async () => {
      const qkv = randomArray(random, B * T * 3 * C);
      const att = new Float32Array(B * NH * T * T);
      cpu.attentionForward(new Float32Array(B * T * C), new Float32Array(B * NH * T * T), att, qkv, B, T, C, NH);
      const dqkv = randomArray(random, B * T * 3 * C);
      const dpreatt = randomArray(random, B * NH * T * T);
      const datt = randomArray(random, B * NH * T * T);
      const dout = randomArray(random, B * T * C);
      const got = await onGPU(
        [dqkv, dpreatt, datt, dout, qkv, att],
        [0, 1, 2],
        (b) => gpu.attentionBackward(program, b[0]!, b[1]!, b[2]!, b[3]!, b[4]!, b[5]!, B, T, C, NH),
        program,
        padFor(T, C / NH),
      );
      cpu.attentionBackward(dqkv, dpreatt, datt, dout, qkv, att, B, T, C, NH);
      expectAllClose(got, [dqkv, dpreatt, datt]);
    });
  }

  it('geluBackward over 1003 floats', async () => {
    const N = 1003;
    const dinp = randomArray(random, N);
    const inp = randomArray(random, N, 3);
    const dout = randomArray(random, N);
    const got = await onGPU([dinp, inp, dout], [0], (b) => gpu.geluBackward(program, b[0]!, b[1]!, b[2]!, N));
    cpu.geluBackward(dinp, inp, dout, N);
    expectAllClose(got, [dinp]);
  });

  it('residualBackward over 301 floats', async () => {
    const N = 301;
    const da = randomArray(random, N);
    const db = randomArray(random, N);
    const dout = randomArray(random, N);
    const got = await onGPU([da, db, dout], [0, 1], (b) => gpu.residualBackward(program, b[0]!, b[1]!, b[2]!, N));
    cpu.residualBackward(da, db, dout, N);
    expectAllClose(got, [da, db]);
  });

  for (const [N, V] of [
    [13, 67],
    [70, 3],
  ] as const) {
    it(`crossEntropySoftmaxBackward N=${N} V=${V} writes over what dlogits held`, async () => {
      const dlogits = randomArray(random, N * V);
      const logits = randomArray(random, N * V, 4);
      const targets = Int32Array.from(randomTokens(random, N, V));
      const got = await onGPU([dlogits, logits, targets], [0], (b) =>
        gpu.crossEntropySoftmaxBackward(program, b[0]!, b[1]!, b[2]!, N, V, 1 / N),
      );
      cpu.crossEntropySoftmaxBackward(dlogits, logits, targets, N, V, 1 / N);
      expectAllClose(got, [dlogits]);
    });
  }

  /** Runs `dispatches` `repeats` times in one submission and returns the seconds per run. */
  async function timed(dispatches: Dispatch[], repeats = 10): Promise<number> {
    program.device.pushErrorScope('validation');
    program.run(dispatches);
    const error = await program.device.popErrorScope();
    if (error) expect.fail(`WebGPU validation error: ${error.message}`);
    await program.device.queue.onSubmittedWorkDone();
    const start = performance.now();
    program.run(Array.from({ length: repeats }, () => dispatches).flat());
    await program.device.queue.onSubmittedWorkDone();
    return (performance.now() - start) / 1000 / repeats;
  }

  it('speed at nano-cpu training sizes (logged)', async () => {
    const [B, T, C, NH] = [12, 64, 128, 4];
    const N = B * T;
    const floats = (n: number) => program.upload(randomArray(random, n));
    const matmul = gpu.matmulBackward(
      program,
      floats(N * C),
      floats(C * 4 * C),
      floats(4 * C),
      floats(N * 4 * C),
      floats(N * C),
      floats(C * 4 * C),
      N,
      C,
      4 * C,
    );
    const matmulSeconds = await timed(matmul);
    const attention = gpu.attentionBackward(
      program,
      floats(N * 3 * C),
      floats(B * NH * T * T),
      floats(B * NH * T * T),
      floats(N * C),
      floats(N * 3 * C),
      floats(B * NH * T * T),
      B,
      T,
      C,
      NH,
    );
    const attentionSeconds = await timed(attention);
    console.log(
      `matmulBackward ${N}×${C}→${4 * C}: ${(matmulSeconds * 1e3).toFixed(1)} ms, ${((4 * N * C * 4 * C) / matmulSeconds / 1e9).toFixed(2)} GFLOP/s; ` +
        `attentionBackward B=${B} T=${T} C=${C} NH=${NH}: ${(attentionSeconds * 1e3).toFixed(1)} ms`,
    );
  });

  describe('on a device that binds only 1 KiB at a time', () => {
    let tiny: Program;
    before(function () {
      if (!program) this.skip();
      // 1 KiB minus the offset alignment leaves very few floats per binding.
      const limit = program.device.limits.minStorageBufferOffsetAlignment + 1024;
      tiny = new Program({ ...program.ctx, limits: { ...program.ctx.limits, maxStorageBufferBindingSize: limit } });
    });
    after(() => tiny?.destroy());

    it('unembedBackward splits rows and vocabulary into blocks', async () => {
      const [N, C, V] = [13, 6, 67];
      const dinp = randomArray(random, N * C);
      const dweight = randomArray(random, V * C);
      const dlogits = randomArray(random, N * V);
      const inp = randomArray(random, N * C);
      const weight = randomArray(random, V * C);
      let dispatchCount = 0;
      const got = await onGPU(
        [dinp, dweight, dlogits, inp, weight],
        [0, 1],
        (b) => {
          const dispatches = gpu.unembedBackward(tiny, b[0]!, b[1]!, b[2]!, b[3]!, b[4]!, N, C, V);
          dispatchCount = dispatches.length;
          return dispatches;
        },
        tiny,
      );
      expect(dispatchCount).to.be.greaterThan(2);
      cpu.unembedBackward(dinp, dweight, dlogits, inp, weight, N, C, V);
      expectAllClose(got, [dinp, dweight]);
    });

    it('crossEntropySoftmaxBackward in row pieces', async () => {
      const [N, V] = [29, 67];
      const dlogits = randomArray(random, N * V);
      const logits = randomArray(random, N * V, 4);
      const targets = Int32Array.from(randomTokens(random, N, V));
      const got = await onGPU(
        [dlogits, logits, targets],
        [0],
        (b) => gpu.crossEntropySoftmaxBackward(tiny, b[0]!, b[1]!, b[2]!, N, V, 1 / N),
        tiny,
      );
      cpu.crossEntropySoftmaxBackward(dlogits, logits, targets, N, V, 1 / N);
      expectAllClose(got, [dlogits]);
    });

    it('clipGradientNorm reduces and scales in pieces', async () => {
      const length = 3001;
      const grads = randomArray(random, length);
      const buffer = tiny.upload(grads);
      const clip = clipGradientNormGPU(tiny, buffer, length, 3);
      expect(clip.dispatches.length).to.be.greaterThan(3);
      tiny.run(clip.dispatches);
      const norm = clipGradientNorm(grads, 3);
      expect((await tiny.read(clip.norm, 1))[0]).to.be.closeTo(norm, 1e-5 * norm);
      expectClose(await tiny.read(buffer, length), grads, 1e-5, 1e-7);
    });
  });

  describe('optimizer', () => {
    const config: GPTConfig = { vocabSize: 11, blockSize: 7, nLayer: 2, nHead: 2, nEmbd: 6, tied: false };

    it('decaySegments covers the whole buffer once, decaying exactly the matrices', () => {
      const { offsets, sizes, total } = parameterLayout(config);
      const segments = decaySegments(config);
      expect(segments[0]!.start).to.equal(0);
      expect(segments[segments.length - 1]!.end).to.equal(total);
      for (let s = 1; s < segments.length; s++) {
        expect(segments[s]!.start).to.equal(segments[s - 1]!.end);
        expect(segments[s]!.decay).to.not.equal(segments[s - 1]!.decay);
      }
      const decayedAt = (i: number): boolean => segments.find((s) => i >= s.start && i < s.end)!.decay;
      expect(decayedAt(offsets.qkvw)).to.equal(true);
      expect(decayedAt(offsets.qkvw + sizes.qkvw - 1)).to.equal(true);
      expect(decayedAt(offsets.qkvb)).to.equal(false);
      expect(decayedAt(offsets.lnfb + sizes.lnfb - 1)).to.equal(false);
      expect(decayedAt(offsets.lmHead)).to.equal(true);
    });

    it('AdamW: three updates match the CPU AdamW (parameters and both moments)', async () => {
      const { total } = parameterLayout(config);
      const params = createParameters(config, randomArray(random, total));
      const settings = { weightDecay: 0.3 };
      const cpuAdam = new AdamW(config, settings);
      const paramsBuffer = program.upload(params.data);
      const gradsBuffer = program.upload(new Float32Array(total));
      const gpuAdam = new AdamWGPU(program, config, paramsBuffer, gradsBuffer, settings);
      for (const learningRate of [0.01, 0.02, 0.005]) {
        const gradData = Float32Array.from(randomArray(random, total));
        const grads = createParameters(config, gradData);
        program.device.queue.writeBuffer(gradsBuffer, 0, gradData);
        gpuAdam.beginUpdate(learningRate);
        program.run(gpuAdam.dispatches);
        cpuAdam.update(params, grads, learningRate);
      }
      expect(gpuAdam.step).to.equal(3);
      expectClose(await program.read(paramsBuffer, total), params.data, 1e-5, 1e-7);
      expectClose(await program.read(gpuAdam.m, total), cpuAdam.m.data, 1e-5, 1e-7);
      expectClose(await program.read(gpuAdam.v, total), cpuAdam.v.data, 1e-5, 1e-9);
    });

    for (const maxNorm of [5, 1e6]) {
      it(`clipGradientNorm (max ${maxNorm}) matches the CPU one, norm left on the GPU`, async () => {
        const length = 5003;
        const grads = randomArray(random, length, 0.3);
        const buffer = program.upload(grads);
        const clip = clipGradientNormGPU(program, buffer, length, maxNorm);
        program.run(clip.dispatches);
        const norm = clipGradientNorm(grads, maxNorm);
        const [gpuNorm, scale] = await program.read(clip.norm, 2);
        expect(gpuNorm).to.be.closeTo(norm, 1e-5 * norm);
        expect(scale).to.be.closeTo(Math.min(1, maxNorm / norm), 1e-6);
        expectClose(await program.read(buffer, length), grads, 1e-5, 1e-7);
      });
    }

    it('clipGradientNorm leaves gradients alone when one is NaN, like the CPU one', async () => {
      const grads = randomArray(random, 777);
      grads[300] = NaN;
      const buffer = program.upload(grads);
      const clip = clipGradientNormGPU(program, buffer, grads.length, 1);
      program.run(clip.dispatches);
      expect(clipGradientNorm(grads, 1)).to.be.NaN;
      const [gpuNorm, scale] = await program.read(clip.norm, 2);
      expect(gpuNorm).to.be.NaN;
      expect(scale).to.equal(1);
      const after = await program.read(buffer, grads.length);
      for (let i = 0; i < grads.length; i++) if (i !== 300) expect(after[i]).to.equal(grads[i]);
    });
  });
});
