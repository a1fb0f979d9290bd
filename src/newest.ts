/**
 * Newest answer wins: a panel that asks the worker while the user types or
 * drags asks through one of these. Each ask supersedes the ones before it; the
 * answer (or error) to a superseded ask is never shown, and neither is a
 * ModelReplaced one (the panel asks again for the new model). With a delay, asks close
 * together share one request: a debounce waits until they stop, a throttle
 * runs at most once per delay (a debounce would starve while tokens stream in).
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { isModelReplaced } from '../workers/api/index.ts';

/** The value, or what was thrown instead; never a nullish error, so `answer.error !== undefined` tells the two apart. */
export type Answer<T> = { value: T; error?: undefined } | { error: NonNullable<unknown>; value?: undefined };

export interface NewestOptions {
  /** Milliseconds asks wait for the next one (default 0: none). */
  delay?: number;
  /** 'debounce' (default): the wait starts again at each ask; 'throttle': asks join the wait under way. */
  mode?: 'debounce' | 'throttle';
}

export class Newest<T> implements ReactiveController {
  /** True from an ask until its answer (or until it is dropped). */
  busy = false;
  private latest = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private wait: Promise<void> | undefined;
  private endWait: (() => void) | undefined;

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly options: NewestOptions = {},
  ) {
    host.addController(this);
  }

  /**
   * Runs `request` (after the delay) and hands its answer to `show` the moment it comes, unless a newer ask
   * or a new model superseded it: then `show` never runs. Nothing can run between the check and `show`, so
   * a stale answer is never shown, not even for a moment. Resolves once the answer was shown (or dropped).
   * `delay` overrides the options' for this ask (a throttled ask still joins a wait under way). `request`
   * gets `isNewest`, for what it hears before its answer (progress, frames): true while no newer ask came.
   */
  async ask(
    request: (isNewest: () => boolean) => Promise<T>,
    show: (answer: Answer<T>) => unknown,
    delay = this.options.delay,
  ): Promise<void> {
    const ask = ++this.latest;
    this.setBusy(true);
    if (delay) {
      await this.delayed(delay);
      if (ask !== this.latest) return;
    }
    let answer: Answer<T>;
    try {
      answer = { value: await request(() => ask === this.latest) };
    } catch (error) {
      answer = { error: error ?? new Error(`The request failed with ${error}.`) };
    }
    if (ask !== this.latest) return;
    // Not busy any more, in the same task as show() stores the answer: a render shows both or neither.
    this.setBusy(false);
    if (!isModelReplaced(answer.error)) await show(answer);
  }

  /** Drops whatever was asked: its answer will not be shown. */
  drop(): void {
    this.latest++;
    this.stopWaiting();
    this.setBusy(false);
  }

  hostDisconnected(): void {
    this.drop();
  }

  private delayed(delay: number): Promise<void> {
    if (this.wait && this.options.mode === 'throttle') return this.wait;
    this.stopWaiting();
    this.wait = new Promise((resolve) => {
      this.endWait = resolve;
      this.timer = setTimeout(() => this.stopWaiting(), delay);
    });
    return this.wait;
  }

  /** Ends the wait under way: the asks in it go on (and all but the newest stop there). */
  private stopWaiting(): void {
    clearTimeout(this.timer);
    this.endWait?.();
    this.wait = this.endWait = this.timer = undefined;
  }

  /** Requests a host update: from the host's willUpdate() that is the update under way; from updated(), another one. */
  private setBusy(busy: boolean): void {
    if (this.busy === busy) return;
    this.busy = busy;
    this.host.requestUpdate();
  }
}
