// The pieces that let the playground run under a strict content security policy, one by one (the whole site
// under the README's policy is test/node/csp.test.ts): styles set through the CSSOM, script URLs through the
// Trusted Types policy, a worker the page refuses reported as such, and the sentence for a refused WebAssembly.
import { expect } from 'chai';
import { html, render } from 'lit';
import { EngineClient } from '../../src/client.ts';
import { styleProperties, type StyleProperties } from '../../src/style-properties.ts';
import { trustedScriptURL } from '../../src/trusted-script-url.ts';
import { cpuCode } from '../../workers/backend-choice.ts';

describe('styleProperties()', () => {
  const holder = document.createElement('div');
  const draw = (properties: StyleProperties) => render(html`<span ${styleProperties(properties)}></span>`, holder);
  const span = () => holder.querySelector('span')!;

  it('sets properties by their CSS names, custom ones too, and removes those no longer given', () => {
    draw({ width: '12.5%', 'grid-template-columns': 'auto repeat(4, auto)', '--heads': 4 });
    expect(span().style.width).to.equal('12.5%');
    expect(span().style.gridTemplateColumns).to.equal('auto repeat(4, auto)');
    expect(span().style.getPropertyValue('--heads')).to.equal('4');

    draw({ width: '40%', '--heads': null });
    expect(span().style.width).to.equal('40%');
    expect(span().style.gridTemplateColumns).to.equal('');
    expect(span().style.getPropertyValue('--heads')).to.equal('');
  });

  it('leaves properties that something else set alone', () => {
    draw({ width: '10%' });
    span().style.color = 'red';
    draw({ width: '20%' });
    expect(span().style.color).to.equal('red');
  });

  it('goes only on an element', () => {
    expect(() => render(html`<span title=${styleProperties({ width: '1px' })}></span>`, document.createElement('div'))).to.throw(
      /goes on an element/,
    );
  });
});

describe('trustedScriptURL()', () => {
  it('vouches for scripts of this origin through the llm-playground policy', () => {
    const url = new URL('/some/worker.js', location.href);
    const trusted = trustedScriptURL(url) as unknown;
    expect(String(trusted)).to.equal(url.href);
    // Chromium has Trusted Types: what comes back is a TrustedScriptURL, not the string.
    expect(typeof trusted).to.equal('object');
  });

  it('refuses a script of another origin', () => {
    expect(() => trustedScriptURL(new URL('https://elsewhere.example/worker.js'))).to.throw(/not a script of this site/);
  });
});

describe('a worker the page refuses', () => {
  it("rejects every call with the browser's reason, naming the policy to allow for Trusted Types", async () => {
    const client = new EngineClient({
      createWorker: () => {
        throw new TypeError("Failed to construct 'Worker': This document requires 'TrustedScriptURL' assignment.");
      },
    });
    let error: Error | undefined;
    await client.model.info().catch((failure: Error) => (error = failure));
    expect(error?.message).to.match(/^The model's worker could not be started: This page requires Trusted Types/);
    expect(error?.message).to.include('trusted-types llm-playground lit-html');
    client.terminate();
  });

  it('passes any other reason on as it is', async () => {
    const client = new EngineClient({
      createWorker: () => {
        throw new DOMException("Access to the script is denied by the document's Content Security Policy.", 'SecurityError');
      },
    });
    let error: Error | undefined;
    await client.model.info().catch((failure: Error) => (error = failure));
    expect(error?.message).to.equal(
      "The model's worker could not be started: Access to the script is denied by the document's Content Security Policy.",
    );
    client.terminate();
  });
});

describe('cpuCode()', () => {
  const one = { count: 1, asked: 0, max: 1, note: 'The CPU runs on one thread: this page is not cross-origin isolated.' };

  it('says why the CPU runs JavaScript when the page refused WebAssembly, and what would fix it', () => {
    expect(cpuCode('simd', null, one)).to.deep.equal({ code: 'WebAssembly', threads: one });
    expect(cpuCode('js', null, one)).to.deep.equal({ code: 'JavaScript', threads: one });
    const chromium =
      "WebAssembly.instantiate(): Refused to compile or instantiate WebAssembly module because 'wasm-unsafe-eval' is not an allowed source of script in the following Content Security Policy directive: \"script-src 'self'\"";
    expect(cpuCode('js', chromium, one).refused).to.match(
      /content security policy does not allow WebAssembly .*'wasm-unsafe-eval'/,
    );
    expect(cpuCode('js', 'Out of memory', one).refused).to.match(
      /runs JavaScript, several times slower .*could not be started: Out of memory$/,
    );
  });

  it('passes the threads on as they are, whatever the CPU runs in', () => {
    const four = { count: 4, asked: 0, max: 4 };
    expect(cpuCode('relaxed-simd', null, four).threads).to.deep.equal(four);
    expect(cpuCode('js', 'Out of memory', four).threads).to.deep.equal(four);
  });
});
