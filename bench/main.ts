/**
 * The benchmark page: runs bench.worker.ts (the engine runs in a worker in the
 * playground too), then times the page's main thread with the real playground
 * (main-thread.ts), shows the progress lines, and leaves the figures in
 * window.benchResult (or the error in window.benchError) for bench/run.mjs.
 */
import type { BenchMessage } from './bench.worker.ts';
import { messageOf } from '../workers/api/errors.ts';
import { mainThreadCases } from './main-thread.ts';

declare global {
  interface Window {
    benchResult?: unknown;
    benchError?: string;
  }
}

const log = document.getElementById('log')!;
const progress = (line: string) => {
  log.textContent += `${line}\n`;
  console.log(line);
};
/** `?main-thread=tour,attention`: only those main-thread cases, without the worker's (`npm run bench -- --main-thread=…`). */
const onlyMainThread = new URLSearchParams(location.search).get('main-thread');
if (onlyMainThread) {
  mainThreadCases(progress, onlyMainThread.split(','))
    .then((mainThread) => (window.benchResult = { mainThread }))
    .catch((error) => (window.benchError = `main thread: ${messageOf(error)}`));
} else {
  startWorkerBench();
}

function startWorkerBench(): void {
  const worker = new Worker(new URL('./bench.worker.ts', import.meta.url), { type: 'module' });
  worker.onmessage = async (event: MessageEvent<BenchMessage>) => {
    const message = event.data;
    if (message.kind === 'progress') {
      progress(message.line);
    } else if (message.kind === 'done') {
      // Its figures are in: nothing else runs beside the main-thread cases.
      worker.terminate();
      try {
        const pageIsolated = window.crossOriginIsolated;
        window.benchResult = { ...message.result, pageIsolated, mainThread: await mainThreadCases(progress) };
      } catch (error) {
        window.benchError = `main thread: ${messageOf(error)}`;
      }
    } else {
      window.benchError = message.error;
    }
  };
  worker.onerror = (event) => {
    window.benchError = event.message || 'the benchmark worker failed to load';
  };
}
