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
