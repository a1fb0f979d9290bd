// `npm run bench`: serves the repository with Vite, opens bench/index.html in
// headless Chromium (CHROME_PATH, else /usr/bin/chromium), prints the figures
// the benchmark worker reports and writes them to bench/RESULTS.md with the
// machine and the date. Not a test: figures depend on the machine and its load.
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
    const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('model name'));
    if (line) return line.split(':')[1].trim();
  } catch {
    // not Linux: fall back to what Node reports
  }
  return cpus()[0]?.model ?? 'unknown CPU';
}

const fixed = (value, digits) => (value === undefined ? '–' : value.toFixed(digits));
const figure = (figures, path) => figures.find((f) => f.path === path);

function report(result, browserVersion, load) {
  const { paths } = result;
  const date = new Date().toISOString().slice(0, 10);
  const lines = [
    '# Benchmark results',
    '',
    `Written by \`npm run bench\` on ${date}.`,
    '',
    `- Machine: ${cpuModel()}, ${cpus().length} cores (the browser reports ${result.hardwareConcurrency}); load average ${load.toFixed(2)} when the run started (other work on the machine slows every figure)`,
    `- Browser: ${browserVersion}, headless, the engine in a dedicated worker`,
    `- gemm paths this browser runs: ${paths.join(', ')}`,
    '- Targets of the CPU backend: at least 3,000 training tokens/s and 1,000 generated tokens/s',
    `- Model: nano-cpu (4 layers, 4 heads, 128 wide, context 64, character vocabulary 65), ${result.parameters.toLocaleString('en-US')} parameters`,
    '',
    '## Matmul kernel, GFLOP/s (2·M·K·N per call)',
    '',
    `| matmul | M×K·K×N | ${paths.join(' | ')} |`,
    `|---|---|${paths.map(() => '---:').join('|')}|`,
    ...result.matmul.map((m) =>
      `| ${m.name} | ${m.M}×${m.K}·${m.K}×${m.N} | ${paths.map((p) => fixed(m.gflops[p], 1)).join(' | ')} |`),
    '',
    '## Training (batch 12 × context 64 = 768 tokens a step, AdamW, random tokens)',
    '',
    `| | ${paths.join(' | ')} |`,
    `|---|${paths.map(() => '---:').join('|')}|`,
    `| tokens/s | ${paths.map((p) => fixed(figure(result.training, p)?.tokensPerSecond, 0)).join(' | ')} |`,
    `| ms/step | ${paths.map((p) => fixed(figure(result.training, p)?.millisecondsPerStep, 1)).join(' | ')} |`,
    '',
    '## Generation, tokens/s (KV cache, temperature 1, 1-token prompt)',
    '',
    `| | ${paths.join(' | ')} |`,
    `|---|${paths.map(() => '---:').join('|')}|`,
    `| 200 tokens (a full 64-position context slides forward by half: the cache is rebuilt every 32 tokens) | ${paths.map((p) => fixed(figure(result.generation, p)?.tokensPerSecond, 0)).join(' | ')} |`,
    `| 63 tokens (within the 64-position cache) | ${paths.map((p) => fixed(figure(result.generation, p)?.windowTokensPerSecond, 0)).join(' | ')} |`,
    '',
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
  args: ['--no-sandbox', '--enable-unsafe-webgpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
});
try {
  const browserVersion = await browser.version();
  const page = await browser.newPage();
  page.on('console', (message) => console.log(message.text()));
  page.on('pageerror', (error) => console.error(`page error: ${error.message}`));
  console.log(`${browserVersion}, ${cpuModel()}, ${cpus().length} cores: ${url}`);
  await page.goto(url);
  await page.waitForFunction(() => window.benchResult !== undefined || window.benchError !== undefined, {
    timeout: TIMEOUT_MS,
    polling: 500,
  });
  const { result, error } = await page.evaluate(() => ({ result: window.benchResult, error: window.benchError }));
  if (error) throw new Error(`the benchmark failed in the browser: ${error}`);
  const markdown = report(result, browserVersion, load);
  writeFileSync(resultsFile, markdown);
  console.log(`\n${markdown}\nwrote bench/RESULTS.md`);
} finally {
  await browser.close();
  await server.close();
}
