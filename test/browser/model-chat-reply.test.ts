// model.reply through the real client and worker, with the shipped model: a greedy reply to a question of the
// corpus's dialogues is the corpus's answer and stops at the line break, with or without a system line;
// a reply that reaches maxTokens first says 'length'; cancel() says 'abort'; and every token's odds and alternatives
// are the softmax of the model's logits, computed here in float64.
import { expect } from 'chai';
import { EngineClient } from '../../src/client.ts';
import type { ChatToken } from '../../workers/api/index.ts';
import { RUN_SEED, randomInt } from './seeded.ts';

const SHIPPED_MODEL = new URL('/public/default-model.safetensors', location.href).href;

/** Questions of the corpus's dialogue templates (workers/corpus/grammar.ts) and the answers it writes after them. */
const EXCHANGES: [string, string][] = [
  ['Where is the Eiffel tower?', ' The Eiffel tower is in Paris.'],
  ['What sport does Michael Jordan play?', ' Michael Jordan plays basketball.'],
  ['Hello!', ' Hello! How can I help you?'],
  ['Thank you.', ' You are welcome!'],
  ['Who is the wife of the king?', ' The queen is the wife of the king.'],
  ['What is a mole?', ' A mole can be a small animal that digs, an amount in chemistry, or a spot on the skin.'],
];

const SYSTEM = 'A conversation between a user and a helpful assistant.\n';

/** Float64 softmax of one row of logits. */
function softmax64(logits: Float32Array): number[] {
  let max = -Infinity;
  for (const value of logits) max = Math.max(max, value);
  const exps = Array.from(logits, (value) => Math.exp(value - max));
  const total = exps.reduce((sum, value) => sum + value, 0);
  return exps.map((value) => value / total);
}

describe('model.reply (the chat with this model)', function () {
  this.timeout(120_000);
  let client: EngineClient;
  before(async () => {
    client = new EngineClient({ modelUrl: SHIPPED_MODEL, database: `test-${crypto.randomUUID()}` });
    await client.model.loadCheckpoint(SHIPPED_MODEL);
  });
  after(() => client.terminate());

  for (const system of ['', SYSTEM]) {
    it(`answers the corpus's questions greedily with its answers, and stops at the line break (${system ? 'with' : 'without'} a system line)`, async () => {
      for (const [question, answer] of EXCHANGES) {
        const streamed: ChatToken[] = [];
        const reply = await client.model.reply(
          `${system}User: ${question} Assistant:`,
          { temperature: 0, maxTokens: 40, seed: 1 },
          (token) => streamed.push(token),
        );
        expect(reply.text, question).to.equal(answer);
        expect(reply.finish).to.equal('stop');
        expect(reply.tokens.at(-1)!.token).to.equal('\n');
        expect(reply.tokens.map((token) => token.token).join('')).to.equal(`${answer}\n`);
        expect(streamed).to.deep.equal(reply.tokens);
      }
    });
  }

  it("stops at maxTokens without the line break and says 'length'", async () => {
    const maxTokens = randomInt(1, 4);
    const reply = await client.model.reply('User: What is a mole? Assistant:', { temperature: 0, maxTokens, seed: 1 }, () => {});
    expect(reply.finish).to.equal('length');
    expect(reply.tokens).to.have.length(maxTokens);
    expect(reply.text).to.equal(reply.tokens.map((token) => token.token).join(''));
    expect(' A mole can be a small animal'.startsWith(reply.text)).to.equal(true);
  });

  it("stops at cancel() and says 'abort'", async () => {
    let cancelled = false;
    const reply = await client.model.reply('The', { temperature: 1, maxTokens: 400, seed: 3 }, async () => {
      if (cancelled) return;
      cancelled = true;
      await client.model.cancel();
    });
    expect(reply.finish).to.equal('abort');
    expect(reply.tokens.length).to.be.lessThan(400);
  });

  it('gives every token the probability the model gave it, and its likeliest alternatives', async () => {
    const seed = randomInt(1, 1_000_000);
    const prompt = `${SYSTEM}User: Tell me about a creature. Assistant:`;
    const reply = await client.model.reply(prompt, { temperature: 1, maxTokens: 12, seed, top: 4 }, () => {});
    const { ids: promptIds } = await client.model.tokenize(prompt);
    const { vocabulary } = await client.model.info();
    const ids = [...promptIds];
    for (const [index, token] of reply.tokens.entries()) {
      const { logits } = await client.model.forward(ids);
      const probs = softmax64(logits.subarray((ids.length - 1) * vocabulary.length));
      const id = vocabulary.indexOf(token.token);
      const where = `token ${index} (TEST_SEED=${RUN_SEED}, seed ${seed})`;
      expect(token.prob, where).to.be.closeTo(probs[id]!, 1e-5);
      expect(token.logprob, where).to.be.closeTo(Math.log(probs[id]!), 1e-4);
      const ranked = probs.map((prob, other) => ({ prob, other })).sort((a, b) => b.prob - a.prob);
      expect(
        token.alternatives.map((alternative) => alternative.token),
        where,
      ).to.deep.equal(ranked.slice(0, 4).map(({ other }) => vocabulary[other]));
      token.alternatives.forEach((alternative, rank) => expect(alternative.prob, where).to.be.closeTo(ranked[rank]!.prob, 1e-5));
      ids.push(id);
    }
  });
});
