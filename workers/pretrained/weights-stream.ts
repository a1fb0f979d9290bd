/**
 * A Hugging Face GPT-2 model.safetensors read as it arrives, straight into the
 * engine's flat parameter buffer: the file is never held whole, so the only big
 * allocation is the weights themselves.
 *
 *   1. The 8-byte header length, then the header (at most 100 MB, the spec's
 *      cap), checked as readCheckpoint checks it: every tensor's name, shape and
 *      dtype (F32, F16, BF16) against config.json, `attn.bias` and
 *      `attn.masked_bias` skipped, the `transformer.` prefix accepted, a tied
 *      lm_head absent. Only then do the weights get their buffer
 *      (createParameters).
 *   2. Each part that arrives is decoded into the views it covers, in the order
 *      of the data offsets; a value split between two parts waits for the rest.
 *      Each tensor is checked for values that are not finite as it completes.
 *   3. At the end: every byte came, and weightsProblem (one 8-token forward).
 */
import { cut } from '../api/errors.ts';
import { type HFConfigJSON, planTensors, tensorProblem, viewOf, weightsProblem } from '../engine/checkpoint.ts';
import type { GPTConfig } from '../engine/config.ts';
import { countParameters, createParameters, type ParameterTensors } from '../engine/params.ts';
import { bytesPerElement, decodeInto, type Dtype, headerEnd, parseSafetensorsHeader } from '../engine/safetensors.ts';

/**
 * Most weights a pretrained model may have: 400 million float32 values, 1.6 GB in
 * one buffer, which covers GPT-2 medium (355 M) and refuses GPT-2 large (774 M)
 * before its buffer is asked for.
 */
export const MAX_PRETRAINED_PARAMETERS = 400_000_000;

/** A run of the data buffer: a tensor decoded into `out`, or skipped (a mask buffer). */
interface Segment {
  name: string;
  begin: number;
  end: number;
  dtype: Dtype;
  out: Float32Array | null;
}

export class WeightsStream {
  /** Bytes of the file taken so far. */
  position = 0;
  config: GPTConfig | undefined;
  params: ParameterTensors | undefined;
  private head = new Uint8Array(8);
  private header: Uint8Array | undefined;
  private dataEnd = 0;
  private segments: Segment[] = [];
  private segment = 0;
  /** The first bytes of a value split between two parts. */
  private carry = new Uint8Array(4);
  private carried = 0;

  /** `fileSize`: the file's size when known (checked against the header); `hfConfig`: config.json. */
  constructor(
    private readonly fileSize: number | undefined,
    private readonly hfConfig: HFConfigJSON,
  ) {}

  /** The next part of the file. Throws (messages start "safetensors: " or "checkpoint: ") when the file is wrong. */
  push(part: Uint8Array): void {
    let bytes = part;
    while (bytes.length > 0) {
      if (this.params) {
        bytes = this.data(bytes);
        continue;
      }
      if (!this.header) {
        const take = Math.min(8 - this.position, bytes.length);
        this.head.set(bytes.subarray(0, take), this.position);
        this.position += take;
        bytes = bytes.subarray(take);
        if (this.position === 8) this.header = new Uint8Array(headerEnd(this.head, this.fileSize) - 8);
        continue;
      }
      const at = this.position - 8;
      const take = Math.min(this.header.length - at, bytes.length);
      this.header.set(bytes.subarray(0, take), at);
      this.position += take;
      bytes = bytes.subarray(take);
      if (at + take === this.header.length) this.plan();
    }
  }

  /** The weights once every byte came; throws when some did not, or they cannot make a working model. */
  finish(): { config: GPTConfig; params: ParameterTensors } {
    const { config, params } = this;
    if (!config || !params || this.position !== this.dataEnd) {
      throw new Error(
        `safetensors: the file ends after ${this.position} bytes${this.dataEnd ? `, where its header says ${this.dataEnd}` : ''} (the download was cut short?)`,
      );
    }
    const problem = weightsProblem(params);
    if (problem) throw new Error(`checkpoint: ${problem}`);
    return { config, params };
  }

  /** The header is in: check it against the config, then give the weights their buffer. */
  private plan(): void {
    const header = this.header!;
    const dataLength = this.fileSize === undefined ? undefined : this.fileSize - 8 - header.length;
    const { tensors, metadata, dataStart, dataLength: length } = parseSafetensorsHeader(header, dataLength);
    this.header = new Uint8Array(0); // the header's text is no longer needed
    const { config, placed } = planTensors({ tensors, metadata }, this.hfConfig);
    const count = countParameters(config).total;
    if (count > MAX_PRETRAINED_PARAMETERS) {
      throw new Error(
        `checkpoint: its config needs ${count.toLocaleString('en-US')} weights, more than the ${MAX_PRETRAINED_PARAMETERS.toLocaleString('en-US')} a tab can hold here`,
      );
    }
    const params = createParameters(config);
    const into = new Map(placed.map(({ fileName, target }) => [fileName, viewOf(params, target)]));
    this.segments = [...tensors]
      .map(([name, { begin, end, dtype }]) => ({ name, begin, end, dtype, out: into.get(name) ?? null }))
      .sort((a, b) => a.begin - b.begin);
    this.dataEnd = dataStart + length;
    this.config = config;
    this.params = params;
    this.skipEmpty();
  }

  /** Decodes what of `bytes` the current tensor covers; returns the rest. */
  private data(bytes: Uint8Array): Uint8Array {
    const segment = this.segments[this.segment];
    if (!segment) {
      throw new Error(`safetensors: the file goes on past the ${this.dataEnd} bytes its header accounts for`);
    }
    const take = Math.min(segment.end - this.position, bytes.length);
    const part = bytes.subarray(0, take);
    if (segment.out) this.decode(segment, part);
    this.position += take;
    if (this.position === segment.end) {
      if (segment.out) {
        const problem = tensorProblem(segment.name, segment.out);
        if (problem) throw new Error(`checkpoint: ${problem}`);
      }
      this.segment++;
      this.skipEmpty();
    }
    return bytes.subarray(take);
  }

  private decode(segment: Segment, part: Uint8Array): void {
    const size = bytesPerElement(segment.dtype);
    const out = segment.out!;
    let index = (this.position - segment.begin - this.carried) / size;
    let rest = part;
    if (this.carried > 0) {
      const fill = Math.min(size - this.carried, rest.length);
      this.carry.set(rest.subarray(0, fill), this.carried);
      this.carried += fill;
      rest = rest.subarray(fill);
      if (this.carried < size) return;
      decodeInto(segment.dtype, this.carry.subarray(0, size), out, index++);
      this.carried = 0;
    }
    const whole = rest.length - (rest.length % size);
    decodeInto(segment.dtype, rest.subarray(0, whole), out, index);
    this.carry.set(rest.subarray(whole));
    this.carried = rest.length - whole;
    if (this.position + part.length === segment.end && this.carried > 0) {
      throw new Error(`safetensors: tensor ${cut(segment.name)} ends part way through a value`);
    }
  }

  /** Tensors of no bytes (a shape with a 0) end where they begin. */
  private skipEmpty(): void {
    while (this.segments[this.segment]?.end === this.position) this.segment++;
  }
}
