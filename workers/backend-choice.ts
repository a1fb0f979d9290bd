/**
 * Which backend runs the model: the user's choice (auto, CPU, WebGPU) and the
 * adapter the browser offers, decided in one place with a sentence that says why.
 */
import { excerpt } from './api/errors.ts';
import {
  BACKEND_CHOICES,
  type BackendChoice,
  type BackendInfo,
  type BackendKind,
  type CpuCode,
  type CpuThreads,
} from './api/backend.ts';
import { type GemmPath } from './engine/gemm.ts';
import { adapterName, type GPUContext, isSoftwareAdapter } from './engine/webgpu/device.ts';

/** The backend a choice gives with this GPU (null: none), and why; throws when WebGPU is forced and there is none. */
export function decideBackend(choice: BackendChoice, gpu: GPUContext | null): { active: BackendKind; reason: string } {
  if (!BACKEND_CHOICES.includes(choice)) throw new Error(`unknown backend ${excerpt(choice)}: choose auto, cpu or webgpu`);
  const software = gpu !== null && isSoftwareAdapter(gpu.adapterInfo);
  const name = gpu ? adapterName(gpu.adapterInfo) : '';
  if (choice === 'cpu') return { active: 'cpu', reason: 'You chose the CPU.' };
  if (!gpu) {
    if (choice === 'webgpu')
      throw new Error('WebGPU is not available in this browser (no GPU adapter), so the CPU runs the model.');
    return { active: 'cpu', reason: 'Auto picked the CPU: this browser offers no WebGPU adapter.' };
  }
  if (choice === 'webgpu') {
    return {
      active: 'webgpu',
      reason: software
        ? `You chose WebGPU. ${name} is a software GPU that runs on the CPU, so expect it to be slower than the CPU backend.`
        : 'You chose WebGPU.',
    };
  }
  if (software)
    return {
      active: 'cpu',
      reason: `Auto picked the CPU: the only GPU adapter, ${name}, is software and slower than the CPU backend.`,
    };
  return { active: 'webgpu', reason: `Auto picked WebGPU on ${name}.` };
}

/**
 * What the CPU runs in, given gemm()'s path, why WebAssembly was refused, if it was, and its threads. Browsers word
 * that error their own way; Chromium's names the directive ("…'wasm-unsafe-eval' is not an allowed source of script…").
 */
export function cpuCode(path: GemmPath, refusal: string | null, threads: CpuThreads): CpuCode {
  if (path !== 'js') return { code: 'WebAssembly', threads };
  if (refusal === null) return { code: 'JavaScript', threads };
  const byPolicy = /content security policy|unsafe-eval/i.test(refusal);
  return {
    code: 'JavaScript',
    threads,
    refused: byPolicy
      ? "The CPU runs JavaScript, several times slower than WebAssembly: this page's content security policy does not allow WebAssembly (its script-src needs 'wasm-unsafe-eval')."
      : `The CPU runs JavaScript, several times slower than WebAssembly, which could not be started: ${refusal}`,
  };
}

export function backendInfo(
  choice: BackendChoice,
  active: BackendKind,
  reason: string,
  gpu: GPUContext | null,
  cpu: CpuCode,
): BackendInfo {
  const info: BackendInfo = { choice, active, reason, webgpuAvailable: gpu !== null, cpu };
  if (gpu) info.adapter = { name: adapterName(gpu.adapterInfo), software: isSoftwareAdapter(gpu.adapterInfo) };
  return info;
}
