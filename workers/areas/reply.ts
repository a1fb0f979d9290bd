/**
 * A reply as the chats show it, built one drawn token at a time: each token with
 * its odds and the likeliest alternatives, and the text said until the end marker.
 * The model area's reply() and the tuning area's compare() both build theirs so.
 */
import type { ChatReply, ChatToken } from '../api/chat.ts';
import { END_OF_REPLY } from '../engine/dialogue.ts';
import { type GeneratedToken, generate } from '../engine/generate.ts';
import { largest } from '../engine/inspect.ts';
import type { ParameterTensors } from '../engine/params.ts';
import type { Tokenizer } from '../engine/tokenizer.ts';

/** How many of the likeliest tokens a reply lists beside each token unless asked. */
export const DEFAULT_ALTERNATIVES = 5;

export class ReplyBuilder {
  readonly tokens: ChatToken[] = [];
  /** True once a token said the end marker: the reply is over. */
  ended = false;
  private said = '';
  private readonly textOf: (id: number) => string;

  constructor(
    private readonly tokenizer: Tokenizer,
    /** Alternatives listed beside each token. */
    private readonly top = DEFAULT_ALTERNATIVES,
  ) {
    this.textOf = tokenizer.streamDecoder();
  }

  /** Adds a drawn token to the reply (its text up to the end marker, when it says one). */
  add({ id, probs }: GeneratedToken): ChatToken {
    const { tokenizer } = this;
    const alternatives = largest(probs, Math.min(probs.length, this.top)).map((other) => ({
      token: tokenizer.token(other),
      logprob: Math.log(probs[other]!),
      prob: probs[other]!,
    }));
    const token = { token: tokenizer.token(id), logprob: Math.log(probs[id]!), prob: probs[id]!, alternatives };
    this.tokens.push(token);
    const piece = this.textOf(id);
    const end = piece.indexOf(END_OF_REPLY);
    this.ended = end >= 0;
    this.said += this.ended ? piece.slice(0, end) : piece;
    return token;
  }

  /** The reply so far; `stopped`: cut short by a cancel before the end marker or the length limit. */
  reply(stopped: boolean): ChatReply {
    return { text: this.said, tokens: [...this.tokens], finish: this.ended ? 'stop' : stopped ? 'abort' : 'length' };
  }
}

/** The greedy reply after ids: the likeliest token each time, until the end marker or maxTokens. */
export function greedyReply(
  params: ParameterTensors,
  ids: readonly number[],
  tokenizer: Tokenizer,
  maxTokens: number,
): ChatReply {
  const reply = new ReplyBuilder(tokenizer);
  for (const token of generate(params, ids, { temperature: 0, maxTokens, seed: 0 })) {
    reply.add(token);
    if (reply.ended) break;
  }
  return reply.reply(false);
}
