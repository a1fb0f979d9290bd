// download() and readFile() (workers/download.ts) against the dev server's /fetch-test/ routes
// (test/fetch-test-routes.mjs): servers that never answer, stall or trickle, sizes declared or not,
// names from the server; with the timeout shortened so each gives up in a fraction of a second.
import { expect } from 'chai';
import { isReadCancelled, type ReadProgress } from '../../workers/api/index.ts';
import { download, readFile } from '../../workers/download.ts';
import { randomInt } from './seeded.ts';
import { rejection } from './wait-for.ts';

/** What /fetch-test/file sends: this line over and over. */
const LINE = 'The quiet harbour keeps its boats and lanterns until the morning tide. ';
const served = (bytes: number): string => LINE.repeat(Math.ceil(bytes / LINE.length)).slice(0, bytes);
const route = (path: string): string => new URL(`/fetch-test/${path}`, location.href).href;
const MB = 2 ** 20;
const TIMEOUT_MS = 200;

describe('download', function () {
  this.timeout(30_000);

  it('gives up on a server that never answers, naming the address and the time waited', async () => {
    const url = route('silent');
    const error = await rejection(download(url, { timeoutMs: TIMEOUT_MS }));
    expect(error.message).to.equal(`No answer from ${url} after 0.2 s. Check the address, or try again later.`);
  });

  it('gives up on a download that stops sending, saying how much came', async () => {
    const sent = randomInt(1000, 50_000);
    const url = route(`file?bytes=${sent + randomInt(1, 50_000)}&send=${sent}`);
    const error = await rejection(download(url, { timeoutMs: TIMEOUT_MS }));
    expect(error.message).to.equal(
      `${url} stopped sending after ${Math.ceil((sent / MB) * 10) / 10} MB: nothing more came for 0.2 s. Try again later.`,
    );
  });

  it('keeps going while parts keep coming, however long the whole download takes', async () => {
    // 6 parts 100 ms apart: 0.5 s in all, each within the 0.2 s timeout.
    const bytes = 6 * 1000;
    const { bytes: body } = await download(route(`file?bytes=${bytes}&chunk=1000&delay=100`), { timeoutMs: TIMEOUT_MS });
    expect(new TextDecoder().decode(body)).to.equal(served(bytes));
  });

  it('reports progress with the size when the server gives it, without when not', async () => {
    const bytes = randomInt(200_000, 400_000);
    for (const declared of [true, false]) {
      const reports: ReadProgress[] = [];
      const url = route(`file?bytes=${bytes}&chunk=20000&delay=15${declared ? '' : '&length=no'}`);
      const result = await download(url, { onProgress: (progress) => reports.push(progress) });
      expect(new TextDecoder().decode(result.bytes), 'the body').to.equal(served(bytes));
      const total = declared ? { total: bytes } : {};
      expect(reports[0], 'the first report').to.deep.equal({ loaded: 0, ...total });
      expect(reports.at(-1), 'the last report').to.deep.equal({ loaded: bytes, ...total });
      expect(reports.length, 'reports along the way').to.be.greaterThan(2);
      for (let i = 1; i < reports.length; i++) expect(reports[i]!.loaded).to.be.at.least(reports[i - 1]!.loaded);
      expect(reports.every((report) => report.total === (declared ? bytes : undefined))).to.equal(true);
    }
  });

  it('is cancelled by its signal, while waiting for an answer and while reading', async () => {
    const waiting = new AbortController();
    const silent = download(route('silent'), { signal: waiting.signal });
    setTimeout(() => waiting.abort(), 50);
    expect(isReadCancelled(await rejection(silent))).to.equal(true);

    const reading = new AbortController();
    const slow = download(route('file?bytes=100000&chunk=1000&delay=50'), {
      signal: reading.signal,
      onProgress: ({ loaded }) => loaded > 0 && reading.abort(),
    });
    expect(isReadCancelled(await rejection(slow))).to.equal(true);
  });

  it('refuses a file over the limit by the size the server gives, before reading it', async () => {
    const reports: ReadProgress[] = [];
    const error = await rejection(
      download(route(`file/30?bytes=${30 * MB}&name=big-book.txt`), { maxBytes: 20 * MB, onProgress: (p) => reports.push(p) }),
    );
    expect(error.message).to.equal('"big-book.txt" is 30 MB, over the 20 MB limit. Use a smaller file.');
    expect(reports, 'nothing read').to.deep.equal([]);
  });

  it('refuses a file of unknown size once reading passes the limit, without guessing its size', async () => {
    const limit = randomInt(50_000, 100_000);
    const error = await rejection(download(route(`file/notes.txt?bytes=${3 * limit}&length=no`), { maxBytes: limit }));
    expect(error.message).to.equal(
      `"notes.txt" is more than ${Math.ceil((limit / MB) * 10) / 10} MB, the limit. Use a smaller file.`,
    );
  });

  it('names the file as the server does, else by the address it came from after redirects', async () => {
    const named = await download(route('file/30?bytes=2000&name=war-and-peace.txt'));
    expect(named.name).to.equal('war-and-peace.txt');
    const redirected = await download(route(`redirect?to=${encodeURIComponent('/fetch-test/file/novel.txt?bytes=2000')}`));
    expect(redirected.name).to.equal('novel.txt');
    expect(redirected.type).to.equal('text/plain; charset=utf-8');
  });
});

describe('readFile', () => {
  it('reads a File with progress, and refuses one over the limit by its size without reading it', async () => {
    const text = served(randomInt(1000, 100_000));
    const reports: ReadProgress[] = [];
    const bytes = await readFile(new File([text], 'notes.txt'), 'notes.txt', { onProgress: (p) => reports.push(p) });
    expect(new TextDecoder().decode(bytes)).to.equal(text);
    expect(reports.at(-1)).to.deep.equal({ loaded: text.length, total: text.length });

    const huge = new File(['small'], 'huge.txt');
    Object.defineProperty(huge, 'size', { value: 3 * 1024 * MB });
    for (const read of ['stream', 'arrayBuffer', 'text', 'slice', 'bytes'] as const) {
      Object.defineProperty(huge, read, {
        value: () => {
          throw new Error(`${read}() was called`);
        },
      });
    }
    const error = await rejection(readFile(huge, huge.name, { maxBytes: 512 * MB }));
    expect(error.message).to.equal('"huge.txt" is 3072 MB, over the 512 MB limit. Use a smaller file.');
  });
});
