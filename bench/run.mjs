// `npm run bench`: serves the repository with Vite, opens bench/index.html in
// headless Chromium (CHROME_PATH, else /usr/bin/chromium), prints the figures
// the benchmark worker and the main-thread cases (main-thread.ts) report, and
// writes them to bench/RESULTS.md with the machine and the date. Chromium gets
// WebGPU (--enable-unsafe-webgpu, on a 127.0.0.1 page: a secure context);
// without an adapter the WebGPU columns say so. Not a test: figures depend on
// the machine and its load.
import { readFileSync, writeFileSync } from 'node:fs';
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

function report(result, mainThread, browserVersion, load) {
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
    "The CPU keeps a KV cache: one position's work per token. WebGPU has none: each token is a full forward of the whole context (up to 64 positions), reading back the last row of logits.",
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
  ];
  return lines.join('\n');
}

const load = loadavg()[0];
const server = await createServer({
  root,
  configFile: false,
  logLevel: 'error',
  server: { host: '127.0.0.1', port: 0 },
});
await server.listen();
const address = server.httpServer.address();
const url = `http://127.0.0.1:${address.port}/bench/index.html`;

const browser = await puppeteer.launch({
  executablePath: chrome,
  headless: true,
  args: [
    '--no-sandbox',
    '--enable-unsafe-webgpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--no-first-run',
  ],
});
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
  await page.waitForFunction(() => window.benchResult !== undefined || window.benchError !== undefined, {
    timeout: TIMEOUT_MS,
    polling: 500,
  });
  const { result, error } = await page.evaluate(() => ({ result: window.benchResult, error: window.benchError }));
  if (error) throw new Error(`the benchmark failed in the browser: ${error}`);
  const markdown = report(result, mainThreadFigures(result.mainThread, traceEvents), browserVersion, load);
  writeFileSync(resultsFile, markdown);
  console.log(`\n${markdown}\nwrote bench/RESULTS.md`);
} finally {
  await browser.close();
  await server.close();
}
