// For isolation.isolated.test.ts: a module worker ("outer") that starts another module worker from
// itself ("inner", this same file), as the engine worker starts its CPU threads, and hands it a
// SharedArrayBuffer of flags and a shared WebAssembly.Memory. Then each in turn writes (the memory
// through a WebAssembly atomic add), sets a flag and wakes the other, which sleeps in Atomics.wait
// until then and reads what was written. No message carries the numbers: only the shared memory does.

export interface Shared {
  flags: SharedArrayBuffer;
  memory: WebAssembly.Memory;
}

/** What one worker saw. */
export interface Seen {
  isolated: boolean;
  /** The memory's buffer is a SharedArrayBuffer here too. */
  sharedMemory: boolean;
  /** Atomics.wait's answer: 'ok' or 'not-equal' once the other's flag is set, 'timed-out' if it never is. */
  waited: string;
  /** The memory's word 2 after the wait. */
  saw: number;
}

export type Report = { outer: Seen; inner: Seen } | { error: string };

/** Flags' words: 0 inner may write, 1 inner wrote, 2 outer wrote. */
const GO = 0;
const INNER_WROTE = 1;
const OUTER_WROTE = 2;
/** The memory's word both add to (byte 8). */
const WORD = 2;
const WAIT_MS = 20_000;

/**
 * A WebAssembly module that imports a shared memory of one page as env.memory and exports
 * add(address, value), an i32.atomic.rmw.add that returns the old value.
 */
// prettier-ignore
const ATOMIC_ADD = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
  0x01, 0x07, 0x01, 0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7f, // types: (i32, i32) → i32
  0x02, 0x10, 0x01, 0x03, 0x65, 0x6e, 0x76, 0x06, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79, 0x02, 0x03, 0x01, 0x01, // import env.memory, shared, 1..1 page
  0x03, 0x02, 0x01, 0x00, // one function of type 0
  0x07, 0x07, 0x01, 0x03, 0x61, 0x64, 0x64, 0x00, 0x00, // export "add"
  0x0a, 0x0c, 0x01, 0x0a, 0x00, 0x20, 0x00, 0x20, 0x01, 0xfe, 0x1e, 0x02, 0x00, 0x0b, // local.get 0, local.get 1, i32.atomic.rmw.add, end
]);

function atomicAdd(memory: WebAssembly.Memory): (address: number, value: number) => number {
  const instance = new WebAssembly.Instance(new WebAssembly.Module(ATOMIC_ADD), { env: { memory } });
  return instance.exports.add as (address: number, value: number) => number;
}

function signal(flags: Int32Array, index: number): void {
  Atomics.store(flags, index, 1);
  Atomics.notify(flags, index);
}

const scope = self as unknown as DedicatedWorkerGlobalScope;

/** What this worker sees before any wait. */
const before = (memory: WebAssembly.Memory): Seen => ({
  isolated: scope.crossOriginIsolated,
  sharedMemory: memory.buffer instanceof SharedArrayBuffer,
  waited: '',
  saw: 0,
});

function outer({ flags, memory }: Shared): void {
  const flag = new Int32Array(flags);
  const seen = before(memory);
  const nested = new Worker(new URL(import.meta.url), { type: 'module', name: 'inner' });
  nested.onerror = (event) => scope.postMessage({ error: `the inner worker failed: ${event.message}` } satisfies Report);
  nested.onmessage = ({ data }: MessageEvent<'ready' | Seen | { error: string }>) => {
    // A nested worker may not start while the thread that made it is blocked: wait for it without blocking first.
    if (data !== 'ready') {
      scope.postMessage('error' in data ? data : ({ outer: seen, inner: data } satisfies Report));
      nested.terminate();
      return;
    }
    signal(flag, GO);
    seen.waited = Atomics.wait(flag, INNER_WROTE, 0, WAIT_MS);
    seen.saw = Atomics.load(new Int32Array(memory.buffer), WORD);
    atomicAdd(memory)(WORD * 4, 3);
    signal(flag, OUTER_WROTE);
  };
  nested.postMessage({ flags, memory } satisfies Shared);
}

function inner({ flags, memory }: Shared): void {
  const flag = new Int32Array(flags);
  scope.postMessage('ready');
  const seen = before(memory);
  if (Atomics.wait(flag, GO, 0, WAIT_MS) === 'timed-out') {
    scope.postMessage({ ...seen, waited: 'timed-out (no go)' } satisfies Seen);
    return;
  }
  atomicAdd(memory)(WORD * 4, 5);
  signal(flag, INNER_WROTE);
  seen.waited = Atomics.wait(flag, OUTER_WROTE, 0, WAIT_MS);
  seen.saw = Atomics.load(new Int32Array(memory.buffer), WORD);
  scope.postMessage(seen);
}

scope.onmessage = ({ data }: MessageEvent<Shared>) => {
  try {
    (scope.name === 'inner' ? inner : outer)(data);
  } catch (error) {
    scope.postMessage({ error: `${scope.name}: ${String(error)}` } satisfies Report);
  }
};
