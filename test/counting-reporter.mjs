// Writes the browser run's passed/failed/skipped counts to a file so that
// test/run.mjs can print one closing summary for browser and Node tests.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export const BROWSER_COUNTS_FILE = process.env.LLM_PLAYGROUND_COUNTS ?? 'test-results/browser-counts.json';

function countResults(suite, counts) {
  for (const test of suite.tests) {
    if (test.skipped) counts.skipped++;
    else if (test.passed) counts.passed++;
    else counts.failed++;
  }
  for (const child of suite.suites) countResults(child, counts);
}

export function countingReporter() {
  return {
    onTestRunFinished({ sessions }) {
      const counts = { passed: 0, failed: 0, skipped: 0, fileErrors: 0 };
      for (const session of sessions) {
        if (session.testResults) countResults(session.testResults, counts);
        // A file that failed to load or threw outside a test counts as a failure.
        if (!session.passed && (session.errors?.length ?? 0) > 0) counts.fileErrors++;
      }
      // web-test-runner run by hand has no test-results folder yet (npm test makes it).
      mkdirSync(dirname(BROWSER_COUNTS_FILE), { recursive: true });
      writeFileSync(BROWSER_COUNTS_FILE, JSON.stringify(counts));
    },
  };
}
