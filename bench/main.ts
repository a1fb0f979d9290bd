/**
 * The benchmark page: runs bench.worker.ts (the engine runs in a worker in the
 * playground too), shows its progress lines, and leaves the figures in
 * window.benchResult (or the error in window.benchError) for bench/run.mjs.
 */
import type { BenchMessage } from './bench.worker.ts';

declare global {
  interface Window {
    benchResult?: unknown;
    benchError?: string;
  }
}

const log = document.getElementById('log')!;
const worker = new Worker(new URL('./bench.worker.ts', import.meta.url), { type: 'module' });
worker.onmessage = (event: MessageEvent<BenchMessage>) => {
  const message = event.data;
  if (message.kind === 'progress') {
    log.textContent += `${message.line}\n`;
    console.log(message.line);
  } else if (message.kind === 'done') {
    window.benchResult = message.result;
  } else {
    window.benchError = message.error;
  }
};
worker.onerror = (event) => {
  window.benchError = event.message || 'the benchmark worker failed to load';
};
