// Two copies of the package on one page (two versions, or one bundled twice): the
// second copy's definitions do not throw, the first copy's elements stay, and the
// console says once which copy is used.
import { expect } from 'chai';
import { define } from '../../src/define.ts';

/** define() from a second instance of its module: what a second copy of the package runs. */
async function secondCopy(): Promise<{ define: typeof define; url: string }> {
  const url = `${new URL('../../src/define.ts', import.meta.url).href}?copy=${crypto.randomUUID()}`;
  return { ...((await import(url)) as { define: typeof define }), url };
}

describe('two copies of the package on one page', () => {
  const warnings: unknown[][] = [];
  const warn = console.warn;
  beforeEach(() => {
    warnings.length = 0;
    console.warn = (...args: unknown[]) => warnings.push(args);
  });
  afterEach(() => {
    console.warn = warn;
  });

  it("keeps the first copy's element, without an error, and says once which copy is used", async () => {
    const name = `llm-test-${crypto.randomUUID()}`;
    class First extends HTMLElement {}
    class Second extends HTMLElement {}
    class Third extends HTMLElement {}
    define(name, First);
    const other = await secondCopy();
    other.define(name, Second);
    other.define(`${name}-b`, Third); // a name the first copy never defined: the second copy's own
    other.define(name, Second);
    expect(customElements.get(name)).to.equal(First);
    expect(customElements.get(`${name}-b`)).to.equal(Third);
    expect(warnings).to.have.length(1);
    const text = String(warnings[0][0]);
    expect(text).to.contain('two copies of the package');
    expect(text).to.contain(new URL('../../src/define.ts', import.meta.url).href);
    expect(text).to.contain(other.url);
    expect(text).to.contain(`<${name}>`);
  });

  it('defines a name once and says nothing when the same copy defines it again', () => {
    const name = `llm-test-${crypto.randomUUID()}`;
    class Only extends HTMLElement {}
    define(name, Only);
    define(name, Only);
    expect(customElements.get(name)).to.equal(Only);
    expect(warnings).to.have.length(0);
  });
});
