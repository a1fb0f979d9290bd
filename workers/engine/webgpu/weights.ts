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
import { type GPUTensor, offsetBy, type Program } from './program.ts';

/** Rows firstRow .. firstRow + rows of a [rows, C] matrix, in a buffer of their own. */
export interface RowBlock {
  buffer: GPUBuffer;
  firstRow: number;
  rows: number;
}

/** One buffer's share of the flat layout: `floats` floats from flat offset `from`, at float `at` of the buffer. */
interface Piece {
  buffer: GPUBuffer;
  at: number;
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

/** One layer's tensors side by side in one buffer: where each starts, in floats. */
export interface LayerBuffer {
  buffer: GPUBuffer;
  offsets: Partial<Record<ParameterName, number>>;
}

export class GPUWeights {
  readonly config: GPTConfig;
  readonly total: number;
  /** Per layer, its tensors in one buffer (when one layer fits a binding, as GPT-2 small's 28 MB do). */
  readonly layers: LayerBuffer[] | null;
  /** When every layer and the final LayerNorm share one buffer: it, and the floats between layers. */
  readonly shared: { buffer: GPUBuffer; layerFloats: number } | null;
  /** Per name: one tensor per layer for per-layer tensors, else one (none when empty). */
  private readonly tensors = new Map<ParameterName, GPUTensor[]>();
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
    const make = (floats: number, label: string): GPUBuffer => {
      if (floats > most) {
        throw new Error(`${label} (${4 * floats} bytes) does not fit one GPU binding of at most ${limit} bytes`);
      }
      return p.buffer(4 * floats, label);
    };
    const perLayer = PARAMETER_NAMES.filter(
      (name) => sizes[name] > 0 && !VOCABULARY_ROWS.includes(name) && name !== 'wpe' && shapes[name].length > 1,
    );
    const layerFloats = perLayer.reduce((sum, name) => sum + sizes[name] / L, 0);
    // Every layer and the final LayerNorm in one buffer when they fit one binding (small models), else a
    // buffer per layer when one fits (GPT-2 small's layers are 28 MB each).
    const headFloats = sizes.lnfw + sizes.lnfb;
    const shared = L * layerFloats + headFloats <= most ? make(L * layerFloats + headFloats, 'layers') : null;
    this.layers =
      shared || layerFloats <= most
        ? Array.from({ length: L }, (_, l) => {
            const buffer = shared ?? make(layerFloats, `layer ${l}`);
            const layerOffsets: Partial<Record<ParameterName, number>> = {};
            let at = shared ? l * layerFloats : 0;
            for (const name of perLayer) {
              const each = sizes[name] / L;
              layerOffsets[name] = at;
              this.pieces.push({ buffer, at, from: offsets[name] + l * each, floats: each });
              at += each;
            }
            return { buffer, offsets: layerOffsets };
          })
        : null;
    this.shared = shared ? { buffer: shared, layerFloats } : null;
    if (shared) {
      let at = L * layerFloats;
      for (const name of ['lnfw', 'lnfb'] as const) {
        this.pieces.push({ buffer: shared, at, from: offsets[name], floats: sizes[name] });
        this.tensors.set(name, [offsetBy(shared, at)]);
        at += sizes[name];
      }
    }
    const own = (floats: number, from: number, label: string): GPUBuffer => {
      const buffer = make(floats, label);
      this.pieces.push({ buffer, at: 0, from, floats });
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
          const buffer = own(count * C, offsets[name] + first * C, `${name} rows ${first}..${first + count - 1}`);
          blocks.push({ buffer, firstRow: first, rows: count });
        }
        this.blocks.set(name, blocks);
      } else if (perLayer.includes(name)) {
        const each = size / L;
        const layers = this.layers;
        this.tensors.set(
          name,
          Array.from({ length: L }, (_, l) =>
            layers
              ? offsetBy(layers[l]!.buffer, layers[l]!.offsets[name]!)
              : own(each, offsets[name] + l * each, `${name} layer ${l}`),
          ),
        );
      } else if (!this.tensors.has(name)) {
        this.tensors.set(name, [own(size, offsets[name], name)]);
      }
    }
  }

  /** Layer `layer`'s tensor `name` (tensors not per layer: layer 0). Not for wte and lmHead: see rowBlocks. */
  param(name: ParameterName, layer = 0): GPUTensor {
    const tensor = this.tensors.get(name)?.[layer];
    if (!tensor) throw new Error(`no GPU tensor ${name} for layer ${layer}`);
    return tensor;
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
    for (const { buffer, at, from, floats } of this.pieces) {
      queue.writeBuffer(buffer, 4 * at, data as Float32Array<ArrayBuffer>, from, floats);
    }
  }

  /** Records copies of a flat parameter buffer on the GPU (params.ts layout) into the pieces. */
  copyFrom(encoder: GPUCommandEncoder, source: GPUBuffer): void {
    const bytes = 4 * this.total;
    if (source.size < bytes) {
      throw new Error(`a parameter buffer of ${source.size} bytes is smaller than the ${bytes} this model needs`);
    }
    for (const { buffer, at, from, floats } of this.pieces) {
      encoder.copyBufferToBuffer(source, 4 * from, buffer, 4 * at, 4 * floats);
    }
  }
}
