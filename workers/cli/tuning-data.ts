/**
 * What `finetune` and `prefer` share: reading a JSON-lines file, encoding its
 * texts (characters the vocabulary lacks read as the unknown token, as in
 * training, with one note), drawing batches, the tuning flags, the progress lines.
 */
import { writeFileSync } from 'node:fs';
import { excerpt } from '../api/errors.ts';
import { type Checkpoint, writeCheckpoint } from '../engine/checkpoint.ts';
import { DEFAULT_SEED } from '../engine/defaults.ts';
import { DEFAULT_FINE_TUNE, type FineTuneSettings } from '../engine/fine-tune.ts';
import { Random } from '../engine/random.ts';
import type { Tokenizer } from '../engine/tokenizer.ts';
import { decimal, fail, type OptionSpec, readTextFile, type Values, wholeNumber } from './options.ts';

/** One object of a JSON-lines file and its line number (1-based). */
export interface DataLine {
  line: number;
  fields: Record<string, unknown>;
}

/** The objects of a JSON-lines file, blank lines skipped. */
export function readJsonLines(path: string, flag: string): DataLine[] {
  const lines: DataLine[] = [];
  readTextFile(path, flag)
    .split('\n')
    .forEach((text, i) => {
      if (text.trim() === '') return;
      let fields: unknown;
      try {
        fields = JSON.parse(text);
      } catch (error) {
        fail(`${flag} line ${i + 1} is not valid JSON (${(error as Error).message})`);
      }
      if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) {
        fail(`${flag} line ${i + 1} must be a JSON object, got ${excerpt(text)}`);
      }
      lines.push({ line: i + 1, fields: fields as Record<string, unknown> });
    });
  if (lines.length === 0) fail(`${flag} ${path} has no lines to learn from`);
  return lines;
}

/** A string field of a data line, or a message naming the line. */
export function textField({ line, fields }: DataLine, key: string, flag: string): string {
  const value = fields[key];
  if (typeof value !== 'string' || value === '') fail(`${flag} line ${line}: "${key}" must be a non-empty string`);
  return value;
}

/** Encodes texts with the checkpoint's tokenizer, collecting the characters it cannot spell for one note. */
export class DataEncoder {
  private readonly unknown = new Set<string>();
  readonly tokenizer: Tokenizer;

  constructor(model: Checkpoint) {
    if (!model.tokenizer) fail('this checkpoint has no tokenizer in its metadata, so its training texts cannot be encoded');
    this.tokenizer = model.tokenizer;
  }

  encode(text: string): number[] {
    const { ids, unknown } = this.tokenizer.encodeWithReport(text);
    for (const character of unknown) this.unknown.add(character);
    return ids;
  }

  /** The note on stderr, if any character was read as the unknown token. */
  reportUnknown(): void {
    if (this.unknown.size === 0) return;
    const characters = [...this.unknown].map((c) => JSON.stringify(c)).join(' ');
    process.stderr.write(`note: ${characters} not in the vocabulary, read as the unknown token (id 0)\n`);
  }
}

/** The flags finetune and prefer share; their defaults differ in the learning rate. */
export function tuningOptions(learningRate: number): Record<string, OptionSpec> {
  return {
    out: { type: 'string', placeholder: 'FILE', help: 'where to write the tuned .safetensors checkpoint (required)' },
    'batch-size': { type: 'string', placeholder: 'N', help: 'lines drawn per step (default 8)' },
    lr: { type: 'string', placeholder: 'X', help: `constant AdamW learning rate (default ${learningRate})` },
    'grad-clip': { type: 'string', placeholder: 'X', help: `largest gradient norm (default ${DEFAULT_FINE_TUNE.gradClip})` },
    seed: { type: 'string', placeholder: 'S', help: `random seed for the order of the lines (default ${DEFAULT_SEED})` },
  };
}

export interface TuningRun {
  steps: number;
  batchSize: number;
  settings: Partial<FineTuneSettings>;
  random: Random;
}

export function tuningRun(values: Values, defaultSteps: number, defaultLearningRate: number): TuningRun {
  const steps = wholeNumber(values, 'steps', defaultSteps);
  const batchSize = wholeNumber(values, 'batch-size', 8);
  if (steps < 1) fail('--steps must be at least 1');
  if (batchSize < 1) fail('--batch-size must be at least 1');
  const settings = {
    learningRate: decimal(values, 'lr', defaultLearningRate),
    gradClip: decimal(values, 'grad-clip', DEFAULT_FINE_TUNE.gradClip),
  };
  if (!(settings.learningRate > 0)) fail('--lr must be > 0');
  if (!(settings.gradClip > 0)) fail('--grad-clip must be > 0');
  return { steps, batchSize, settings, random: new Random(wholeNumber(values, 'seed', DEFAULT_SEED)) };
}

/** batchSize items drawn at random (with replacement, so a small file still fills a batch). */
export function drawBatch<T>(items: readonly T[], batchSize: number, random: Random): T[] {
  return Array.from({ length: batchSize }, () => items[random.int(items.length)]!);
}

/** One progress line on stderr: the step and the named figures. */
export function reportStep(step: number, steps: number, figures: Record<string, number>): void {
  const parts = Object.entries(figures).map(([name, value]) => `${name} ${value.toFixed(4)}`);
  process.stderr.write(`step ${step}/${steps}  ${parts.join('  ')}\n`);
}

/** Writes the tuned model as `train` does, so that the playground opens it. */
export function writeTuned(out: string, model: Checkpoint): void {
  writeFileSync(out, writeCheckpoint({ config: model.config, params: model.params, tokenizer: model.tokenizer }));
}
