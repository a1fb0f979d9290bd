// @ts-nocheck: AssemblyScript (v128, f32x4, @inline), compiled to WebAssembly by build.ts, not by tsc.
/**
 * The WebAssembly SIMD kernel behind gemm() (see ../gemm.ts for the contract):
 *
 *   out[m,n] (+)= bias[n] + Σ_k A(m,k)·B(k,n),  A(m,k) = a[m·aRow + k·aCol],  B(k,n) = b[k·bRow + n·bCol]
 *
 * All pointers are byte offsets into this module's memory, strides count floats.
 * The caller copies the operands in and the result out.
 *
 * How it is fast (the GotoBLAS recipe, cut down to matrices that fit in L2):
 * - K goes in slices of KC. For each slice both operands are packed into panels,
 *   so the inner loop reads memory strictly in order whatever the strides were:
 *   B into panels of NR = 8 columns (k-major, 8 floats per k, zero past N),
 *   A into panels of MR = 6 rows (k-major, 6 floats per k); left-over rows alone.
 * - A 6×8 micro-kernel keeps its 48 sums in 12 f32x4 registers: per k it loads
 *   two vectors of B and six broadcast A values and does 12 multiply-adds, so
 *   every load feeds at least 2 multiply-adds and sums never leave registers.
 * - With relaxed SIMD (build flag) multiply-add is one fused instruction (FMA);
 *   without it a multiply then an add. The rounding may differ in the last bit.
 */

const MR = 6;
const NR = 8;
const KC = 256;

/** Bytes of scratch gemm() needs after `scratch` for an M×N product: packed A, packed B and one tile. */
export function scratchBytes(M: i32, N: i32): i32 {
  const panelsB = (N + NR - 1) / NR;
  return (M * KC + panelsB * NR * KC + MR * NR) * 4;
}

export function gemm(
  out: usize, a: usize, b: usize, bias: usize, hasBias: bool,
  M: i32, K: i32, N: i32, aRow: i32, aCol: i32, bRow: i32, bCol: i32,
  accumulate: bool, scratch: usize,
): void {
  const panelsB = (N + NR - 1) / NR;
  const packedA = scratch;
  const packedB = packedA + <usize>(M * KC * 4);
  const tile = packedB + <usize>(panelsB * NR * KC * 4);
  for (let k0 = 0; k0 < K; k0 += KC) {
    const kc = min(KC, K - k0);
    // The first slice overwrites (unless accumulating) and adds the bias; later slices add.
    const add = accumulate || k0 > 0;
    const withBias = hasBias && k0 == 0;
    packB(packedB, b, k0, kc, N, bRow, bCol);
    packA(packedA, a, k0, kc, M, aRow, aCol);
    let m0 = 0;
    while (m0 < M) {
      const rows = M - m0 >= MR ? MR : 1;
      const pa = packedA + <usize>(m0 * kc * 4);
      for (let p = 0; p < panelsB; p++) {
        const pb = packedB + <usize>(p * kc * NR * 4);
        if (rows == MR) kernel6x8(pa, pb, kc, tile);
        else kernel1x8(pa, pb, kc, tile);
        const n0 = p * NR;
        storeTile(out, tile, bias, withBias, add, m0, n0, rows, min(NR, N - n0), N);
      }
      m0 += rows;
    }
  }
}

/** B(k0..k0+kc, :) into panels of NR columns: panel p holds, for each k, B(k, 8p..8p+7). */
function packB(dst: usize, b: usize, k0: i32, kc: i32, N: i32, bRow: i32, bCol: i32): void {
  for (let n0 = 0; n0 < N; n0 += NR) {
    const cols = min(NR, N - n0);
    for (let k = 0; k < kc; k++) {
      const src = b + <usize>(((k0 + k) * bRow + n0 * bCol) * 4);
      if (cols == NR && bCol == 1) {
        v128.store(dst, v128.load(src));
        v128.store(dst, v128.load(src, 16), 16);
      } else {
        for (let j = 0; j < NR; j++) {
          store<f32>(dst + <usize>(j * 4), j < cols ? load<f32>(src + <usize>(j * bCol * 4)) : 0);
        }
      }
      dst += NR * 4;
    }
  }
}

/** A(:, k0..k0+kc) into panels of MR rows (for each k, A(m..m+5, k)); left-over rows one by one (the row's kc values). */
function packA(dst: usize, a: usize, k0: i32, kc: i32, M: i32, aRow: i32, aCol: i32): void {
  let m0 = 0;
  while (m0 < M) {
    const rows = M - m0 >= MR ? MR : 1;
    for (let k = 0; k < kc; k++) {
      const src = a + <usize>((m0 * aRow + (k0 + k) * aCol) * 4);
      for (let r = 0; r < rows; r++) store<f32>(dst + <usize>(r * 4), load<f32>(src + <usize>(r * aRow * 4)));
      dst += <usize>(rows * 4);
    }
    m0 += rows;
  }
}

// @ts-ignore: decorator
@inline function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

/** The 6×8 tile of sums over kc steps of packed A (6 floats per k) and packed B (8 floats per k), written to tile [6,8]. */
function kernel6x8(pa: usize, pb: usize, kc: i32, tile: usize): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  let c40 = f32x4.splat(0), c41 = f32x4.splat(0), c50 = f32x4.splat(0), c51 = f32x4.splat(0);
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let x = v128.load32_splat(pa);
    c00 = madd(x, b0, c00); c01 = madd(x, b1, c01);
    x = v128.load32_splat(pa, 4);
    c10 = madd(x, b0, c10); c11 = madd(x, b1, c11);
    x = v128.load32_splat(pa, 8);
    c20 = madd(x, b0, c20); c21 = madd(x, b1, c21);
    x = v128.load32_splat(pa, 12);
    c30 = madd(x, b0, c30); c31 = madd(x, b1, c31);
    x = v128.load32_splat(pa, 16);
    c40 = madd(x, b0, c40); c41 = madd(x, b1, c41);
    x = v128.load32_splat(pa, 20);
    c50 = madd(x, b0, c50); c51 = madd(x, b1, c51);
    pa += MR * 4;
    pb += NR * 4;
  }
  v128.store(tile, c00); v128.store(tile, c01, 16);
  v128.store(tile, c10, 32); v128.store(tile, c11, 48);
  v128.store(tile, c20, 64); v128.store(tile, c21, 80);
  v128.store(tile, c30, 96); v128.store(tile, c31, 112);
  v128.store(tile, c40, 128); v128.store(tile, c41, 144);
  v128.store(tile, c50, 160); v128.store(tile, c51, 176);
}

/**
 * One row × 8 columns, for rows left over and single positions (KV cache). Even
 * and odd k go to separate sums so two multiply-add chains run side by side.
 */
function kernel1x8(pa: usize, pb: usize, kc: i32, tile: usize): void {
  let even0 = f32x4.splat(0), even1 = f32x4.splat(0), odd0 = f32x4.splat(0), odd1 = f32x4.splat(0);
  let k = 0;
  for (; k + 2 <= kc; k += 2) {
    let x = v128.load32_splat(pa);
    even0 = madd(x, v128.load(pb), even0); even1 = madd(x, v128.load(pb, 16), even1);
    x = v128.load32_splat(pa, 4);
    odd0 = madd(x, v128.load(pb, 32), odd0); odd1 = madd(x, v128.load(pb, 48), odd1);
    pa += 8;
    pb += 2 * NR * 4;
  }
  if (k < kc) {
    const x = v128.load32_splat(pa);
    even0 = madd(x, v128.load(pb), even0); even1 = madd(x, v128.load(pb, 16), even1);
  }
  v128.store(tile, f32x4.add(even0, odd0));
  v128.store(tile, f32x4.add(even1, odd1), 16);
}

/** Moves a tile's rows × cols sums (plus bias, plus what out holds when adding) to out[m0.., n0..]. */
function storeTile(
  out: usize, tile: usize, bias: usize, withBias: bool, add: bool,
  m0: i32, n0: i32, rows: i32, cols: i32, N: i32,
): void {
  for (let r = 0; r < rows; r++) {
    const src = tile + <usize>(r * NR * 4);
    const dst = out + <usize>(((m0 + r) * N + n0) * 4);
    if (cols == NR) {
      let v0 = v128.load(src);
      let v1 = v128.load(src, 16);
      if (withBias) {
        const bp = bias + <usize>(n0 * 4);
        v0 = f32x4.add(v0, v128.load(bp));
        v1 = f32x4.add(v1, v128.load(bp, 16));
      }
      if (add) {
        v0 = f32x4.add(v0, v128.load(dst));
        v1 = f32x4.add(v1, v128.load(dst, 16));
      }
      v128.store(dst, v0);
      v128.store(dst, v1, 16);
    } else {
      for (let j = 0; j < cols; j++) {
        let v = load<f32>(src + <usize>(j * 4));
        if (withBias) v += load<f32>(bias + <usize>((n0 + j) * 4));
        if (add) v += load<f32>(dst + <usize>(j * 4));
        store<f32>(dst + <usize>(j * 4), v);
      }
    }
  }
}
