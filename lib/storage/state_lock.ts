/**
 * One process per torrent's state: a lock file in the state directory
 * (`<info-hash>.lock`), held with an exclusive advisory lock for as long as
 * the torrent runs. The system drops the lock when the process ends, however
 * it ends, so a crash never leaves a stale lock behind.
 *
 * @module
 */

import { diskError, ShoalError } from "../errors.ts";
import type { Torrent } from "../metainfo/torrent.ts";

/** Another process (or session) runs this torrent with the same state directory. Exit code 1. */
export class StateLockedError extends ShoalError {}

/** A held lock; {@linkcode StateLock.release} lets the next process in. */
export interface StateLock {
  /** The lock file. */
  readonly path: string;
  /** Releases the lock (closing the file); safe to call more than once. */
  release(): void;
}

/**
 * Takes the torrent's state lock, creating the state directory if needed.
 *
 * @param stateDir Where the torrent's resume data goes.
 * @param torrent The torrent (its info hash names the lock).
 * @throws {StateLockedError} When another process holds it.
 * @throws {DiskError} When the lock file cannot be created.
 *
 * @example Two runs of one torrent cannot share a state directory
 * ```ts
 * import { createTorrent } from "../metainfo/mod.ts";
 * import { lockState, StateLockedError } from "./mod.ts";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/a.txt`, "a");
 * const { torrent } = await createTorrent(`${dir}/a.txt`);
 * const first = await lockState(`${dir}/.shoal`, torrent);
 * try {
 *   await lockState(`${dir}/.shoal`, torrent);
 * } catch (error) {
 *   if (!(error instanceof StateLockedError)) throw error;
 *   console.log(error.message); // Another shoal (process …) is running a.txt with …
 * }
 * first.release();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function lockState(
  stateDir: string,
  torrent: Pick<Torrent, "infoHashHex" | "name">,
): Promise<StateLock> {
  const path = `${stateDir}/${torrent.infoHashHex}.lock`;
  let file: Deno.FsFile;
  try {
    await Deno.mkdir(stateDir, { recursive: true });
    file = await Deno.open(path, { read: true, write: true, create: true });
  } catch (error) {
    throw diskError(error, "create the lock file", path);
  }
  let locked: boolean;
  try {
    locked = await file.tryLock(true);
  } catch (error) {
    file.close();
    throw diskError(error, "lock", path);
  }
  if (!locked) {
    file.close();
    const holder = await Deno.readTextFile(path).then((text) => Number.parseInt(text), () => NaN);
    throw new StateLockedError(
      `Another shoal${
        Number.isFinite(holder) ? ` (process ${holder})` : ""
      } is running ${torrent.name} with the state in ${stateDir}; stop it first, or give this one another download directory (-d) or --state-dir`,
    );
  }
  // Who holds it, for the message the next one prints.
  await file.truncate(0).then(() => file.write(new TextEncoder().encode(`${Deno.pid}\n`))).catch(
    () => {},
  );
  let released = false;
  return {
    path,
    release: () => {
      if (released) return;
      released = true;
      try {
        file.close(); // closing drops the lock
      } catch {
        // Already closed.
      }
    },
  };
}
