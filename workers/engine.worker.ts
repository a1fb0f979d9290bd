/** The one engine worker: serves EngineService to the page through Comlink. */
import * as Comlink from 'comlink';
import { initGemm } from './engine/gemm.ts';
import { EngineService } from './service.ts';

// Compiles the WebAssembly matmul in the background; until it is ready, matmuls run in JavaScript.
void initGemm();
Comlink.expose(new EngineService({ transfer: Comlink.transfer }));
