// URL imports and corpora as the engine reads them (createEngine in the page, the download timeout
// shortened for the tests of it): servers that never answer or stall (test/fetch-test-routes.mjs), cancel,
// size limits with the real size and name, files over the limit left unread, web pages as corpora.
import { expect } from 'chai';
import { type EngineWorker, isCorpusWebPage, isReadCancelled, type ReadProgress } from '../../workers/api/index.ts';
import { createEngine } from '../../workers/engine.ts';
import { ModelLibrary } from '../../workers/model-library.ts';
import { CheckpointStore } from '../../workers/store/checkpoint-store.ts';
import { pick, randomInt } from './seeded.ts';
import { rejection } from './wait-for.ts';

const route = (path: string): string => new URL(`/fetch-test/${path}`, location.href).href;
const MB = 2 ** 20;
/** Long enough for a busy machine's dev server to answer the routes that do (a timing assumption kept loose). */
const TIMEOUT_MS = 1500;

/** A File that says it is `size` bytes and throws if anything tries to read it. */
function unreadableFile(name: string, size: number): File {
  const file = new File(['small'], name);
  Object.defineProperty(file, 'size', { value: size });
  for (const read of ['stream', 'arrayBuffer', 'text', 'slice', 'bytes']) {
    Object.defineProperty(file, read, {
      value: () => {
        throw new Error(`${read}() was called`);
      },
    });
  }
  return file;
}

describe('reading imports and corpora in the engine', function () {
  this.timeout(60_000);
  let engine: EngineWorker;

  /**
   * An engine of its own; its downloads give up after `fetchTimeoutMs` without an answer. Only the tests of that
   * timeout shorten it: on a busy machine a server's answer can take longer than theirs.
   */
  const engineWaiting = (fetchTimeoutMs?: number): EngineWorker =>
    createEngine({
      findGPU: async () => null,
      library: new ModelLibrary(new CheckpointStore({ dbName: `test-${crypto.randomUUID()}` })),
      ...(fetchTimeoutMs === undefined ? {} : { fetchTimeoutMs }),
    });

  beforeEach(() => {
    engine = engineWaiting();
  });

  describe('import', () => {
    /** The list and the model in use, to check that nothing changed. */
    const snapshot = async () => ({ list: await engine.library.list(), name: (await engine.model.info()).name });

    it('refuses a URL that gets no answer, or stops sending, within the timeout, naming it; nothing changes', async () => {
      engine = engineWaiting(TIMEOUT_MS);
      await engine.library.save('kept');
      const before = await snapshot();
      const silent = route('silent');
      expect((await rejection(engine.library.import({ kind: 'url', url: silent }))).message).to.equal(
        `No answer from ${silent} after 1.5 s. Check the address, or try again later.`,
      );
      const stalled = route(`file/model.safetensors?bytes=${randomInt(5000, 9000)}&send=${randomInt(10, 4000)}`);
      expect((await rejection(engine.library.import({ kind: 'url', url: stalled }))).message).to.match(
        /stopped sending after .* MB: nothing more came for 1\.5 s/,
      );
      expect(await snapshot()).to.deep.equal(before);
    });

    it('is stopped by cancelImport: it rejects as cancelled and nothing changes', async () => {
      const before = await snapshot();
      const reports: ReadProgress[] = [];
      const slow = route(`file/model.safetensors?bytes=${randomInt(50_000, 90_000)}&chunk=1000&delay=${randomInt(20, 60)}`);
      const importing = engine.library.import({ kind: 'url', url: slow }, (progress) => {
        reports.push(progress);
        if (progress.loaded > 0) void engine.library.cancelImport();
      });
      expect(isReadCancelled(await rejection(importing))).to.equal(true);
      expect(reports[0]!.total, 'the size was known').to.be.a('number');
      expect(await snapshot()).to.deep.equal(before);
    });

    it('refuses a File over the limit by its size, without reading it', async () => {
      const error = await rejection(engine.library.import({ kind: 'file', file: unreadableFile('huge.safetensors', 600 * MB) }));
      expect(error.message).to.equal('"huge.safetensors" is 600 MB, over the 512 MB limit. Use a smaller file.');
    });
  });

  describe('corpus', () => {
    it('refuses a URL that gets no answer within the timeout; cancelCorpus stops a slow one', async () => {
      engine = engineWaiting(TIMEOUT_MS);
      const silent = route('silent');
      expect((await rejection(engine.training.describeCorpus({ kind: 'url', url: silent }))).message).to.equal(
        `No answer from ${silent} after 1.5 s. Check the address, or try again later.`,
      );
      const slow = route(`file/book.txt?bytes=${randomInt(50_000, 90_000)}&chunk=1000&delay=50`);
      const reading = engine.training.describeCorpus({ kind: 'url', url: slow }, ({ loaded }) => {
        if (loaded > 0) void engine.training.cancelCorpus();
      });
      expect(isReadCancelled(await rejection(reading))).to.equal(true);
      // Reads after a cancel go on as usual.
      const book = await engine.training.describeCorpus({ kind: 'url', url: route('file/book.txt?bytes=5000') });
      expect(book).to.include({ name: 'book.txt', characters: 5000 });
    });

    it('builds a new model from the download it just described, without downloading it again', async () => {
      const url = route(`file/book.txt?bytes=${randomInt(2000, 9000)}&once=${crypto.randomUUID()}`);
      const described = await engine.training.describeCorpus({ kind: 'url', url });
      const built = await engine.training.newModel({ corpus: { kind: 'url', url }, size: 'tiny', seed: randomInt(1, 1e6) });
      expect(built.corpus).to.deep.equal(described);
      // Describing it again reads it again (the file may have changed): the server now answers 410.
      expect((await rejection(engine.training.describeCorpus({ kind: 'url', url }))).message).to.match(/answered 410/);
    });

    it('refuses a download over 20 MB with its real size when the server gives it, under its real name', async () => {
      // The address ends in "30"; the server names the file.
      const declared = route(`file/30?bytes=${30 * MB}&name=big-book.txt`);
      expect((await rejection(engine.training.describeCorpus({ kind: 'url', url: declared }))).message).to.equal(
        '"big-book.txt" is 30 MB, over the 20 MB limit. Use a smaller file.',
      );
      // No size given: reading stops past the limit, and the message claims no size it does not know.
      const undeclared = route(`file/book.txt?bytes=${30 * MB}&length=no`);
      expect((await rejection(engine.training.describeCorpus({ kind: 'url', url: undeclared }))).message).to.equal(
        '"book.txt" is more than 20 MB, the limit. Use a smaller file.',
      );
    });

    it('refuses a File over 20 MB by its size, without reading it', async () => {
      const file = unreadableFile('novel.txt', 25 * MB);
      expect((await rejection(engine.training.describeCorpus({ kind: 'file', file }))).message).to.equal(
        '"novel.txt" is 25 MB, over the 20 MB limit. Use a smaller file.',
      );
    });

    it('refuses pasted text over 20 MB, counted in UTF-8 as a file would be', async () => {
      // 7 Mi three-byte characters: 21 MB in UTF-8, though only 7 Mi UTF-16 units.
      const text = '语'.repeat(7 * MB);
      expect((await rejection(engine.training.describeCorpus({ kind: 'text', text, name: 'Your text' }))).message).to.equal(
        '"Your text" is 21 MB, over the 20 MB limit. Paste less text.',
      );
    });

    it('refuses a web page as one, from a URL, a file or pasted text; with htmlToText it reads its text', async () => {
      const words = ['harbour', 'lantern', 'morning', 'tide', 'boat', 'quiet', 'keeps', 'the'];
      const sentence = () => `${Array.from({ length: 8 }, () => pick(words)).join(' ')}.`;
      const paragraphs = Array.from({ length: 40 }, () => `${sentence()} ${sentence()}`);
      const page =
        `<!DOCTYPE html><html><head><title>Tides</title><style>p { color: red }</style>` +
        `<script>const hidden = "never trained on";</script></head><body>` +
        paragraphs.map((paragraph) => `<p>${paragraph.replace('the', '<b>the</b>')}</p>`).join('\n') +
        `</body></html>`;
      const text = ['Tides', ...paragraphs].join('\n\n');
      const sources = [
        { kind: 'url', url: route(`file/tides?type=text/html&body=${encodeURIComponent(page)}`) },
        { kind: 'file', file: new File([page], 'tides.txt') },
        { kind: 'text', text: page, name: 'Your text' },
      ] as const;
      for (const source of sources) {
        const refused = await rejection(engine.training.describeCorpus(source));
        expect(isCorpusWebPage(refused), source.kind).to.equal(true);
        expect(refused.message).to.match(/looks like a web page \(HTML\), not plain text/);
        const summary = await engine.training.describeCorpus({ ...source, htmlToText: true });
        expect(summary.characters, source.kind).to.equal(text.length);
        expect(summary.vocabulary.join('')).to.not.match(/[<>"]/);
      }
      // A server that calls it HTML is believed, whatever the text starts with.
      const typed = route(`file/tides?type=text/html;charset=utf-8&body=${encodeURIComponent(text)}`);
      expect(isCorpusWebPage(await rejection(engine.training.describeCorpus({ kind: 'url', url: typed })))).to.equal(true);
    });
  });
});
