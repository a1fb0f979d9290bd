// A page that does not serve one of the library's files: the engine worker's script, the default model or
// web-llm's code. The playground's code is loaded from /missing/NAME/… (web-test-runner.config.mjs), where
// that one file answers 404, or from /page-for/NAME/…, where a web page comes in its place (as a single-page
// app's server answers), so its real worker start and fetches meet it. The user is told which file, and
// nothing stays loading.
import { expect } from 'chai';
import type * as Client from '../../src/client.ts';
import type { LlmPlayground } from '../../src/llm-playground.ts';
import { SERVE_ASSETS } from '../../workers/api/errors.ts';
import { rejection } from './wait-for.ts';

type Answer = 'missing' | 'page-for';

/** The project's `path`, served where the file whose path ends in `file` is `answer`ed so. */
const servedWith = (answer: Answer, file: string, path: string): string =>
  new URL(`/${answer}/${encodeURIComponent(file)}/${path}`, location.origin).href;

const clientWith = async (answer: Answer, file: string): Promise<typeof Client> =>
  (await import(servedWith(answer, file, 'src/client.ts'))) as typeof Client;

const database = () => `test-${crypto.randomUUID()}`;

describe('missing assets', function () {
  it("puts <llm-playground> in error, naming the engine worker's script, when it is missing", async () => {
    await import(servedWith('missing', 'engine.worker.ts', 'src/llm-playground.ts'));
    const playground = document.createElement('llm-playground') as LlmPlayground;
    playground.setAttribute('model', 'random');
    // The chat panel asks the engine too: with no engine it must show the error, not ask again forever.
    playground.setAttribute('chat', '');
    playground.setAttribute('database', database());
    const failed = new Promise<CustomEvent<{ message: string }>>((resolve) =>
      playground.addEventListener('llm-error', resolve as EventListener, { once: true }),
    );
    document.body.append(playground);
    try {
      const { detail } = await failed;
      const script = servedWith('missing', 'engine.worker.ts', 'workers/engine.worker.ts');
      expect(detail.message).to.equal(
        `The model's worker could not be loaded: ${script} answered 404 Not Found; ${SERVE_ASSETS}.`,
      );
      expect(playground.status).to.equal('error');
      await playground.updateComplete;
      expect(playground.shadowRoot!.querySelector('[part~="error"]')!.textContent).to.contain(script);
    } finally {
      playground.remove();
    }
  });

  it("names the engine worker's script when a web page comes in its place", async () => {
    const { EngineClient } = await clientWith('page-for', 'engine.worker.ts');
    const client = new EngineClient({ modelUrl: null, database: database() });
    try {
      const script = servedWith('page-for', 'engine.worker.ts', 'workers/engine.worker.ts');
      expect((await rejection(client.model.info())).message).to.equal(
        `The model's worker could not be loaded: ${script} answered with text/html, not a script; ${SERVE_ASSETS}.`,
      );
    } finally {
      client.terminate();
    }
  });

  for (const [answer, when, what] of [
    ['missing', 'it is missing', 'answered 404 Not Found'],
    ['page-for', 'a web page comes in its place', 'answered with a web page, not a checkpoint'],
  ] as const) {
    it(`opens random weights with a notice naming the default model when ${when}`, async () => {
      const { EngineClient, DEFAULT_MODEL_URL } = await clientWith(answer, 'default-model.safetensors');
      const client = new EngineClient({ database: database() });
      try {
        const info = await client.model.info();
        expect(info.weights).to.equal('random');
        expect(info.notice).to.contain(`${DEFAULT_MODEL_URL} ${what}`);
      } finally {
        client.terminate();
      }
    });
  }

  it("fails the chat's model list naming web-llm's code when it is missing", async () => {
    const webllm = '@mlc-ai/web-llm/lib/index.js';
    const { EngineClient } = await clientWith('missing', webllm);
    const client = new EngineClient({ modelUrl: null, database: database() });
    try {
      const { message } = await rejection(client.chat.models());
      const script = servedWith('missing', webllm, `node_modules/${webllm}`);
      expect(message).to.equal(
        `The chat's code (web-llm) could not be loaded: ${script} answered 404 Not Found; ${SERVE_ASSETS}.`,
      );
      // The rest of the playground goes on.
      expect(await client.model.info()).to.have.property('weights', 'random');
    } finally {
      client.terminate();
    }
  });
});
