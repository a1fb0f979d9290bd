/** `finetune`: supervised fine-tuning on dialogues, the loss counted on the answers only. */
import { splitDialogue, withEndOfReply } from '../engine/dialogue.ts';
import { answerProblem, FineTuner, type PromptAnswer } from '../engine/fine-tune.ts';
import { CHECKPOINT_OPTIONS, type Command, fail, loadCheckpoint, print, required } from './options.ts';
import {
  type DataLine,
  DataEncoder,
  drawBatch,
  readJsonLines,
  reportStep,
  textField,
  tuningOptions,
  tuningRun,
  writeTuned,
} from './tuning-data.ts';

const LEARNING_RATE = 1e-3;
const DEFAULT_STEPS = 30;

/** A line's prompt and answer: {"prompt", "answer"}, or {"text": "User: … Assistant: …"} split after "Assistant:". */
function dialogueOf(line: DataLine): { prompt: string; answer: string } {
  if (typeof line.fields.text === 'string') {
    const dialogue = splitDialogue(line.fields.text);
    if (!dialogue) fail(`--data line ${line.line}: "text" must read "User: … Assistant: …" with an answer after "Assistant:"`);
    return dialogue;
  }
  if (line.fields.prompt === undefined) fail(`--data line ${line.line}: give {"prompt": …, "answer": …} or {"text": …}`);
  return { prompt: textField(line, 'prompt', '--data'), answer: withEndOfReply(textField(line, 'answer', '--data')) };
}

export const finetuneCommand: Command = {
  summary: 'fine-tune a checkpoint on dialogues (SFT), the loss counted on the answers only',
  options: {
    ...CHECKPOINT_OPTIONS,
    data: {
      type: 'string',
      placeholder: 'FILE',
      help: 'JSON lines, each {"prompt": …, "answer": …} or {"text": "User: … Assistant: …"}; a line break is added to end each answer (required)',
    },
    steps: { type: 'string', placeholder: 'N', help: `optimisation steps (default ${DEFAULT_STEPS})` },
    ...tuningOptions(LEARNING_RATE),
  },
  run(values) {
    const out = required(values, 'out');
    const run = tuningRun(values, DEFAULT_STEPS, LEARNING_RATE);
    const model = loadCheckpoint(values);
    const lines = readJsonLines(required(values, 'data'), '--data');
    const encoder = new DataEncoder(model);
    const texts: PromptAnswer[] = [];
    for (const line of lines) {
      const { prompt, answer } = dialogueOf(line);
      const text = { prompt: encoder.encode(prompt), answer: encoder.encode(answer) };
      const problem = answerProblem(text, model.config.blockSize);
      if (problem) process.stderr.write(`--data line ${line.line} skipped: ${problem}\n`);
      else texts.push(text);
    }
    encoder.reportUnknown();
    if (texts.length === 0) fail('--data has no dialogue the model can learn from (see the lines skipped above)');

    const tuner = new FineTuner(model.params, run.settings);
    let loss = NaN;
    for (let step = 1; step <= run.steps; step++) {
      ({ loss } = tuner.supervisedStep(drawBatch(texts, run.batchSize, run.random)));
      reportStep(step, run.steps, { loss });
    }
    writeTuned(out, model);
    print({ out, steps: run.steps, dialogues: texts.length, skipped: lines.length - texts.length, loss });
  },
};
