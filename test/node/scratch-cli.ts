// The CLI run as a user runs it, in a scratch folder of its own for one test file (removed after the file's tests).
import { after, before } from 'node:test';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../workers/cli.mjs', import.meta.url));
export const SHIPPED_MODEL = fileURLToPath(new URL('../../public/default-model.safetensors', import.meta.url));

export function scratchCli(prefix: string) {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), prefix));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  /** A file of the scratch folder. */
  const path = (name: string): string => join(dir, name);
  return {
    path,
    cli: (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { cwd: dir, encoding: 'utf8' }),
    /** Writes one JSON object a line; the file's name, for the CLI's flags. */
    writeLines(name: string, objects: unknown[]): string {
      writeFileSync(path(name), objects.map((o) => JSON.stringify(o)).join('\n') + '\n');
      return name;
    },
  };
}
