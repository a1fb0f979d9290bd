/**
 * Finding a WebGPU device. Works in a page and in a worker; returns null (never
 * throws) where there is no WebGPU or no adapter, so callers fall back to the CPU.
 */

export interface GPUContext {
  device: GPUDevice;
  /** Why the device was lost (device.lost resolved), or null while it works. */
  lostReason: string | null;
  adapterInfo: { vendor: string; architecture: string; description: string; isFallbackAdapter: boolean };
  limits: {
    maxStorageBufferBindingSize: number;
    maxComputeWorkgroupStorageSize: number;
    maxComputeInvocationsPerWorkgroup: number;
    maxComputeWorkgroupsPerDimension: number;
  };
}

/**
 * Limits raised to what the adapter allows: the defaults (128 MiB bindings, 8
 * storage buffers per stage) are below what a big vocabulary or a fused
 * backward kernel needs, and asking costs nothing.
 */
const RAISED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxStorageBuffersPerShaderStage',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupsPerDimension',
] as const;

export async function requestGPU(): Promise<GPUContext | null> {
  const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
  if (!gpu) return null;
  try {
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) return null;
    const requiredLimits: Record<string, number> = {};
    for (const name of RAISED_LIMITS) requiredLimits[name] = adapter.limits[name];
    const device = await adapter.requestDevice({ requiredLimits });
    const info = adapter.info;
    const ctx: GPUContext = {
      device,
      lostReason: null,
      adapterInfo: {
        vendor: info.vendor,
        architecture: info.architecture,
        description: info.description,
        // Older Chromium reports it on the adapter, newer on the info.
        isFallbackAdapter: info.isFallbackAdapter ?? (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter ?? false,
      },
      limits: {
        maxStorageBufferBindingSize: device.limits.maxStorageBufferBindingSize,
        maxComputeWorkgroupStorageSize: device.limits.maxComputeWorkgroupStorageSize,
        maxComputeInvocationsPerWorkgroup: device.limits.maxComputeInvocationsPerWorkgroup,
        maxComputeWorkgroupsPerDimension: device.limits.maxComputeWorkgroupsPerDimension,
      },
    };
    void device.lost.then((lost) => {
      ctx.lostReason = lost.message || (lost.reason === 'destroyed' ? 'the device was destroyed' : 'the GPU stopped responding');
    });
    return ctx;
  } catch {
    return null;
  }
}

/** The GPU could not do what was asked (device lost, out of memory, invalid work); the message says which. */
export class GPUFailure extends Error {
  override name = 'GPUFailure';
}

/** True for an adapter that runs on the CPU (SwiftShader, llvmpipe, WARP): slower than our CPU backend. */
export function isSoftwareAdapter(info: GPUContext['adapterInfo']): boolean {
  return (
    info.isFallbackAdapter ||
    /swiftshader|llvmpipe|lavapipe|software|warp|microsoft basic render/i.test(
      `${info.architecture} ${info.description} ${info.vendor}`,
    )
  );
}

/** "Google SwiftShader" or the like: the adapter in words for the page. */
export function adapterName(info: GPUContext['adapterInfo']): string {
  const named = [info.vendor, info.architecture].filter(Boolean).join(' ');
  return info.description || named || 'an unnamed GPU adapter';
}

/**
 * Runs GPU work (which submits and awaits its own readback) under error scopes,
 * so a lost device, an out-of-memory or a validation error rejects with a
 * GPUFailure that says what went wrong, instead of silently wrong numbers or a
 * promise that never settles. With `scopes` false only a lost device is
 * watched for (no error scopes, whose popping costs a round trip): for work
 * that replays dispatches already checked once, on the same buffers.
 */
export async function checkedGPUWork<T>(ctx: GPUContext, work: () => Promise<T>, { scopes = true } = {}): Promise<T> {
  const lost = (reason: string) => new GPUFailure(`the GPU was lost (${reason})`);
  if (ctx.lostReason) throw lost(ctx.lostReason);
  const { device } = ctx;
  if (!scopes) {
    const value = await Promise.race([work(), device.lost.then((info) => Promise.reject(lost(info.message || info.reason)))]);
    if (ctx.lostReason) throw lost(ctx.lostReason);
    return value;
  }
  device.pushErrorScope('out-of-memory');
  device.pushErrorScope('validation');
  let outcome: { value: T } | { error: unknown };
  try {
    outcome = {
      value: await Promise.race([work(), device.lost.then((info) => Promise.reject(lost(info.message || info.reason)))]),
    };
  } catch (error) {
    outcome = { error };
  }
  // Popped in every case so the scopes stay balanced (innermost first).
  const [invalid, outOfMemory] = await Promise.all([device.popErrorScope(), device.popErrorScope()]).catch(() => [null, null]);
  if (ctx.lostReason) throw lost(ctx.lostReason);
  if (outOfMemory) throw new GPUFailure(`the GPU ran out of memory (${outOfMemory.message})`);
  if (invalid) throw new GPUFailure(`the GPU rejected the work as invalid (${invalid.message})`);
  if ('error' in outcome) throw outcome.error;
  return outcome.value;
}
