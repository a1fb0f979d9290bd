// @ts-nocheck: AssemblyScript (v128, f32x4, @inline), compiled to WebAssembly by build.ts, not by tsc.
/**
 * GELU forward and backward in WebAssembly SIMD, four values at a time: the same
 * function as geluForward/geluBackward in ../kernels.ts, gelu(x) = x·σ(2u) with
 * u = √(2/π)·(x + 0.044715·x³) (GPT-2's tanh approximation, since
 * 0.5·(1 + tanh u) = σ(2u)). In JavaScript Math.exp costs more than the rest of
 * the step's elementwise work together; here exp is a short polynomial.
 *
 * Pointers are byte offsets into this module's memory. Every function handles n
 * rounded up to a multiple of 4: the caller leaves room, and ignores the extra lanes.
 */

const GELU_SCALE: f32 = 0.7978845608028654; // √(2/π)
const GELU_CUBIC: f32 = 0.044715;

/**
 * e^x to float precision (Cephes' expf): x = n·ln2 + r with |r| ≤ ln2/2, e^r from
 * a degree-7 polynomial, 2^n written straight into the exponent bits. x is
 * clamped to ±87 first, where e^x is still a normal float (σ is 0 or 1 there anyway).
 * Only single-instruction operations in V8: pmin/pmax rather than min/max (which
 * handle NaN and −0 in several steps), and n rounded by adding 1.5·2²³, whose
 * float then holds n in its low mantissa bits, rather than nearest and a conversion.
 */
// @ts-ignore: decorator
@inline function exp(x: v128): v128 {
  x = f32x4.pmax(f32x4.pmin(x, f32x4.splat(87)), f32x4.splat(-87));
  const shifted = f32x4.add(f32x4.mul(x, f32x4.splat(1.44269504088896341)), f32x4.splat(ROUNDING_SHIFT)); // x / ln2
  const n = f32x4.sub(shifted, f32x4.splat(ROUNDING_SHIFT));
  // r = x − n·ln2, with ln2 split in two so that n·ln2's high part is exact.
  let r = f32x4.sub(x, f32x4.mul(n, f32x4.splat(0.693359375)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(-2.12194440e-4)));
  let p = f32x4.splat(1.9875691500e-4);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.3981999507e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(8.3334519073e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(4.1665795894e-2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.6666665459e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(5.0000001201e-1));
  const er = f32x4.add(f32x4.add(f32x4.mul(f32x4.mul(p, r), r), r), f32x4.splat(1));
  // shifted's bits are those of ROUNDING_SHIFT plus n: take them off, add the exponent bias, move into the exponent.
  const twoToN = i32x4.shl(i32x4.add(shifted, i32x4.splat(127 - ROUNDING_SHIFT_BITS)), 23);
  return f32x4.mul(er, twoToN);
}

const ROUNDING_SHIFT: f32 = 12582912; // 1.5·2²³
const ROUNDING_SHIFT_BITS: i32 = 0x4b400000;

/** σ(2u) for four x. */
// @ts-ignore: decorator
@inline function gate(x: v128): v128 {
  const u = f32x4.mul(f32x4.splat(GELU_SCALE), f32x4.add(x, f32x4.mul(f32x4.splat(GELU_CUBIC), f32x4.mul(x, f32x4.mul(x, x)))));
  const one = f32x4.splat(1);
  return f32x4.div(one, f32x4.add(one, exp(f32x4.mul(u, f32x4.splat(-2)))));
}

/** out[i] = gelu(inp[i]). */
export function geluForward(out: usize, inp: usize, n: i32): void {
  for (let i = 0; i < n; i += 4) {
    const at = <usize>(i * 4);
    const x = v128.load(inp + at);
    v128.store(out + at, f32x4.mul(x, gate(x)));
  }
}

/** dinp[i] += gelu′(inp[i])·dout[i], gelu′ = s + 2x·s·(1 − s)·u′ with s = σ(2u), u′ = √(2/π)·(1 + 3·0.044715·x²). */
export function geluBackward(dinp: usize, inp: usize, dout: usize, n: i32): void {
  const one = f32x4.splat(1);
  for (let i = 0; i < n; i += 4) {
    const at = <usize>(i * 4);
    const x = v128.load(inp + at);
    const s = gate(x);
    const du = f32x4.mul(f32x4.splat(GELU_SCALE), f32x4.add(one, f32x4.mul(f32x4.splat(3 * GELU_CUBIC), f32x4.mul(x, x))));
    const slope = f32x4.mul(f32x4.mul(f32x4.add(x, x), f32x4.mul(s, f32x4.sub(one, s))), du);
    const grad = f32x4.add(s, slope);
    v128.store(dinp + at, f32x4.add(v128.load(dinp + at), f32x4.mul(grad, v128.load(dout + at))));
  }
}
