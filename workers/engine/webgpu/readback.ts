/**
 * Reading results back from the GPU into arrays of their own, in one round
 * trip per call: copies are recorded into staging buffers as the call's work
 * is recorded (a buffer reused between passes is copied in between), then
 * every staging buffer used is mapped at once and each piece lands in its
 * array. No staging buffer is larger than `segmentBytes` (under the device's
 * maxBufferSize): a large readback (all logits of a long GPT-2 context, a
 * capture) spans several, a copy crossing from one to the next is split.
 */

/** Staging buffers larger than this are freed after the call that needed them. */
const KEPT_BYTES = 16 * 2 ** 20;

interface Landing {
  segment: number;
  /** Floats into the segment. */
  at: number;
  dest: Float32Array;
  destOffset: number;
  length: number;
}

export class Readback {
  private readonly device: GPUDevice;
  private readonly segmentFloats: number;
  private segments: (GPUBuffer | null)[] = [];
  private landings: Landing[] = [];
  /** Floats recorded so far in this call. */
  private used = 0;
  private planned = 0;

  constructor(device: GPUDevice, segmentBytes = 64 * 2 ** 20) {
    this.device = device;
    this.segmentFloats = Math.floor(Math.min(segmentBytes, device.limits.maxBufferSize) / 4);
  }

  /** Starts a call that reads back `floats` floats in all: makes sure the staging buffers hold them. */
  begin(floats: number): void {
    this.landings = [];
    this.used = 0;
    this.planned = floats;
    const count = Math.ceil(floats / this.segmentFloats);
    for (let i = 0; i < count; i++) {
      const bytes = 4 * Math.max(1, Math.min(this.segmentFloats, floats - i * this.segmentFloats));
      const existing = this.segments[i];
      if (existing && existing.size >= bytes) continue;
      existing?.destroy();
      this.segments[i] = this.device.createBuffer({
        label: `readback ${i}`,
        size: bytes,
        usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      });
    }
  }

  /** Records the copy of `length` floats of `source` from float `offset` into `dest` at `destOffset`. */
  add(encoder: GPUCommandEncoder, source: GPUBuffer, offset: number, length: number, dest: Float32Array, destOffset = 0): void {
    if (this.used + length > this.planned) throw new Error('a readback larger than planned');
    let done = 0;
    while (done < length) {
      const segment = Math.floor(this.used / this.segmentFloats);
      const at = this.used % this.segmentFloats;
      const count = Math.min(length - done, this.segmentFloats - at);
      encoder.copyBufferToBuffer(source, 4 * (offset + done), this.segments[segment]!, 4 * at, 4 * count);
      this.landings.push({ segment, at, dest, destOffset: destOffset + done, length: count });
      done += count;
      this.used += count;
    }
  }

  /** Bytes recorded in this call. */
  get bytes(): number {
    return 4 * this.used;
  }

  /** Once the work is submitted: maps the staging buffers and fills the arrays. */
  async finish(): Promise<void> {
    const count = Math.ceil(this.used / this.segmentFloats);
    const used = this.segments.slice(0, count) as GPUBuffer[];
    const bytes = (i: number) => 4 * Math.min(this.segmentFloats, this.used - i * this.segmentFloats);
    try {
      await Promise.all(used.map((buffer, i) => buffer.mapAsync(GPUMapMode.READ, 0, bytes(i))));
      const mapped = used.map((buffer, i) => new Float32Array(buffer.getMappedRange(0, bytes(i))));
      for (const { segment, at, dest, destOffset, length } of this.landings) {
        dest.set(mapped[segment]!.subarray(at, at + length), destOffset);
      }
    } finally {
      for (const buffer of used) if (buffer.mapState !== 'unmapped') buffer.unmap();
      this.landings = [];
      this.segments = this.segments.map((buffer) => {
        if (buffer && buffer.size > KEPT_BYTES) {
          buffer.destroy();
          return null;
        }
        return buffer;
      });
    }
  }

  destroy(): void {
    for (const buffer of this.segments) buffer?.destroy();
    this.segments = [];
  }
}
