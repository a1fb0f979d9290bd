/**
 * `llm-playground` on the command line: the engine the page uses, driven from Node.
 *
 *   init     write a freshly initialised checkpoint
 *   forward  print the logits for a sequence of tokens
 *   loss     print the mean cross-entropy of next-token predictions (and write its gradients)
 *   sample   generate text
 *   tokenize print a text's token ids and token strings
 *   train    train a model from scratch on a text file or the built-in corpus
 *   finetune fine-tune a checkpoint on dialogues (SFT)
 *   prefer   tune a checkpoint towards chosen answers (DPO)
 *
 * Results go to stdout as JSON (sample prints text unless --json; the progress
 * of train, finetune and prefer goes to stderr). Mistakes in the input are
 * reported as one line on stderr with exit code 1.
 */
import { parseArgs } from 'node:util';
import { initGemm } from './engine/gemm.ts';
import { type Command, fail, type Values } from './cli/options.ts';
import { forwardCommand } from './cli/forward.ts';
import { init } from './cli/init.ts';
import { loss } from './cli/loss.ts';
import { sample } from './cli/sample.ts';
import { tokenize } from './cli/tokenize.ts';
import { trainCommand } from './cli/train.ts';
import { finetuneCommand } from './cli/finetune.ts';
import { preferCommand } from './cli/prefer.ts';

const COMMANDS: Record<string, Command> = {
  init,
  forward: forwardCommand,
  loss,
  sample,
  tokenize,
  train: trainCommand,
  finetune: finetuneCommand,
  prefer: preferCommand,
};

// ---- help and dispatch ----

const PROGRAM = 'llm-playground';

function overview(): string {
  const lines = Object.entries(COMMANDS).map(([name, { summary }]) => `  ${name.padEnd(8)} ${summary}`);
  return `Usage: ${PROGRAM} <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nRun ${PROGRAM} <command> --help for its options.\n`;
}

function commandHelp(name: string, command: Command): string {
  const flags = Object.entries(command.options).map(
    ([flag, { placeholder }]) => `--${flag}${placeholder ? ` ${placeholder}` : ''}`,
  );
  const width = Math.max(...flags.map((f) => f.length));
  const lines = Object.values(command.options).map(({ help }, i) => `  ${flags[i]!.padEnd(width)}  ${help}`);
  return `Usage: ${PROGRAM} ${name} [options]\n\n${command.summary}\n\nOptions:\n${lines.join('\n')}\n  ${'--help'.padEnd(width)}  show this help\n`;
}

async function main(argv: string[]): Promise<void> {
  const [name, ...args] = argv;
  if (name === undefined) {
    process.stderr.write(overview());
    process.exitCode = 1;
    return;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(overview());
    return;
  }
  const command = COMMANDS[name];
  if (!command) fail(`unknown command "${name}"; commands: ${Object.keys(COMMANDS).join(', ')} (see ${PROGRAM} --help)`);
  let values: Values;
  try {
    ({ values } = parseArgs({ args, options: { ...command.options, help: { type: 'boolean', short: 'h' } }, strict: true }));
  } catch (error) {
    // Node's own wording, up to its hint about positionals, which does not apply here.
    const reason = (error as Error).message.split('. To specify')[0];
    return fail(`${name}: ${reason} (see ${PROGRAM} ${name} --help)`);
  }
  if (values.help) {
    process.stdout.write(commandHelp(name, command));
    return;
  }
  await initGemm(); // the WebAssembly matrix multiply, when this Node has SIMD; JavaScript otherwise
  await command.run(values);
}

try {
  await main(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`${PROGRAM}: ${(error as Error).message}\n`);
  process.exitCode = 1;
}
