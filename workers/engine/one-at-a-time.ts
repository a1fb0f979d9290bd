/**
 * Runs async work one call at a time, in the order it was asked for: each call
 * starts once the one before has settled (resolved or rejected). For objects
 * whose calls share buffers or state that must not interleave.
 */
export class OneAtATime {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(work: () => Promise<T>): Promise<T> {
    const result = this.tail.then(work);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
