/** The one engine worker: serves the engine's areas to the page through Comlink. */
import * as Comlink from 'comlink';
import { initGemm } from './engine/gemm.ts';
import { createEngine } from './engine.ts';

// Compiles the WebAssembly matmul in the background; until it is ready, matmuls run in JavaScript.
void initGemm();
Comlink.expose(createEngine({ transfer: Comlink.transfer }));
