/** Fetching files for the worker (the default model, corpora from a URL), with plain-words errors. */

/**
 * The bytes at `url`. With `maxBytes`, reading stops one byte past the limit, so
 * a caller can say "too big" without the whole file crossing the network.
 */
export async function download(url: string, maxBytes = Infinity): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch {
    throw new Error(
      `${url} could not be reached: check the address and the network (the site must also allow other pages to read it)`,
    );
  }
  if (!response.ok) throw new Error(`${url} answered ${`${response.status} ${response.statusText}`.trim()}`);
  if (!response.body || maxBytes === Infinity) return new Uint8Array(await response.arrayBuffer());

  const chunks: Uint8Array[] = [];
  let length = 0;
  const reader = response.body.getReader();
  while (length <= maxBytes) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    length += value.length;
  }
  await reader.cancel();
  const bytes = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return bytes;
}

/** The last part of a URL's path, for messages. */
export function fileName(url: string): string {
  const path = new URL(url, 'file:///').pathname;
  return decodeURIComponent(path.slice(path.lastIndexOf('/') + 1)) || url;
}
