import { expect } from 'chai';
/** Polls until `check` returns something truthy; fails with `what` after `timeout` ms. */
export async function waitFor<T>(check: () => T | null | undefined | false, what: string, timeout = 15000): Promise<T> {
  const deadline = performance.now() + timeout;
  for (;;) {
    const value = check();
    if (value) return value;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** What `promise` rejects with; fails if it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

/** Fails unless `pending` rejects with a message matching `message`. */
export async function expectRejection(pending: Promise<unknown>, message: RegExp): Promise<void> {
  expect((await rejection(pending)).message).to.match(message);
}
