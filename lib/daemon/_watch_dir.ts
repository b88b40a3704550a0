/**
 * The watch folder (`--watch-dir`): every 2 s, each `.torrent` file in it
 * is added, then renamed to `.torrent.added` (or deleted, with
 * `trash-original-torrent-files`); one that cannot be added is renamed to
 * `.torrent.invalid` and the reason logged, so it is not tried again.
 *
 * @module
 */

import type { Logger } from "../util/log.ts";
import { MAX_TORRENT_FILE_BYTES } from "../metainfo/limits.ts";

/** How often the folder is read. */
export const WATCH_INTERVAL_MS = 2000;

/** What the watch adds a file's bytes to. */
export interface WatchTarget {
  /** Adds the torrent; throws when it cannot. */
  addTorrentFile(bytes: Uint8Array, from: string): Promise<void>;
  /** Whether to delete a file once added. */
  trashOriginals(): boolean;
}

/** Watches a folder until stopped. */
export class WatchDir {
  readonly #dir: string;
  readonly #target: WatchTarget;
  readonly #log: Logger;
  #timer?: ReturnType<typeof setTimeout>;
  #scanning: Promise<void> = Promise.resolve();
  #stopped = false;

  constructor(dir: string, target: WatchTarget, log: Logger) {
    this.#dir = dir;
    this.#target = target;
    this.#log = log;
  }

  /** Reads the folder now, and every {@linkcode WATCH_INTERVAL_MS} after. */
  start(): void {
    const next = () => {
      if (this.#stopped) return;
      this.#scanning = this.scan().finally(() => {
        if (!this.#stopped) this.#timer = setTimeout(next, WATCH_INTERVAL_MS);
      });
    };
    next();
  }

  /** Adds what the folder holds now; never rejects. */
  async scan(): Promise<void> {
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(this.#dir));
    } catch (error) {
      this.#log.warn(`--watch-dir ${this.#dir}: ${(error as Error).message}`);
      return;
    }
    for (const entry of entries) {
      if (this.#stopped) return;
      if (!entry.isFile || !entry.name.toLowerCase().endsWith(".torrent")) continue;
      const path = `${this.#dir}/${entry.name}`;
      try {
        const info = await Deno.stat(path);
        if (info.size > MAX_TORRENT_FILE_BYTES) {
          throw new Error(`it is over ${MAX_TORRENT_FILE_BYTES} bytes`);
        }
        // A file still being written is looked at again next time.
        if (info.mtime && Date.now() - info.mtime.getTime() < 1000) continue;
        await this.#target.addTorrentFile(await Deno.readFile(path), path);
        if (this.#target.trashOriginals()) await Deno.remove(path);
        else await Deno.rename(path, `${path}.added`);
      } catch (error) {
        this.#log.warn(`--watch-dir: ${path} not added: ${(error as Error).message}`);
        await Deno.rename(path, `${path}.invalid`).catch(() => {});
      }
    }
  }

  /** Stops watching; resolves once a scan under way has ended. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#scanning;
  }
}
