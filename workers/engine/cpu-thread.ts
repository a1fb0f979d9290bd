/**
 * A helper thread of the CPU backend (threads.ts starts count − 1 of them from
 * the engine worker). It waits on the shared control block for a job, takes its
 * blocks while any is left (thread-jobs.ts) on the shared buffers it was sent,
 * and counts each done. Between jobs it spins a moment (the next product usually follows within
 * microseconds), then sleeps in Atomics.waitAsync, which leaves its event loop
 * free for the messages that bring buffers.
 */
import { adoptResident, type Product, useGemmModules } from './gemm.ts';
import { createParameters } from './params.ts';
import {
  claimBlock,
  CONTROL,
  generationOf,
  gemmBlock,
  JOB,
  JOB_WORDS,
  JobKind,
  MESSAGE_CHARS,
  readConfig,
  readRef,
  shardStep,
  sumGradients,
  type BufferRef,
  type ThreadMessage,
  updateRange,
} from './thread-jobs.ts';

/** How long a helper spins for the next job before it sleeps. */
const SPIN_MS = 0.2;

let index = 0;
let control: Int32Array<SharedArrayBuffer>;
let jobs: Float64Array<SharedArrayBuffer>;
let messages: Uint16Array<SharedArrayBuffer>;
let seen = 0;
const buffers = new Map<number, SharedArrayBuffer>();
/** Jobs that name a buffer whose message has not come yet wait here for it. */
const arrivals = new Map<number, () => void>();

const scope = self as unknown as DedicatedWorkerGlobalScope;

scope.addEventListener('message', (event: MessageEvent<ThreadMessage>) => {
  const message = event.data;
  if (message.kind === 'init') void start(message);
  else if (message.kind === 'adopt') {
    buffers.set(message.id, message.buffer);
    if (message.resident) adoptResident(message.resident, index);
    arrivals.get(message.id)?.();
    arrivals.delete(message.id);
  } else if (message.kind === 'forget') buffers.delete(message.id);
});

async function start(init: Extract<ThreadMessage, { kind: 'init' }>): Promise<void> {
  try {
    index = init.index;
    control = new Int32Array(init.control);
    const threads = (init.control.byteLength - CONTROL.jobsByte) / (JOB_WORDS * 8 + MESSAGE_CHARS * 2);
    jobs = new Float64Array(init.control, CONTROL.jobsByte, threads * JOB_WORDS);
    messages = new Uint16Array(init.control, CONTROL.messagesByte(threads) + index * MESSAGE_CHARS * 2, MESSAGE_CHARS);
    seen = generationOf(Atomics.load(control, CONTROL.claim));
    useGemmModules(init.kernels);
  } catch (error) {
    scope.postMessage({ error: `CPU thread ${init.index} could not start: ${messageOf(error)}` });
    return;
  }
  scope.postMessage({ ready: true });
  await serve();
}

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

async function serve(): Promise<never> {
  for (;;) {
    const generation = await nextJob();
    for (let block = claimBlock(control, generation); block >= 0; block = claimBlock(control, generation)) {
      const slot = jobs.subarray(block * JOB_WORDS, (block + 1) * JOB_WORDS);
      try {
        if (slot[JOB.fault]) throw new Error('a fault injected for a test');
        slot[JOB.result] = await run(slot);
      } catch (error) {
        const text = messageOf(error).slice(0, MESSAGE_CHARS - 1);
        messages.fill(0);
        for (let i = 0; i < text.length; i++) messages[i] = text.charCodeAt(i);
        Atomics.store(control, CONTROL.failed, index);
      }
      Atomics.add(control, CONTROL.done, 1);
      Atomics.notify(control, CONTROL.done);
    }
  }
}

/** The generation of the next job, once one newer than the last seen is announced. */
async function nextJob(): Promise<number> {
  const until = performance.now() + SPIN_MS;
  for (;;) {
    const word = Atomics.load(control, CONTROL.claim);
    if (generationOf(word) !== seen) {
      seen = generationOf(word);
      return seen;
    }
    if (performance.now() > until) {
      const wait = Atomics.waitAsync(control, CONTROL.claim, word);
      if (wait.async) await wait.value;
    }
  }
}

/** The buffer a reference names, once its message has come. */
async function view<T extends Float32Array | Int32Array>(
  ref: BufferRef,
  Type: new (buffer: SharedArrayBuffer, byteOffset: number, length: number) => T,
): Promise<T> {
  let buffer = buffers.get(ref.id);
  if (!buffer) {
    await new Promise<void>((resolve) => arrivals.set(ref.id, resolve));
    buffer = buffers.get(ref.id)!;
  }
  return new Type(buffer, ref.offset * Type.prototype.BYTES_PER_ELEMENT, ref.length);
}

/** Runs one block of the current job, described in its slot; its result number. */
async function run(slot: Float64Array): Promise<number> {
  const floats = (at: number): Promise<Float32Array> => view(readRef(slot, at)!, Float32Array);
  const ints = (at: number): Promise<Int32Array> => view(readRef(slot, at)!, Int32Array);
  const kind = slot[JOB.kind];
  const at = JOB.args;
  switch (kind) {
    case JobKind.gemm: {
      const biasRef = readRef(slot, at + 9);
      const [out, a, b, bias] = [
        await floats(at),
        await floats(at + 3),
        await floats(at + 6),
        biasRef ? await floats(at + 9) : null,
      ];
      const [M, K, N, aRow, aCol, bRow, bCol, accumulate, m0, m1, n0, n1] = slot.subarray(at + 12, at + 24);
      const product: Product = { out, a, b, bias, M, K, N, aRow, aCol, bRow, bCol, accumulate: accumulate === 1 };
      gemmBlock(product, m0, m1, n0, n1);
      return 0;
    }
    case JobKind.gradients:
    case JobKind.loss: {
      const config = readConfig(slot, at);
      const params = createParameters(config, await floats(at + 6));
      const grads = kind === JobKind.gradients ? createParameters(config, await floats(at + 9)) : null;
      const [tokens, targets] = [await ints(at + 12), await ints(at + 15)];
      const [B, T, scale] = slot.subarray(at + 18, at + 21);
      return shardStep(params, tokens, targets, B, T, scale, grads);
    }
    case JobKind.sumGradients: {
      const [start, end, count] = slot.subarray(at, at + 3);
      const grads: Float32Array[] = [];
      for (let s = 0; s < count; s++) grads.push(await floats(at + 3 + 3 * s));
      return sumGradients(grads, start, end);
    }
    case JobKind.adamw: {
      const config = readConfig(slot, at);
      const [p, g, m, v] = [await floats(at + 6), await floats(at + 9), await floats(at + 12), await floats(at + 15)];
      const [start, end, learningRate, gradScale, mScale, vScale, beta1, beta2, eps, weightDecay] = slot.subarray(
        at + 18,
        at + 28,
      );
      const settings = { beta1, beta2, eps, weightDecay };
      updateRange(config, { p, g, m, v }, { settings, learningRate, gradScale, mScale, vScale }, start, end);
      return 0;
    }
    default:
      throw new Error(`unknown job ${kind}`);
  }
}
