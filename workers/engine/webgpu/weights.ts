/**
 * The weights of an inference model on the GPU, split so that no buffer is
 * larger than one binding may be: each per-layer tensor gets one buffer per
 * layer, and the vocabulary-sized matrices (wte, and lmHead when untied) are
 * split into blocks of whole rows. GPT-2 small's wte alone (50,257 × 768 floats,
 * 154 MB) is larger than WebGPU's default binding limit of 128 MiB.
 *
 * The flat layout of params.ts stays the way weights come in: setParameters
 * writes a flat Float32Array piece by piece, and copyFrom copies a flat GPU
 * buffer (a GPUTrainer's parameters) the same way, on the GPU.
 */

import type { GPTConfig } from '../config.ts';
import { PARAMETER_NAMES, type ParameterName, parameterLayout, parameterShapes } from '../params.ts';
import type { Program } from './program.ts';

/** Rows firstRow .. firstRow + rows of a [rows, C] matrix, in a buffer of their own. */
export interface RowBlock {
  buffer: GPUBuffer;
  firstRow: number;
  rows: number;
}

/** One buffer's share of the flat layout: `floats` floats from flat offset `from`. */
interface Piece {
  buffer: GPUBuffer;
  from: number;
  floats: number;
}

/** Matrices with one row per token: split into row blocks. */
const VOCABULARY_ROWS: readonly ParameterName[] = ['wte', 'lmHead'];

/**
 * The largest buffer `limit` bytes allow a binding of, in floats: a binding
 * starts at an aligned offset, and a tensor that does not start at one loses up
 * to one alignment (the same rule as program.ts bindingFloats).
 */
export const floatsWithin = (limit: number, alignment: number): number => Math.floor((limit - alignment) / 4);

export class GPUWeights {
  readonly config: GPTConfig;
  readonly total: number;
  /** Per name: one buffer per layer for per-layer tensors, else one (or none when empty). */
  private readonly tensors = new Map<ParameterName, GPUBuffer[]>();
  private readonly blocks = new Map<ParameterName, RowBlock[]>();
  private readonly pieces: Piece[] = [];

  /** `limit`: the most bytes one binding may hold (the device's, or less in tests). */
  constructor(p: Program, config: GPTConfig, limit: number) {
    const { nLayer: L, nEmbd: C } = config;
    this.config = config;
    const { offsets, sizes, total } = parameterLayout(config);
    this.total = total;
    const shapes = parameterShapes(config);
    const most = floatsWithin(limit, p.device.limits.minStorageBufferOffsetAlignment);
    const make = (floats: number, from: number, label: string): GPUBuffer => {
      if (floats > most) {
        throw new Error(`${label} (${4 * floats} bytes) does not fit one GPU binding of at most ${limit} bytes`);
      }
      const buffer = p.buffer(4 * floats, label);
      this.pieces.push({ buffer, from, floats });
      return buffer;
    };
    for (const name of PARAMETER_NAMES) {
      const size = sizes[name];
      if (size === 0) continue;
      if (VOCABULARY_ROWS.includes(name)) {
        const rowsEach = Math.floor(most / C);
        if (rowsEach < 1) throw new Error(`one row of ${name} does not fit one GPU binding of ${limit} bytes`);
        const rows = shapes[name][0]!;
        const blocks: RowBlock[] = [];
        for (let first = 0; first < rows; first += rowsEach) {
          const count = Math.min(rowsEach, rows - first);
          const buffer = make(count * C, offsets[name] + first * C, `${name} rows ${first}..${first + count - 1}`);
          blocks.push({ buffer, firstRow: first, rows: count });
        }
        this.blocks.set(name, blocks);
      } else if (shapes[name].length > 1 && shapes[name][0] === L && name !== 'wpe') {
        const each = size / L;
        this.tensors.set(
          name,
          Array.from({ length: L }, (_, l) => make(each, offsets[name] + l * each, `${name} layer ${l}`)),
        );
      } else {
        this.tensors.set(name, [make(size, offsets[name], name)]);
      }
    }
  }

  /** Layer `layer`'s tensor `name` (tensors not per layer: layer 0). Not for wte and lmHead: see rowBlocks. */
  param(name: ParameterName, layer = 0): GPUBuffer {
    const buffer = this.tensors.get(name)?.[layer];
    if (!buffer) throw new Error(`no GPU tensor ${name} for layer ${layer}`);
    return buffer;
  }

  /** The row blocks of wte, or of the unembedding (wte when tied, lmHead otherwise). */
  rowBlocks(which: 'wte' | 'unembedding'): RowBlock[] {
    return this.blocks.get(which === 'wte' || this.config.tied ? 'wte' : 'lmHead')!;
  }

  /** Writes flat parameters (params.ts layout) into the pieces. */
  write(queue: GPUQueue, data: Float32Array): void {
    if (data.length !== this.total) {
      throw new Error(`parameter buffer has ${data.length} floats, config needs ${this.total}`);
    }
    for (const { buffer, from, floats } of this.pieces)
      queue.writeBuffer(buffer, 0, data as Float32Array<ArrayBuffer>, from, floats);
  }

  /** Records copies of a flat parameter buffer on the GPU (params.ts layout) into the pieces. */
  copyFrom(encoder: GPUCommandEncoder, source: GPUBuffer): void {
    const bytes = 4 * this.total;
    if (source.size < bytes) {
      throw new Error(`a parameter buffer of ${source.size} bytes is smaller than the ${bytes} this model needs`);
    }
    for (const { buffer, from, floats } of this.pieces) encoder.copyBufferToBuffer(source, 4 * from, buffer, 0, 4 * floats);
  }

  /** The largest piece, in bytes. */
  get largestBytes(): number {
    return Math.max(...this.pieces.map((piece) => 4 * piece.floats));
  }
}
