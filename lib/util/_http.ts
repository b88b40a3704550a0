/**
 * Reading an HTTP body without trusting its size: at most `limit` bytes are
 * kept, and the download stops as soon as it goes past them.
 *
 * @module
 */

import { concatBytes } from "./_bytes.ts";

/**
 * The body of `response`, or the error `tooLarge()` makes as soon as more
 * than `limit` bytes arrive (the rest is not read).
 */
export async function readCapped(
  response: Response,
  limit: number,
  tooLarge: () => Error,
): Promise<Uint8Array> {
  const reader = response.body?.getReader();
  if (!reader) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let total = 0;
  while (true) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > limit) {
      await reader.cancel().catch(() => {});
      throw tooLarge();
    }
    chunks.push(value);
  }
  return concatBytes(chunks);
}
