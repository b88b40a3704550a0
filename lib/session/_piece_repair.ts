/**
 * What a torrent does when its data changes on disk under it (another
 * program truncated, overwrote, replaced or deleted a file, or a piece
 * cannot be read): the pieces of that file are taken away from the swarm
 * at once (no longer served, taken back with lt_donthave), checked again
 * against their hashes, and those still right are given back. The others
 * stay missing: downloaded again when the files may be written, otherwise
 * not served until the file is restored. The torrent goes on serving every
 * piece that is intact, and says which file changed.
 *
 * @module
 */

import type { Torrent } from "../metainfo/torrent.ts";
import type { FileState, FileStore } from "../storage/file_store.ts";
import { type FileChange, FileChangedError, FileWatch } from "../storage/_file_watch.ts";
import { checkPieces } from "../storage/piece_check.ts";
import type { Logger } from "../util/log.ts";

/** A check of pieces again after a change that happened during it waits this long. */
const RETRY_MS = 1000;

/** What {@linkcode PieceRepair} works with. */
export interface PieceRepairOptions {
  /** The torrent. */
  torrent: Torrent;
  /** Its files. */
  store: FileStore;
  /** Each file's state when its pieces were verified. */
  known: (FileState | undefined)[];
  /** Whether we have piece `index`. */
  has: (index: number) => boolean;
  /** Takes pieces away from the swarm; returns those we had. */
  lose: (pieces: number[]) => number[];
  /** Gives back pieces found good again. */
  regain: (pieces: number[]) => void;
  /** Drops a piece from the upload cache. */
  forgetCached: (index: number) => void;
  /** The files may be written: missing files are created again and bad pieces downloaded. */
  writable: boolean;
  /** Where events are logged. */
  log: Logger;
  /** Pieces were lost for good: what happened, in a sentence naming the file. */
  onDamage: (message: string) => void;
}

/** Watches a torrent's files and repairs what a change breaks. */
export class PieceRepair {
  readonly #options: PieceRepairOptions;
  readonly #watch: FileWatch;
  /** Pieces taken away and not checked yet. */
  readonly #pending = new Set<number>();
  /** What happened, for the message, since the last check. */
  #reasons: string[] = [];
  /** Files to create again before the check (writable only). */
  readonly #recreate = new Set<number>();
  readonly #tasks = new Set<Promise<void>>();
  readonly #abort = new AbortController();
  #checking?: Promise<void>;
  #periodic?: Promise<void>;

  /** @param options The torrent, its files and how to reach the swarm. */
  constructor(options: PieceRepairOptions) {
    this.#options = options;
    this.#watch = new FileWatch(
      options.torrent,
      options.store,
      options.known,
      (change) => this.#changed(change),
    );
  }

  /** The {@linkcode FileStore} `beforeRead` hook: a changed file is refused. */
  beforeRead(file: number, state: FileState): void {
    this.#watch.beforeRead(file, state);
  }

  /** We start writing piece `index`. */
  writing(index: number): void {
    this.#watch.writing(index);
  }

  /** Our write of piece `index` ended. */
  wrote(index: number): void {
    this.#watch.wrote(index);
  }

  /** Looks at the next round of files by path (skipped while the last round runs). */
  checkFiles(): void {
    if (this.#periodic || this.#abort.signal.aborted) return;
    this.#periodic = this.#track(this.#watch.check(), "checking the files")
      .finally(() => this.#periodic = undefined);
  }

  /** Piece `index` could not be read for a peer. */
  readFailed(index: number, error: unknown): void {
    // A changed file: already being handled.
    if (error instanceof FileChangedError || this.#abort.signal.aborted) return;
    this.#track(
      (async () => {
        await this.#watch.check(this.#watch.filesOf(index));
        if (!this.#options.has(index)) return;
        // The files look the same, but the piece cannot be read.
        this.#take([index], `piece ${index} cannot be read (${(error as Error).message})`);
      })(),
      `piece ${index}`,
    );
  }

  /** Stops checking and waits for what runs. */
  async stop(): Promise<void> {
    this.#abort.abort();
    while (this.#tasks.size > 0) await Promise.all(this.#tasks);
  }

  #changed(change: FileChange): void {
    const range = this.#options.torrent.pieceMap.pieces(change.file);
    if (!range) return;
    const had: number[] = [];
    for (let piece = range.first; piece <= range.last; piece++) {
      if (this.#options.has(piece)) had.push(piece);
    }
    this.#options.store.reopen(change.file);
    if (this.#options.writable) this.#recreate.add(change.file);
    this.#take(had, describe(change));
  }

  /** Takes pieces away from the swarm and checks them again. */
  #take(pieces: number[], reason: string): void {
    const lost = this.#options.lose(pieces);
    if (lost.length === 0) return;
    for (const piece of lost) {
      this.#options.forgetCached(piece);
      this.#pending.add(piece);
    }
    this.#reasons.push(reason);
    this.#options.log.warn(`${reason}: checking its ${lost.length} pieces again`);
    this.#checking ??= this.#track(this.#checkPending(), "checking changed pieces")
      .finally(() => this.#checking = undefined);
  }

  async #checkPending(): Promise<void> {
    const { torrent, store, log } = this.#options;
    const signal = this.#abort.signal;
    while (this.#pending.size > 0 && !signal.aborted) {
      const pieces = [...this.#pending].sort((a, b) => a - b);
      this.#pending.clear();
      const reasons = this.#reasons;
      this.#reasons = [];
      for (const file of this.#recreate) {
        this.#watch.ours(file);
        await store.recreate(file);
      }
      this.#recreate.clear();
      let good: number[] = [];
      try {
        const found = await checkPieces(torrent, store, { pieces, signal });
        good = pieces.filter((piece) => found.has(piece));
      } catch (error) {
        if (error instanceof FileChangedError) {
          // Changed again while it was checked: once it settles, again.
          for (const piece of pieces) this.#pending.add(piece);
          this.#reasons.unshift(...reasons);
          await pause(RETRY_MS, signal);
          continue;
        }
        // Unreadable: none of them can be served.
        reasons.push(`checking them failed (${(error as Error).message})`);
      }
      if (signal.aborted) return;
      this.#options.regain(good);
      const bad = pieces.length - good.length;
      const what = reasons.join("; ");
      if (bad === 0) {
        log.info(`${what}: its pieces still match the torrent, and are served again`);
        continue;
      }
      this.#options.onDamage(
        `${what}: ${bad} of its ${pieces.length} pieces no longer match the torrent; ${
          this.#options.writable
            ? "downloading them again"
            : "they are not served until the file is restored, and the other pieces still are"
        }`,
      );
    }
  }

  /** Keeps a task until it ends; a failure is logged (the repair gives up on it). */
  #track(task: Promise<void>, what: string): Promise<void> {
    const owned = task.catch((error) => {
      if (!this.#abort.signal.aborted) {
        this.#options.log.error(`${what}: ${(error as Error).message}`);
      }
    });
    this.#tasks.add(owned);
    owned.finally(() => this.#tasks.delete(owned));
    return owned;
  }
}

/** Waits `ms`, or less when `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done);
  });
}

/** What happened to a file, in words. */
function describe(change: FileChange): string {
  const { before, after, path } = change;
  if (!after) return `${path} is gone from the disk`;
  if (before && after.size < before.size) {
    return `${path} was cut from ${before.size} to ${after.size} bytes`;
  }
  if (before && after.size > before.size) {
    return `${path} grew from ${before.size} to ${after.size} bytes`;
  }
  return `${path} was changed on disk (modified ${new Date(after.mtimeMs).toISOString()})`;
}
