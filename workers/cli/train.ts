/** `train`: a model trained from scratch on a text file or the built-in corpus. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { writeCheckpoint } from '../engine/checkpoint.ts';
import { BUILTIN_BPE_VOCAB, DEFAULT_SEED } from '../engine/defaults.ts';
import { generateCorpus } from '../corpus/corpus.ts';
import { corpusFromBytes } from '../corpus/validate.ts';
import { splitTokens } from '../engine/data.ts';
import { initParameters } from '../engine/params.ts';
import { MODEL_PRESETS, presetConfig } from '../engine/presets.ts';
import { tokenizerForCorpus } from '../engine/tokenizer.ts';
import { DEFAULT_TRAINING, type StepReport, Trainer, type TrainingSettings } from '../engine/train.ts';
import { type Command, fail, print, required, wholeNumber, decimal, tokenizerChoice, TOKENIZER_OPTION } from './options.ts';

/** The training text: the built-in corpus, or a UTF-8 text file checked like the page checks an upload. */
function readCorpus(source: string): string {
  if (source === 'builtin') return generateCorpus().text;
  if (!existsSync(source)) fail(`--corpus: no such file ${source} (or say "builtin" for the built-in corpus)`);
  return corpusFromBytes(readFileSync(source), basename(source));
}

/** train's hyperparameter flags and the settings they set. */
const TRAINING_FLAGS = {
  'batch-size': { key: 'batchSize', whole: true, help: 'sequences per step' },
  lr: { key: 'learningRate', whole: false, help: 'peak learning rate' },
  'min-lr': { key: 'minLearningRate', whole: false, help: 'learning rate at the end of the cosine decay' },
  warmup: { key: 'warmupSteps', whole: true, help: 'steps of linear learning-rate warm-up' },
  'weight-decay': { key: 'weightDecay', whole: false, help: 'AdamW weight decay of the weight matrices' },
  'grad-clip': { key: 'gradClip', whole: false, help: 'largest gradient norm' },
  'eval-interval': { key: 'evalInterval', whole: true, help: 'steps between validation losses' },
  'eval-batches': { key: 'evalBatches', whole: true, help: 'batches per validation loss' },
} as const satisfies Record<string, { key: keyof TrainingSettings; whole: boolean; help: string }>;

const formatDuration = (seconds: number): string => {
  const s = Math.max(0, Math.round(seconds));
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
};

/**
 * Progress on stderr: on a terminal one line rewritten every step, otherwise
 * (a log, a test) a new line at every validation.
 */
function reportProgress(
  report: StepReport,
  totalSteps: number,
  lastValidation: number | undefined,
  trainingSeconds: number,
  elapsedSeconds: number,
): void {
  const interactive = process.stderr.isTTY;
  if (!interactive && report.validationLoss === undefined) return;
  const parts = [
    `step ${report.step}/${totalSteps}`,
    `loss ${report.loss.toFixed(3)}`,
    `val ${lastValidation === undefined ? '-' : lastValidation.toFixed(3)}`,
    `${Math.round(report.tokensSeen / trainingSeconds)} tok/s`,
    `${formatDuration((elapsedSeconds / report.step) * (totalSteps - report.step))} left`,
  ];
  process.stderr.write(
    interactive ? `\r${parts.join('  ')}\x1b[K${report.step === totalSteps ? '\n' : ''}` : `${parts.join('  ')}\n`,
  );
}

export const trainCommand: Command = {
  summary: 'train a model from scratch (a tokenizer made from the corpus, a size preset) and write it as a checkpoint',
  options: {
    corpus: {
      type: 'string',
      placeholder: 'FILE|builtin',
      help: 'UTF-8 text to train on, or "builtin" for the built-in corpus (default builtin)',
    },
    preset: {
      type: 'string',
      placeholder: 'P',
      help: `model size: ${MODEL_PRESETS.map((p) => p.id).join(', ')} (default small)`,
    },
    tokenizer: TOKENIZER_OPTION,
    'vocab-size': { type: 'string', placeholder: 'N', help: `tokens of a BPE tokenizer (default ${BUILTIN_BPE_VOCAB})` },
    steps: { type: 'string', placeholder: 'N', help: `optimisation steps (default ${DEFAULT_TRAINING.totalSteps})` },
    seed: { type: 'string', placeholder: 'S', help: `random seed for the weights and the batches (default ${DEFAULT_SEED})` },
    out: { type: 'string', placeholder: 'FILE', help: 'where to write the .safetensors checkpoint (required)' },
    ...Object.fromEntries(
      Object.entries(TRAINING_FLAGS).map(([flag, { key, whole, help }]) => [
        flag,
        { type: 'string', placeholder: whole ? 'N' : 'X', help: `${help} (default ${DEFAULT_TRAINING[key]})` },
      ]),
    ),
  },
  async run(values) {
    const out = required(values, 'out');
    const seed = wholeNumber(values, 'seed', DEFAULT_SEED);
    const settings: Partial<TrainingSettings> = { seed, totalSteps: wholeNumber(values, 'steps', DEFAULT_TRAINING.totalSteps) };
    for (const [flag, { key, whole }] of Object.entries(TRAINING_FLAGS)) {
      if (values[flag] !== undefined) settings[key] = whole ? wholeNumber(values, flag, 0) : decimal(values, flag, 0);
    }
    const choice = tokenizerChoice(values, BUILTIN_BPE_VOCAB);
    if (choice.type === 'char' && values['vocab-size'] !== undefined) fail('--vocab-size is for --tokenizer bpe');
    const text = readCorpus((values.corpus as string | undefined) ?? 'builtin');
    const tokenizer = tokenizerForCorpus(text, choice);
    const config = presetConfig((values.preset as string | undefined) ?? 'small', tokenizer.size);
    const params = initParameters(config, seed);
    const trainer = new Trainer(params, splitTokens(tokenizer.encode(text)), settings);
    const { totalSteps } = trainer.settings;

    const started = performance.now();
    let trainingMs = 0;
    let last: StepReport | undefined;
    let validationLoss: number | undefined;
    while (trainer.stepCount < totalSteps) {
      last = await trainer.step();
      trainingMs += last.milliseconds;
      validationLoss = last.validationLoss ?? validationLoss;
      reportProgress(last, totalSteps, validationLoss, trainingMs / 1000, (performance.now() - started) / 1000);
    }
    writeFileSync(out, writeCheckpoint({ config, params, tokenizer }));
    print({
      out,
      config,
      tokenizer: tokenizer.type,
      parameters: params.data.length,
      steps: totalSteps,
      tokens: trainer.tokensSeen,
      loss: last!.loss,
      validationLoss,
      seconds: Math.round((performance.now() - started) / 100) / 10,
      tokensPerSecond: Math.round(trainer.tokensSeen / (trainingMs / 1000)),
    });
  },
};
