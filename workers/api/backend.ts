/**
 * The backend's area of the contract: what runs the model (the CPU or WebGPU),
 * on which adapter, and why. areas/backends.ts implements it.
 */
export type BackendChoice = 'auto' | 'cpu' | 'webgpu';
export type BackendKind = 'cpu' | 'webgpu';

export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', 'cpu', 'webgpu'];

export interface BackendInfo {
  /** What the user asked for. */
  choice: BackendChoice;
  /** What runs now, inference and training. */
  active: BackendKind;
  /** The WebGPU adapter when there is one, whether or not it is used. */
  adapter?: { name: string; software: boolean };
  /** One short sentence for the page: why this backend runs. */
  reason: string;
  /** False where the browser has no WebGPU or no adapter. */
  webgpuAvailable: boolean;
  /** What the CPU backend runs its arithmetic in (absent: not known). */
  cpu?: CpuCode;
}

/**
 * WebAssembly, or JavaScript: several times slower, where the browser has no WebAssembly SIMD or the page
 * refuses to compile WebAssembly; then `refused` is one sentence for the page saying why and what would fix it.
 */
export interface CpuCode {
  code: 'WebAssembly' | 'JavaScript';
  refused?: string;
}

export interface BackendApi {
  /** Which backend runs the model (CPU or WebGPU), on what adapter, and why. */
  info(): Promise<BackendInfo>;
  /**
   * Runs the model (inference and training) on the backend chosen: 'auto' (WebGPU
   * on a hardware adapter, else the CPU), 'cpu' or 'webgpu'. Mid-training the
   * weights and optimizer state move across between two steps and the loss
   * curve goes on. Rejects, the backend unchanged, when WebGPU is forced and
   * there is none.
   */
  choose(choice: BackendChoice): Promise<BackendInfo>;
}
