// Newest answer wins (src/newest.ts): stale answers and errors are dropped, so
// is a ModelReplaced one, a debounce shares one request among asks close
// together, a throttle runs at most once per delay, one ask may wait longer (or
// not at all) than the others, and `busy` follows it all.
import { expect } from 'chai';
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { type Answer, Newest } from '../../src/newest.ts';
import { ModelReplaced } from '../../workers/api/index.ts';
import { randomInt } from './seeded.ts';

/** A Lit host that counts the updates it is asked for. */
function host(): ReactiveControllerHost & { updates: number; controllers: ReactiveController[] } {
  const made = {
    updates: 0,
    controllers: [] as ReactiveController[],
    addController: (controller: ReactiveController) => made.controllers.push(controller),
    removeController: () => {},
    requestUpdate: () => made.updates++,
    updateComplete: Promise.resolve(true),
  };
  return made;
}

/** A request the test answers (or fails) when it likes. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => ([resolve, reject] = [res, rej]));
  return { promise, resolve, reject };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Asks, and resolves with the answer `show` was given, or null when it was not shown. */
function shown<T>(newest: Newest<T>, request: () => Promise<T>, delay?: number): Promise<Answer<T> | null> {
  return new Promise((resolve) => void newest.ask(request, resolve, delay).then(() => resolve(null)));
}

describe('Newest', () => {
  it('gives only the newest ask its answer, whatever order the answers come in', async () => {
    const newest = new Newest<number>(host());
    const requests = Array.from({ length: randomInt(2, 8) }, () => deferred<number>());
    const asks = requests.map((request) => shown(newest, () => request.promise));
    expect(newest.busy).to.equal(true);
    // Answer in a random order: only the last ask's answer counts.
    const order = requests.map((_, i) => i);
    for (let i = order.length - 1; i > 0; i--) {
      const j = randomInt(0, i + 1);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    order.forEach((i) => requests[i]!.resolve(i * 10));
    const answers = await Promise.all(asks);
    expect(answers.slice(0, -1)).to.deep.equal(requests.slice(0, -1).map(() => null));
    expect(answers.at(-1)).to.deep.equal({ value: (requests.length - 1) * 10 });
    expect(newest.busy).to.equal(false);
  });

  it('hands the newest ask its error, drops a stale one, and drops ModelReplaced', async () => {
    const newest = new Newest<string>(host());
    const stale = shown(newest, () => Promise.reject(new Error('old')));
    const failing = shown(newest, () => Promise.reject(new Error('new')));
    expect(await stale).to.equal(null);
    expect((await failing)!.error)
      .to.be.instanceOf(Error)
      .with.property('message', 'new');
    expect(await shown(newest, () => Promise.reject(new ModelReplaced()))).to.equal(null);
    // Also as it arrives from the worker: a plain Error named ModelReplaced.
    const crossed = Object.assign(new Error('replaced'), { name: 'ModelReplaced' });
    expect(await shown(newest, () => Promise.reject(crossed))).to.equal(null);
    expect(newest.busy).to.equal(false);
    // Whatever was thrown is the error; a thrown undefined becomes an Error, so `error !== undefined` tells the two apart.
    expect((await shown(newest, () => Promise.reject(undefined)))!.error).to.be.instanceOf(Error);
  });

  it('debounces: asks within the delay make one request, the last one', async () => {
    const newest = new Newest<number>(host(), { delay: 30 });
    const made: number[] = [];
    const count = randomInt(2, 6);
    const asks = Array.from({ length: count }, (_, i) => shown(newest, async () => (made.push(i), i)));
    expect(newest.busy).to.equal(true);
    const answers = await Promise.all(asks);
    expect(made).to.deep.equal([count - 1]);
    expect(answers.at(-1)).to.deep.equal({ value: count - 1 });
    expect(answers.slice(0, -1).every((answer) => answer === null)).to.equal(true);
  });

  it('throttles: asks within the delay share one request, made with the newest ask', async () => {
    const newest = new Newest<string>(host(), { delay: 60, mode: 'throttle' });
    const made: string[] = [];
    const ask = (name: string) => shown(newest, async () => (made.push(name), name));
    const started = performance.now();
    const answers = [ask('a'), ask('b'), ask('c')];
    expect(await Promise.all(answers)).to.deep.equal([null, null, { value: 'c' }]);
    expect(performance.now() - started).to.be.at.least(55);
    expect(made).to.deep.equal(['c']);
  });

  it('throttles: a steady stream of asks gets answers while it lasts (a debounce would starve)', async () => {
    const newest = new Newest<number>(host(), { delay: 20, mode: 'throttle' });
    const answered: number[] = [];
    let asks = 0;
    while (answered.length === 0 && asks < 1000) {
      const ask = asks++;
      void shown(newest, async () => ask).then((answer) => answer && answered.push(answer.value!));
      await sleep(5);
    }
    expect(answered.length, `answered while ${asks} asks kept coming`).to.equal(1);
    expect(asks).to.be.below(1000);
  });

  it('takes a delay for one ask: longer, none, or joining the wait under way', async () => {
    const newest = new Newest<string>(host(), { delay: 100, mode: 'throttle' });
    let started = performance.now();
    expect(await shown(newest, async () => 'slow', 250)).to.deep.equal({ value: 'slow' });
    expect(performance.now() - started).to.be.at.least(245);

    let asked = false;
    const now = shown(newest, async () => ((asked = true), 'now'), 0);
    expect(asked, 'no delay: the request goes out at once').to.equal(true);
    expect(await now).to.deep.equal({ value: 'now' });

    // An ask with the usual delay, made during a longer wait, joins it rather than cutting it short.
    started = performance.now();
    const long = shown(newest, async () => 'long', 250);
    await sleep(10);
    const usual = shown(newest, async () => 'usual');
    expect(await usual).to.deep.equal({ value: 'usual' });
    expect(await long).to.equal(null);
    expect(performance.now() - started).to.be.at.least(245);
  });

  it('never has the host render "done" before the answer is stored', async () => {
    let stored = 'old';
    const renders: { busy: boolean; stored: string }[] = [];
    // Like Lit: a requested update renders a microtask later.
    const owner = { ...host(), requestUpdate: () => queueMicrotask(() => renders.push({ busy: newest.busy, stored })) };
    const newest: Newest<string> = new Newest<string>(owner);
    await newest.ask(
      async () => 'new',
      (answer) => (stored = answer.value!),
    );
    await sleep(10);
    expect(renders.filter((render) => !render.busy).map((render) => render.stored)).to.deep.equal(['new']);
  });

  it('shows an answer only while its ask is the newest: nothing runs between the check and show', async () => {
    const newest = new Newest<number>(host());
    let started = 0;
    const stale: number[] = [];
    const ask = (request: () => Promise<number>) => {
      const mine = ++started;
      return newest.ask(request, (answer) => mine !== started && stale.push(answer.value!));
    };
    const first = deferred<number>();
    const asking = ask(() => first.promise);
    // The answer comes, and a newer ask starts in the very next microtask (as a Lit update would start one).
    first.resolve(1);
    queueMicrotask(() => void ask(async () => 2));
    await asking;
    await sleep(10);
    expect(stale).to.deep.equal([]);
  });

  it('drop() and the host disconnecting drop what is pending and end busy', async () => {
    const owner = host();
    const newest = new Newest<number>(owner, { delay: 10 });
    expect(owner.controllers).to.deep.equal([newest]);
    const request = deferred<number>();
    const pending = shown(newest, () => request.promise);
    await sleep(20);
    owner.updates = 0;
    newest.hostDisconnected();
    expect(newest.busy).to.equal(false);
    expect(owner.updates).to.equal(1);
    request.resolve(1);
    expect(await pending).to.equal(null);
    let asked = false;
    const waiting = shown(newest, async () => ((asked = true), 2));
    newest.drop();
    expect(await waiting).to.equal(null);
    expect(asked, 'a dropped ask still waiting for its delay is never sent').to.equal(false);
  });
});
