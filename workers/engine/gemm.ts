// The matrix multiply and the WebAssembly module behind it, which also holds the
// GELU kernels (wasm/gelu.ts): the two are most of a training step's arithmetic.
import {
  KERNELS_RELAXED_SIMD_SHARED_WASM,
  KERNELS_RELAXED_SIMD_WASM,
  KERNELS_SIMD_SHARED_WASM,
  KERNELS_SIMD_WASM,
} from './wasm/gemm-wasm.ts';
import { gemmJs } from './gemm-js.ts';

/**
 * One product for gemm():
 *
 *   out[m,n] (+)= bias[n] + Σ_k A(m,k)·B(k,n)
 *   A(m,k) = a[m·aRow + k·aCol],  B(k,n) = b[k·bRow + n·bCol],  out row-major [M,N]
 *
 * Strides let one routine take either operand transposed without copying it;
 * they default to row-major storage, x·W: (aRow K, aCol 1, bRow N, bCol 1).
 * x·Wᵀ is (bRow 1, bCol K), xᵀ·dy is (aRow 1, aCol M).
 */
export interface GemmArgs {
  out: Float32Array;
  a: Float32Array;
  b: Float32Array;
  M: number;
  K: number;
  N: number;
  aRow?: number;
  aCol?: number;
  bRow?: number;
  bCol?: number;
  /** [N], added to every row of out, with or without accumulate; none by default. */
  bias?: Float32Array | null;
  /** Adds the product to what out holds (gradients) instead of overwriting it; false by default. */
  accumulate?: boolean;
}

/** GemmArgs with every default filled in: one object shape for the kernels. */
export type Product = Required<GemmArgs>;

/** Takes a product to run it across threads (threads.ts); false: not worth it, run it here. */
type Splitter = (product: Product) => boolean;
let splitter: Splitter | null = null;

/** Hands every product to `split` first (null: none), which threads.ts sets while helper threads run. */
export function splitGemmWith(split: Splitter | null): void {
  splitter = split;
}

/**
 * General matrix multiply, the one routine every matmul of the model goes through
 * (forward and backward); see GemmArgs.
 */
export function gemm(args: GemmArgs): void {
  const { out, a, b, M, K, N, aRow = K, aCol = 1, bRow = N, bCol = 1, bias = null, accumulate = false } = args;
  const product: Product = { out, a, b, M, K, N, aRow, aCol, bRow, bCol, bias, accumulate };
  if (splitter && K > 0 && splitter(product)) return;
  // With K = 0 there is nothing to sum: out is the bias (plus out when accumulating), done in JavaScript.
  if (kernel && K > 0) {
    const home = residentOf(b) ?? residentOf(a);
    if (!home || !gemmResident(kernel, home, product)) gemmWasm(kernel, product);
  } else {
    gemmJs(product);
  }
}

/** The ways gemm() can run, fastest first: WebAssembly with fused multiply-add, plain WebAssembly SIMD, JavaScript. */
export type GemmPath = 'relaxed-simd' | 'simd' | 'js';

const WASM_BYTES: Record<Exclude<GemmPath, 'js'>, string> = {
  'relaxed-simd': KERNELS_RELAXED_SIMD_WASM,
  simd: KERNELS_SIMD_WASM,
};
/** The same kernels importing a shared memory: for shared kernel memories (kernelFloats on an isolated page). */
const SHARED_WASM_BYTES: Record<Exclude<GemmPath, 'js'>, string> = {
  'relaxed-simd': KERNELS_RELAXED_SIMD_SHARED_WASM,
  simd: KERNELS_SIMD_SHARED_WASM,
};

/** The module's exports, bound to one memory. */
interface KernelExports {
  // The module's export, its arguments in the order it takes them (byte offsets, flags 0 or 1).
  // prettier-ignore
  gemm: (
    out: number, a: number, b: number, bias: number, hasBias: number,
    M: number, K: number, N: number, aRow: number, aCol: number, bRow: number, bCol: number,
    accumulate: number, scratch: number,
  ) => void;
  scratchBytes: (M: number, N: number) => number;
  geluForward: (out: number, inp: number, n: number) => void;
  geluBackward: (dinp: number, inp: number, dout: number, n: number) => void;
}

/** The compiled module and its instance on the growing memory that copied operands go to. */
interface WasmKernel extends KernelExports, GemmModules {
  memory: WebAssembly.Memory;
  /** A view of memory, renewed when the memory grows (growing detaches the old buffer). */
  heap: Float32Array;
}

let kernel: WasmKernel | null = null;
/** Why the WebAssembly kernel this runtime validates could not be compiled (a content security policy without 'wasm-unsafe-eval'); null: it was not refused. */
let refusal: string | null = null;
/** The latest initGemm(), settled (also when it failed). */
let deciding: Promise<unknown> = Promise.resolve();

function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** The paths this runtime can run, fastest first ('js' always). */
export function supportedGemmPaths(): GemmPath[] {
  const paths: GemmPath[] = [];
  if (typeof WebAssembly === 'object') {
    for (const path of ['relaxed-simd', 'simd'] as const) {
      if (WebAssembly.validate(decodeBase64(WASM_BYTES[path]))) paths.push(path);
    }
  }
  paths.push('js');
  return paths;
}

/** The path gemm() takes now (before initGemm() resolves: 'js'). */
export function gemmPath(): GemmPath {
  return kernel ? kernel.path : 'js';
}

/** Settles once the latest initGemm() has chosen its path (at once when none was called). */
export async function gemmChosen(): Promise<void> {
  await deciding.catch(() => {});
}

/** Why gemm() runs in JavaScript although WebAssembly SIMD validates here: the error that refused to compile it; null otherwise. */
export function gemmRefusal(): string | null {
  return refusal;
}

/**
 * Compiles the fastest WebAssembly kernel this runtime validates (asynchronously:
 * browsers refuse large synchronous compiles on the main thread) and makes gemm()
 * use it; resolves to the path chosen. Until then, and where WebAssembly or SIMD
 * is missing or refused, gemm() runs in JavaScript. `path` forces one path (tests,
 * the benchmark); asking for one this runtime cannot run throws.
 */
export function initGemm(path?: GemmPath): Promise<GemmPath> {
  const chosen = choosePath(path);
  deciding = chosen;
  return chosen;
}

/**
 * initGemm()'s work. Validating WebAssembly is allowed everywhere, but a content security policy without
 * 'wasm-unsafe-eval' refuses to compile it: the path left is then JavaScript, and gemmRefusal() says why.
 */
async function choosePath(path: GemmPath | undefined): Promise<GemmPath> {
  const supported = supportedGemmPaths();
  const chosen = path ?? supported[0];
  if (!supported.includes(chosen))
    throw new Error(`gemm path '${chosen}' is not supported here (supported: ${supported.join(', ')})`);
  kernel = null;
  refusal = null;
  if (chosen === 'js') return chosen;
  try {
    const module = await WebAssembly.compile(decodeBase64(WASM_BYTES[chosen]));
    const sharedModule = sharedMemoryAllowed() ? await WebAssembly.compile(decodeBase64(SHARED_WASM_BYTES[chosen])) : null;
    useGemmModules({ path: chosen, module, sharedModule });
    return chosen;
  } catch (error) {
    if (path) throw error; // a path asked for by name runs or fails
    refusal = error instanceof Error ? error.message : String(error);
    return 'js';
  }
}

/** The compiled kernels gemm() runs. */
export interface GemmModules {
  path: Exclude<GemmPath, 'js'>;
  module: WebAssembly.Module;
  /** The build for shared memories; null where SharedArrayBuffer is not allowed. */
  sharedModule: WebAssembly.Module | null;
}

/** The kernels gemm() runs now (null: the JavaScript path), which helper threads are given (threads.ts). */
export function gemmModules(): GemmModules | null {
  return kernel ? { path: kernel.path, module: kernel.module, sharedModule: kernel.sharedModule } : null;
}

/**
 * Makes gemm() run these compiled kernels (null: JavaScript). A helper thread takes the engine's instead of
 * compiling its own: a module sent to a worker shares its machine code, so the helper runs the code the
 * engine's use has already optimised, not a fresh baseline compile of it.
 */
export function useGemmModules(modules: GemmModules | null): void {
  if (!modules) {
    kernel = null;
    return;
  }
  const { module } = modules;
  const memory = new WebAssembly.Memory({ initial: 1 });
  kernel = { ...instantiate(module, memory), ...modules, memory, heap: new Float32Array(memory.buffer) };
}

function instantiate(module: WebAssembly.Module, memory: WebAssembly.Memory): KernelExports {
  return new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as KernelExports;
}

/**
 * A block of weights in a WebAssembly memory of its own (kernelFloats), which the
 * kernel reads in place instead of copying it for every product: for GPT-2 small
 * that copy was about 500 MB per generated token. The memory is made at its final
 * size with that size as its maximum, so it can never grow and the views into it
 * never go stale (growing a memory detaches its buffer). After the weights it
 * holds a fixed scratch area for the other operands of one product; products that
 * would need more go in chunks of rows and columns.
 */
interface Resident {
  memory: WebAssembly.Memory;
  /** A view of the whole memory. */
  heap: Float32Array;
  /** Float offset and length of the scratch area. */
  scratch: number;
  scratchFloats: number;
  /** The module instantiated on this memory, per compiled module (initGemm may change the path). */
  instances: WeakMap<WebAssembly.Module, KernelExports>;
}

const residents = new WeakMap<ArrayBufferLike, Resident>();

/**
 * Where SharedArrayBuffer is allowed (a cross-origin isolated page), kernel memories are
 * shared, so helper threads read the weights in place too, each with a scratch slot of its own.
 */
export const sharedMemoryAllowed = (): boolean =>
  typeof SharedArrayBuffer === 'function' && (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
/** The most threads the CPU backend starts (threads.ts), and the scratch slots of a shared kernel memory. */
const MAX_THREADS = 16;
/** The threads this machine has, at most MAX_THREADS. */
export const hardwareThreads = (): number =>
  Math.max(
    1,
    Math.min(MAX_THREADS, (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1),
  );

/** A shared kernel memory as a helper thread adopts it: scratch slot `i` starts at scratch + i·slotFloats. */
export interface SharedResident {
  memory: WebAssembly.Memory;
  scratch: number;
  slotFloats: number;
  slots: number;
}
const sharedResidents = new WeakMap<ArrayBufferLike, SharedResident>();

/** Floats of shared memory, zeroed, that CPU threads can be handed (a plain array where memory cannot be shared). */
export function sharedFloats(length: number): Float32Array {
  return sharedMemoryAllowed() ? new Float32Array(new SharedArrayBuffer(length * 4)) : new Float32Array(length);
}

/** The shared kernel memory `array` lies in, if it does (threads.ts hands it to its helpers). */
export function sharedResidentOf(array: Float32Array): SharedResident | undefined {
  return sharedResidents.get(array.buffer);
}

/** In a helper thread: makes gemm() read operands in `memory` in place, using scratch slot `slot`. */
export function adoptResident(shared: SharedResident, slot: number): void {
  const { memory, scratch, slotFloats } = shared;
  const heap = new Float32Array(memory.buffer);
  sharedResidents.set(memory.buffer, shared);
  residents.set(memory.buffer, {
    memory,
    heap,
    scratch: scratch + slot * slotFloats,
    scratchFloats: slotFloats,
    instances: new WeakMap(),
  });
}

/** The first page of every resident memory is left to the module (it keeps no data there today). */
const RESERVED_BYTES = 65536;
/** Scratch after the weights of each resident memory: one chunk's A rows, B columns, bias, output and packing panels. */
export const RESIDENT_SCRATCH_BYTES = 16 * 2 ** 20;
/** createParameters() places buffers at least this big in kernel memory (kernelFloats); smaller ones are plain arrays. */
export const RESIDENT_MIN_BYTES = 64 * 2 ** 20;
/** Widest column chunk of a product on resident weights: its packed B (256 × this many floats) stays in the second-level cache. */
const RESIDENT_CHUNK_COLUMNS = 512;
/** The kernel's tile (4 × 8 floats), all the scratch a product of fewer than 4 rows needs when it reads B in place. */
const TILE_FLOATS = 32;

/**
 * A zeroed Float32Array of `length` floats in a WebAssembly memory of its own,
 * which gemm() reads in place whenever it is an operand (any view into it too).
 * The memory never grows, so the array and its views stay valid for as long as
 * they are referenced, whatever else is allocated or multiplied meanwhile; it is
 * freed with them. Where WebAssembly is missing, or the memory cannot be made
 * (beyond 4 GiB, or refused), a plain Float32Array: gemm() then copies, as it
 * does for any other array. Works whichever gemm path is chosen, before or after
 * initGemm(). `scratchBytes` sizes the scratch area (rounded up to whole pages):
 * smaller means more, smaller chunks (tests use that to cut products up).
 */
export function kernelFloats(length: number, scratchBytes = RESIDENT_SCRATCH_BYTES): Float32Array {
  if (typeof WebAssembly !== 'object') return new Float32Array(length);
  const slotBytes = Math.ceil(scratchBytes / 65536) * 65536;
  const weightBytes = RESERVED_BYTES + Math.ceil(length / 4) * 16;
  const slots = sharedMemoryAllowed() ? hardwareThreads() : 1;
  const made = makeMemory(weightBytes + slots * slotBytes, slots > 1) ?? makeMemory(weightBytes + slotBytes, false);
  if (!made) return new Float32Array(length);
  const { memory, shared } = made;
  const heap = new Float32Array(memory.buffer);
  const scratch = weightBytes >> 2;
  const slotFloats = shared ? slotBytes >> 2 : heap.length - scratch;
  residents.set(memory.buffer, { memory, heap, scratch, scratchFloats: slotFloats, instances: new WeakMap() });
  if (shared) sharedResidents.set(memory.buffer, { memory, scratch, slotFloats, slots });
  return new Float32Array(memory.buffer, RESERVED_BYTES, length);
}

/** A memory of `bytes` that never grows (null: beyond 4 GiB, or refused); shared ones are seen by helper threads. */
function makeMemory(bytes: number, shared: boolean): { memory: WebAssembly.Memory; shared: boolean } | null {
  const pages = Math.ceil(bytes / 65536);
  if (pages > 65536) return null;
  try {
    return { memory: new WebAssembly.Memory({ initial: pages, maximum: pages, shared }), shared };
  } catch {
    return null;
  }
}

/** True when `array` lies in kernel memory (kernelFloats), so gemm() reads it in place. */
export function isKernelResident(array: Float32Array): boolean {
  return residents.has(array.buffer);
}

function residentOf(array: Float32Array): Resident | undefined {
  return residents.get(array.buffer);
}

/** Floats from the first to the last element a strided operand reaches. */
const spanOf = (rows: number, cols: number, rowStride: number, colStride: number) =>
  (rows - 1) * rowStride + (cols - 1) * colStride + 1;
const align4 = (floats: number) => Math.ceil(floats / 4) * 4;

/**
 * Rows and columns per chunk of a product run in a resident memory, so that what
 * is copied into its scratch plus the kernel's own scratch fits; null when not
 * even one row by 8 columns fits (gemm() then copies everything, as for plain arrays).
 */
function residentChunk(wasm: WasmKernel, home: Resident, p: Product): { m: number; n: number } | null {
  const { a, b, bias, M, K, N, aRow, aCol, bRow, bCol } = p;
  const aIn = a.buffer === home.memory.buffer;
  const bIn = b.buffer === home.memory.buffer;
  const biasIn = !bias || bias.buffer === home.memory.buffer;
  // The kernel reads B in place for fewer than 4 rows when B's rows or (with A's rows) columns are contiguous.
  const fewRows = (m: number) => m < 4 && (bCol === 1 || (bRow === 1 && aCol === 1));
  const need = (m: number, n: number) =>
    (aIn ? 0 : align4(spanOf(m, K, aRow, aCol))) +
    (bIn ? 0 : align4(spanOf(K, n, bRow, bCol))) +
    (biasIn ? 0 : align4(n)) +
    align4(m * n) +
    (fewRows(m) ? TILE_FLOATS : wasm.scratchBytes(m, n) / 4);
  const budget = home.scratchFloats;
  let n = fewRows(M) ? N : Math.min(N, RESIDENT_CHUNK_COLUMNS);
  for (;;) {
    if (need(1, n) <= budget) break;
    if (n <= 8) return null;
    n = Math.max(8, Math.floor(n / 16) * 8);
  }
  // The most rows that fit (need grows with m), a multiple of 4 when the product is cut.
  let low = 1;
  let high = M;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (need(mid, n) <= budget) low = mid;
    else high = mid - 1;
  }
  const m = low < M && low >= 4 ? low - (low % 4) : low;
  return { m, n };
}

/**
 * A product with an operand in a resident memory: runs on the module instance
 * bound to that memory. Operands there are read in place; the others, the bias
 * and the output go through its scratch area, chunk by chunk. False, with nothing
 * done, when the product cannot be cut to fit.
 */
function gemmResident(wasm: WasmKernel, home: Resident, p: Product): boolean {
  const chunk = residentChunk(wasm, home, p);
  if (!chunk) return false;
  const { out, a, b, bias, M, K, N, aRow, aCol, bRow, bCol, accumulate } = p;
  const own = home.memory.buffer;
  const module = sharedResidents.has(own) ? wasm.sharedModule : wasm.module;
  if (!module) return false;
  let exports = home.instances.get(module);
  if (!exports) {
    exports = instantiate(module, home.memory);
    home.instances.set(module, exports);
  }
  const { heap } = home;
  for (let n0 = 0; n0 < N; n0 += chunk.n) {
    const nc = Math.min(chunk.n, N - n0);
    for (let m0 = 0; m0 < M; m0 += chunk.m) {
      const mc = Math.min(chunk.m, M - m0);
      let free = home.scratch;
      // A float offset in scratch for `floats` values, 16-byte aligned.
      const take = (floats: number) => {
        const at = free;
        free += align4(floats);
        return at;
      };
      // Byte address of an operand's first element: in place, or copied into scratch.
      const place = (array: Float32Array, start: number, span: number) => {
        if (array.buffer === own) return array.byteOffset + start * 4;
        const at = take(span);
        heap.set(array.subarray(start, start + span), at);
        return at * 4;
      };
      const aAt = place(a, m0 * aRow, spanOf(mc, K, aRow, aCol));
      const bAt = place(b, n0 * bCol, spanOf(K, nc, bRow, bCol));
      const biasAt = bias ? place(bias, n0, nc) : 0;
      const outAt = take(mc * nc);
      if (accumulate) {
        for (let r = 0; r < mc; r++) {
          const from = (m0 + r) * N + n0;
          heap.set(out.subarray(from, from + nc), outAt + r * nc);
        }
      }
      // prettier-ignore
      exports.gemm(
        outAt * 4, aAt, bAt, biasAt, bias ? 1 : 0,
        mc, K, nc, aRow, aCol, bRow, bCol, accumulate ? 1 : 0, take(0) * 4,
      );
      if (nc === N) out.set(heap.subarray(outAt, outAt + mc * N), m0 * N);
      else {
        for (let r = 0; r < mc; r++) out.set(heap.subarray(outAt + r * nc, outAt + (r + 1) * nc), (m0 + r) * N + n0);
      }
    }
  }
  return true;
}

/**
 * Copies the operands into the module's memory (growing it when needed), runs the
 * kernel there and copies the result back: O(n²) copying against O(n³) work.
 * Each operand goes over as the whole span its strides reach, in one block copy:
 * even for an attention head's 32 columns of the 384-wide qkv rows that is
 * faster than gathering its values one by one in JavaScript.
 */
function gemmWasm(wasm: WasmKernel, product: Product): void {
  const { out, a, b, bias, M, K, N, aRow, aCol, bRow, bCol, accumulate } = product;
  const aSpan = (M - 1) * aRow + (K - 1) * aCol + 1;
  const bSpan = (K - 1) * bRow + (N - 1) * bCol + 1;
  const outSize = M * N;
  // Float offsets, each buffer 16-byte aligned.
  const align = (floats: number) => Math.ceil(floats / 4) * 4;
  const aOff = 0;
  const bOff = aOff + align(aSpan);
  const outOff = bOff + align(bSpan);
  const biasOff = outOff + align(outSize);
  const scratchOff = biasOff + align(N);
  const heap = reserve(wasm, scratchOff * 4 + wasm.scratchBytes(M, N));
  heap.set(a.subarray(0, aSpan), aOff);
  heap.set(b.subarray(0, bSpan), bOff);
  if (accumulate) heap.set(out.subarray(0, outSize), outOff);
  if (bias) heap.set(bias.subarray(0, N), biasOff);
  // Byte offsets and flags, then sizes and strides, as the module's gemm takes them.
  // prettier-ignore
  wasm.gemm(
    outOff * 4, aOff * 4, bOff * 4, biasOff * 4, bias ? 1 : 0,
    M, K, N, aRow, aCol, bRow, bCol, accumulate ? 1 : 0, scratchOff * 4,
  );
  out.set(heap.subarray(outOff, outOff + outSize));
}

/** Grows the module's memory to at least `bytes` and returns a view of it (growing detaches the old one). */
function reserve(wasm: WasmKernel, bytes: number): Float32Array {
  const { memory } = wasm;
  if (memory.buffer.byteLength < bytes) memory.grow(Math.ceil((bytes - memory.buffer.byteLength) / 65536));
  if (wasm.heap.buffer !== memory.buffer) wasm.heap = new Float32Array(memory.buffer);
  return wasm.heap;
}

/**
 * Elementwise kernels go over in chunks of this many floats (16 KB per array):
 * each chunk's copies in, work and copy out stay in the first-level cache.
 */
const CHUNK_FLOATS = 4096;

/**
 * out = gelu(inp) over N floats in WebAssembly (wasm/gelu.ts), the function
 * kernels.ts's geluForward computes. False, with nothing done, when no module is loaded.
 */
export function geluForwardWasm(out: Float32Array, inp: Float32Array, N: number): boolean {
  const wasm = kernel;
  if (!wasm) return false;
  const heap = reserve(wasm, 2 * CHUNK_FLOATS * 4);
  const outOff = CHUNK_FLOATS;
  for (let start = 0; start < N; start += CHUNK_FLOATS) {
    const end = Math.min(start + CHUNK_FLOATS, N);
    heap.set(inp.subarray(start, end), 0);
    wasm.geluForward(outOff * 4, 0, end - start);
    out.set(heap.subarray(outOff, outOff + end - start), start);
  }
  return true;
}

/** dinp += gelu′(inp)·dout over N floats in WebAssembly, as geluForwardWasm. */
export function geluBackwardWasm(dinp: Float32Array, inp: Float32Array, dout: Float32Array, N: number): boolean {
  const wasm = kernel;
  if (!wasm) return false;
  const heap = reserve(wasm, 3 * CHUNK_FLOATS * 4);
  const doutOff = CHUNK_FLOATS;
  const dinpOff = 2 * CHUNK_FLOATS;
  for (let start = 0; start < N; start += CHUNK_FLOATS) {
    const end = Math.min(start + CHUNK_FLOATS, N);
    heap.set(inp.subarray(start, end), 0);
    heap.set(dout.subarray(start, end), doutOff);
    heap.set(dinp.subarray(start, end), dinpOff);
    wasm.geluBackward(dinpOff * 4, 0, doutOff * 4, end - start);
    dinp.set(heap.subarray(dinpOff, dinpOff + end - start), start);
  }
  return true;
}
