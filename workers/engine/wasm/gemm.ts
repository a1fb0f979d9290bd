// @ts-nocheck: AssemblyScript (v128, f32x4, @inline), compiled to WebAssembly by build.ts, not by tsc.
/**
 * The WebAssembly SIMD kernel behind gemm() (see ../gemm.ts for the contract):
 *
 *   out[m,n] (+)= bias[n] + Σ_k A(m,k)·B(k,n),  A(m,k) = a[m·aRow + k·aCol],  B(k,n) = b[k·bRow + n·bCol]
 *
 * All pointers are byte offsets into the memory the module imports (env.memory),
 * strides count floats. The caller places the operands there: it copies them in,
 * or passes weights that live in that memory already.
 *
 * How it is fast (the GotoBLAS recipe, cut down to matrices that fit in L2):
 * - K goes in slices of KC. For each slice both operands are packed into panels,
 *   so the inner loop reads memory strictly in order whatever the strides were:
 *   B into panels of NR = 8 columns (k-major, 8 floats per k, zero past N),
 *   A into panels of MR = 4 rows (k-major, 4 floats per k); left-over rows alone.
 * - A 4×8 micro-kernel keeps its 32 sums in 8 f32x4 registers: per k it loads
 *   two vectors of B and four broadcast A values and does 8 multiply-adds, so
 *   every load feeds at least 2 multiply-adds and sums never leave registers.
 *   8 independent sums hide the multiply-add latency; bigger tiles (5×8, 6×8)
 *   measured slower in V8.
 * - A product of fewer than MR rows (one position with the KV cache) skips the
 *   packing, which would cost as much as the product: it reads B in place.
 * - With relaxed SIMD (build flag) multiply-add is one fused instruction (FMA);
 *   without it a multiply then an add. The rounding may differ in the last bit.
 */

const MR = 4;
const NR = 8;
const KC = 256;

/**
 * Bytes of scratch gemm() needs after `scratch` for an M×N product: one tile, then
 * packed A and packed B. A product of fewer than MR rows that fewRows() takes
 * uses the tile only (TILE_BYTES).
 */
export function scratchBytes(M: i32, N: i32): i32 {
  const panelsB = (N + NR - 1) / NR;
  return (MR * NR + M * KC + panelsB * NR * KC) * 4;
}

export function gemm(
  out: usize, a: usize, b: usize, bias: usize, hasBias: bool,
  M: i32, K: i32, N: i32, aRow: i32, aCol: i32, bRow: i32, bCol: i32,
  accumulate: bool, scratch: usize,
): void {
  const panelsB = (N + NR - 1) / NR;
  const tile = scratch;
  const packedA = tile + <usize>(MR * NR * 4);
  const packedB = packedA + <usize>(M * KC * 4);
  if (M < MR && fewRows(out, a, b, bias, hasBias, M, K, N, aRow, aCol, bRow, bCol, accumulate, tile)) return;
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
        if (rows == MR) kernel4x8(pa, pb, kc, tile);
        else kernel1x8(pa, 4, pb, NR * 4, kc, tile);
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
    const src = b + <usize>((k0 * bRow + n0 * bCol) * 4);
    let k = 0;
    if (cols == NR && bCol == 1) {
      for (; k < kc; k++) {
        const from = src + <usize>(k * bRow * 4);
        const to = dst + <usize>(k * NR * 4);
        v128.store(to, v128.load(from));
        v128.store(to, v128.load(from, 16), 16);
      }
    } else if (cols == NR && bRow == 1) {
      // Columns run along k (B is a transposed matrix): 4×4 blocks turned around in registers.
      for (; k + 4 <= kc; k += 4) {
        const to = dst + <usize>(k * NR * 4);
        transpose4x4(src + <usize>(k * 4), <usize>(bCol * 4), to, NR * 4);
        transpose4x4(src + <usize>((k + 4 * bCol) * 4), <usize>(bCol * 4), to + 16, NR * 4);
      }
    }
    for (; k < kc; k++) {
      const to = dst + <usize>(k * NR * 4);
      for (let j = 0; j < NR; j++) {
        store<f32>(to + <usize>(j * 4), j < cols ? load<f32>(src + <usize>((k * bRow + j * bCol) * 4)) : 0);
      }
    }
    dst += <usize>(kc * NR * 4);
  }
}

/** A(:, k0..k0+kc) into panels of MR rows (for each k, A(m..m+3, k)); left-over rows one by one (the row's kc values). */
function packA(dst: usize, a: usize, k0: i32, kc: i32, M: i32, aRow: i32, aCol: i32): void {
  let m0 = 0;
  while (m0 < M) {
    const rows = M - m0 >= MR ? MR : 1;
    const src = a + <usize>((m0 * aRow + k0 * aCol) * 4);
    let k = 0;
    if (rows == MR && aRow == 1) {
      // A is a transposed matrix: the 4 values for each k are side by side already.
      for (; k < kc; k++) v128.store(dst + <usize>(k * MR * 4), v128.load(src + <usize>(k * aCol * 4)));
    } else if (rows == MR && aCol == 1) {
      // Rows run along k: 4×4 blocks turned around in registers.
      for (; k + 4 <= kc; k += 4) transpose4x4(src + <usize>(k * 4), <usize>(aRow * 4), dst + <usize>(k * MR * 4), MR * 4);
    }
    for (; k < kc; k++) {
      const to = dst + <usize>(k * rows * 4);
      for (let r = 0; r < rows; r++) store<f32>(to + <usize>(r * 4), load<f32>(src + <usize>((r * aRow + k * aCol) * 4)));
    }
    dst += <usize>(kc * rows * 4);
    m0 += rows;
  }
}

/** Reads 4 floats at each of src, src + srcStep, src + 2·srcStep, src + 3·srcStep and writes them transposed at dst, dst + dstStep, …. */
// @ts-ignore: decorator
@inline function transpose4x4(src: usize, srcStep: usize, dst: usize, dstStep: usize): void {
  const r0 = v128.load(src);
  const r1 = v128.load(src + srcStep);
  const r2 = v128.load(src + 2 * srcStep);
  const r3 = v128.load(src + 3 * srcStep);
  const low01 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5);
  const low23 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5);
  const high01 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7);
  const high23 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
  v128.store(dst, v128.shuffle<f32>(low01, low23, 0, 1, 4, 5));
  v128.store(dst + dstStep, v128.shuffle<f32>(low01, low23, 2, 3, 6, 7));
  v128.store(dst + 2 * dstStep, v128.shuffle<f32>(high01, high23, 0, 1, 4, 5));
  v128.store(dst + 3 * dstStep, v128.shuffle<f32>(high01, high23, 2, 3, 6, 7));
}

// @ts-ignore: decorator
@inline function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

/** The 4×8 tile of sums over kc steps of packed A (4 floats per k) and packed B (8 floats per k), written to tile [4,8]. */
function kernel4x8(pa: usize, pb: usize, kc: i32, tile: usize): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
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
    pa += MR * 4;
    pb += NR * 4;
  }
  v128.store(tile, c00); v128.store(tile, c01, 16);
  v128.store(tile, c10, 32); v128.store(tile, c11, 48);
  v128.store(tile, c20, 64); v128.store(tile, c21, 80);
  v128.store(tile, c30, 96); v128.store(tile, c31, 112);
}

/**
 * One row × 8 columns: 8 floats of B every bStep bytes, one float of A every aStep
 * bytes (packed panels, or the operands in place). Even and odd k go to separate
 * sums so that twice as many multiply-adds run side by side.
 */
function kernel1x8(pa: usize, aStep: usize, pb: usize, bStep: usize, kc: i32, tile: usize): void {
  let even0 = f32x4.splat(0), even1 = f32x4.splat(0), odd0 = f32x4.splat(0), odd1 = f32x4.splat(0);
  let k = 0;
  for (; k + 2 <= kc; k += 2) {
    let x = v128.load32_splat(pa);
    even0 = madd(x, v128.load(pb), even0); even1 = madd(x, v128.load(pb, 16), even1);
    x = v128.load32_splat(pa + aStep);
    odd0 = madd(x, v128.load(pb + bStep), odd0); odd1 = madd(x, v128.load(pb + bStep, 16), odd1);
    pa += 2 * aStep;
    pb += 2 * bStep;
  }
  if (k < kc) {
    const x = v128.load32_splat(pa);
    even0 = madd(x, v128.load(pb), even0); even1 = madd(x, v128.load(pb, 16), even1);
  }
  v128.store(tile, f32x4.add(even0, odd0));
  v128.store(tile, f32x4.add(even1, odd1), 16);
}

/**
 * A few rows without packing, where B's layout allows it; false (nothing done) where not.
 * Rows of B contiguous (x·W): out[m, n..n+7] = Σ_k A(m,k)·B(k, n..n+7), in place.
 * Columns of B contiguous (x·Wᵀ) and rows of A contiguous: each entry is a dot product.
 */
function fewRows(
  out: usize, a: usize, b: usize, bias: usize, hasBias: bool,
  M: i32, K: i32, N: i32, aRow: i32, aCol: i32, bRow: i32, bCol: i32, accumulate: bool, tile: usize,
): bool {
  if (bCol == 1) {
    for (let m = 0; m < M; m++) {
      rowTimesRows(out + <usize>(m * N * 4), a + <usize>(m * aRow * 4), aCol, b, bRow, K, N, bias, hasBias, accumulate);
    }
    return true;
  }
  if (bRow == 1 && aCol == 1) {
    for (let m = 0; m < M; m++) {
      const row = a + <usize>(m * aRow * 4);
      const dst = out + <usize>(m * N * 4);
      for (let n = 0; n < N; n++) storeSum(dst, bias, hasBias, accumulate, n, dot(row, b + <usize>(n * bCol * 4), K));
    }
    return true;
  }
  return false;
}

/**
 * dst[0..N) (+)= bias + Σ_k x(k)·B(k, 0..N) with B's rows contiguous: B is read
 * one row after the other, in the order it lies in memory, each row's N products
 * added to the sums in dst (N floats, which stay in the first-level cache). For
 * one position (generation with a KV cache) the product is bound by how fast B
 * streams in: one stream in order ran about 1.5 times as fast as going down 8
 * columns at a time, and faster than 4 or 8 rows side by side.
 */
function rowTimesRows(
  dst: usize, x: usize, xStep: i32, b: usize, bRow: i32, K: i32, N: i32, bias: usize, hasBias: bool, accumulate: bool,
): void {
  const wideEnd = N & ~15;
  const vecEnd = N & ~3;
  if (!accumulate) memory.fill(dst, 0, <usize>(N * 4));
  if (hasBias) {
    for (let n = 0; n < N; n++) store<f32>(dst + <usize>(n * 4), load<f32>(dst + <usize>(n * 4)) + load<f32>(bias + <usize>(n * 4)));
  }
  for (let k = 0; k < K; k++) {
    const xk = v128.load32_splat(x + <usize>(k * xStep * 4));
    const row = b + <usize>(k * bRow * 4);
    let n = 0;
    for (; n < wideEnd; n += 16) {
      const d = dst + <usize>(n * 4);
      const r = row + <usize>(n * 4);
      v128.store(d, madd(xk, v128.load(r), v128.load(d)));
      v128.store(d, madd(xk, v128.load(r, 16), v128.load(d, 16)), 16);
      v128.store(d, madd(xk, v128.load(r, 32), v128.load(d, 32)), 32);
      v128.store(d, madd(xk, v128.load(r, 48), v128.load(d, 48)), 48);
    }
    for (; n < vecEnd; n += 4) {
      const at = <usize>(n * 4);
      v128.store(dst + at, madd(xk, v128.load(row + at), v128.load(dst + at)));
    }
    for (; n < N; n++) {
      const at = <usize>(n * 4);
      store<f32>(dst + at, load<f32>(dst + at) + f32x4.extract_lane(xk, 0) * load<f32>(row + at));
    }
  }
}

/** Σ_k x[k]·y[k] over K contiguous floats, with two vector sums side by side. */
function dot(x: usize, y: usize, K: i32): f32 {
  let s0 = f32x4.splat(0), s1 = f32x4.splat(0);
  let k = 0;
  for (; k + 8 <= K; k += 8) {
    const offset = <usize>(k * 4);
    s0 = madd(v128.load(x + offset), v128.load(y + offset), s0);
    s1 = madd(v128.load(x + offset, 16), v128.load(y + offset, 16), s1);
  }
  const s = f32x4.add(s0, s1);
  let sum = f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1) + f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3);
  for (; k < K; k++) sum += load<f32>(x + <usize>(k * 4)) * load<f32>(y + <usize>(k * 4));
  return sum;
}

/** row[n..n+3] = sums (+ bias[n..n+3]) (+ what row held, when accumulating). */
// @ts-ignore: decorator
@inline function storeSums(row: usize, bias: usize, hasBias: bool, accumulate: bool, n: i32, sums: v128): void {
  const at = row + <usize>(n * 4);
  if (hasBias) sums = f32x4.add(sums, v128.load(bias + <usize>(n * 4)));
  if (accumulate) sums = f32x4.add(sums, v128.load(at));
  v128.store(at, sums);
}

/** row[n] = sum (+ bias[n]) (+ what row held, when accumulating). */
// @ts-ignore: decorator
@inline function storeSum(row: usize, bias: usize, hasBias: bool, accumulate: bool, n: i32, sum: f32): void {
  const at = row + <usize>(n * 4);
  if (hasBias) sum += load<f32>(bias + <usize>(n * 4));
  if (accumulate) sum += load<f32>(at);
  store<f32>(at, sum);
}

/** Moves a tile's rows × cols sums (plus bias, plus what out holds when adding) to out[m0.., n0..]. */
function storeTile(
  out: usize, tile: usize, bias: usize, withBias: bool, add: bool,
  m0: i32, n0: i32, rows: i32, cols: i32, N: i32,
): void {
  for (let r = 0; r < rows; r++) {
    const src = tile + <usize>(r * NR * 4);
    const row = out + <usize>((m0 + r) * N * 4);
    if (cols == NR) {
      storeSums(row, bias, withBias, add, n0, v128.load(src));
      storeSums(row, bias, withBias, add, n0 + 4, v128.load(src, 16));
    } else {
      for (let j = 0; j < cols; j++) storeSum(row, bias, withBias, add, n0 + j, load<f32>(src + <usize>(j * 4)));
    }
  }
}
