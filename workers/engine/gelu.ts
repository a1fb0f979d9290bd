/**
 * GPT-2's GELU, the tanh approximation, for one number: 0.5·x·(1 + tanh(u))
 * with u = √(2/π)·(x + 0.044715·x³), computed as x·σ(2u) (the same function:
 * 0.5·(1 + tanh u) = σ(2u)), because one exp is much cheaper than tanh. The
 * kernels (kernels.ts) apply it to arrays; the MLP panel draws it. No imports,
 * so a page can use it without the engine.
 */
export const GELU_SCALE = Math.sqrt(2 / Math.PI);
export const GELU_CUBIC = 0.044715;

export const gelu = (x: number): number => x / (1 + Math.exp(-2 * GELU_SCALE * (x + GELU_CUBIC * x * x * x)));
