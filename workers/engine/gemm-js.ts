// gemm()'s plain JavaScript path (gemm.ts), for runtimes without WebAssembly SIMD or where it is refused.
import type { Product } from './gemm.ts';

/** Rows go in blocks of about this many A floats (128 KB): a block stays in cache while every B column passes over it. */
const ROW_BLOCK_FLOATS = 32768;

/**
 * The plain JavaScript path. Works on tiles of 4 rows × 4 columns whose 16 sums
 * stay in registers, so each B read serves 4 rows and each A read 4 columns:
 * several times faster in JavaScript than one sum at a time. Leftover rows of a
 * block go one at a time.
 */
export function gemmJs(product: Product): void {
  const { M, K, N, bCol } = product;
  const rowBlock = Math.max(4, Math.floor(ROW_BLOCK_FLOATS / Math.max(K, 1) / 4) * 4);
  for (let start = 0; start < M; start += rowBlock) {
    const end = Math.min(start + rowBlock, M);
    for (let n = 0; n < N; n += 4) {
      // Offsets of the tile's 4 B columns; past the right edge the last column repeats (its sums are dropped).
      const c0 = n * bCol;
      const c1 = Math.min(n + 1, N - 1) * bCol;
      const c2 = Math.min(n + 2, N - 1) * bCol;
      const c3 = Math.min(n + 3, N - 1) * bCol;
      let m = start;
      for (; m + 4 <= end; m += 4) tile4x4(product, m, n, c0, c1, c2, c3);
      for (; m < end; m++) tile1x4(product, m, n, c0, c1, c2, c3);
    }
  }
}

// The tile's sixteen sums are written a row of the tile a line.
// prettier-ignore
function tile4x4(t: Product, m: number, n: number, c0: number, c1: number, c2: number, c3: number): void {
  const { a, b, K, aCol, bRow } = t;
  const r0 = m * t.aRow;
  const r1 = r0 + t.aRow;
  const r2 = r1 + t.aRow;
  const r3 = r2 + t.aRow;
  let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
  let s20 = 0, s21 = 0, s22 = 0, s23 = 0, s30 = 0, s31 = 0, s32 = 0, s33 = 0;
  for (let k = 0; k < K; k++) {
    const bk = k * bRow;
    const ak = k * aCol;
    const w0 = b[c0 + bk], w1 = b[c1 + bk], w2 = b[c2 + bk], w3 = b[c3 + bk];
    const x0 = a[r0 + ak], x1 = a[r1 + ak], x2 = a[r2 + ak], x3 = a[r3 + ak];
    s00 += x0 * w0; s01 += x0 * w1; s02 += x0 * w2; s03 += x0 * w3;
    s10 += x1 * w0; s11 += x1 * w1; s12 += x1 * w2; s13 += x1 * w3;
    s20 += x2 * w0; s21 += x2 * w1; s22 += x2 * w2; s23 += x2 * w3;
    s30 += x3 * w0; s31 += x3 * w1; s32 += x3 * w2; s33 += x3 * w3;
  }
  storeTileRow(t, m, n, s00, s01, s02, s03);
  storeTileRow(t, m + 1, n, s10, s11, s12, s13);
  storeTileRow(t, m + 2, n, s20, s21, s22, s23);
  storeTileRow(t, m + 3, n, s30, s31, s32, s33);
}

// The row's four sums are declared on one line and updated on one line, as in tile4x4.
// prettier-ignore
/** One row: for the rows left over, and for a single position (KV cache). */
function tile1x4(t: Product, m: number, n: number, c0: number, c1: number, c2: number, c3: number): void {
  const { a, b, K, aCol, bRow } = t;
  const r = m * t.aRow;
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  for (let k = 0; k < K; k++) {
    const bk = k * bRow;
    const x = a[r + k * aCol];
    s0 += x * b[c0 + bk]; s1 += x * b[c1 + bk]; s2 += x * b[c2 + bk]; s3 += x * b[c3 + bk];
  }
  storeTileRow(t, m, n, s0, s1, s2, s3);
}

/** Writes (or adds) one tile row's sums plus bias to out[m, n..n+3], dropping columns past N. */
function storeTileRow(t: Product, m: number, n: number, s0: number, s1: number, s2: number, s3: number): void {
  const offset = m * t.N + n;
  storeOne(t, offset, n, s0);
  if (n + 1 < t.N) storeOne(t, offset + 1, n + 1, s1);
  if (n + 2 < t.N) storeOne(t, offset + 2, n + 2, s2);
  if (n + 3 < t.N) storeOne(t, offset + 3, n + 3, s3);
}

function storeOne(t: Product, offset: number, n: number, sum: number): void {
  const value = t.bias ? sum + t.bias[n] : sum;
  t.out[offset] = t.accumulate ? t.out[offset] + value : value;
}
