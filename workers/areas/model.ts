/** The model area: what the model in use is, its tokens, its next-token odds, and sampling from it. */
import type { ChatReply, ChatToken } from '../api/chat.ts';
import {
  type ForwardOutput,
  type GenerateRequest,
  type GenerateResult,
  type ModelApi,
  type ModelInfo,
  type PredictOptions,
  type Prediction,
  type ReplyRequest,
  type SamplingOptions,
  type StreamedToken,
  type Tokenization,
  type TokenProbability,
} from '../api/model.ts';
import { messageOf } from '../api/errors.ts';
import { download, fileName } from '../download.ts';
import { readCheckpoint } from '../engine/checkpoint.ts';
import { type GPTConfig, validateConfig } from '../engine/config.ts';
import type { GeneratedToken } from '../engine/generate.ts';
import { largest } from '../engine/inspect.ts';
import { countParameters, type ParameterCounts } from '../engine/params.ts';
import { MODEL_PRESETS, type ModelPreset } from '../engine/presets.ts';
import { nextTokenProbabilities } from '../engine/sampling.ts';
import type { ModelLibrary } from '../model-library.ts';
import { nextMacrotask } from '../training-session.ts';
import { type ActiveModel, contextIds } from './active-model.ts';
import type { Backends } from './backends.ts';
import { ReplyBuilder } from './reply.ts';
import { type TransferFunction, transferFresh } from './transfer.ts';

/** How many of the likeliest tokens predict() lists unless asked. */
const DEFAULT_TOP = 15;

export class ModelArea implements ModelApi {
  /** Id of the generation allowed to continue; anything else stops at its next token. */
  private activeGeneration = 0;

  constructor(
    private readonly active: ActiveModel,
    private readonly backends: Backends,
    private readonly saves: ModelLibrary,
    private readonly transfer: TransferFunction,
  ) {}

  async info(): Promise<ModelInfo> {
    return this.describe();
  }

  /** The model in use, as info() gives it (the other areas answer with it too). */
  describe(): ModelInfo {
    const { name, config, tokenizer, seed, checkpoint, session } = this.active.model;
    const info: ModelInfo = {
      name,
      config: { ...config },
      parameters: countParameters(config),
      tokenizer: tokenizer.type,
      vocabulary: [...tokenizer.vocab],
      seed,
      weights: this.active.weights(),
      step: session?.step ?? 0,
    };
    if (session) info.corpus = session.corpus.name;
    else if (checkpoint) info.checkpoint = checkpoint;
    const saved = this.saves.active;
    if (saved) info.saved = { id: saved.id, name: saved.name, updated: saved.updated, step: saved.step };
    if (this.saves.problem) info.storageProblem = this.saves.problem;
    if (this.active.notice) info.notice = this.active.notice;
    if (this.active.model.pretrained !== undefined) info.pretrained = this.active.model.pretrained;
    const { tuning } = this.active.model;
    if (tuning) info.tuning = { reference: tuning.reference.name, step: tuning.step };
    return info;
  }

  async tokenize(text: string): Promise<Tokenization> {
    const { tokenizer, config } = this.active.model;
    const { ids, unknown } = tokenizer.encodeWithReport(text);
    const dropped = Math.max(0, ids.length - config.blockSize);
    const kept = ids.slice(dropped);
    // Characters keep the input's own (an unknown one included); word pieces are the text their bytes decode to.
    const pieces = tokenizer.type === 'char' ? [...text].slice(dropped) : kept.map(tokenizer.streamDecoder());
    return {
      ids: kept,
      tokens: kept.map((id) => tokenizer.token(id)),
      pieces,
      unknown,
      dropped,
      truncated: dropped > 0,
    };
  }

  async predict(text: string, options: PredictOptions): Promise<Prediction> {
    const model = this.active.model;
    const ids = contextIds(model, text);
    const { logits } = await this.backends.run(ids, { lastOnly: true });
    const probs = nextTokenProbabilities(logits, options);
    // The likeliest few without sorting every token (GPT-2's 50,257 took about 20 ms a prediction).
    const top: TokenProbability[] = largest(probs, Math.min(probs.length, options.top ?? DEFAULT_TOP)).map((id) => ({
      id,
      token: model.tokenizer.token(id),
      prob: probs[id]!,
    }));
    const rest = Math.max(0, 1 - top.reduce((sum, entry) => sum + entry.prob, 0));
    return transferFresh(this.transfer, { top, rest, probs, contextLength: ids.length });
  }

  async forward(input: string | readonly number[], options: { capture?: boolean } = {}): Promise<ForwardOutput> {
    const ids = typeof input === 'string' ? contextIds(this.active.model, input) : [...input];
    const { logits, capture } = await this.backends.run(ids, { capture: options.capture ?? false });
    return transferFresh(this.transfer, capture ? { ids, logits, capture } : { ids, logits });
  }

  async sample(text: string, sampling: SamplingOptions, seed: number): Promise<StreamedToken> {
    const model = this.active.model;
    for await (const drawn of this.backends.sample(contextIds(model, text), { ...sampling, maxTokens: 1, seed })) {
      const { tokenizer } = model;
      return {
        index: 0,
        id: drawn.id,
        token: tokenizer.token(drawn.id),
        text: tokenizer.decode([drawn.id]),
        prob: drawn.probs[drawn.id]!,
      };
    }
    throw new Error('no token was drawn');
  }

  async generate(prompt: string, request: GenerateRequest, onToken: (token: StreamedToken) => unknown): Promise<GenerateResult> {
    const { model } = this.active;
    const textOf = model.tokenizer.streamDecoder();
    const { ids, stopped } = await this.stream(prompt, request, ({ id, probs }, index) =>
      onToken({ index, id, token: model.tokenizer.token(id), text: textOf(id), prob: probs[id]! }),
    );
    return { text: model.tokenizer.decode(ids), ids, stopped };
  }

  async reply(text: string, request: ReplyRequest, onToken: (token: ChatToken) => unknown): Promise<ChatReply> {
    const reply = new ReplyBuilder(this.active.model.tokenizer, request.top);
    const { stopped } = await this.stream(text, request, async (drawn) => {
      await onToken(reply.add(drawn));
      return reply.ended;
    });
    return reply.reply(stopped);
  }

  /**
   * Draws up to maxTokens tokens after the prompt, handing each to `take` once the one before was
   * taken, until `take` answers true. A cancel, a newer generation or a new model stops it (stopped: true).
   */
  private async stream(
    prompt: string,
    request: GenerateRequest,
    take: (token: GeneratedToken, index: number) => unknown,
  ): Promise<{ ids: number[]; stopped: boolean }> {
    const generation = ++this.activeGeneration;
    const { model, signal } = this.active;
    const tokens = this.backends.sample(contextIds(model, prompt), request);
    const ids: number[] = [];
    let stopped = false;
    while (ids.length < request.maxTokens) {
      // A cancel, a newer generate or a new model can arrive between two tokens.
      await nextMacrotask();
      if (generation !== this.activeGeneration || signal.aborted) {
        stopped = true;
        break;
      }
      const next = await tokens.next();
      if (next.done) break;
      ids.push(next.value.id);
      // Waiting for the page to take each token keeps it in step, and every token is
      // delivered before the result (callbacks and results travel on different ports).
      if ((await take(next.value, ids.length - 1)) === true) break;
    }
    await tokens.return(undefined);
    return { ids, stopped };
  }

  async cancel(): Promise<void> {
    this.activeGeneration++;
  }

  async countParameters(config: GPTConfig): Promise<ParameterCounts> {
    return countParameters(validateConfig(config));
  }

  async presets(): Promise<ModelPreset[]> {
    return MODEL_PRESETS.map((preset) => ({ ...preset }));
  }

  async loadCheckpoint(url: string): Promise<ModelInfo> {
    const name = fileName(url);
    // A notice from before (why the saved model was not reopened) says why this model loads: it stays.
    const notices = [this.active.notice];
    try {
      const { bytes, type } = await download(url);
      // A server that answers a missing file with a page of its own (a single-page app's) says 200.
      if (/^text\/html/i.test(type)) throw new Error(`${url} answered with a web page, not a checkpoint`);
      const checkpoint = readCheckpoint(bytes);
      if (!checkpoint.tokenizer) throw new Error('it has no tokenizer in its metadata');
      const { config, params, tokenizer } = checkpoint;
      const { seed } = this.active.model;
      this.active.replace({ name: name.replace(/\.safetensors$/i, ''), config, params, tokenizer, seed, checkpoint: name });
    } catch (error) {
      notices.push(
        `The trained model ${name} could not be loaded (${messageOf(error)}), so this model starts from random weights.`,
      );
    }
    this.active.notice = notices.filter(Boolean).join(' ') || undefined;
    return this.describe();
  }
}
