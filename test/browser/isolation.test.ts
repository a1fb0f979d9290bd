// Every test file not named *.isolated.test.ts runs in an ordinary page (web-test-runner.config.mjs), as
// most pages that embed the playground are: not cross-origin isolated, so the CPU runs on one thread.
import { expect } from 'chai';

describe('an ordinary test page', () => {
  it('is not cross-origin isolated, and has no SharedArrayBuffer', () => {
    expect(crossOriginIsolated).to.equal(false);
    expect(typeof SharedArrayBuffer).to.equal('undefined');
  });
});
