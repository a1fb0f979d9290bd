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
  /** How many threads the CPU backend runs on, and why no more. */
  threads: CpuThreads;
}

/**
 * The CPU backend's threads: the engine worker and count − 1 helper workers that
 * share its memory. More than one needs a cross-origin isolated page (COOP
 * same-origin and COEP require-corp), where SharedArrayBuffer exists.
 */
export interface CpuThreads {
  /** Threads in use now (1: the engine worker alone). */
  count: number;
  /** What was asked for (0: as many as the hardware has). */
  asked: number;
  /** The most this page can use: the hardware's threads when isolated, else 1. */
  max: number;
  /** One sentence for the page when it runs on fewer than asked: not isolated, or a thread failed. */
  note?: string;
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
  /**
   * Runs the CPU backend on `count` threads (0: as many as the hardware has, the
   * default), at most `max`; takes effect from the next step or forward pass.
   * Where the page is not cross-origin isolated it stays at one, and info says why.
   */
  threads(count: number): Promise<BackendInfo>;
}
