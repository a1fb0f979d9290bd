/**
 * The dialogue format of the built-in corpus (corpus/grammar.ts): one exchange
 * per line, "User: … Assistant: …". The line break ends the assistant's reply,
 * so it is the end marker a fine-tuned model learns to say.
 */

export const END_OF_REPLY = '\n';
export const USER_CUE = 'User:';
export const ASSISTANT_CUE = 'Assistant:';

/** A prompt the model continues and the answer it should give, end marker included. */
export interface DialogueText {
  prompt: string;
  answer: string;
}

/** The answer with exactly one end marker after it (trailing spaces and line breaks dropped). */
export function withEndOfReply(answer: string): string {
  return answer.replace(/\s+$/, '') + END_OF_REPLY;
}

/**
 * "User: … Assistant: …" split after its first "Assistant:": the text through the cue
 * is the prompt, the rest the answer. Undefined when there is no cue or no answer after it.
 */
export function splitDialogue(text: string): DialogueText | undefined {
  const cue = text.indexOf(ASSISTANT_CUE);
  if (cue < 0) return undefined;
  const end = cue + ASSISTANT_CUE.length;
  const answer = text.slice(end);
  if (answer.trim() === '') return undefined;
  return { prompt: text.slice(0, end), answer: withEndOfReply(answer) };
}
