/**
 * Replacing a file atomically: written beside it under a temporary name,
 * then renamed over it, so a crash leaves the old file or the new one,
 * never half of one.
 *
 * @module
 */

import { diskError } from "../errors.ts";

/**
 * Writes `bytes` to `path` atomically, creating its folder.
 *
 * @param what What is written, for the error (`save resume data to`).
 * @throws {DiskError} When it cannot be written.
 */
export async function writeAtomically(
  path: string,
  bytes: Uint8Array,
  what: string,
): Promise<void> {
  const temporary = `${path}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  try {
    await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
    await Deno.writeFile(temporary, bytes);
    await Deno.rename(temporary, path);
  } catch (error) {
    await Deno.remove(temporary).catch(() => {});
    throw diskError(error, what, path);
  }
}
