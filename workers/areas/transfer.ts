/**
 * Large arrays (probabilities, logits, captured activations, exported files) go
 * to the page by transfer: their buffers move instead of being copied. The
 * worker passes Comlink.transfer as the TransferFunction; tests that call the
 * areas directly pass none.
 */

/** Marks `value` so the listed buffers are moved, not copied, when it crosses to the page. */
export type TransferFunction = <T>(value: T, transfers: Transferable[]) => T;

export const noTransfer: TransferFunction = (value) => value;

type TypedArray = Float32Array | Uint8Array | Int32Array;

/** `value` with every typed array in it (at any depth) replaced by `change(array)`. */
function mapArrays<T>(value: T, change: (array: TypedArray) => TypedArray): T {
  if (ArrayBuffer.isView(value)) return change(value as unknown as TypedArray) as T;
  if (Array.isArray(value)) return value.map((item) => mapArrays(item, change)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, mapArrays(item, change)])) as T;
  }
  return value;
}

/** Every distinct buffer behind the typed arrays in a value (listing a buffer twice makes postMessage throw). */
function buffersIn(value: unknown, found = new Set<ArrayBuffer>()): ArrayBuffer[] {
  if (ArrayBuffer.isView(value)) found.add(value.buffer as ArrayBuffer);
  else if (value && typeof value === 'object') for (const item of Object.values(value)) buffersIn(item, found);
  return [...found];
}

/**
 * Moves the arrays of a value computed for this answer. An array that is a view
 * of a larger buffer is copied first: transferring it would detach the whole
 * buffer.
 */
export function transferFresh<T>(transfer: TransferFunction, value: T): T {
  const owned = mapArrays(value, (array) =>
    array.byteOffset === 0 && array.byteLength === array.buffer.byteLength ? array : array.slice(),
  );
  return transfer(owned, buffersIn(owned));
}

/**
 * Moves copies of the arrays of a value the worker keeps using (scratch
 * buffers, the weights, stored time-lapse frames).
 */
export function transferCopy<T>(transfer: TransferFunction, value: T): T {
  const copy = mapArrays(value, (array) => array.slice());
  return transfer(copy, buffersIn(copy));
}
