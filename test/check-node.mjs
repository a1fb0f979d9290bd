// The Node.js version check that .ci/run and `npm test` do first, before npm or a
// test tool can fail in a less clear way. The minimum is package.json's
// engines.node, kept in the one form this reads: ">=MAJOR.MINOR".
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const MINIMUM_FORM = /^>=(\d+)\.(\d+)$/;

/** package.json's engines.node. */
export function requiredNode() {
  const packageJson = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  return packageJson.engines.node;
}

/** Why `version` (e.g. "20.18.1") cannot run the project, or null when it can. */
export function nodeProblem(version, required = requiredNode()) {
  const minimum = MINIMUM_FORM.exec(required);
  if (!minimum) return `package.json's engines.node is "${required}"; this check reads only the form ">=MAJOR.MINOR".`;
  const [major, minor] = version.split('.').map(Number);
  const [wantMajor, wantMinor] = [Number(minimum[1]), Number(minimum[2])];
  if (major > wantMajor || (major === wantMajor && minor >= wantMinor)) return null;
  return (
    `llm-playground needs Node.js ${wantMajor}.${wantMinor} or newer (package.json: engines.node "${required}"), ` +
    `but this is Node.js ${version} (${process.execPath}).\n` +
    `Install Node.js ${wantMajor}.${wantMinor} or newer (with nvm: nvm install ${wantMajor}), then run this again.`
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const problem = nodeProblem(process.versions.node);
  if (problem) {
    console.error(problem);
    process.exit(1);
  }
}
