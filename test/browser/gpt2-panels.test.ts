/**
 * Every inspector panel on GPT-2-shaped models made here (issue 16): GPT-2's
 * 50,257-token vocabulary (a BPE tokenizer of 256 bytes and 50,001 merges made
 * up in the test), random weights, tiny widths. The numbers come from the real
 * inspector and labs areas and are checked against slow float64 loops written
 * here; the panels are mounted on those areas and must render. A 12 × 12-head
 * model 24 wide has a capture length under its context, so long prompts are cut;
 * a one-layer model 768 wide has GPT-2's 3,072 neurons and its map limit.
 */
import { expect } from 'chai';
import '../../src/elements/attention-experiments.ts';
import '../../src/elements/inspector-panel.ts';
import type { InspectorPanelClient, InspectorTab } from '../../src/elements/inspector-panel.ts';
import '../../src/elements/attention-inspector.ts';
import '../../src/elements/embedding-explorer.ts';
import { tokensOfWords } from '../../src/elements/embedding-map.ts';
import '../../src/elements/logit-lens.ts';
import '../../src/elements/mlp-neurons.ts';
import { ACTIVE } from '../../src/elements/parameter-lab.ts';
import { ADJECTIVES_EXAMPLE } from '../../src/panel-examples.ts';
import type { TokenScore } from '../../workers/api/inspector.ts';
import { ActiveModel, type LoadedModel } from '../../workers/areas/active-model.ts';
import { InspectorArea, inspectedIds } from '../../workers/areas/inspector.ts';
import { LabsArea } from '../../workers/areas/labs.ts';
import type { Backends } from '../../workers/areas/backends.ts';
import { ModelArea } from '../../workers/areas/model.ts';
import type { TrainingArea } from '../../workers/areas/training.ts';
import { noTransfer } from '../../workers/areas/transfer.ts';
import { BpeTokenizer } from '../../workers/engine/bpe.ts';
import type { GPTConfig } from '../../workers/engine/config.ts';
import { contextualSimilarity, largest, mapLimit, POSITION_LIMIT, promotedHeads } from '../../workers/engine/inspect.ts';
import { captureLength } from '../../workers/engine/model.ts';
import { countParameters, createParameters, KNOWN_CONFIGS } from '../../workers/engine/params.ts';
import { Random } from '../../workers/engine/random.ts';
import { readableBytes } from '../../workers/engine/token-bytes.ts';
import type { ModelLibrary } from '../../workers/model-library.ts';
import { randomizeParameters } from './engine-reference.ts';
import { randomFor } from './seeded.ts';
import { waitFor } from './wait-for.ts';

const GPT2_VOCAB = 50_257;
const WORDS = [' king', ' queen', ' man', ' woman', ' the', ' cat', ' sat', ' on', ' mat', ' Michael', ' Jordan', ' plays'];

/**
 * 256 byte tokens, then merges: first the prefixes of WORDS (so each is one token), then every letter appended to
 * the tokens made so far, breadth first, until the vocabulary holds 50,257 tokens.
 */
function gpt2SizedTokenizer(): BpeTokenizer {
  const vocab = Array.from({ length: 256 }, (_, byte) => readableBytes(Uint8Array.of(byte)));
  const known = new Set<string>(vocab);
  const merges: [string, string][] = [];
  const add = (left: string, right: string): string => {
    const token = left + right;
    if (!known.has(token)) {
      known.add(token);
      vocab.push(token);
      merges.push([left, right]);
    }
    return token;
  };
  for (const word of [...WORDS, ...ADJECTIVES_EXAMPLE.tokens]) [...word].reduce((left, char) => add(left, char));
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  let generation = [...letters].map((letter) => ` ${letter}`).concat([...letters]);
  for (const token of generation) if (!known.has(token)) [...token].reduce((left, char) => add(left, char));
  while (vocab.length < GPT2_VOCAB) {
    const next: string[] = [];
    for (const token of generation) {
      for (const letter of letters) {
        if (vocab.length === GPT2_VOCAB) break;
        const made = token + letter;
        if (!known.has(made)) next.push(add(token, letter));
      }
    }
    generation = next;
  }
  return new BpeTokenizer(vocab, merges);
}

let tokenizer: BpeTokenizer;
const tokenizerOnce = () => (tokenizer ??= gpt2SizedTokenizer());

/** A model of `config` with random weights (seeded by `label`), in use by an inspector and a labs area. */
function areasFor(config: GPTConfig, label: string) {
  const params = randomizeParameters(createParameters(config), randomFor(label), 0.3);
  const model: LoadedModel = { name: label, config, params, tokenizer: tokenizerOnce(), seed: 1 };
  const active = new ActiveModel(model);
  const inspector = new InspectorArea(active, {} as TrainingArea, noTransfer);
  const labs = new LabsArea(active);
  const modelArea = new ModelArea(active, {} as Backends, {} as ModelLibrary, noTransfer);
  return { model, params, inspector, labs, modelArea, client: { inspector, labs, model: modelArea } };
}

const SMALL: GPTConfig = { vocabSize: GPT2_VOCAB, blockSize: 64, nLayer: 2, nHead: 4, nEmbd: 32, tied: true };
/** 12 layers × 12 heads over GPT-2's context, 24 wide: its capture length (398) is under its context. */
const HEADS: GPTConfig = { vocabSize: GPT2_VOCAB, blockSize: 1024, nLayer: 12, nHead: 12, nEmbd: 24, tied: true };
/** GPT-2's width: 3,072 neurons per layer, a map of at most 1,820 tokens. */
const WIDE: GPTConfig = { vocabSize: GPT2_VOCAB, blockSize: 32, nLayer: 1, nHead: 12, nEmbd: 768, tied: true };

// ---- float64 references ----

function dot(a: ArrayLike<number>, aOff: number, b: ArrayLike<number>, bOff: number, n: number): number {
  let sum = 0;
  for (let i = 0; i < n; i++) sum += a[aOff + i]! * b[bOff + i]!;
  return sum;
}

/** The ids of the `count` largest scores by a plain sort of every id (ties: lower id first). */
function sortedTop(scores: ArrayLike<number>, count: number, leaveOut: number[] = []): number[] {
  return Array.from({ length: scores.length }, (_, id) => id)
    .filter((id) => !leaveOut.includes(id))
    .sort((a, b) => scores[b]! - scores[a]! || a - b)
    .slice(0, count);
}

/** Cosine of `vector` with every row of wte, in float64. */
function cosines(wte: Float32Array, vector: ArrayLike<number>, C: number): Float64Array {
  const length = Math.sqrt(dot(vector, 0, vector, 0, C));
  return Float64Array.from({ length: wte.length / C }, (_, v) => {
    const rowLength = Math.sqrt(dot(wte, v * C, wte, v * C, C));
    return rowLength > 0 && length > 0 ? dot(wte, v * C, vector, 0, C) / (rowLength * length) : 0;
  });
}

const ids = (scores: TokenScore[] | { id: number }[]) => scores.map(({ id }) => id);

/** A prompt of `words` words drawn from WORDS. */
function promptOf(words: number, random: Random): string {
  return Array.from({ length: words }, () => WORDS[Math.floor(random.uniform() * WORDS.length)]).join('');
}

describe('the inspector and labs on a GPT-2-shaped model (50,257 tokens)', function () {
  this.timeout(300_000);

  it('has a tokenizer of 50,257 tokens in which every test word is one token', () => {
    const made = tokenizerOnce();
    expect(made.size).to.equal(GPT2_VOCAB);
    for (const word of WORDS) expect(made.encode(word), word).to.deep.equal([made.vocab.indexOf(word)]);
  });

  it('picks the largest of 50,257 scores as a sort of every id does, ties and left-out ids included', () => {
    const random = new Random(50_257);
    // Scores of a few values only: many ties, which go to the lower id.
    const scores = Float32Array.from({ length: GPT2_VOCAB }, () => Math.floor(random.uniform() * 40) / 4);
    const leaveOut = [0, 5, 17, 40_000];
    for (const count of [0, 1, 10, 100]) {
      expect(largest(scores, count, new Set(leaveOut)), `top ${count}`).to.deep.equal(sortedTop(scores, count, leaveOut));
    }
  });

  it('reads a long prompt as its last captureLength tokens, says how many it left out, and runs it as odds() does', async () => {
    const { inspector, model } = areasFor(HEADS, 'cut');
    const T = captureLength(HEADS);
    expect(T, 'the capture length is under the context').to.be.within(2, HEADS.blockSize - 1);
    const text = promptOf(T + 37, new Random(16));
    const all = model.tokenizer.encode(text);
    expect(all.length).to.equal(T + 37);
    const inspection = await inspector.inspect(text);
    expect(inspection.ids).to.deep.equal(all.slice(-T));
    expect(inspection.dropped).to.equal(37);
    expect(inspectedIds(model, text)).to.deep.equal({ ids: all.slice(-T), dropped: 37 });
    const { layers } = inspection.capture;
    expect(layers.length).to.equal(12);
    for (const layer of layers)
      expect([layer.scores.length, layer.pattern.length, layer.mask.length]).to.deep.equal([12 * T * T, 12 * T * T, 12 * T * T]);
    expect(inspection.next.length).to.equal(GPT2_VOCAB);
    expect(inspection.next.reduce((sum, p) => sum + p, 0)).to.be.closeTo(1, 1e-4);
    expect(ids(inspection.top)).to.deep.equal(sortedTop(inspection.next, 10));

    const odds = await inspector.odds(text);
    expect(odds).to.not.have.property('capture');
    expect(odds.ids).to.deep.equal(inspection.ids);
    expect(odds.dropped).to.equal(37);
    expect(ids(odds.top)).to.deep.equal(ids(inspection.top));
    const ablate: [number, number][] = [
      [0, 3],
      [11, 11],
      [5, 7],
    ];
    for (const interventions of [{ causalMask: false }, { ablate }]) {
      const [changed, changedOdds] = [await inspector.inspect(text, interventions), await inspector.odds(text, interventions)];
      expect(Array.from(changedOdds.next)).to.deep.equal(Array.from(changed.next));
      expect(Array.from(changed.next), JSON.stringify(interventions)).to.not.deep.equal(Array.from(inspection.next));
    }
    const short = await inspector.inspect(' the cat sat');
    expect(short.dropped, 'nothing left out').to.equal(undefined);
  });

  it("compares a word in two prompts by tokenize()'s positions, refusing those the inspector does not read", async () => {
    const { inspector, modelArea, params, model } = areasFor(HEADS, 'context');
    const T = captureLength(HEADS);
    const long = promptOf(T + 10, new Random(9));
    const short = ' the cat sat on the mat';
    const { ids } = await modelArea.tokenize(long);
    expect(ids.length, 'tokenize() reads the whole context').to.equal(T + 10);
    const answer = await inspector.contextualSimilarity({ text: long, position: 10 + 4 }, { text: short, position: 1 });
    const expected = contextualSimilarity(
      params,
      model.tokenizer,
      { ids: ids.slice(10), position: 4 },
      { ids: model.tokenizer.encode(short), position: 1 },
    );
    expect(answer).to.deep.equal(expected);
    expect(answer.tokens[0]).to.equal(model.tokenizer.token(ids[14]!));
    const refused = await inspector.contextualSimilarity({ text: long, position: 9 }, { text: short, position: 1 }).then(
      () => 'answered',
      (error: Error) => error.message,
    );
    expect(refused).to.equal(`token 9 is before the last ${T} tokens, the most the inspector reads of this model`);
  });

  it("works out all 144 heads' updates, and the tokens each pushes up, as a plain loop does", async () => {
    const { inspector, params } = areasFor(HEADS, 'heads');
    const text = promptOf(20, new Random(7));
    const inspection = await inspector.inspect(text);
    const T = inspection.ids.length;
    const position = 13;
    const updates = await inspector.headUpdates(text, position);
    expect(updates.length).to.equal(144);
    expect(promotedHeads(HEADS), 'every head is read at this width').to.equal(144);
    const C = HEADS.nEmbd;
    for (const update of updates.filter((_, i) => i % 13 === 0)) {
      const { layer, head } = update;
      const pattern = inspection.capture.layers[layer]!.pattern;
      expect(Array.from(update.weights)).to.deep.equal(
        Array.from(pattern.subarray((head * T + position) * T, (head * T + position + 1) * T)),
      );
      const dots = Float64Array.from({ length: GPT2_VOCAB }, (_, v) => dot(params.wte, v * C, update.update, 0, C));
      expect(ids(update.promotes), `L${layer} H${head}`).to.deep.equal(sortedTop(dots, 5));
      update.promotes.forEach(({ id, score }) => expect(score).to.be.closeTo(dots[id]!, 1e-4 * Math.abs(dots[id]!) + 1e-5));
    }
    // Asked again (the kept activations), the same answer.
    const again = await inspector.headUpdates(text, position);
    expect(again.map(({ norm }) => norm)).to.deep.equal(updates.map(({ norm }) => norm));
  });

  it("reads only the largest updates' tokens where every head would cost too much (GPT-2 small: 27 of 144)", () => {
    expect(promotedHeads(KNOWN_CONFIGS['GPT-2 small'])).to.equal(27);
    expect(promotedHeads(KNOWN_CONFIGS['GPT-2 medium'])).to.equal(20);
  });

  it('reads the logit lens at a chosen token, as LayerNorm and the unembedding of the residual stream give it', async () => {
    const { inspector, params } = areasFor(HEADS, 'lens');
    const text = promptOf(12, new Random(3));
    const inspection = await inspector.inspect(text);
    const position = 5;
    const lens = await inspector.logitLens(text, position, 5);
    expect(lens.map(({ layer }) => layer)).to.deep.equal(Array.from({ length: 13 }, (_, l) => l));
    const C = HEADS.nEmbd;
    const residuals = [
      Array.from(
        { length: C },
        (_, c) => inspection.capture.tokenEmbedding[position * C + c]! + inspection.capture.positionEmbedding[position * C + c]!,
      ),
      ...inspection.capture.layers.map((layer) => Array.from(layer.residAfterMlp.subarray(position * C, (position + 1) * C))),
    ];
    residuals.forEach((residual, l) => {
      const mean = residual.reduce((s, x) => s + x, 0) / C;
      const variance = residual.reduce((s, x) => s + (x - mean) ** 2, 0) / C;
      const normalised = Array.from(
        residual,
        (x, c) => ((x - mean) / Math.sqrt(variance + 1e-5)) * params.lnfw[c]! + params.lnfb[c]!,
      );
      const logits = Float64Array.from({ length: GPT2_VOCAB }, (_, v) => dot(params.wte, v * C, normalised, 0, C));
      const top = sortedTop(logits, 5);
      expect(ids(lens[l]!.top), `layer ${l}`).to.deep.equal(top);
      const max = logits[top[0]!]!;
      const sum = logits.reduce((s, x) => s + Math.exp(x - max), 0);
      expect(lens[l]!.top[0]!.score).to.be.closeTo(1 / sum, 1e-5);
    });
  });

  it("lists the most active of a layer's 3,072 MLP neurons, with what each pushes up", async () => {
    const { inspector, params } = areasFor(WIDE, 'neurons');
    const text = ' the cat sat on the mat';
    const inspection = await inspector.inspect(text);
    const position = 3;
    const report = await inspector.topNeurons(text, position, 0, 8);
    const post = inspection.capture.layers[0]!.mlpPost.subarray(position * 3072, (position + 1) * 3072);
    expect(post.length).to.equal(3072);
    expect(report.neurons.map(({ index }) => index)).to.deep.equal(sortedTop(post, 8));
    const C = WIDE.nEmbd;
    const { index, promotes } = report.neurons[0]!;
    const down = params.fcprojw.subarray(index * C, (index + 1) * C);
    const dots = Float64Array.from({ length: GPT2_VOCAB }, (_, v) => dot(params.wte, v * C, down, 0, C));
    expect(ids(promotes)).to.deep.equal(sortedTop(dots, 5));
  });

  it('finds neighbours and king − man + woman among 50,257 tokens as a plain cosine loop does', async () => {
    const { inspector, params } = areasFor(SMALL, 'neighbours');
    const vocab = tokenizerOnce().vocab;
    const [king, man, woman] = [' king', ' man', ' woman'].map((word) => vocab.indexOf(word));
    const C = SMALL.nEmbd;
    const near = await inspector.nearestTokens(king!, 10);
    const kingCosines = cosines(params.wte, params.wte.subarray(king! * C, (king! + 1) * C), C);
    expect(ids(near)).to.deep.equal(sortedTop(kingCosines, 10, [0, king!]));
    near.forEach(({ id, cosine }) => expect(cosine).to.be.closeTo(kingCosines[id]!, 1e-6));
    const target = Array.from(
      { length: C },
      (_, c) => params.wte[king! * C + c]! - params.wte[man! * C + c]! + params.wte[woman! * C + c]!,
    );
    const analogy = await inspector.tokenArithmetic(king!, man!, woman!, 10);
    expect(ids(analogy)).to.deep.equal(sortedTop(cosines(params.wte, target, C), 10, [0, king!, man!, woman!]));
  });

  it('maps a chosen subset, at most mapLimit tokens (1,820 at 768 wide, the first ones unless chosen)', async () => {
    expect(mapLimit(KNOWN_CONFIGS['GPT-2 small'])).to.equal(1820);
    expect(mapLimit(SMALL), 'every token of a narrow model').to.equal(GPT2_VOCAB);
    const { inspector, params } = areasFor(WIDE, 'map');
    const whole = await inspector.embeddingMap();
    expect(whole.limit).to.equal(1820);
    expect(whole.ids).to.deep.equal(Array.from({ length: 1820 }, (_, id) => id));
    expect(whole.points.length).to.equal(2 * 1820);
    const tooMany = Array.from({ length: 1821 }, (_, i) => i * 7);
    const refused = await inspector.embeddingMap(tooMany).then(
      () => 'answered',
      (error: Error) => error.message,
    );
    expect(refused).to.match(/at most 1,820 tokens, got 1,821/);

    const vocab = tokenizerOnce().vocab;
    const chosen = WORDS.map((word) => vocab.indexOf(word));
    const map = await inspector.embeddingMap(chosen);
    expect(map.ids).to.deep.equal(chosen);
    expect(map.tokens).to.deep.equal(WORDS);
    // Cov·u = λu for each component u, recovered from the points (Σ_i x_i·p_i = n·λ·u), in float64.
    const C = WIDE.nEmbd;
    const n = chosen.length;
    const mean = Array.from({ length: C }, (_, c) => chosen.reduce((s, id) => s + params.wte[id * C + c]!, 0) / n);
    const centred = chosen.map((id) => Array.from({ length: C }, (_, c) => params.wte[id * C + c]! - mean[c]!));
    const total = centred.reduce((s, x) => s + dot(x, 0, x, 0, C), 0) / n;
    for (let k = 0; k < 2; k++) {
      const value = map.explained[k]! * total;
      const points = centred.map((_, i) => map.points[2 * i + k]!);
      const u = Array.from({ length: C }, (_, c) => centred.reduce((s, x, i) => s + x[c]! * points[i]!, 0) / (n * value));
      expect(Math.sqrt(dot(u, 0, u, 0, C)), 'unit length').to.be.closeTo(1, 1e-3);
      const covU = Array.from({ length: C }, (_, r) => centred.reduce((s, x) => s + x[r]! * dot(x, 0, u, 0, C), 0) / n);
      covU.forEach((x, r) => expect(x, `component ${k}, row ${r}`).to.be.closeTo(value * u[r]!, 1e-3 * value));
    }
  });

  it('compares the first 256 of 1,024 positions, as a plain cosine loop does', async () => {
    const { inspector, params } = areasFor(HEADS, 'positions');
    const similarity = await inspector.positionSimilarity();
    expect(similarity.length).to.equal(POSITION_LIMIT * POSITION_LIMIT);
    const C = HEADS.nEmbd;
    for (const [p, q] of [
      [0, 0],
      [3, 200],
      [255, 17],
      [128, 129],
    ] as const) {
      const expected = cosines(params.wpe.subarray(q * C, (q + 1) * C), params.wpe.subarray(p * C, (p + 1) * C), C)[0]!;
      expect(similarity[p * POSITION_LIMIT + q], `${p}, ${q}`).to.be.closeTo(expected, 1e-5);
    }
  });

  it("counts the model in use against its real buffer, and GPT-2 small's 124,439,808 parameters, without sending a buffer", async () => {
    const { labs, params } = areasFor(SMALL, 'count');
    const count = await labs.activeModelCount();
    expect(count.bufferLength).to.equal(params.data.length);
    expect(count.breakdown.counts.total).to.equal(countParameters(SMALL).total);
    // Only numbers and text cross to the page: no typed array at any depth.
    const arrays = JSON.stringify(count, (_, value: unknown) => (ArrayBuffer.isView(value) ? 'ARRAY' : value));
    expect(arrays).to.not.contain('ARRAY');
    expect(arrays.length).to.be.below(10_000);
    const gpt2 = await labs.parameterBreakdown(KNOWN_CONFIGS['GPT-2 small']);
    expect(gpt2.counts.total).to.equal(124_439_808);
    expect(gpt2.memory.float32).to.equal(497_759_232);
    const logits = await labs.modelLogits(' the cat sat', 5);
    expect(logits.tokens.length).to.equal(5);
  });
});

const shadowOf = (element: Element): ShadowRoot => element.shadowRoot!;
const parts = (root: ParentNode, name: string) => [...root.querySelectorAll(`[part~="${name}"]`)];

describe('the panels render on a GPT-2-shaped model', function () {
  this.timeout(300_000);
  afterEach(() => document.body.replaceChildren());

  it('the attention inspector: 144 thumbnails, the three stages, and a line for a cut prompt', async () => {
    const { client } = areasFor(HEADS, 'attention panel');
    const element = document.createElement('llm-attention-inspector');
    element.client = client;
    element.text = promptOf(captureLength(HEADS) + 5, new Random(2));
    document.body.append(element);
    const root = shadowOf(element);
    await waitFor(() => parts(root, 'thumbnail').length === 144, '144 thumbnails', 120_000);
    expect(parts(root, 'dropped-note')[0]!.textContent!.replace(/\s+/g, ' ')).to.match(
      /reads its last \d+, so the first 5 are left out/,
    );
    expect(parts(root, 'stage').length).to.equal(3);
    for (const stage of parts(root, 'stage') as HTMLInputElement[]) {
      stage.click();
      await element.updateComplete;
      expect(parts(root, 'head-heatmap').length).to.equal(1);
    }
    (parts(root, 'query')[4] as HTMLButtonElement).click();
    await waitFor(() => parts(root, 'update-row').length === 144, "each head's update", 120_000);
  });

  it('the experiments: a grid of 144 heads, and the odds with heads zeroed', async () => {
    const { client } = areasFor(HEADS, 'experiments panel');
    const element = document.createElement('llm-attention-experiments');
    element.client = client;
    element.text = ' the cat sat on the mat';
    document.body.append(element);
    const root = shadowOf(element);
    await waitFor(() => parts(root, 'head').length === 144, '144 head buttons', 120_000);
    (parts(root, 'head')[7] as HTMLButtonElement).click();
    await waitFor(() => parts(root, 'ablate-change')[0]?.textContent?.includes('moved'), 'the comparison', 120_000);
  });

  it('the MLP neurons and the logit lens', async () => {
    const { client } = areasFor(HEADS, 'mlp and lens panels');
    const mlp = document.createElement('llm-mlp-neurons');
    mlp.client = client;
    mlp.text = ' Michael Jordan plays';
    const lens = document.createElement('llm-logit-lens');
    lens.client = client;
    lens.text = ' Michael Jordan plays';
    document.body.append(mlp, lens);
    await waitFor(() => parts(shadowOf(mlp), 'neuron').length > 0, 'the neurons', 120_000);
    await waitFor(() => parts(shadowOf(lens), 'layer-row').length === 13, "the lens's 13 rows", 120_000);
  });

  it('the embeddings: pickers of at most 2,000 options, king − man + woman, the map with its note, 256 positions', async () => {
    const { client } = areasFor(WIDE, 'embedding panels');
    const vocabulary = [...tokenizerOnce().vocab];
    const element = document.createElement('llm-embedding-explorer');
    element.client = client;
    element.vocabulary = vocabulary;
    element.blockSize = WIDE.blockSize;
    document.body.append(element);
    const root = shadowOf(element);
    const section = (tag: string) => shadowOf(root.querySelector(tag)!);
    let started = performance.now();
    await waitFor(
      () =>
        root.querySelector('llm-embedding-neighbours') && parts(section('llm-embedding-neighbours'), 'neighbour').length === 10,
      'the neighbours',
      120_000,
    );
    console.log(`GPT-2-sized vocabulary: the neighbours section shown in ${(performance.now() - started).toFixed(0)} ms`);
    const picker = section('llm-embedding-neighbours').querySelector('select')!;
    picker.focus();
    expect(picker.options.length).to.be.within(2, 2001);
    expect(parts(section('llm-embedding-neighbours'), 'token-picker-found')[0]?.textContent).to.contain('the first 2,000 listed');

    element.section = 'arithmetic';
    started = performance.now();
    await waitFor(
      () =>
        root.querySelector('llm-embedding-arithmetic') && parts(section('llm-embedding-arithmetic'), 'neighbour').length === 10,
      'the arithmetic',
      120_000,
    );
    console.log(`arithmetic section shown in ${(performance.now() - started).toFixed(0)} ms`);
    const terms = ['arithmetic-a', 'arithmetic-b', 'arithmetic-c'].map(
      (part) => (parts(section('llm-embedding-arithmetic'), part)[0] as HTMLSelectElement).value,
    );
    expect(terms.map(Number).map((id) => vocabulary[id])).to.deep.equal([' king', ' man', ' woman']);

    element.section = 'map';
    await waitFor(
      () => root.querySelector('llm-embedding-map') && parts(section('llm-embedding-map'), 'map-note').length === 1,
      'the map',
      120_000,
    );
    expect(parts(section('llm-embedding-map'), 'map-note')[0]!.textContent).to.match(
      /at most 1,820: this one shows its first 1,820 tokens/,
    );
    const words = (parts(section('llm-embedding-map'), 'map-words')[0] as HTMLTextAreaElement).value;
    const listed = tokensOfWords(vocabulary, words);
    expect(listed.ids.length, 'some words are tokens').to.be.above(2);
    expect(listed.missing.length, 'some are not').to.be.above(0);
    (parts(section('llm-embedding-map'), 'map-button')[0] as HTMLButtonElement).click();
    const mapped = `the ${listed.ids.length} tokens of your words`;
    await waitFor(
      () => parts(section('llm-embedding-map'), 'map-note')[0]?.textContent?.includes(mapped),
      'the words mapped',
      120_000,
    );
    expect(parts(section('llm-embedding-map'), 'map-missing')[0]!.textContent).to.contain(listed.missing.join(', '));
    expect(parts(section('llm-embedding-map'), 'scatter-table')[0]!.querySelectorAll('tbody tr').length).to.equal(
      listed.ids.length,
    );

    element.section = 'positions';
    await waitFor(
      () =>
        root.querySelector('llm-embedding-positions') &&
        parts(section('llm-embedding-positions'), 'position-heatmap').length === 1,
      'the positions',
      120_000,
    );
    expect(parts(section('llm-embedding-positions'), 'position-note'), 'all 32 positions').to.deep.equal([]);
  });

  it('the positions: the first 256 of a 1,024-token context, with a line saying so', async () => {
    const { client } = areasFor(HEADS, 'positions panel');
    const element = document.createElement('llm-embedding-explorer');
    element.client = client;
    element.vocabulary = [...tokenizerOnce().vocab];
    element.blockSize = HEADS.blockSize;
    element.section = 'positions';
    document.body.append(element);
    const root = shadowOf(element);
    const section = () => shadowOf(root.querySelector('llm-embedding-positions')!);
    await waitFor(
      () => root.querySelector('llm-embedding-positions') && parts(section(), 'position-note').length === 1,
      'the note',
      120_000,
    );
    expect(parts(section(), 'position-note')[0]!.textContent!.replace(/\s+/g, ' ')).to.contain(
      "Positions 0 to 255 of the model's 1,024",
    );
    const heatmap = parts(section(), 'position-heatmap')[0] as HTMLElement & { rows: number };
    expect(heatmap.rows).to.equal(256);
  });

  it('the inspector panel opens each tab on a pretrained GPT-2-shaped model, the adjective head not chosen', async () => {
    const { client, modelArea } = areasFor(HEADS, 'inspector panel');
    const panel = document.createElement('llm-inspector-panel');
    panel.client = client as unknown as InspectorPanelClient;
    panel.model = { ...modelArea.describe(), pretrained: 'gpt2' };
    panel.text = '';
    document.body.append(panel);
    const inPanel = (tag: string) => shadowOf(panel).querySelector(tag);
    const attention = await waitFor(() => inPanel('llm-attention-inspector'), 'the attention tab');
    await waitFor(() => parts(shadowOf(attention), 'thumbnail').length === 144, '144 thumbnails', 120_000);
    expect(parts(shadowOf(panel), 'example-note')[0]!.textContent).to.contain(ADJECTIVES_EXAMPLE.text);
    const selected = parts(shadowOf(attention), 'thumbnail').findIndex((thumbnail) => thumbnail.matches('[part~="selected"]'));
    expect(selected, "the first head, not the shipped model's adjective head").to.equal(0);
    panel.text = ' the cat sat on the mat';
    const checks: [string, string, string][] = [
      ['experiments', 'llm-attention-experiments', 'head'],
      ['mlp', 'llm-mlp-neurons', 'neuron'],
      ['lens', 'llm-logit-lens', 'layer-row'],
      ['matrices', 'llm-head-matrices', 'score-cell'],
    ];
    for (const [tab, tag, part] of checks) {
      panel.tab = tab as InspectorTab;
      await waitFor(() => inPanel(tag) && parts(shadowOf(inPanel(tag)!), part).length > 0, `the ${tab} tab`, 120_000);
    }
    panel.tab = 'embeddings';
    const explorer = await waitFor(() => shadowOf(panel).querySelector('llm-embedding-explorer'), 'the embeddings tab');
    expect(explorer.vocabulary.length).to.equal(GPT2_VOCAB);
  });

  it('the parameter lab counts the model in use against its buffer', async () => {
    const { client } = areasFor(SMALL, 'parameter lab');
    const element = document.createElement('llm-parameter-lab');
    element.client = client;
    element.choice = ACTIVE;
    document.body.append(element);
    await waitFor(() => parts(shadowOf(element), 'buffer-check')[0]?.textContent?.includes('1,'), 'the buffer check', 60_000);
  });
});
