/** What the commands share: their spec, reading flags and files, loading a checkpoint, input tokens. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { excerpt } from '../api/errors.ts';
import { type Checkpoint, CONFIG_METADATA_KEY, type HFConfigJSON, readCheckpoint } from '../engine/checkpoint.ts';
import { type GPTConfig } from '../engine/config.ts';
import { parseSafetensors } from '../engine/safetensors.ts';
import { type TokenizerChoice } from '../engine/tokenizer.ts';

export type Values = Record<string, string | boolean | undefined>;

export interface OptionSpec {
  type: 'string' | 'boolean';
  /** What the value looks like, for --help. */
  placeholder?: string;
  help: string;
}

export interface Command {
  summary: string;
  options: Record<string, OptionSpec>;
  run: (values: Values) => void | Promise<void>;
}

export function fail(message: string): never {
  throw new Error(message);
}

export const print = (value: unknown): void => {
  process.stdout.write(`${JSON.stringify(value)}\n`);
};

// ---- reading arguments ----

export function required(values: Values, name: string): string {
  const value = values[name];
  if (typeof value !== 'string') fail(`--${name} is required`);
  return value;
}

export function readTextFile(path: string, flag: string): string {
  if (!existsSync(path)) fail(`${flag}: no such file ${path}`);
  return readFileSync(path, 'utf8');
}

/** A config given as inline JSON or as the path of a JSON file. */
export function readConfigArgument(value: string, flag: string): Record<string, unknown> {
  const text = value.trimStart().startsWith('{') ? value : readTextFile(value, flag);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    fail(`${flag} is not valid JSON (${(error as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) fail(`${flag} must be a JSON object`);
  return json as Record<string, unknown>;
}

export function wholeNumber(values: Values, name: string, fallback: number): number {
  const text = values[name];
  if (text === undefined) return fallback;
  if (typeof text !== 'string' || !/^\d+$/.test(text)) fail(`--${name} must be a whole number, got ${excerpt(text)}`);
  return Number(text);
}

export function decimal(values: Values, name: string, fallback: number): number {
  const text = values[name];
  if (text === undefined) return fallback;
  const value = Number(text);
  if (typeof text !== 'string' || text.trim() === '' || !Number.isFinite(value))
    fail(`--${name} must be a number, got ${excerpt(text)}`);
  return value;
}

export function tokenIds(text: string, flag: string): number[] {
  const parts = text.split(',').map((part) => part.trim());
  if (!parts.every((part) => /^\d+$/.test(part)))
    fail(`${flag} must be token ids separated by commas, like 1,2,3; got ${excerpt(text)}`);
  return parts.map(Number);
}

// ---- checkpoints ----

/**
 * A config for files that carry none in their metadata (Hugging Face's): the
 * one named by --config, else a config.json in the checkpoint's folder.
 */
export function suppliedConfig(bytes: Uint8Array, path: string, flag: string | undefined): HFConfigJSON | GPTConfig | undefined {
  if (flag !== undefined) return readConfigArgument(flag, '--config') as unknown as HFConfigJSON | GPTConfig;
  if (CONFIG_METADATA_KEY in parseSafetensors(bytes).metadata) return undefined;
  const beside = join(dirname(path), 'config.json');
  if (!existsSync(beside))
    fail(`${path} has no config in its metadata: pass --config FILE or put a Hugging Face config.json beside it`);
  return readConfigArgument(beside, beside) as unknown as HFConfigJSON;
}

export function loadCheckpoint(values: Values): Checkpoint {
  const path = required(values, 'checkpoint');
  if (!existsSync(path)) fail(`checkpoint not found: ${path}`);
  const bytes = readFileSync(path);
  return readCheckpoint(bytes, { config: suppliedConfig(bytes, path, values.config as string | undefined) });
}

export function encode(model: Checkpoint, text: string, flag: string): number[] {
  if (!model.tokenizer) {
    fail(
      `this checkpoint has no tokenizer in its metadata (Hugging Face files keep theirs apart): give token ids with --tokens instead of ${flag}`,
    );
  }
  const { ids, unknown } = model.tokenizer.encodeWithReport(text);
  if (unknown.length) {
    process.stderr.write(
      `note: ${unknown.map((c) => JSON.stringify(c)).join(' ')} not in the vocabulary, read as the unknown token (id 0)\n`,
    );
  }
  return ids;
}

/** The input sequence: --tokens as ids, or --text (or `textFlag`) through the checkpoint's tokenizer. */
export function inputIds(values: Values, model: Checkpoint, textFlag = 'text'): number[] {
  const tokens = values.tokens as string | undefined;
  const text = values[textFlag] as string | undefined;
  if (tokens !== undefined && text !== undefined) fail(`give --tokens or --${textFlag}, not both`);
  if (tokens !== undefined) return tokenIds(tokens, '--tokens');
  if (text !== undefined) return encode(model, text, `--${textFlag}`);
  return fail(`give the input as --tokens 1,2,3 or --${textFlag} "..."`);
}

export const CHECKPOINT_OPTIONS: Record<string, OptionSpec> = {
  checkpoint: { type: 'string', placeholder: 'FILE', help: 'the .safetensors checkpoint (required)' },
  config: {
    type: 'string',
    placeholder: 'FILE|JSON',
    help: 'config for a checkpoint without one in its metadata (a Hugging Face config.json); default: config.json beside the checkpoint',
  },
};

export const TOKENS_OPTION: OptionSpec = { type: 'string', placeholder: '1,2,3', help: 'input token ids' };

/** --tokenizer and its --vocab-size (`vocabSize`: the size a BPE gets when none is given). */
export function tokenizerChoice(values: Values, vocabSize: number | undefined): TokenizerChoice {
  const type = (values.tokenizer as string | undefined) ?? 'char';
  if (type === 'char') return { type };
  if (type !== 'bpe') fail(`--tokenizer must be char or bpe, got ${excerpt(type)}`);
  if (values['vocab-size'] === undefined && vocabSize === undefined) fail('--tokenizer bpe needs --vocab-size N');
  return { type, vocabSize: wholeNumber(values, 'vocab-size', vocabSize ?? 0) };
}

export const TOKENIZER_OPTION: OptionSpec = {
  type: 'string',
  placeholder: 'char|bpe',
  help: 'characters, or word pieces (byte-level BPE) learned from the text with --vocab-size tokens (default char)',
};
