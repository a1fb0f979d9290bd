// The Node.js we support (package.json engines.node) is one figure, and every
// package npm installs, the test tools included, runs on it: npm ci on that Node
// prints no EBADENGINE warning. The README names the same figure, and the check
// that .ci/run and `npm test` do first refuses an older Node in plain words.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import semver from 'semver';
import { nodeProblem, requiredNode } from '../check-node.mjs';

const root = new URL('../../', import.meta.url);
const read = (path: string): string => readFileSync(new URL(path, root), 'utf8');

interface LockedPackage {
  version?: string;
  engines?: { node?: string } | string[];
}

const ours = JSON.parse(read('package.json')).engines.node as string;
const oldest = semver.minVersion(ours)!.version;

test('every package in package-lock.json declares a Node range that our oldest supported Node is in', () => {
  const lock = JSON.parse(read('package-lock.json')) as { packages: Record<string, LockedPackage> };
  const refusing = Object.entries(lock.packages)
    .filter(([path]) => path !== '')
    .flatMap(([path, { version, engines }]) => {
      // An old form some packages still publish: engines as a list of "node >=x" strings.
      const range = Array.isArray(engines) ? engines.find((entry) => entry.startsWith('node'))?.slice(4) : engines?.node;
      return range && !semver.satisfies(oldest, range) ? [`${path.slice('node_modules/'.length)}@${version} wants ${range}`] : [];
    });
  assert.deepEqual(refusing, [], `these do not run on Node.js ${oldest} (engines.node "${ours}")`);
});

test('the README names the same minimum, and this Node meets it', () => {
  const [major, minor] = oldest.split('.');
  assert.match(read('README.md'), new RegExp(`Node\\.js ${major}\\.${minor} or newer`));
  assert.equal(requiredNode(), ours);
  assert.ok(semver.satisfies(process.versions.node, ours), `Node.js ${process.versions.node} is older than ${ours}`);
});

test('the version check refuses an older Node with what to install, and passes this one', () => {
  const tooOld = `${semver.major(oldest)}.${semver.minor(oldest) - 1}.9`;
  const problem = nodeProblem(tooOld);
  assert.ok(problem, `${tooOld} refused`);
  assert.ok(problem.includes(`needs Node.js ${semver.major(oldest)}.${semver.minor(oldest)} or newer`), problem);
  assert.ok(problem.includes(`this is Node.js ${tooOld}`), problem);
  for (const newer of [oldest, `${semver.major(oldest)}.${semver.minor(oldest) + 1}.0`, `${semver.major(oldest) + 4}.0.0`]) {
    assert.equal(nodeProblem(newer), null, newer);
  }
  const run = spawnSync(process.execPath, [fileURLToPath(new URL('test/check-node.mjs', root))], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
});

test('.ci/run and npm test check the Node version before anything else runs', () => {
  const ci = read('.ci/run');
  assert.ok(ci.indexOf('node test/check-node.mjs') >= 0, '.ci/run runs the check');
  assert.ok(ci.indexOf('node test/check-node.mjs') < ci.indexOf('npm ci'), 'before npm ci');
  const runner = read('test/run.mjs');
  assert.ok(runner.indexOf('nodeProblem(process.versions.node)') < runner.indexOf("spawnSync('npm'"), 'before the typecheck');
});
