/**
 * The CPU backend's threads. Where the page is cross-origin isolated, the engine
 * worker (thread 0, the coordinator) starts count − 1 helper workers
 * (cpu-thread.ts) that see the same SharedArrayBuffers. A parallel job goes out
 * through a small shared control block, not through messages: the coordinator
 * writes one slot per block, announces the job in the claim word, and then every
 * thread, the coordinator too, takes blocks until none is left (helpers spin a
 * moment between jobs, then sleep in Atomics.waitAsync), so a helper that wakes
 * late only finds less to do. Messages carry only what memory cannot: each shared
 * buffer, once, when a job first needs it.
 *
 * The jobs (thread-jobs.ts): blocks of a matrix product (every big gemm() while
 * threads run), shards of a training batch, and the gradient sum and AdamW over
 * ranges of the parameters (train-threads.ts). A block computes exactly what one
 * thread would, so a product is the same to the bit; a batch's gradient is
 * summed in another order (within 1e-6 relative).
 */
import { scriptProblem } from '../api/errors.ts';
import { givenFile } from '../given-files.ts';
import {
  gemmModules,
  hardwareThreads,
  isKernelResident,
  type Product,
  sharedMemoryAllowed,
  sharedResidentOf,
  splitGemmWith,
} from './gemm.ts';
import {
  claimBlock,
  claimWord,
  CONTROL,
  type BufferRef,
  gemmBlock,
  JOB,
  JOB_WORDS,
  JobKind,
  MESSAGE_CHARS,
  type ThreadMessage,
  writeRef,
} from './thread-jobs.ts';

export interface ThreadsStatus {
  /** Threads in use (1: this one alone). */
  count: number;
  /** Asked for (0: the hardware's). */
  asked: number;
  /** The most this page can run: the hardware's threads where SharedArrayBuffer is allowed, else 1. */
  max: number;
  /** Why fewer than asked run, in one sentence; absent when all do. */
  note?: string;
}

/** A thread failed a job: the job is lost, the helpers are stopped, and the engine goes on on one thread. */
export class ThreadFailure extends Error {
  override name = 'ThreadFailure';
}

/** Products smaller than this many multiply-adds run on one thread: waking the others and staging costs more. */
const MIN_SPLIT_WORK = 1 << 20;
/**
 * The same for a product of fewer than 4 rows (a generated token's): it reads each weight once and the threads share
 * the memory's bandwidth. With GPT-2's layer products (about 2^21) cut, generation ran slower on 2 threads here
 * (28 tokens/s against 39 on one); with only its unembedding (about 2^25) cut, 1.11–1.18× faster in two runs.
 */
const MIN_SPLIT_ROW_WORK = 1 << 24;

interface Pool {
  workers: Worker[];
  control: Int32Array<SharedArrayBuffer>;
  jobs: Float64Array<SharedArrayBuffer>;
  messages: Uint16Array<SharedArrayBuffer>;
  /** Ids of the buffers the helpers have been sent. */
  ids: WeakMap<ArrayBufferLike, number>;
  /** Operands not in shared memory are copied here for the helpers (grown by replacing it). */
  staging: Float32Array<SharedArrayBuffer>;
  /** A parallel job runs: products inside it stay on their own thread. */
  busy: boolean;
}

let pool: Pool | null = null;
/** Buffer ids are never reused, so that a late 'forget' from an earlier pool drops nothing of a later one. */
let nextId = 1;
let asked = 0;
let failure: string | null = null;
/**
 * For tests: `helpersOnly` leaves every block to the helpers (this thread takes none, so that what the helpers
 * compute is what a test checks); `faultNext` makes the next job's blocks throw on the helpers, as a thread that
 * fails would (and leaves that job to them).
 */
export const threadTesting = { helpersOnly: false, faultNext: false };
/** The latest setThreads(), settled. */
let starting: Promise<unknown> = Promise.resolve();

/** Helpers drop the buffers the coordinator no longer holds. */
const forgotten = new FinalizationRegistry<number>((id) => post({ kind: 'forget', id }));

/** The most threads this page can run. */
export const maxThreads = (): number => (sharedMemoryAllowed() ? hardwareThreads() : 1);

/** Threads in use now. */
export const threadCount = (): number => (pool ? pool.workers.length + 1 : 1);

export function threadsStatus(): ThreadsStatus {
  const max = maxThreads();
  const count = threadCount();
  const status: ThreadsStatus = { count, asked, max };
  const wanted = Math.min(asked || max, max);
  if (failure) status.note = `The CPU runs on one thread: a thread failed (${failure}).`;
  else if (max === 1 && asked !== 1)
    status.note = !sharedMemoryAllowed()
      ? 'The CPU runs on one thread: this page is not cross-origin isolated, so threads cannot share memory (it needs the headers COOP: same-origin and COEP: require-corp).'
      : 'The CPU runs on one thread: this machine reports one.';
  else if (count < wanted) status.note = `The CPU runs on ${count} of ${wanted} threads.`;
  return status;
}

/**
 * Runs the CPU backend on `count` threads (0: the hardware's), at most maxThreads();
 * resolves once they are up. A failed start leaves one thread and says why.
 */
export function setThreads(count: number): Promise<ThreadsStatus> {
  if (!Number.isInteger(count) || count < 0)
    return Promise.reject(
      new Error(`The thread count must be a whole number, 0 (as many as the hardware has) or more; got ${String(count)}.`),
    );
  const next = starting.then(() => restart(count));
  starting = next.catch(() => {});
  return next;
}

async function restart(count: number): Promise<ThreadsStatus> {
  asked = count;
  failure = null;
  const wanted = Math.min(count || maxThreads(), maxThreads());
  if (wanted !== threadCount()) {
    stopThreads();
    if (wanted > 1) {
      try {
        pool = await startPool(wanted - 1);
        splitGemmWith(splitGemm);
      } catch (error) {
        failure = error instanceof Error ? error.message : String(error);
      }
    }
  }
  return threadsStatus();
}

/** Ends the helpers (their jobs are lost); everything runs on this thread. */
function stopThreads(): void {
  splitGemmWith(null);
  if (pool) for (const worker of pool.workers) worker.terminate();
  pool = null;
}

const THREAD_NAME = 'llm-playground CPU thread';

/** A helper, and the URL of its script (to name the file when it does not load). */
function startWorker(): { worker: Worker; script: string } {
  const given = givenFile('threads');
  if (given) return { worker: new globalThis.Worker(given, { type: 'module', name: THREAD_NAME }), script: given };
  let script = '';
  // Named Worker here because bundlers (Vite) build the worker file only where they see `new Worker(new URL(…))`.
  const Worker = function (url: URL, options?: WorkerOptions): Worker {
    script = url.href;
    return new globalThis.Worker(url, options);
  } as unknown as typeof globalThis.Worker;
  const worker = new Worker(new URL('./cpu-thread.ts', import.meta.url), { type: 'module', name: THREAD_NAME });
  return { worker, script };
}

async function startPool(helpers: number): Promise<Pool> {
  const control = new Int32Array(new SharedArrayBuffer(CONTROL.bytes(helpers + 1)));
  const jobs = new Float64Array(control.buffer, CONTROL.jobsByte, (helpers + 1) * JOB_WORDS);
  const messages = new Uint16Array(control.buffer, CONTROL.messagesByte(helpers + 1), (helpers + 1) * MESSAGE_CHARS);
  const workers: Worker[] = [];
  const ready: Promise<void>[] = [];
  try {
    for (let index = 1; index <= helpers; index++) {
      const { worker, script } = startWorker();
      workers.push(worker);
      ready.push(
        new Promise((resolve, reject) => {
          worker.addEventListener('message', (event: MessageEvent<{ ready?: true; error?: string }>) => {
            if (event.data.error) reject(new Error(event.data.error));
            else resolve();
          });
          worker.addEventListener('error', (event) => {
            // A script that did not load (missing, say) fires a bare Event, with no message and no file: a fetch of it tells why.
            if (event.message) reject(new Error(event.message));
            else void scriptProblem(script).then((problem) => reject(new Error(problem)));
          });
        }),
      );
      const init: ThreadMessage = { kind: 'init', index, control: control.buffer, kernels: gemmModules() };
      worker.postMessage(init);
    }
    await Promise.all(ready);
  } catch (error) {
    for (const worker of workers) worker.terminate();
    throw error;
  }
  const staging = new Float32Array(new SharedArrayBuffer(0));
  return { workers, control, jobs, messages, ids: new WeakMap(), staging, busy: false };
}

function post(message: ThreadMessage): void {
  if (pool) for (const worker of pool.workers) worker.postMessage(message);
}

/** The id helpers know `array`'s buffer by (sent to them the first time), for a job's BufferRef. */
export function shared(array: Float32Array | Int32Array): BufferRef {
  const p = pool!;
  const buffer = array.buffer;
  if (!(buffer instanceof SharedArrayBuffer)) throw new Error('a buffer handed to CPU threads must be shared');
  let id = p.ids.get(buffer);
  if (id === undefined) {
    id = nextId++;
    p.ids.set(buffer, id);
    const resident = array instanceof Float32Array ? sharedResidentOf(array) : undefined;
    post(resident ? { kind: 'adopt', id, buffer, resident } : { kind: 'adopt', id, buffer });
    forgotten.register(buffer, id);
  }
  return { id, offset: array.byteOffset / array.BYTES_PER_ELEMENT, length: array.length };
}

/** A Float32Array or Int32Array on a SharedArrayBuffer: helpers can read it in place. */
export const isShared = (array: { buffer: ArrayBufferLike }): boolean => array.buffer instanceof SharedArrayBuffer;

/** The last job's generation (claimWord). */
let generation = 0;

/** What runParallel() gives back: each block's result number, and which blocks ran on this thread. */
export interface ParallelRun {
  results: number[];
  ranHere: boolean[];
}

/**
 * Runs one parallel job of `blocks` blocks (at most one per thread): writes each
 * block's slot for the helpers through `write`, then every thread, this one too,
 * takes blocks until none is left (this one runs them with `runHere`), and this
 * one waits for the blocks the helpers took. Throws ThreadFailure, with one
 * thread left running, when a helper's block threw.
 */
export function runParallel(
  blocks: number,
  write: (slot: Float64Array, block: number) => void,
  runHere: (block: number) => number,
): ParallelRun {
  const p = pool!;
  const { control, jobs } = p;
  const faulting = threadTesting.faultNext;
  threadTesting.faultNext = false;
  for (let block = 0; block < blocks; block++) {
    const slot = jobs.subarray(block * JOB_WORDS, (block + 1) * JOB_WORDS);
    write(slot, block);
    slot[JOB.fault] = faulting ? 1 : 0;
  }
  generation = (generation + 1) & 0x7fff;
  Atomics.store(control, CONTROL.done, 0);
  Atomics.store(control, CONTROL.failed, 0);
  Atomics.store(control, CONTROL.claim, claimWord(generation, blocks, 0));
  Atomics.notify(control, CONTROL.claim);
  p.busy = true;
  const results: number[] = new Array(blocks).fill(0);
  const ranHere: boolean[] = new Array(blocks).fill(false);
  let error: unknown = null;
  const claim = () => (faulting || threadTesting.helpersOnly ? -1 : claimBlock(control, generation));
  for (let block = claim(); block >= 0; block = claim()) {
    try {
      results[block] = runHere(block);
    } catch (caught) {
      error ??= caught;
    }
    ranHere[block] = true;
    Atomics.add(control, CONTROL.done, 1);
  }
  waitForBlocks(control, blocks);
  p.busy = false;
  const failed = Atomics.load(control, CONTROL.failed);
  if (failed) {
    const text = readMessage(p, failed);
    failure = `thread ${failed}: ${text}`;
    stopThreads();
    throw new ThreadFailure(`CPU thread ${failed} failed: ${text}. The CPU goes on on one thread.`);
  }
  if (error) throw error;
  for (let block = 0; block < blocks; block++) if (!ranHere[block]) results[block] = jobs[block * JOB_WORDS + JOB.result];
  return { results, ranHere };
}

/** Spins until `blocks` are done (the helpers' take microseconds to milliseconds), sleeping in Atomics.wait where this thread may block. */
function waitForBlocks(control: Int32Array, blocks: number): void {
  let spins = 0;
  for (;;) {
    const done = Atomics.load(control, CONTROL.done);
    if (done >= blocks) return;
    if (++spins > 20000 && canBlock) {
      try {
        Atomics.wait(control, CONTROL.done, done, 1);
      } catch {
        canBlock = false; // a page's main thread may not block: spin
      }
    }
  }
}

let canBlock = typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope === 'function';

function readMessage(p: Pool, index: number): string {
  const chars = p.messages.subarray(index * MESSAGE_CHARS, (index + 1) * MESSAGE_CHARS);
  let end = chars.indexOf(0);
  if (end < 0) end = chars.length;
  return String.fromCharCode(...chars.subarray(0, end)) || 'no message';
}

/**
 * gemm()'s hook while helpers run: cuts a big product into one block per thread,
 * by columns (multiples of 8, the kernel's panel width) or, when it has few, by
 * rows (multiples of 4), and runs the blocks in parallel. Operands that are not
 * shared are copied for the helpers; the coordinator's own block reads them in place.
 */
function splitGemm(product: Product): boolean {
  const p = pool;
  if (!p || p.busy) return false;
  const { M, K, N } = product;
  if (M * K * N < (M < 4 ? MIN_SPLIT_ROW_WORK : MIN_SPLIT_WORK)) return false;
  // Weights in a kernel memory that is not shared would be copied whole for the helpers: leave them to this thread.
  if ([product.a, product.b].some((x) => !isShared(x) && isKernelResident(x))) return false;
  const threads = p.workers.length + 1;
  const byColumns = N >= 8 * threads || M < 4 * threads;
  const blocks: [number, number, number, number][] = [];
  if (byColumns) {
    const width = Math.ceil(N / threads / 8) * 8;
    for (let n0 = 0; n0 < N; n0 += width) blocks.push([0, M, n0, Math.min(N, n0 + width)]);
  } else {
    const height = Math.ceil(M / threads / 4) * 4;
    for (let m0 = 0; m0 < M; m0 += height) blocks.push([m0, Math.min(M, m0 + height), 0, N]);
  }
  if (blocks.length < 2) return false;
  const helperView = stage(p, product);
  const refs = {
    out: shared(helperView.out),
    a: shared(helperView.a),
    b: shared(helperView.b),
    bias: helperView.bias ? shared(helperView.bias) : null,
  };
  const { ranHere } = runParallel(
    blocks.length,
    (slot, block) => {
      const [m0, m1, n0, n1] = blocks[block];
      slot[JOB.kind] = JobKind.gemm;
      let at: number = JOB.args;
      at = writeRef(slot, at, refs.out);
      at = writeRef(slot, at, refs.a);
      at = writeRef(slot, at, refs.b);
      at = writeRef(slot, at, refs.bias);
      const { aRow, aCol, bRow, bCol, accumulate } = product;
      slot.set([M, K, N, aRow, aCol, bRow, bCol, accumulate ? 1 : 0, m0, m1, n0, n1], at);
    },
    (block) => {
      const [m0, m1, n0, n1] = blocks[block];
      gemmBlock(product, m0, m1, n0, n1);
      return 0;
    },
  );
  // The helpers wrote their blocks into the staged output: bring them over.
  if (helperView.out !== product.out) {
    blocks.forEach(([m0, m1, n0, n1], block) => {
      if (ranHere[block]) return;
      for (let m = m0; m < m1; m++) product.out.set(helperView.out.subarray(m * N + n0, m * N + n1), m * N + n0);
    });
  }
  return true;
}

/**
 * The product's operands as helpers see them: shared ones as they are, the others
 * copied into the staging buffer (grown when too small). The output is staged
 * too when not shared; its prior values only when accumulating.
 */
function stage(p: Pool, product: Product): Pick<Product, 'out' | 'a' | 'b' | 'bias'> {
  const { out, a, b, bias, M, K, N, aRow, aCol, bRow, bCol, accumulate } = product;
  const operands: [Float32Array, number][] = [
    [a, (M - 1) * aRow + (K - 1) * aCol + 1],
    [b, (K - 1) * bRow + (N - 1) * bCol + 1],
  ];
  if (bias) operands.push([bias, N]);
  if (!isShared(out)) operands.push([out, M * N]);
  // Float offsets in the staging buffer, each 16-byte aligned.
  const places: number[] = [];
  let floats = 0;
  for (const [array, span] of operands) {
    places.push(isShared(array) ? -1 : floats);
    if (!isShared(array)) floats += Math.ceil(span / 4) * 4;
  }
  if (p.staging.length < floats) p.staging = new Float32Array(new SharedArrayBuffer(Math.ceil((floats * 1.25) / 4) * 16));
  const staged = operands.map(([array, span], i) => {
    if (places[i] < 0) return array;
    const view = p.staging.subarray(places[i], places[i] + span);
    if (array !== out || accumulate) view.set(array.subarray(0, span));
    return view;
  });
  const outIndex = isShared(out) ? -1 : operands.length - 1;
  return { a: staged[0], b: staged[1], bias: bias ? staged[2] : null, out: outIndex < 0 ? out : staged[outIndex] };
}
