/** How far opening a pretrained model got, told to the page at most ten times a second. */
import type { PretrainedFile, PretrainedProgress } from '../api/pretrained.ts';

/** Reports cross to the page: at most one per this many ms (and the first and last). */
const REPORT_INTERVAL_MS = 100;
/** The speed is measured over this last stretch of time. */
const SPEED_WINDOW_MS = 5_000;
/** Before this much time has passed, the speed says too little to show. */
const SPEED_AFTER_MS = 500;

export class ProgressTracker {
  phase: PretrainedProgress['phase'] = 'download';
  file: PretrainedFile = 'config.json';
  /** Bytes of each file counted so far: kept here, or read. */
  private readonly done = new Map<PretrainedFile, number>();
  /** Each file's size once known. */
  private readonly sizes = new Map<PretrainedFile, number>();
  private samples: { time: number; moved: number }[] = [];
  /** Bytes that moved (from the network, or from storage when opening), for the speed. */
  private moved = 0;
  private reportedAt = -Infinity;

  constructor(
    /** What all four files take about, before the server gives their sizes. */
    private readonly estimate: number,
    /** Bytes kept here when this began. */
    readonly resumedFrom: number,
    private readonly onProgress: ((progress: PretrainedProgress) => unknown) | undefined,
  ) {}

  /** `file` has `bytes` counted already (kept from before). */
  start(file: PretrainedFile, bytes: number, size: number | undefined): void {
    this.file = file;
    this.done.set(file, bytes);
    if (size !== undefined) this.sizes.set(file, size);
  }

  setSize(file: PretrainedFile, size: number | undefined): void {
    if (size === undefined) this.sizes.delete(file);
    else this.sizes.set(file, size);
  }

  add(file: PretrainedFile, bytes: number): void {
    this.done.set(file, (this.done.get(file) ?? 0) + bytes);
    this.moved += bytes;
    this.report(false);
  }

  get loaded(): number {
    let sum = 0;
    for (const bytes of this.done.values()) sum += bytes;
    return sum;
  }

  get total(): number {
    let known = 0;
    for (const size of this.sizes.values()) known += size;
    const unknown = this.sizes.size < 4 ? Math.max(0, this.estimate - known) : 0;
    return Math.max(this.loaded, known + unknown);
  }

  report(force: boolean): void {
    const now = performance.now();
    if (!this.onProgress || (!force && now - this.reportedAt < REPORT_INTERVAL_MS)) return;
    this.reportedAt = now;
    this.samples.push({ time: now, moved: this.moved });
    while (this.samples.length > 2 && now - this.samples[1]!.time > SPEED_WINDOW_MS) this.samples.shift();
    const { loaded, total } = this;
    const progress: PretrainedProgress = { phase: this.phase, file: this.file, loaded, total, resumedFrom: this.resumedFrom };
    const first = this.samples[0]!;
    const elapsed = now - first.time;
    if (elapsed >= SPEED_AFTER_MS) {
      progress.bytesPerSecond = ((this.moved - first.moved) * 1000) / elapsed;
      if (progress.bytesPerSecond > 0) progress.secondsLeft = (total - loaded) / progress.bytesPerSecond;
    }
    void Promise.resolve(this.onProgress(progress)).catch(() => {});
  }
}
