// Newest (src/newest.ts): the newest ask wins, a throttle shares one request
// among asks close together, and one ask may wait longer (or not at all) than
// the others (the playground re-reads a training model's odds less often).
import { expect } from 'chai';
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { Newest } from '../../src/newest.ts';
import { ModelReplaced } from '../../workers/api/index.ts';

/** A host that only counts the updates it is asked for. */
class Host implements ReactiveControllerHost {
  updates = 0;
  readonly updateComplete = Promise.resolve(true);
  addController(_controller: ReactiveController): void {}
  removeController(_controller: ReactiveController): void {}
  requestUpdate(): void {
    this.updates++;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('Newest', function () {
  it('answers the newest ask only, and drops a ModelReplaced error', async () => {
    const newest = new Newest<number>(new Host());
    const older = newest.ask(() => sleep(30).then(() => 1));
    const newer = newest.ask(async () => 2);
    expect(await newer).to.deep.equal({ value: 2 });
    expect(await older).to.equal(null);
    expect(await newest.ask(() => Promise.reject(new ModelReplaced()))).to.equal(null);
    expect(newest.busy).to.equal(false);
  });

  it('gives what was thrown as the error, an Error for a thrown undefined', async () => {
    const newest = new Newest<number>(new Host());
    const failure = new Error('no');
    expect(await newest.ask(() => Promise.reject(failure))).to.deep.equal({ error: failure });
    const answer = await newest.ask(() => Promise.reject(undefined));
    expect(answer!.error).to.be.instanceOf(Error);
  });

  it('throttles: asks within the delay share one request, made with the newest ask', async () => {
    const newest = new Newest<string>(new Host(), { delay: 60, mode: 'throttle' });
    const made: string[] = [];
    const ask = (name: string) => newest.ask(async () => (made.push(name), name));
    const started = performance.now();
    const answers = [ask('a'), ask('b'), ask('c')];
    expect(await Promise.all(answers)).to.deep.equal([null, null, { value: 'c' }]);
    expect(performance.now() - started).to.be.at.least(55);
    expect(made).to.deep.equal(['c']);
  });

  it('takes a delay for one ask: longer, none, or joining the wait under way', async () => {
    const newest = new Newest<string>(new Host(), { delay: 100, mode: 'throttle' });
    let started = performance.now();
    expect(await newest.ask(async () => 'slow', 250)).to.deep.equal({ value: 'slow' });
    expect(performance.now() - started).to.be.at.least(245);

    started = performance.now();
    expect(await newest.ask(async () => 'now', 0)).to.deep.equal({ value: 'now' });
    expect(performance.now() - started).to.be.below(50);

    // An ask with the usual delay, made during a longer wait, joins it rather than cutting it short.
    started = performance.now();
    const long = newest.ask(async () => 'long', 250);
    await sleep(10);
    const usual = newest.ask(async () => 'usual');
    expect(await usual).to.deep.equal({ value: 'usual' });
    expect(await long).to.equal(null);
    expect(performance.now() - started).to.be.at.least(245);
  });
});
