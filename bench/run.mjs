// `npm run bench`: serves the repository with Vite, opens bench/index.html in
// headless Chromium (CHROME_PATH, else /usr/bin/chromium), prints the figures
// the benchmark worker and the main-thread cases (main-thread.ts) report, then
// runs the GPT-2 small case (gpt2.html) in a browser of its own, whose renderer's
// peak memory it reads, and writes everything to bench/RESULTS.md with the
// machine and the date. `npm run bench -- --gpt2` runs the GPT-2 case alone and
// only prints it; `npm run bench -- --main-thread=tour` (case ids of main-thread.ts,
// comma-separated) runs those main-thread cases alone and only prints them. Chromium gets
// WebGPU (--enable-unsafe-webgpu, on a 127.0.0.1 page: a secure context);
// without an adapter the WebGPU columns say so. The server sends the headers that
// make the pages cross-origin isolated (ISOLATION), so that the CPU backend can
// run threads: the "Threads" sections time nano-cpu and GPT-2 small at 1, 2 and
// the hardware's thread counts. Not a test: figures depend on the machine and its load.
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

/** COOP and COEP: a page served with them is cross-origin isolated, and its workers may share memory (threads). */
const ISOLATION = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

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

/** The issue's targets at 2 threads, nano-cpu: training and generation against 1 thread; GPT-2 small, for a machine where nano-cpu trains at REFERENCE_NANO tokens/s. */
const THREAD_TARGETS = { training: 1.7, generation: 1.3, gpt2ForwardMs: 200, gpt2TokensPerSecond: 70 };
/** The peers' figures the issue gives, on its machine with 2 threads: not measured here. */
const THREAD_PEERS = { onnxForwardMs: 227, transformersTokensPerSecond: 64 };

const threadsLabel = (count) => (count === 1 ? '1 thread' : `${count} threads`);
/** "figure (ratio×)": ratio is the speed against 1 thread, for times 1-thread time / this time. */
const withRatio = (text, ratio) => (ratio === undefined ? text : `${text} (${ratio.toFixed(2)}×)`);
const verdict = (met) => (met ? 'met' : 'not met');

/** Whether the pages ran cross-origin isolated, and the threads they could run. */
function isolationLine({ isolated, hardwareConcurrency, maxThreads }, pageIsolated) {
  const both = isolated && pageIsolated;
  const where = both
    ? 'yes (the page and its worker)'
    : `no (the page: ${pageIsolated ? 'yes' : 'no'}, its worker: ${isolated ? 'yes' : 'no'})`;
  return `- Cross-origin isolated (served with COOP \`same-origin\` and COEP \`require-corp\`): ${where}; the browser reports ${hardwareConcurrency} hardware threads (\`navigator.hardwareConcurrency\`), the CPU backend runs at most ${maxThreads}${isolated ? '' : ', so every case runs on one thread'}`;
}

/** The figures at 2 threads, or null where 2 did not run. */
const atTwo = (figures) => figures.find((f) => f.threads === 2) ?? null;

/** The nano-cpu "Threads" section: training and generation at each thread count, ratios to 1 thread, the issue's targets at 2. */
function threadLines(result) {
  const { threads: figures, threadsPath, threadsInfo } = result;
  const one = figures.find((f) => f.threads === 1);
  const two = atTwo(figures);
  const header = `| | ${figures.map((f) => threadsLabel(f.threads)).join(' | ')} | target at 2 threads | at 2 threads |`;
  const align = `|---|${figures.map(() => '---:').join('|')}|---:|---|`;
  const row = (label, value, digits, target) => {
    const cells = figures.map((f) => withRatio(fixed(value(f), digits), f.threads === 1 ? undefined : value(f) / value(one)));
    const met = two && target ? verdict(value(two) / value(one) >= target) : '–';
    return `| ${label} | ${cells.join(' | ')} | ${target ? `≥ ${target}× the 1-thread figure` : '–'} | ${two ? met : 'not measured: 2 threads did not run'} |`;
  };
  return [
    '## Threads',
    '',
    `nano-cpu on the ${threadsPath} path at 1, 2 and the hardware's thread counts, one after the other in the same worker: before each count the bench sets the CPU backend's threads (\`setThreads\`, checked with \`threadCount()\`) and warms them up with 512³ products for half a second (the last row times those). The cases are those of the training and generation tables. In brackets: the figure over the 1-thread one.${threadsInfo.maxThreads < 2 ? ' Only one thread could run here (see the isolation line above): the targets are not measured.' : ''}`,
    '',
    header,
    align,
    row('training tokens/s', (f) => f.trainingTokensPerSecond, 0, THREAD_TARGETS.training),
    row('generation tokens/s, 200 tokens', (f) => f.generationTokensPerSecond, 0, THREAD_TARGETS.generation),
    row('generation tokens/s, 63 tokens (within the context)', (f) => f.windowTokensPerSecond, 0, THREAD_TARGETS.generation),
    row('512³ gemm GFLOP/s (the warm-up)', (f) => f.squareGflops, 1, null),
    '',
  ];
}

/** The GPT-2 small threads table: forwards and generation at each count, the issue's 2-thread targets scaled as gpt2Lines' are, and its peers. */
function gpt2ThreadLines(gpt2) {
  const { cpu, threads, threadsPeakBytes } = gpt2;
  const { figures } = threads;
  const one = figures[0];
  const two = atTwo(figures);
  const scale = cpu.nanoTokensPerSecond / REFERENCE_NANO;
  const forwardTarget = THREAD_TARGETS.gpt2ForwardMs / scale;
  const rateTarget = THREAD_TARGETS.gpt2TokensPerSecond * scale;
  const cells = (value, text, faster) =>
    figures.map((f) => withRatio(text(value(f)), f.threads === 1 ? undefined : faster(value(f), value(one))));
  const time = (value) =>
    cells(
      value,
      (ms) => `${ms.toFixed(0)} ms`,
      (ms, ms1) => ms1 / ms,
    );
  const rate = (value) =>
    cells(
      value,
      (r) => `${r.toFixed(1)} tokens/s`,
      (r, r1) => r / r1,
    );
  const row = (label, figureCells, target, met, onnx, transformers) =>
    `| ${label} | ${figureCells.join(' | ')} | ${target} | ${two ? verdict(met(two)) : 'not measured: 2 threads did not run'} | ${onnx} | ${transformers} |`;
  return [
    `### GPT-2 small at ${figures.map((f) => f.threads).join(', ')} threads`,
    '',
    `The same forwards and generation as above on ${figures.map((f) => threadsLabel(f.threads)).join(', ')} (the 1-thread column is the table above), each count's threads started and warmed up first. In brackets: the speed over 1 thread (for times, the 1-thread time over this one). The issue's 2-thread targets, for a machine where nano-cpu trains at ${REFERENCE_NANO.toLocaleString('en-US')} tokens/s on one thread, are scaled by ${cpu.nanoTokensPerSecond.toFixed(0)}/${REFERENCE_NANO.toLocaleString('en-US')} as above (${THREAD_TARGETS.gpt2ForwardMs} ms for the forward and ${THREAD_TARGETS.gpt2TokensPerSecond} tokens/s there); the forward's applies to the inspection (with capture), as in the table above. The last two columns are the issue's figures from that machine, not measured here.`,
    '',
    `| | ${figures.map((f) => threadsLabel(f.threads)).join(' | ')} | target at 2 threads, here | at 2 threads | onnxruntime-web, 2 threads | transformers.js |`,
    `|---|${figures.map(() => '---:').join('|')}|---:|---|---:|---:|`,
    row(
      '64-token forward with capture',
      time((f) => f.captureMs),
      `≤ ${forwardTarget.toFixed(0)} ms`,
      (f) => f.captureMs <= forwardTarget,
      `${THREAD_PEERS.onnxForwardMs} ms`,
      '–',
    ),
    `| 64-token forward without capture (a prefill) | ${time((f) => f.prefillMs).join(' | ')} | – | – | – | – |`,
    row(
      'generation with the KV cache',
      rate((f) => f.tokensPerSecond),
      `≥ ${rateTarget.toFixed(1)} tokens/s`,
      (f) => f.tokensPerSecond >= rateTarget,
      '–',
      `${THREAD_PEERS.transformersTokensPerSecond} tokens/s`,
    ),
    '',
    `- Peak worker memory through the runs at every thread count (the helper threads live in the same renderer): ${megabytes(threadsPeakBytes)}.`,
    '',
  ];
}

const megabytes = (bytes) => (bytes === null ? '–' : `${Math.round(bytes / 1e6).toLocaleString('en-US')} MB`);

/** The "GPT-2 small" section: our figures beside the issue's, the targets scaled by this run's nano-cpu training. */
function gpt2Lines(gpt2) {
  const { cpu, gpu, peakBytes } = gpt2;
  const scale = cpu.nanoTokensPerSecond / REFERENCE_NANO;
  const captureTarget = GPT2_TARGETS.captureMs / scale;
  const rateTarget = GPT2_TARGETS.tokensPerSecond * scale;
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
    isolationLine(gpt2.threads.info, gpt2.pageIsolated),
    '',
    `Run in a browser of its own, in a dedicated worker, on the ${cpu.path} path and one thread, right after nano-cpu training timed there at ${cpu.nanoTokensPerSecond.toFixed(0)} tokens/s. The issue's targets are for a machine where nano-cpu trains at ${REFERENCE_NANO.toLocaleString('en-US')} tokens/s: the time and rate targets here are scaled by ${cpu.nanoTokensPerSecond.toFixed(0)}/${REFERENCE_NANO.toLocaleString('en-US')}, the memory target is not. The last three columns are the issue's figures from that machine, not measured here.`,
    '',
    `| | ours, CPU (${cpu.path}, 1 thread) | ours, ${adapter} | target here | CPU | onnxruntime-web 1.31 (wasm) | transformers.js 4.3 | PyTorch 1.13 (oneDNN, native) |`,
    '|---|---:|---:|---:|---|---:|---:|---:|',
    `| 64-token forward with capture | ${cpu.captureMs.toFixed(0)} ms | ${gpuCell(gpu.captureMs, `${gpu.captureMs?.toFixed(0)} ms`)} | ≤ ${captureTarget.toFixed(0)} ms | ${verdict(cpu.captureMs <= captureTarget)} | 417 ms | 433 ms | 226 ms |`,
    `| generation with the KV cache | ${cpu.tokensPerSecond.toFixed(1)} tokens/s | ${gpuCell(gpu.tokensPerSecond, `${gpu.tokensPerSecond?.toFixed(2)} tokens/s`)} | ≥ ${rateTarget.toFixed(1)} tokens/s | ${verdict(cpu.tokensPerSecond >= rateTarget)} | – | 45 tokens/s | 7 tokens/s |`,
    `| peak worker memory | ${megabytes(peakBytes)} | – | ≤ ${GPT2_TARGETS.memoryMB.toLocaleString('en-US')} MB | ${peakBytes === null ? '–' : verdict(peakBytes / 1e6 <= GPT2_TARGETS.memoryMB)} | 2,600 MB (its renderer) | – | – |`,
    '',
    `- Forward with capture: the 64-token prompt with every layer's insides kept, and the logits of its last position (what the inspector shows); with every position's logits it took ${cpu.captureAllLogitsMs.toFixed(0)} ms. Without capture (a prefill): ${cpu.prefillMs.toFixed(0)} ms. Each is the mean of the runs in 2–3 s after one warm-up.`,
    '- Generation: tokens/s from the first token after the 64-token prompt to the last (the prefill is not counted), temperature 1: 64 tokens on the CPU (after a warm-up generation of 8), 4 on WebGPU.',
    `- Peak worker memory: the peak resident memory (VmHWM) of the renderer process of a browser that ran nothing else (the page and its dedicated worker live in it), read once the 1-thread CPU figures were in and before the WebGPU part, whose buffers live in the GPU process. It includes the page, V8 and the weights (${megabytes(cpu.parameters * 4)}).`,
    ...(gpu.captureMs === null ? [`- WebGPU: not measured: ${reason}.`] : []),
    `- Making the random weights took ${(cpu.initMs / 1000).toFixed(1)} s (not counted).`,
    '',
    ...gpt2ThreadLines(gpt2),
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

function report(result, mainThread, gpt2, browserVersion, load, peakLoad) {
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
    `- Machine: ${cpuModel()}, ${cpus().length} cores (the browser reports ${result.hardwareConcurrency}); load average ${load.toFixed(2)} when the run started, at most ${peakLoad.toFixed(2)} during it (other work on the machine slows every figure, and threads most: they wait for each other)`,
    `- Browser: ${browserVersion}, headless, the engine in a dedicated worker`,
    `- gemm paths this browser runs: ${paths.join(', ')}`,
    ...webgpuLines(webgpu, result.training),
    isolationLine(result.threadsInfo, result.pageIsolated),
    '- Targets of the CPU backend: at least 3,000 training tokens/s and 1,000 generated tokens/s',
    `- Model: nano-cpu (4 layers, 4 heads, 128 wide, context 64, character vocabulary 65), ${result.parameters.toLocaleString('en-US')} parameters`,
    "- The matmul, training and generation tables run the CPU on one thread, as before threads came; the Threads section times 1, 2 and the hardware's thread counts",
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
    ...threadLines(result),
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
/** The highest 1-minute load average seen during the run, sampled every few seconds. */
let peakLoad = load;
const loadSampler = setInterval(() => (peakLoad = Math.max(peakLoad, loadavg()[0])), 5000);
loadSampler.unref();
const server = await createServer({
  root,
  configFile: false,
  logLevel: 'error',
  server: { host: '127.0.0.1', port: 0, headers: ISOLATION },
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
    console.log(`\n${gpt2Lines(gpt2).join('\n')}\nload average at most ${peakLoad.toFixed(2)} during the run`);
  } else {
    // GPT-2 first, in a browser of its own on a machine that has not just run another one: its peak memory and its
    // speed are then its own (run second, its nano-cpu training came out a quarter slower).
    const gpt2 = await gpt2Bench(`${base}/gpt2.html`);
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    const { result, mainThread, browserVersion } = await mainBench(`${base}/index.html`);
    const markdown = report(result, mainThread, gpt2, browserVersion, load, peakLoad);
    writeFileSync(resultsFile, markdown);
    console.log(`\n${markdown}\nwrote bench/RESULTS.md`);
  }
} finally {
  await server.close();
}
