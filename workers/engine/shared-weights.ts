/**
 * The weights CPU inference reads on a cross-origin isolated page: a copy in a
 * shared kernel memory (kernelFloats), which the matrix multiply of every thread
 * reads in place. Weights in a plain array are copied for every product instead:
 * for one generated token of a small model that copying is most of the work, and
 * with helpers it would be done twice (once to share it, once by each thread).
 */
import { kernelFloats, sharedMemoryAllowed } from './gemm.ts';
import { createParameters, type ParameterTensors } from './params.ts';
import { isShared } from './threads.ts';

export class SharedWeights {
  private copy: ParameterTensors | null = null;
  private key: string | null = null;

  /**
   * `params` as CPU inference reads them: themselves where they are shared already
   * or memory cannot be shared, else the copy, copied again whenever `key` (which
   * names the weights' version) changes.
   */
  of(params: ParameterTensors, key: string): ParameterTensors {
    if (!sharedMemoryAllowed() || isShared(params.data)) return params;
    if (this.copy?.data.length !== params.data.length) {
      this.copy = createParameters(params.config, kernelFloats(params.data.length));
      this.key = null;
    }
    if (this.copy.config !== params.config) this.copy = createParameters(params.config, this.copy.data);
    if (this.key !== key) {
      this.copy.data.set(params.data);
      this.key = key;
    }
    return this.copy;
  }
}
