/**
 * The text <llm-model-chat> has the model continue, in coloured parts: the
 * system prompt on its own line, then each exchange as the built-in corpus
 * writes it, one line "User: … Assistant: …" that the model ends with a line
 * break (END_OF_REPLY).
 */
import { ASSISTANT_CUE, END_OF_REPLY, USER_CUE } from '../../workers/api/index.ts';

/** Who a part of the text comes from; 'writing' is the reply being written. */
export type TextRole = 'system' | 'user' | 'assistant' | 'writing';

export interface TextPart {
  role: TextRole;
  text: string;
}

export interface Exchange {
  user: string;
  /** What the model has said so far (the line break that ended it not included). */
  reply: string;
  /** Still being written: its text is the 'writing' part, and the line is open. */
  writing: boolean;
}

/** The default system prompt: a plain sentence the shipped model reads like its corpus and carries on from. */
export const DEFAULT_MODEL_SYSTEM_PROMPT = 'A conversation between a user and a helpful assistant.';

/** The user's text on one line: a line break inside it would end the exchange early. */
export const oneLine = (text: string): string => text.trim().replace(/\s*\n\s*/g, ' ');

/**
 * The parts of the text for a system prompt and exchanges, in order. A reply ends with the line break
 * whether the model wrote it or was cut off, so the next exchange starts a line of its own.
 */
export function layOut(system: string, exchanges: readonly Exchange[]): TextPart[] {
  const parts: TextPart[] = [];
  const systemLine = system.trim();
  if (systemLine) parts.push({ role: 'system', text: `${systemLine}${END_OF_REPLY}` });
  for (const exchange of exchanges) {
    parts.push({ role: 'user', text: `${USER_CUE} ${oneLine(exchange.user)}` });
    parts.push({ role: 'assistant', text: ` ${ASSISTANT_CUE}` });
    if (exchange.writing) parts.push({ role: 'writing', text: exchange.reply });
    else parts.push({ role: 'assistant', text: `${exchange.reply}${END_OF_REPLY}` });
  }
  return parts.filter((part) => part.text);
}

export const joined = (parts: readonly TextPart[]): string => parts.map((part) => part.text).join('');

/** The role of the part that holds each character offset (the last part's past the end). */
export function roleAt(parts: readonly TextPart[], offset: number): TextRole {
  let end = 0;
  for (const part of parts) {
    end += part.text.length;
    if (offset < end) return part.role;
  }
  return parts.at(-1)?.role ?? 'system';
}
