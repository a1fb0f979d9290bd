// `npm run bench`: serves the repository with Vite, opens bench/index.html in
// headless Chromium (CHROME_PATH, else /usr/bin/chromium), prints the figures
// the benchmark worker and the main-thread cases (main-thread.ts) report, then
// runs the GPT-2 small case (gpt2.html) in a browser of its own, whose renderer's
// peak memory it reads, and writes everything to bench/RESULTS.md with the
// machine and the date. `npm run bench -- --gpt2` runs the GPT-2 case alone and
// only prints it; `npm run bench -- --main-thread=tour` (case ids of main-thread.ts,
// comma-separated) runs those main-thread cases alone and only prints them. Chromium gets
// WebGPU (--enable-unsafe-webgpu, on a 127.0.0.1 page: a secure context);
// without an adapter the WebGPU columns say so. Not a test: figures depend on
// the machine and its load.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import puppeteer from 'puppeteer-core';
import { createServer } from 'vite';

const root = fileURLToPath(new URL('..', import.meta.url));
const resultsFile = fileURLToPath(new URL('RESULTS.md', import.meta.url));
const chrome = process.env.CHROME_PATH || '/usr/bin/chromium';
const TIMEOUT_MS = 15 * 60 * 1000;

function cpuModel() {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('model name'));
    if (line) return line.split(':')[1].trim();
  } catch {
    // not Linux: fall back to what Node reports
  }
  return cpus()[0]?.model ?? 'unknown CPU';
}

const fixed = (value, digits) => (value === undefined ? '–' : value.toFixed(digits));
const figure = (figures, column) => figures.find((f) => f.column === column);
const TRAINING_TARGET = 500;

/** What the report says about the WebGPU adapter, and the target set for it on SwiftShader. */
function webgpuLines(webgpu, training) {
  if (!webgpu) return ['- WebGPU: no adapter in this browser, so no WebGPU figures'];
  const tokensPerSecond = figure(training, 'webgpu')?.tokensPerSecond;
  const measured = `${fixed(tokensPerSecond, 0)} tokens/s`;
  const verdict = !webgpu.software
    ? `this adapter is not a software one, so the target does not apply: ${measured}`
    : tokensPerSecond >= TRAINING_TARGET
      ? `met, ${measured}`
      : `not met, ${measured}`;
  return [
    webgpu.software
      ? `- WebGPU adapter: ${webgpu.name}, a software adapter: it runs on the CPU, so the WebGPU figures are a proxy for a GPU, not a measure of one`
      : `- WebGPU adapter: ${webgpu.name} (hardware)`,
    `- Target of the WebGPU backend on SwiftShader: at least ${TRAINING_TARGET} training tokens/s (on the same adapter the TensorFlow.js WebGPU backend trains nano-cpu at about 45 tokens/s, its WebGL backend at about 280): ${verdict}`,
  ];
}

/** The issue's GPT-2 small targets and figures, for a machine where nano-cpu trains at REFERENCE_NANO tokens/s. */
const REFERENCE_NANO = 8000;
const GPT2_TARGETS = { captureMs: 330, tokensPerSecond: 55, memoryMB: 1200 };

/**
 * Peak resident memory (VmHWM) of the browser's renderer processes, the largest:
 * the page's, which also runs its dedicated workers. null where /proc is missing.
 */
function rendererPeakBytes(browserPid) {
  const parentOf = (pid) => {
    try {
      return Number(/^PPid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
    } catch {
      return 0;
    }
  };
  const descends = (pid) => {
    for (let at = pid; at > 1; at = parentOf(at)) if (at === browserPid) return true;
    return false;
  };
  let peak = null;
  let entries;
  try {
    entries = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return null;
  }
  for (const name of entries) {
    try {
      if (!readFileSync(`/proc/${name}/cmdline`, 'utf8').includes('--type=renderer') || !descends(Number(name))) continue;
      const kB = Number(/^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${name}/status`, 'utf8'))[1]);
      peak = Math.max(peak ?? 0, kB * 1024);
    } catch {
      // the process ended meanwhile
    }
  }
  return peak;
}

const megabytes = (bytes) => (bytes === null ? '–' : `${Math.round(bytes / 1e6).toLocaleString('en-US')} MB`);

/** The "GPT-2 small" section: our figures beside the issue's, the targets scaled by this run's nano-cpu training. */
function gpt2Lines(gpt2) {
  const { cpu, gpu, peakBytes } = gpt2;
  const scale = cpu.nanoTokensPerSecond / REFERENCE_NANO;
  const captureTarget = GPT2_TARGETS.captureMs / scale;
  const rateTarget = GPT2_TARGETS.tokensPerSecond * scale;
  const verdict = (met) => (met ? 'met' : 'not met');
  const gpuCell = (value, text) => (value === null || value === undefined ? '– (see below)' : text);
  // The first line of the reason, without what would break the table or the list.
  const reason = (gpu.reason ?? '')
    .split('\n')[0]
    .replace(/\|/g, '/')
    .replace(/[\s.]+$/, '');
  const adapter = gpu.adapter ? `WebGPU, ${gpu.adapter}${gpu.software ? ' (software)' : ''}` : 'WebGPU';
  return [
    `## GPT-2 small (${cpu.parameters.toLocaleString('en-US')} random parameters in GPT-2's exact shapes; nothing downloaded)`,
    '',
    `Run in a browser of its own, in a dedicated worker, on the ${cpu.path} path, right after nano-cpu training timed there at ${cpu.nanoTokensPerSecond.toFixed(0)} tokens/s. The issue's targets are for a machine where nano-cpu trains at ${REFERENCE_NANO.toLocaleString('en-US')} tokens/s: the time and rate targets here are scaled by ${cpu.nanoTokensPerSecond.toFixed(0)}/${REFERENCE_NANO.toLocaleString('en-US')}, the memory target is not. The last three columns are the issue's figures from that machine, not measured here.`,
    '',
    `| | ours, CPU (${cpu.path}) | ours, ${adapter} | target here | CPU | onnxruntime-web 1.31 (wasm) | transformers.js 4.3 | PyTorch 1.13 (oneDNN, native) |`,
    '|---|---:|---:|---:|---|---:|---:|---:|',
    `| 64-token forward with capture | ${cpu.captureMs.toFixed(0)} ms | ${gpuCell(gpu.captureMs, `${gpu.captureMs?.toFixed(0)} ms`)} | ≤ ${captureTarget.toFixed(0)} ms | ${verdict(cpu.captureMs <= captureTarget)} | 417 ms | 433 ms | 226 ms |`,
    `| generation with the KV cache | ${cpu.tokensPerSecond.toFixed(1)} tokens/s | ${gpuCell(gpu.tokensPerSecond, `${gpu.tokensPerSecond?.toFixed(2)} tokens/s`)} | ≥ ${rateTarget.toFixed(1)} tokens/s | ${verdict(cpu.tokensPerSecond >= rateTarget)} | – | 45 tokens/s | 7 tokens/s |`,
    `| peak worker memory | ${megabytes(peakBytes)} | – | ≤ ${GPT2_TARGETS.memoryMB.toLocaleString('en-US')} MB | ${peakBytes === null ? '–' : verdict(peakBytes / 1e6 <= GPT2_TARGETS.memoryMB)} | 2,600 MB (its renderer) | – | – |`,
    '',
    `- Forward with capture: the 64-token prompt with every layer's insides kept, and the logits of its last position (what the inspector shows); with every position's logits it took ${cpu.captureAllLogitsMs.toFixed(0)} ms. Without capture (a prefill): ${cpu.prefillMs.toFixed(0)} ms. Each is the mean of the runs in 2–3 s after one warm-up.`,
    '- Generation: tokens/s from the first token after the 64-token prompt to the last (the prefill is not counted), temperature 1: 64 tokens on the CPU (after a warm-up generation of 8), 4 on WebGPU.',
    `- Peak worker memory: the peak resident memory (VmHWM) of the renderer process of a browser that ran nothing else (the page and its dedicated worker live in it), read once the CPU figures were in and before the WebGPU part, whose buffers live in the GPU process. It includes the page, V8 and the weights (${megabytes(cpu.parameters * 4)}).`,
    ...(gpu.captureMs === null ? [`- WebGPU: not measured: ${reason}.`] : []),
    `- Making the random weights took ${(cpu.initMs / 1000).toFixed(1)} s (not counted).`,
    '',
  ];
}

const LONG_TASK_MS = 50;

/**
 * Per case (main-thread.ts), the page's main-thread tasks (RunTask in the trace) that overlap the
 * window between its marks: the longest in wall-clock and in CPU time, and how many went over LONG_TASK_MS.
 */
function mainThreadFigures(cases, events) {
  const mark = (name) => events.find((event) => event.cat === 'blink.user_timing' && event.name === name);
  return cases.map(({ mark: id, name }) => {
    const start = mark(`${id} start`);
    const end = mark(`${id} end`);
    const tasks = events
      .filter((event) => event.name === 'RunTask' && event.ph === 'X' && event.pid === start.pid && event.tid === start.tid)
      .filter((task) => task.ts < end.ts && task.ts + task.dur > start.ts);
    return {
      name,
      longestMs: Math.max(...tasks.map((task) => task.dur)) / 1000,
      // Wall-clock time counts while the operating system runs other work; CPU time does not.
      longestCpuMs: Math.max(...tasks.map((task) => task.tdur ?? 0)) / 1000,
      over: tasks.filter((task) => task.dur / 1000 > LONG_TASK_MS).length,
    };
  });
}

/** The "Main thread" section: per case, the longest task and how many went over the target. */
function mainThreadLines(figures) {
  const met = figures.every((f) => f.over === 0);
  return [
    '## Main thread',
    '',
    `The page's main thread while the real \`<llm-playground>\` works (its engine in the worker), driven as the tests drive it (test/browser/playground-drives.ts). Its tasks are read from a Chromium trace of the run, in wall-clock time and in CPU time, which leaves out the time the operating system gave to other work: on a busy machine the wall-clock figures grow, the CPU ones much less. Target: no main-thread task over ${LONG_TASK_MS} ms (wall-clock): ${met ? 'met' : 'not met'}.`,
    '',
    `| case | longest task, ms | longest CPU time of a task, ms | tasks over ${LONG_TASK_MS} ms | target |`,
    '|---|---:|---:|---:|---|',
    ...figures.map(
      (f) =>
        `| ${f.name} | ${fixed(f.longestMs, 0)} | ${fixed(f.longestCpuMs, 0)} | ${f.over} | ${f.over === 0 ? 'met' : 'not met'} |`,
    ),
    '',
  ];
}

function report(result, mainThread, gpt2, browserVersion, load) {
  const { paths, webgpu } = result;
  const columns = [...paths, 'webgpu'];
  const header = `${columns.map((c) => (c === 'webgpu' ? 'WebGPU' : c)).join(' | ')} |`;
  const align = `${columns.map(() => '---:').join('|')}|`;
  // A table cell: the WebGPU column says why it is empty when there is no adapter.
  const cell = (column, value, digits) => (column === 'webgpu' && !webgpu ? 'no adapter' : fixed(value, digits));
  const row = (label, valueOf, digits) => `| ${label} | ${columns.map((c) => cell(c, valueOf(c), digits)).join(' | ')} |`;
  const date = new Date().toISOString().slice(0, 10);
  const lines = [
    '# Benchmark results',
    '',
    `Written by \`npm run bench\` on ${date}.`,
    '',
    `- Machine: ${cpuModel()}, ${cpus().length} cores (the browser reports ${result.hardwareConcurrency}); load average ${load.toFixed(2)} when the run started (other work on the machine slows every figure)`,
    `- Browser: ${browserVersion}, headless, the engine in a dedicated worker`,
    `- gemm paths this browser runs: ${paths.join(', ')}`,
    ...webgpuLines(webgpu, result.training),
    '- Targets of the CPU backend: at least 3,000 training tokens/s and 1,000 generated tokens/s',
    `- Model: nano-cpu (4 layers, 4 heads, 128 wide, context 64, character vocabulary 65), ${result.parameters.toLocaleString('en-US')} parameters`,
    '',
    '## Matmul kernel, GFLOP/s (2·M·K·N per call)',
    '',
    "WebGPU: every row runs the gemm of matmul.ts reading the operands with the row's strides, except the dx = dy·Wᵀ row: a transpose of W and then the x·W gemm, as the WebGPU backend does; each is timed over many runs queued back to back with one wait at the end.",
    '',
    `| matmul | M×K·K×N | ${header}`,
    `|---|---|${align}`,
    ...result.matmul.map(
      (m) => `| ${m.name} | ${m.M}×${m.K}·${m.K}×${m.N} | ${columns.map((c) => cell(c, m.gflops[c], 1)).join(' | ')} |`,
    ),
    '',
    '## Training (batch 12 × context 64 = 768 tokens a step, AdamW, random tokens)',
    '',
    "WebGPU: the whole step runs on the GPU and reads back the mean loss and the gradient norm; the trainer's periodic copy of the weights back to the CPU (its fallback backup, every 50 steps or 5 seconds) is left out.",
    '',
    `| | ${header}`,
    `|---|${align}`,
    row('tokens/s', (c) => figure(result.training, c)?.tokensPerSecond, 0),
    row('ms/step', (c) => figure(result.training, c)?.millisecondsPerStep, 1),
    row('GPU dispatches per step', (c) => figure(result.training, c)?.dispatchesPerStep, 0),
    row('bytes read back per step', (c) => figure(result.training, c)?.readbackBytesPerStep, 0),
    '',
    '## Generation, tokens/s (temperature 1, 1-token prompt)',
    '',
    "Both keep a KV cache: one position's work per token; WebGPU reads back only the last row of logits (4·V bytes) per token.",
    '',
    `| | ${header}`,
    `|---|${align}`,
    row(
      '200 tokens (a full 64-position context slides forward by half: on the CPU the cache is rebuilt every 32 tokens)',
      (c) => figure(result.generation, c)?.tokensPerSecond,
      0,
    ),
    row('63 tokens (within the 64-position context)', (c) => figure(result.generation, c)?.windowTokensPerSecond, 0),
    '',
    ...mainThreadLines(mainThread),
    ...gpt2Lines(gpt2),
  ];
  return lines.join('\n');
}

const launchOptions = {
  executablePath: chrome,
  headless: true,
  // A busy machine can keep the page from answering a poll for minutes (the default gives up after 3).
  protocolTimeout: TIMEOUT_MS,
  args: [
    '--no-sandbox',
    '--enable-unsafe-webgpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--no-first-run',
  ],
};

/** Waits for the page's window.benchResult (or throws its window.benchError). */
async function pageResult(page) {
  await page.waitForFunction(() => window.benchResult !== undefined || window.benchError !== undefined, {
    timeout: TIMEOUT_MS,
    polling: 500,
  });
  const { result, error } = await page.evaluate(() => ({ result: window.benchResult, error: window.benchError }));
  if (error) throw new Error(`the benchmark failed in the browser: ${error}`);
  return result;
}

/** The nano-cpu cases (index.html) and the main-thread cases, with the trace those are read from. */
async function mainBench(url) {
  const browser = await puppeteer.launch(launchOptions);
  try {
    const browserVersion = await browser.version();
    const page = await browser.newPage();
    page.on('console', (message) => console.log(message.text()));
    page.on('pageerror', (error) => console.error(`page error: ${error.message}`));
    console.log(`${browserVersion}, ${cpuModel()}, ${cpus().length} cores: ${url}`);
    // The page starts and stops the trace around its main-thread cases (main-thread.ts).
    let traceEvents = [];
    await page.exposeFunction('benchTracing', async (on) => {
      if (on) await page.tracing.start({ categories: ['-*', 'disabled-by-default-devtools.timeline', 'blink.user_timing'] });
      else traceEvents = JSON.parse(Buffer.from(await page.tracing.stop()).toString()).traceEvents;
    });
    await page.goto(url);
    const result = await pageResult(page);
    return { result, mainThread: mainThreadFigures(result.mainThread, traceEvents), browserVersion };
  } finally {
    await browser.close();
  }
}

/** The GPT-2 case (gpt2.html) in a fresh browser, so that its renderer's peak memory is the case's own. */
async function gpt2Bench(url) {
  const browser = await puppeteer.launch(launchOptions);
  try {
    const pid = browser.process()?.pid;
    const [page] = await browser.pages();
    page.on('console', (message) => console.log(message.text()));
    page.on('pageerror', (error) => console.error(`page error: ${error.message}`));
    await page.exposeFunction('benchMemory', async () => (pid ? rendererPeakBytes(pid) : null));
    await page.goto(url);
    return await pageResult(page);
  } finally {
    await browser.close();
  }
}

const gpt2Only = process.argv.includes('--gpt2');
const mainThreadOnly = process.argv.find((arg) => arg.startsWith('--main-thread='))?.slice('--main-thread='.length);
/** A pause between the two browsers, for the first one's processes to end and its memory to be freed. */
const SETTLE_MS = 10_000;
const load = loadavg()[0];
const server = await createServer({
  root,
  configFile: false,
  logLevel: 'error',
  server: { host: '127.0.0.1', port: 0 },
});
await server.listen();
const address = server.httpServer.address();
const base = `http://127.0.0.1:${address.port}/bench`;
try {
  if (mainThreadOnly) {
    console.log(`load average ${load.toFixed(2)}`);
    const { mainThread } = await mainBench(`${base}/index.html?main-thread=${encodeURIComponent(mainThreadOnly)}`);
    console.log(`\n${mainThreadLines(mainThread).join('\n')}`);
  } else if (gpt2Only) {
    console.log(`load average ${load.toFixed(2)}`);
    const gpt2 = await gpt2Bench(`${base}/gpt2.html`);
    console.log(`\n${gpt2Lines(gpt2).join('\n')}`);
  } else {
    // GPT-2 first, in a browser of its own on a machine that has not just run another one: its peak memory and its
    // speed are then its own (run second, its nano-cpu training came out a quarter slower).
    const gpt2 = await gpt2Bench(`${base}/gpt2.html`);
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    const { result, mainThread, browserVersion } = await mainBench(`${base}/index.html`);
    const markdown = report(result, mainThread, gpt2, browserVersion, load);
    writeFileSync(resultsFile, markdown);
    console.log(`\n${markdown}\nwrote bench/RESULTS.md`);
  }
} finally {
  await server.close();
}
