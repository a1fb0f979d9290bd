/**
 * The GPT-2 small benchmark page (gpt2.html): runs gpt2.worker.ts, lets run.mjs
 * read the renderer's peak memory once the 1-thread CPU figures are in and again
 * once those at more threads are (window.benchMemory), and leaves everything in
 * window.benchResult (or window.benchError).
 */
import type { Gpt2CpuFigures, Gpt2Message, Gpt2ThreadFigures } from './gpt2.worker.ts';

declare global {
  interface Window {
    benchResult?: unknown;
    benchError?: string;
    /** Given by bench/run.mjs: the peak resident memory of this page's renderer process so far, in bytes. */
    benchMemory?: () => Promise<number | null>;
  }
}

const log = document.getElementById('log')!;
const progress = (line: string) => {
  log.textContent += `${line}\n`;
  console.log(line);
};
let cpu: Gpt2CpuFigures | null = null;
let peakBytes: number | null = null;
let threads: Gpt2ThreadFigures | null = null;
let threadsPeakBytes: number | null = null;
const worker = new Worker(new URL('./gpt2.worker.ts', import.meta.url), { type: 'module' });
worker.onmessage = async (event: MessageEvent<Gpt2Message>) => {
  const message = event.data;
  if (message.kind === 'progress') progress(message.line);
  else if (message.kind === 'cpu') {
    cpu = message.figures;
    // Before the WebGPU part: the CPU figures' peak, without the uploads to the GPU.
    peakBytes = window.benchMemory ? await window.benchMemory() : null;
    worker.postMessage('carry on');
  } else if (message.kind === 'threads') {
    threads = message.figures;
    // The peak so far, through the runs at more threads (the helpers are workers of this renderer too).
    threadsPeakBytes = window.benchMemory ? await window.benchMemory() : null;
    worker.postMessage('carry on');
  } else if (message.kind === 'gpu') {
    worker.terminate();
    window.benchResult = {
      cpu,
      peakBytes,
      threads,
      threadsPeakBytes,
      pageIsolated: window.crossOriginIsolated,
      gpu: message.figures,
      userAgent: navigator.userAgent,
    };
  } else window.benchError = message.error;
};
worker.onerror = (event) => {
  window.benchError = event.message || 'the GPT-2 benchmark worker failed to load';
};
