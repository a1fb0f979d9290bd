// Runs in a cross-origin isolated page (web-test-runner.config.mjs isolates *.isolated.test.ts):
// what the CPU backend's threads rely on. The page shares memory with a module worker, and that
// worker with a module worker it starts itself, as the engine worker starts its CPU threads.
import { expect } from 'chai';
import type { Report, Shared } from './isolation.worker.ts';

describe('a cross-origin isolated test page', () => {
  it('is cross-origin isolated, with SharedArrayBuffer', () => {
    expect(crossOriginIsolated).to.equal(true);
    expect(typeof SharedArrayBuffer).to.equal('function');
    expect(new SharedArrayBuffer(8).byteLength).to.equal(8);
  });

  it('shares a SharedArrayBuffer and a WebAssembly.Memory with a worker started from a worker', async () => {
    const flags = new SharedArrayBuffer(3 * 4);
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    expect(memory.buffer).to.be.instanceOf(SharedArrayBuffer);
    const worker = new Worker(new URL('./isolation.worker.ts', import.meta.url), { type: 'module', name: 'outer' });
    try {
      const report = await new Promise<Report>((resolve, reject) => {
        worker.onmessage = ({ data }: MessageEvent<Report>) => resolve(data);
        worker.onerror = (event) => reject(new Error(`the worker failed: ${event.message}`));
        worker.postMessage({ flags, memory } satisfies Shared);
      });
      if ('error' in report) throw new Error(report.error);
      // Each woke once the other's flag was set, and read the other's write from the shared memory:
      // the inner worker added 5, the outer one saw 5 and added 3, the inner one saw 8.
      expect(report.outer).to.deep.equal({ isolated: true, sharedMemory: true, waited: report.outer.waited, saw: 5 });
      expect(report.inner).to.deep.equal({ isolated: true, sharedMemory: true, waited: report.inner.waited, saw: 8 });
      expect(['ok', 'not-equal']).to.include(report.outer.waited);
      expect(['ok', 'not-equal']).to.include(report.inner.waited);
      // And this page sees both writes, in the same memory.
      expect([...new Int32Array(flags)]).to.deep.equal([1, 1, 1]);
      expect(new Int32Array(memory.buffer)[2]).to.equal(8);
    } finally {
      worker.terminate();
    }
  });
});
