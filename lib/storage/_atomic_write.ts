/**
 * Replacing a file atomically: written beside it under a temporary name,
 * then renamed over it, so a crash leaves the old file or the new one,
 * never half of one.
 *
 * @module
 */

import { diskError } from "../errors.ts";

/**
 * Folders this process made or found already (a daemon saves thousands of
 * records into one folder: one `mkdir` each would be a third of the cost).
 * Bounded: a process writes into few folders, and the set is cleared when
 * it grows past this.
 */
const madeFolders = new Set<string>();
const MADE_FOLDERS_LIMIT = 1024;

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
  const slash = path.lastIndexOf("/");
  const folder = slash > 0 ? path.slice(0, slash) : slash === 0 ? "/" : ".";
  const temporary = `${path}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  try {
    try {
      if (!madeFolders.has(folder)) await makeFolder(folder);
      await Deno.writeFile(temporary, bytes);
    } catch (error) {
      // The folder was removed since it was made: made again, written again.
      if (!(error instanceof Deno.errors.NotFound) || !madeFolders.has(folder)) throw error;
      madeFolders.delete(folder);
      await makeFolder(folder);
      await Deno.writeFile(temporary, bytes);
    }
    await Deno.rename(temporary, path);
  } catch (error) {
    await Deno.remove(temporary).catch(() => {});
    throw diskError(error, what, path);
  }
}

async function makeFolder(folder: string): Promise<void> {
  await Deno.mkdir(folder, { recursive: true });
  if (madeFolders.size >= MADE_FOLDERS_LIMIT) madeFolders.clear();
  madeFolders.add(folder);
}
