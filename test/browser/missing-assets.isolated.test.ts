// A cross-origin isolated page that does not serve the CPU thread's script: threads.ts is loaded from
// /missing/cpu-thread.ts/… (web-test-runner.config.mjs), where that file answers 404, so its real thread
// start meets it. The CPU goes on on one thread, and the note names the file.
import { expect } from 'chai';
import { SERVE_ASSETS } from '../../workers/api/errors.ts';
import type * as Threads from '../../workers/engine/threads.ts';

describe('missing assets, isolated', function () {
  it("runs the CPU on one thread with a note naming the thread's script when it is missing", async function () {
    const missing = (path: string) => new URL(`/missing/cpu-thread.ts/${path}`, location.origin).href;
    const { maxThreads, setThreads } = (await import(missing('workers/engine/threads.ts'))) as typeof Threads;
    if (maxThreads() < 2) this.skip(); // one core: no thread to start
    const status = await setThreads(2);
    expect(status.count).to.equal(1);
    expect(status.note).to.equal(
      `The CPU runs on one thread: a thread failed (${missing('workers/engine/cpu-thread.ts')} answered 404 Not Found; ${SERVE_ASSETS}).`,
    );
  });
});
