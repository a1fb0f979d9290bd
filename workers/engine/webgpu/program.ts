/**
 * The dispatch machinery every GPU kernel uses. A kernel function compiles its
 * WGSL once (cached by name), binds its buffers and a small uniform block once,
 * and returns Dispatches; a training step is a list of them recorded into one
 * compute pass and replayed every step, so steady state allocates nothing.
 *
 * Binding convention: storage buffers at bindings 0..n-1 of group 0, in the
 * order given, then the uniform block at binding n.
 */

import type { GPUContext } from './device.ts';

export interface Dispatch {
  pipeline: GPUComputePipeline;
  bindGroup: GPUBindGroup;
  workgroups: [number, number, number];
  /** The uniform block bound at binding n, for the few kernels whose constants change between steps. */
  uniformBuffer: GPUBuffer;
}

/**
 * A tensor on the GPU: a whole buffer, or the floats from `offset` on in one
 * (a layer's slice of a stacked parameter or activation).
 */
export type GPUTensor = GPUBuffer | { buffer: GPUBuffer; offset: number };

/**
 * A tensor as a kernel binds it: the binding (a range starting at an offset the
 * device accepts) and where the tensor starts inside it, in floats, which the
 * kernel passes to its shader in the uniforms.
 */
interface BoundTensor {
  binding: GPUBufferBinding;
  offset: number;
}

/** Storage buffers are also copy sources and targets (uploads, readback). A function: Node has no GPUBufferUsage. */
function storageUsage(): GPUBufferUsageFlags {
  return GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
}

/** Invocations per workgroup of a kernel that starts with ENTRY_WGSL. */
const WORKGROUP_SIZE = 64;

/**
 * The head of a kernel's entry point: `id` numbers its invocations over the
 * grid of workgroups Program.grid makes (2-D when there are more workgroups
 * than one dimension allows). The kernel's body and closing brace follow; it
 * skips ids past its count.
 */
export const ENTRY_WGSL = /* wgsl */ `
@compute @workgroup_size(${WORKGROUP_SIZE})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let id = (wid.y * nwg.x + wid.x) * ${WORKGROUP_SIZE}u + lid;`;

/** WGSL declaration of storage buffer `name` at `binding`, an array of `type`: read-only unless `writable`. */
export const storage = (binding: number, name: string, type: string, writable = false): string =>
  `@group(0) @binding(${binding}) var<storage, ${writable ? 'read_write' : 'read'}> ${name}: array<${type}>;`;

/** WGSL declaration of a kernel's uniform block `u` at `binding` (after its storage buffers): u32 `words`, then f32 `floats`. */
function uniformsWGSL(binding: number, words: string[], floats: string[] = []): string {
  const members = [...words.map((name) => `  ${name}: u32,`), ...floats.map((name) => `  ${name}: f32,`)];
  return `struct Uniforms {\n${members.join('\n')}\n}\n@group(0) @binding(${binding}) var<uniform> u: Uniforms;`;
}

/** The values of a uniform block in uniformsWGSL's order: the u32 words, then the f32 floats. */
function packUniforms(words: number[], floats: number[] = []): ArrayBuffer {
  const data = new ArrayBuffer(4 * (words.length + floats.length));
  new Uint32Array(data, 0, words.length).set(words);
  new Float32Array(data, 4 * words.length, floats.length).set(floats);
  return data;
}

/**
 * A kernel's uniform block from named values: its WGSL (uniformsWGSL, built
 * when called: only a pipeline that is not cached yet needs it) and its data
 * (packUniforms). Names are fixed per kernel, so the WGSL (cached by name)
 * never depends on the values.
 */
export function uniforms(
  binding: number,
  words: Record<string, number>,
  floats: Record<string, number> = {},
): { wgsl: () => string; data: ArrayBuffer } {
  return {
    wgsl: () => uniformsWGSL(binding, Object.keys(words), Object.keys(floats)),
    data: packUniforms(Object.values(words), Object.values(floats)),
  };
}

/** `tensor` moved on by `floats` floats. */
export function offsetBy(tensor: GPUTensor, floats: number): GPUTensor {
  return 'buffer' in tensor ? { buffer: tensor.buffer, offset: tensor.offset + floats } : { buffer: tensor, offset: floats };
}

/**
 * How many floats of a tensor one binding can always hold on this device: a
 * binding starts at an aligned offset, up to one alignment before the tensor.
 */
export const bindingFloats = (p: Program): number =>
  Math.floor((p.ctx.limits.maxStorageBufferBindingSize - p.device.limits.minStorageBufferOffsetAlignment) / 4);

/**
 * [start, count) pieces of `total` items (rows, columns, floats) that lie
 * `floatsEach` floats apart in a tensor: as many in each piece as one binding
 * holds (at least one).
 */
export function bindingPieces(p: Program, total: number, floatsEach = 1): [number, number][] {
  const size = Math.max(1, Math.floor(bindingFloats(p) / Math.max(1, floatsEach)));
  const result: [number, number][] = [];
  for (let start = 0; start < total; start += size) result.push([start, Math.min(size, total - start)]);
  return result;
}

interface PerIndexKernel {
  name: string;
  wgsl: string;
}

/**
 * A kernel run once for each index i < u.count (an element, a row or a
 * channel). Each buffer is `name` (read-only f32), `name: rw` (written) or
 * `name: i32`; the body reads it as name[u.nameOff + …], its offset in floats
 * within the binding. `fields` (u32) and `floats` (f32) name the other uniforms;
 * `functions` are WGSL functions the body calls.
 */
export function perIndexKernel(
  name: string,
  buffers: string[],
  fields: string[],
  floats: string[],
  body: string,
  functions = '',
): PerIndexKernel {
  const parsed = buffers.map((spec) => {
    const [bufferName, kind] = spec.split(':').map((part) => part.trim());
    return { name: bufferName!, writable: kind === 'rw', type: kind === 'i32' ? 'i32' : 'f32' };
  });
  const wgsl = /* wgsl */ `
${parsed.map((b, i) => storage(i, b.name, b.type, b.writable)).join('\n')}
${uniformsWGSL(parsed.length, ['count', ...fields, ...parsed.map((b) => `${b.name}Off`)], floats)}
${functions}
${ENTRY_WGSL}
  let i = id;
  if (i >= u.count) { return; }
${body}
}`;
  return { name, wgsl };
}

/**
 * Dispatches a perIndexKernel over `count` indices, with the values of its u32
 * `fields` and f32 `floats`; then `tensors` in the kernel's buffer order, each
 * with the number of floats it touches (what gets bound; none: to the end of its
 * buffer).
 */
export function perIndex(
  p: Program,
  kernel: PerIndexKernel,
  { count, fields = [], floats = [] }: { count: number; fields?: number[]; floats?: number[] },
  ...tensors: [GPUTensor, number?][]
): Dispatch {
  const bound = tensors.map(([tensor, length]) => p.bind(tensor, length));
  const uniforms = packUniforms([count, ...fields, ...bound.map((b) => b.offset)], floats);
  const pipeline = p.pipeline(kernel.name, () => kernel.wgsl);
  const bindings = bound.map((b) => b.binding);
  return p.dispatch(pipeline, bindings, uniforms, p.grid(count));
}

export class Program {
  readonly ctx: GPUContext;
  readonly device: GPUDevice;
  /** Bound where an optional buffer (a bias) is absent; kernels get a flag in their uniforms. */
  readonly dummy: GPUBuffer;
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private readonly owned: GPUBuffer[] = [];

  constructor(ctx: GPUContext) {
    this.ctx = ctx;
    this.device = ctx.device;
    this.dummy = this.buffer(4);
  }

  /** The pipeline called `name`, compiled from `wgsl()` the first time: the WGSL is built only then. */
  pipeline(name: string, wgsl: () => string): GPUComputePipeline {
    let pipeline = this.pipelines.get(name);
    if (!pipeline) {
      const code = wgsl();
      const module = this.device.createShaderModule({ label: name, code });
      // A shader error otherwise surfaces only as "invalid pipeline" at the first dispatch.
      void module.getCompilationInfo().then((info) => {
        for (const m of info.messages) {
          if (m.type === 'error') console.error(`WGSL ${name}:${m.lineNum}: ${m.message}\n${code.split('\n')[m.lineNum - 1]}`);
        }
      });
      pipeline = this.device.createComputePipeline({ label: name, layout: 'auto', compute: { module, entryPoint: 'main' } });
      this.pipelines.set(name, pipeline);
    }
    return pipeline;
  }

  /** Binds buffers (storage, bindings 0..n-1) and uniforms (binding n, copied into a buffer made here once). */
  dispatch(
    pipeline: GPUComputePipeline,
    buffers: (GPUBuffer | GPUBufferBinding)[],
    uniforms: ArrayBuffer,
    workgroups: [number, number, number],
  ): Dispatch {
    const bytes = new Uint8Array(uniforms);
    // Uniform blocks are sized in multiples of 16 bytes.
    const uniformBuffer = this.track(
      this.device.createBuffer({
        label: `${pipeline.label} uniforms`,
        size: Math.max(16, Math.ceil(bytes.byteLength / 16) * 16),
        usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
      }),
    );
    this.device.queue.writeBuffer(uniformBuffer, 0, bytes);
    const entries: GPUBindGroupEntry[] = buffers.map((b, binding) => ({ binding, resource: 'buffer' in b ? b : { buffer: b } }));
    entries.push({ binding: buffers.length, resource: { buffer: uniformBuffer } });
    const bindGroup = this.device.createBindGroup({ label: pipeline.label, layout: pipeline.getBindGroupLayout(0), entries });
    return { pipeline, bindGroup, workgroups, uniformBuffer };
  }

  /**
   * Binds `length` floats of a tensor (by default all up to the buffer's end):
   * the range starts at the nearest offset below it that the device allows
   * (minStorageBufferOffsetAlignment), so any slice works and no binding is
   * larger than it needs to be.
   */
  bind(tensor: GPUTensor, length?: number): BoundTensor {
    const buffer = 'buffer' in tensor ? tensor.buffer : tensor;
    const startByte = ('buffer' in tensor ? tensor.offset : 0) * 4;
    const alignment = this.device.limits.minStorageBufferOffsetAlignment;
    const bindingStart = Math.floor(startByte / alignment) * alignment;
    const end = length === undefined ? buffer.size : startByte + Math.max(1, length) * 4;
    const size = Math.min(buffer.size, end) - bindingStart;
    if (size > this.ctx.limits.maxStorageBufferBindingSize) {
      throw new Error(
        `${buffer.label || 'a buffer'}: ${size} bytes exceed the device's binding limit of ${this.ctx.limits.maxStorageBufferBindingSize}`,
      );
    }
    return { binding: { buffer, offset: bindingStart, size }, offset: (startByte - bindingStart) / 4 };
  }

  /** Records the dispatches, in order, as one compute pass. */
  encode(encoder: GPUCommandEncoder, dispatches: Dispatch[]): void {
    const pass = encoder.beginComputePass();
    for (const d of dispatches) {
      pass.setPipeline(d.pipeline);
      pass.setBindGroup(0, d.bindGroup);
      pass.dispatchWorkgroups(d.workgroups[0], d.workgroups[1], d.workgroups[2]);
    }
    pass.end();
  }

  /** Submits the dispatches as one command buffer. */
  run(dispatches: Dispatch[]): void {
    const encoder = this.device.createCommandEncoder();
    this.encode(encoder, dispatches);
    this.device.queue.submit([encoder.finish()]);
  }

  /**
   * A [x, y, 1] grid of workgroups for `invocations` invocations of a kernel
   * (see ENTRY_WGSL) that fits maxComputeWorkgroupsPerDimension.
   */
  grid(invocations: number): [number, number, number] {
    const count = Math.ceil(invocations / WORKGROUP_SIZE);
    const max = this.ctx.limits.maxComputeWorkgroupsPerDimension;
    if (count <= max) return [Math.max(1, count), 1, 1];
    const y = Math.ceil(count / max);
    return [Math.ceil(count / y), y, 1];
  }

  /** A storage buffer of `bytes` (rounded up to 4), readable and writable by copies too. */
  buffer(bytes: number, label?: string): GPUBuffer {
    return this.track(this.device.createBuffer({ label, size: Math.max(4, Math.ceil(bytes / 4) * 4), usage: storageUsage() }));
  }

  upload(data: Float32Array | Int32Array | Uint32Array, usage: GPUBufferUsageFlags = storageUsage()): GPUBuffer {
    const buffer = this.track(this.device.createBuffer({ size: Math.max(4, data.byteLength), usage, mappedAtCreation: true }));
    new Uint8Array(buffer.getMappedRange()).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    buffer.unmap();
    return buffer;
  }

  /** Copies `length` floats from `buffer` (starting at float `offset`) back to the CPU. */
  async read(buffer: GPUBuffer, length: number, offset = 0): Promise<Float32Array> {
    const bytes = length * 4;
    const staging = this.device.createBuffer({
      size: Math.max(4, bytes),
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    const encoder = this.device.createCommandEncoder();
    encoder.copyBufferToBuffer(buffer, offset * 4, staging, 0, bytes);
    this.device.queue.submit([encoder.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const result = new Float32Array(staging.getMappedRange(0, bytes).slice(0));
    staging.destroy();
    return result;
  }

  /** Frees every buffer this Program made (its uniforms, the dummy, and buffer()/upload() results). */
  destroy(): void {
    for (const buffer of this.owned) buffer.destroy();
    this.owned.length = 0;
  }

  private track(buffer: GPUBuffer): GPUBuffer {
    this.owned.push(buffer);
    return buffer;
  }
}
