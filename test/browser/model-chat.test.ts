// <llm-model-chat>: the text it shows is the text it sends, in coloured parts (light and dark), its token boundaries
// on demand; a reply's tokens with the odds they came with; the note of a reply cut off at the max tokens; Enter,
// Shift+Enter and Escape; and, with the shipped model through the real worker, a system prompt that changes the text
// and the greedy reply. The parts' colours are checked in both colour schemes.
import { emulateMedia, sendKeys } from '@web/test-runner-commands';
import { expect } from 'chai';
import { EngineClient } from '../../src/client.ts';
import '../../src/elements/chat-panel.ts';
import '../../src/elements/model-chat.ts';
import type { ModelChat, ModelChatClient } from '../../src/elements/model-chat.ts';
import { formatPercent } from '../../src/visible-token.ts';
import type { ChatReply, ChatToken, ReplyRequest, Tokenization } from '../../workers/api/index.ts';
import { pick, randomIn, randomInt } from './seeded.ts';
import { waitFor } from './wait-for.ts';

const SHIPPED_MODEL = new URL('/public/default-model.safetensors', location.href).href;

const engineClientFits: EngineClient extends ModelChatClient ? true : never = true;

const WORDS = ['red', 'fox', 'castle', 'Paris', 'river', 'the', 'king', 'sings'];

const randomToken = (): ChatToken => {
  const prob = randomIn(0.01, 1);
  const token = ` ${pick(WORDS)}`;
  return { token, prob, logprob: Math.log(prob), alternatives: [{ token, prob, logprob: Math.log(prob) }] };
};

/** Records every text it is asked to continue; streams `tokens`, or waits for cancel() when held. */
class FakeModel implements ModelChatClient {
  readonly texts: string[] = [];
  readonly requests: ReplyRequest[] = [];
  tokens: ChatToken[] = [];
  finish: ChatReply['finish'] = 'stop';
  held = false;
  cancels = 0;
  /** Tokens tokenize keeps (the model's context): the rest are dropped. */
  context = 1000;
  private release = () => {};

  readonly model: ModelChatClient['model'] = {
    reply: async (text, request, onToken) => {
      this.texts.push(text);
      this.requests.push(request);
      for (const token of this.tokens) await onToken(token);
      if (this.held) {
        await new Promise<void>((resolve) => (this.release = resolve));
        return { text: '', tokens: [], finish: 'abort' };
      }
      const said = this.tokens.map((token) => token.token).join('');
      return { text: this.finish === 'stop' ? said.replace(/\n$/, '') : said, tokens: this.tokens, finish: this.finish };
    },
    cancel: async () => {
      this.cancels++;
      this.release();
    },
    tokenize: async (text): Promise<Tokenization> => {
      const all = text.match(/\n|\s?[^\s]+|\s/g) ?? [];
      const pieces = all.slice(-this.context);
      const dropped = all.length - pieces.length;
      return { ids: pieces.map((_, i) => i), tokens: pieces, pieces, unknown: [], dropped, truncated: dropped > 0 };
    },
  };
}

describe('<llm-model-chat>', function () {
  this.timeout(120_000);
  let chat: ModelChat;

  const root = () => chat.shadowRoot!;
  const part = <E extends Element = HTMLElement>(name: string) => root().querySelector<E>(`[part~="${name}"]`);
  const parts = (name: string) => [...root().querySelectorAll<HTMLElement>(`[part~="${name}"]`)];
  const shownText = () => part('text')!.textContent!;
  const roles = (name: string) => parts(name).map((element) => element.dataset['role']);
  const input = () => part<HTMLTextAreaElement>('message-input')!;
  const idle = () => waitFor(() => part('model-chat')!.getAttribute('aria-busy') === 'false', 'the reply to end');

  async function mount(client: ModelChatClient): Promise<void> {
    chat = document.createElement('llm-model-chat');
    chat.client = client;
    document.body.append(chat);
    await chat.updateComplete;
  }

  async function type(into: HTMLTextAreaElement, value: string): Promise<void> {
    into.focus();
    into.select();
    await sendKeys({ type: value });
    await chat.updateComplete;
  }

  async function setSystemPrompt(value: string): Promise<void> {
    const field = part<HTMLTextAreaElement>('system-prompt')!;
    field.value = value;
    field.dispatchEvent(new Event('input'));
    await chat.updateComplete;
  }

  afterEach(() => chat?.remove());

  it('has every method it calls on the EngineClient', () => {
    expect(engineClientFits).to.equal(true);
  });

  it('sends the very text it shows, in parts, and shows the reply in it with each token and its odds', async () => {
    const fake = new FakeModel();
    fake.tokens = [...Array.from({ length: randomInt(2, 6) }, randomToken), { ...randomToken(), token: '\n' }];
    await mount(fake);
    const system = `The ${pick(WORDS)} speaks.`;
    await setSystemPrompt(system);
    await type(input(), `Where is the ${pick(WORDS)}?`);
    const question = input().value;
    const before = shownText();
    expect(before).to.equal(`${system}\nUser: ${question} Assistant:`);
    expect(roles('text-part')).to.deep.equal(['system', 'user', 'assistant']);

    await sendKeys({ press: 'Enter' });
    await idle();
    expect(fake.texts).to.deep.equal([before]);
    const said = fake.tokens.map((token) => token.token).join('');
    expect(shownText()).to.equal(`${before}${said}`);
    expect(roles('text-part')).to.deep.equal(['system', 'user', 'assistant', 'assistant']);
    expect(part('finish')).to.equal(null);

    const reply = root().querySelector('llm-chat-reply')!;
    const buttons = [...reply.shadowRoot!.querySelectorAll<HTMLButtonElement>('[part~="token"]')];
    expect(buttons.map((button) => button.title)).to.deep.equal(fake.tokens.map((token) => formatPercent(token.prob)));

    // The next question follows on a line of its own, and the text sent again is the text shown.
    await type(input(), 'Thank you.');
    const second = shownText();
    expect(second).to.equal(`${before}${said}User: Thank you. Assistant:`);
    await sendKeys({ press: 'Enter' });
    await idle();
    expect(fake.texts).to.deep.equal([before, second]);
  });

  it('shows the part being written in its own colour while the reply streams', async () => {
    const fake = new FakeModel();
    fake.tokens = [randomToken(), randomToken()];
    fake.held = true;
    await mount(fake);
    await type(input(), 'Hello!');
    await sendKeys({ press: 'Enter' });
    await waitFor(() => roles('text-part').includes('writing'), 'the part being written');
    expect(parts('text-part').at(-1)!.textContent).to.equal(fake.tokens.map((token) => token.token).join(''));
    await sendKeys({ press: 'Escape' });
    await idle();
    expect(fake.cancels).to.equal(1);
  });

  it('says when a reply reached the max tokens without the line break', async () => {
    const fake = new FakeModel();
    fake.tokens = Array.from({ length: randomInt(1, 5) }, randomToken);
    fake.finish = 'length';
    await mount(fake);
    const maxTokens = part('max-tokens')!.querySelector('input')!;
    maxTokens.value = String(fake.tokens.length);
    maxTokens.dispatchEvent(new Event('change'));
    await type(input(), 'What is a mole?');
    await sendKeys({ press: 'Enter' });
    await idle();
    expect(fake.requests[0]!.maxTokens).to.equal(fake.tokens.length);
    expect(part('finish')!.textContent).to.equal('No line break within the max tokens: the reply stops here, cut off.');
    // The text still ends the line, so that a next question starts one.
    expect(shownText().endsWith(`${fake.tokens.map((token) => token.token).join('')}\n`)).to.equal(true);
  });

  it('sends with Enter, starts a new line with Shift+Enter (sent as a space), and stops with Escape', async () => {
    const fake = new FakeModel();
    fake.held = true;
    await mount(fake);
    await type(input(), 'Where is');
    await sendKeys({ down: 'Shift' });
    await sendKeys({ press: 'Enter' });
    await sendKeys({ up: 'Shift' });
    await sendKeys({ type: 'the tower?' });
    await chat.updateComplete;
    expect(input().value).to.equal('Where is\nthe tower?');
    expect(fake.texts).to.deep.equal([]);
    await sendKeys({ press: 'Enter' });
    await waitFor(() => fake.texts.length === 1, 'the reply call');
    expect(fake.texts[0]!.endsWith('User: Where is the tower? Assistant:')).to.equal(true);
    expect(input().value).to.equal('');
    await chat.updateComplete;
    expect(part('send-button')!.textContent!.trim()).to.equal('Stop');
    await sendKeys({ press: 'Escape' });
    await idle();
    expect(fake.cancels).to.equal(1);
    expect(part('finish')!.textContent).to.equal('Stopped.');
  });

  it('shows the token boundaries on demand, each token in the colour of its part, and fades what the context drops', async () => {
    const fake = new FakeModel();
    await mount(fake);
    await type(input(), 'Who sits on the throne?');
    const text = shownText();
    part('tokens-toggle')!.click();
    await waitFor(() => parts('text-token').length, 'the tokens');
    expect(part('tokens-toggle')!.getAttribute('aria-pressed')).to.equal('true');
    expect(shownText()).to.equal(text);
    const tokens = parts('text-token');
    expect(tokens.map((token) => token.textContent).join('')).to.equal(text);
    expect(tokens[0]!.dataset['role']).to.equal('system');
    expect(tokens.find((token) => token.textContent === 'User:')!.dataset['role']).to.equal('user');
    expect(tokens.at(-1)!.dataset['role']).to.equal('assistant');
    expect(part('dropped')).to.equal(null);

    fake.context = randomInt(3, 6);
    await type(input(), 'Who sits on the throne now?');
    await waitFor(() => part('dropped'), 'the dropped text');
    expect(parts('text-token')).to.have.length(fake.context);
    expect(shownText()).to.equal(chat.parts.map((textPart) => textPart.text).join(''));
    expect(part('window-note')!.textContent!.replace(/\s+/g, ' ')).to.include(`last ${fake.context} tokens`);

    // Hidden, the tokens still say what the context cuts off.
    part('tokens-toggle')!.click();
    await chat.updateComplete;
    expect(parts('text-token')).to.have.length(0);
    expect(part('dropped')).to.equal(null);
    expect(shownText()).to.equal(chat.parts.map((textPart) => textPart.text).join(''));
    expect(part('window-note')!.textContent!.replace(/\s+/g, ' ')).to.include(`last ${fake.context} tokens`);
  });

  it('colours each part in light and in dark mode', async () => {
    await mount(new FakeModel());
    await type(input(), 'Hello!');
    const colours = () => parts('text-part').map((element) => getComputedStyle(element).backgroundColor);
    await emulateMedia({ colorScheme: 'light' });
    const light = colours();
    await emulateMedia({ colorScheme: 'dark' });
    const dark = colours();
    await emulateMedia({ colorScheme: 'light' });
    expect(roles('text-part')).to.deep.equal(['system', 'user', 'assistant']);
    for (const scheme of [light, dark]) expect(new Set(scheme).size).to.equal(3);
    light.forEach((colour, index) => expect(colour).to.not.equal(dark[index]));
  });

  describe('with the shipped model', () => {
    let client: EngineClient;
    before(async () => {
      client = new EngineClient({ modelUrl: SHIPPED_MODEL, database: `test-${crypto.randomUUID()}` });
      await client.model.loadCheckpoint(SHIPPED_MODEL);
    });
    after(() => client.terminate());

    /** Asks greedily and answers the reply's text as shown, with the text that was sent. */
    async function askGreedily(question: string): Promise<string> {
      const temperature = part('temperature')!.querySelector('input')!;
      temperature.value = '0';
      temperature.dispatchEvent(new Event('change'));
      await type(input(), question);
      await sendKeys({ press: 'Enter' });
      await chat.updateComplete;
      await idle();
      return parts('text-part').at(-1)!.textContent!;
    }

    it("answers a corpus question with the corpus's answer; a system prompt changes the text and the reply", async () => {
      await mount(client);
      expect(await askGreedily('Tell me about a creature.')).to.equal(' It is a fluffy black creature.\n');
      expect(shownText().startsWith('A conversation between a user and a helpful assistant.\nUser:')).to.equal(true);

      part('clear-button')!.click();
      await setSystemPrompt('');
      expect(await askGreedily('Tell me about a creature.')).to.equal(' It is a tiny purple creature.\n');
      expect(shownText()).to.equal('User: Tell me about a creature. Assistant: It is a tiny purple creature.\n');
    });

    it('is the first part of the chat section, connected to the client', async () => {
      const panel = document.createElement('llm-chat-panel');
      panel.client = client;
      document.body.append(panel);
      await panel.updateComplete;
      const own = panel.shadowRoot!.querySelector<ModelChat>('[part~="own-model"]')!;
      expect(own.client).to.equal(client);
      expect(panel.shadowRoot!.querySelector('h3')!.textContent).to.equal('This model');
      panel.remove();
    });
  });
});
