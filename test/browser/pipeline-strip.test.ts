// <llm-pipeline-strip>: the shapes it shows against the config of the shipped model (read by the real worker) and
// of a GPT-2-shaped model written here, T against the number of tokens the model itself predicts from, the panel
// each stage opens by click and by keyboard, the stage of the open panel, and its look (narrow, dark, less motion).
import { emulateMedia, sendKeys } from '@web/test-runner-commands';
import { expect } from 'chai';
import { EngineClient } from '../../src/client.ts';
import '../../src/elements/pipeline-strip.ts';
import type { PipelineStrip } from '../../src/elements/pipeline-strip.ts';
import type { LlmEvents } from '../../src/events.ts';
import { countParameters } from '../../workers/engine/params.ts';
import type { GPTConfig, ModelInfo } from '../../workers/api/index.ts';

const SHIPPED_MODEL = new URL('/public/default-model.safetensors', location.href).href;

/** GPT-2 small's shape (Hugging Face's config.json for openai-community/gpt2). */
const GPT2: GPTConfig = { vocabSize: 50257, blockSize: 1024, nLayer: 12, nHead: 12, nEmbd: 768, tied: true };
const GPT2_INFO: ModelInfo = {
  name: 'GPT-2 small',
  config: GPT2,
  parameters: countParameters(GPT2),
  tokenizer: 'bpe',
  vocabulary: [],
  seed: 0,
  weights: 'trained',
  step: 0,
  pretrained: 'gpt2',
};

/** The panel each stage must open, in the strip's order. */
const TARGETS: [string, LlmEvents['llm-open-panel']][] = [
  ['tokens', { section: 'train' }],
  ['embeddings', { section: 'inspect', tab: 'embeddings' }],
  ['attention', { section: 'inspect', tab: 'attention' }],
  ['mlp', { section: 'inspect', tab: 'mlp' }],
  ['final-norm', { section: 'inspect', tab: 'lens' }],
  ['unembedding', { section: 'inspect', tab: 'matrices' }],
  ['softmax', { section: 'labs', tab: 'softmax' }],
];

/** 12,345 written out independently of the element's formatting. */
function grouped(value: number): string {
  const digits = String(value);
  return digits.replace(/\B(?=(\d{3})+$)/g, ',');
}

describe('<llm-pipeline-strip>', function () {
  let client: EngineClient;
  let shipped: ModelInfo;
  let strip: PipelineStrip;
  const part = (name: string) => strip.shadowRoot!.querySelector<HTMLElement>(`[part~="${name}"]`);
  const text = (element: Element | null) => element?.textContent!.replace(/\s+/g, ' ').trim() ?? '';
  const stage = (id: string) => part(`stage-${id}`) as HTMLButtonElement;
  const shape = (id: string) => text(stage(id).querySelector('[part~="stage-shape"]'));
  const detail = (id: string) => text(stage(id).querySelector('[part~="stage-detail"]'));

  async function show(model: ModelInfo, tokens: number): Promise<void> {
    strip.model = model;
    strip.tokens = tokens;
    await strip.updateComplete;
  }

  /** The prompt's token count as the playground passes it: every token, before the cut to the context. */
  async function promptTokens(prompt: string): Promise<number> {
    const { ids, dropped } = await client.model.tokenize(prompt);
    return ids.length + dropped;
  }

  before(async () => {
    client = new EngineClient({ modelUrl: SHIPPED_MODEL, database: `test-${crypto.randomUUID()}` });
    shipped = await client.model.loadCheckpoint(SHIPPED_MODEL);
  });

  beforeEach(() => {
    strip = document.createElement('llm-pipeline-strip');
    document.body.append(strip);
  });

  afterEach(() => strip.remove());
  after(() => client.terminate());

  it('shows the shipped model as its config says, for the prompt it reads', async () => {
    const prompt = 'Michael Jordan plays the sport of';
    const { vocabSize: V, blockSize, nLayer: L, nHead, nEmbd: C } = shipped.config;
    const T = (await client.model.predict(prompt, { temperature: 1 })).contextLength;
    await show(shipped, await promptTokens(prompt));
    expect(T).to.be.above(1);
    expect(shape('tokens')).to.equal(`${T} ids`);
    expect(shape('embeddings')).to.equal(`${T} × ${C}`);
    expect(detail('embeddings')).to.equal(`T × C: wte ${grouped(V)} × ${C} + wpe ${blockSize} × ${C}`);
    expect(shape('attention')).to.equal(`${nHead} heads`);
    expect(detail('attention')).to.equal(`each a ${T} × ${T} pattern`);
    expect(shape('mlp')).to.equal(`${4 * C} neurons`);
    expect(shape('final-norm')).to.equal(`${T} × ${C}`);
    expect(shape('unembedding')).to.equal(`${T} × ${grouped(V)}`);
    expect(shape('softmax')).to.equal(`${grouped(V)} probabilities`);
    expect(text(part('repeat-count'))).to.equal(`× ${L} layers`);
    // Attention and the MLP are the stages that repeat.
    const repeated = [...part('repeat')!.querySelectorAll('[part~="stage"]')].map((button) => button.getAttribute('part'));
    expect(repeated).to.deep.equal(['stage stage-attention', 'stage stage-mlp']);
    expect(part('repeat')!.getAttribute('aria-label')).to.equal(`Repeated ${L} times, once per layer`);
    expect(part('note')).to.equal(null);
  });

  it("shows GPT-2 small's shapes, with thousands separators", async () => {
    await show(GPT2_INFO, 9);
    expect(shape('tokens')).to.equal('9 ids');
    expect(detail('tokens')).to.equal('T, each one of V = 50,257');
    expect(shape('embeddings')).to.equal('9 × 768');
    expect(detail('embeddings')).to.equal('T × C: wte 50,257 × 768 + wpe 1,024 × 768');
    expect(shape('attention')).to.equal('12 heads');
    expect(shape('mlp')).to.equal('3,072 neurons');
    expect(shape('final-norm')).to.equal('9 × 768');
    expect(shape('unembedding')).to.equal('9 × 50,257');
    expect(shape('softmax')).to.equal('50,257 probabilities');
    expect(text(part('repeat-count'))).to.equal('× 12 layers');
    expect(text(part('legend'))).to.match(
      /^T = 9 tokens read, C = 768 numbers per token, V = 50,257 tokens in the vocabulary, L = 12 layers\./,
    );

    await show(GPT2_INFO, 2000);
    expect(shape('unembedding')).to.equal('1,024 × 50,257');
    expect(text(part('note'))).to.equal('The prompt has 2,000 tokens; the model reads its last 1,024, its context.');
  });

  it('follows the prompt: T is what the model reads, one token for an empty prompt, the context for a long one', async () => {
    const blockSize = shipped.config.blockSize;
    const long = 'The queen sat on the throne and ruled the kingdom. '.repeat(12);
    for (const prompt of ['The king', 'Michael Jordan plays the sport of', '', long]) {
      const tokens = await promptTokens(prompt);
      // The number of tokens the worker predicts from: an empty prompt is its start token.
      const T = (await client.model.predict(prompt, { temperature: 1 })).contextLength;
      await show(shipped, tokens);
      expect(shape('tokens'), JSON.stringify(prompt)).to.equal(`${T} ${T === 1 ? 'id' : 'ids'}`);
      expect(shape('embeddings')).to.equal(`${T} × ${shipped.config.nEmbd}`);
      expect(detail('attention')).to.equal(`each a ${T} × ${T} pattern`);
      if (prompt === '') expect(text(part('note'))).to.equal('An empty prompt reads as one token: a line break.');
      else if (prompt === long) {
        expect(tokens).to.be.above(blockSize);
        expect(T).to.equal(blockSize);
        expect(text(part('note'))).to.equal(
          `The prompt has ${tokens} tokens; the model reads its last ${blockSize}, its context.`,
        );
      } else expect(part('note')).to.equal(null);
    }
  });

  it('names each stage with its shape, and opens its panel on a click', async () => {
    await show(shipped, 5);
    const events: LlmEvents['llm-open-panel'][] = [];
    const listener = (event: Event) => events.push((event as CustomEvent).detail);
    document.addEventListener('llm-open-panel', listener);
    for (const [id] of TARGETS) {
      const button = stage(id);
      expect(button.tagName).to.equal('BUTTON');
      const name = text(button.querySelector('[part~="stage-name"]'));
      expect(button.getAttribute('aria-label')!.replace(/\s+/g, ' ')).to.equal(`${name}, ${shape(id)} (${detail(id)})`);
      expect(button.title).to.match(/^Opens /);
      button.click();
    }
    document.removeEventListener('llm-open-panel', listener);
    expect(events).to.deep.equal(TARGETS.map(([, target]) => target));
  });

  it('is usable by keyboard: Tab goes through the stages in order, Enter and Space open them', async () => {
    await show(shipped, 5);
    const before = document.createElement('button');
    strip.before(before);
    const events: LlmEvents['llm-open-panel'][] = [];
    const listener = (event: Event) => events.push((event as CustomEvent).detail);
    strip.addEventListener('llm-open-panel', listener);
    before.focus();
    for (const [index, [id]] of TARGETS.entries()) {
      await sendKeys({ press: 'Tab' });
      expect(strip.shadowRoot!.activeElement).to.equal(stage(id));
      expect(getComputedStyle(stage(id)).outlineStyle).to.equal('solid');
      await sendKeys({ press: index % 2 ? 'Space' : 'Enter' });
    }
    strip.removeEventListener('llm-open-panel', listener);
    before.remove();
    expect(events).to.deep.equal(TARGETS.map(([, target]) => target));
  });

  it("marks the open panel's stage", async () => {
    await show(shipped, 5);
    const current = () => [...strip.shadowRoot!.querySelectorAll('[part~="current"]')];
    for (const [id, target] of TARGETS) {
      strip.open = target;
      await strip.updateComplete;
      expect(current()).to.deep.equal([stage(id)]);
      expect(stage(id).getAttribute('aria-current')).to.equal('true');
    }
    // The training panel is the tokens' panel, whatever it shows; a tab no stage opens marks none.
    strip.open = { section: 'train', tab: 'anything' };
    await strip.updateComplete;
    expect(current()).to.deep.equal([stage('tokens')]);
    strip.open = { section: 'inspect', tab: 'timelapse' };
    await strip.updateComplete;
    expect(current()).to.deep.equal([]);
    expect(strip.shadowRoot!.querySelectorAll('[aria-current]').length).to.equal(0);
  });

  it('wraps on a narrow screen, without scrolling sideways', async () => {
    await show(GPT2_INFO, 1024);
    for (const width of [900, 480, 280]) {
      strip.style.setProperty('width', `${width}px`);
      const box = strip.getBoundingClientRect();
      expect(part('strip')!.scrollWidth, `${width}px`).to.be.at.most(part('strip')!.clientWidth);
      for (const button of strip.shadowRoot!.querySelectorAll('[part~="stage"]')) {
        const { left, right } = button.getBoundingClientRect();
        expect(left >= box.left - 0.5 && right <= box.right + 0.5, `${button.getAttribute('part')} at ${width}px`).to.equal(true);
      }
    }
    // At 280 px the stages stack: each starts below the one before.
    const tops = [...strip.shadowRoot!.querySelectorAll('[part~="stage"]')].map((button) => button.getBoundingClientRect().top);
    for (let i = 1; i < tops.length; i++) expect(tops[i]).to.be.above(tops[i - 1]!);
  });

  it('follows the colour scheme and moves nothing when asked for less motion', async () => {
    await show(shipped, 5);
    await emulateMedia({ colorScheme: 'light' });
    const light = getComputedStyle(stage('tokens')).backgroundColor;
    await emulateMedia({ colorScheme: 'dark' });
    const dark = getComputedStyle(stage('tokens')).backgroundColor;
    await emulateMedia({ colorScheme: 'light' });
    expect([light, dark]).to.deep.equal(['rgb(244, 245, 247)', 'rgb(32, 35, 43)']);

    await emulateMedia({ reducedMotion: 'no-preference' });
    expect(getComputedStyle(stage('tokens')).transitionDuration).to.not.equal('0s');
    await emulateMedia({ reducedMotion: 'reduce' });
    expect(getComputedStyle(stage('tokens')).transitionDuration).to.equal('0s');
    await emulateMedia({ reducedMotion: 'no-preference' });
  });

  it('says so while there is no model', async () => {
    await strip.updateComplete;
    expect(text(part('strip'))).to.equal('The pipeline shows once a model is loaded.');
    expect(strip.shadowRoot!.querySelector('button')).to.equal(null);
  });
});
