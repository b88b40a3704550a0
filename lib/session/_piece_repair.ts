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

/** A check of pieces again after a change that happened during it waits this long, doubling. */
const RETRY_MS = 1000;
/** The longest wait before checking a file that keeps changing again. */
const MAX_RETRY_MS = 60_000;

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
  /** Opens file `index` again by its path wherever it is open (reads and writes). */
  reopen: (file: number) => void;
  /** The files may be written: missing files are created again and bad pieces downloaded. */
  writable: boolean;
  /** Where events are logged. */
  log: Logger;
  /** Pieces were lost for good: what happened, in a sentence naming the file. */
  onDamage: (message: string) => void;
  /** Every piece found bad is good again (checked, or downloaded again). */
  onRepaired: () => void;
}

/** Watches a torrent's files and repairs what a change breaks. */
export class PieceRepair {
  readonly #options: PieceRepairOptions;
  readonly #watch: FileWatch;
  /** Pieces taken away and not checked yet. */
  readonly #pending = new Set<number>();
  /** Pieces found bad and not good again yet. */
  readonly #damaged = new Set<number>();
  /** What happened, for the message, since the last check. */
  #reasons: string[] = [];
  /** Files to create again before the check (writable only). */
  readonly #recreate = new Set<number>();
  readonly #tasks = new Set<Promise<void>>();
  readonly #abort = new AbortController();
  #checking = false;
  #retryMs = RETRY_MS;
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

  /**
   * Pieces taken away whose check has not ended: what is on disk for them
   * is not known (resume data must not be saved meanwhile).
   */
  get unsettled(): boolean {
    return this.#pending.size > 0 || this.#checking;
  }

  /** The {@linkcode FileStore} `beforeRead` hook: a changed file is refused. */
  beforeRead(file: number): (state: FileState) => void {
    return this.#watch.beforeRead(file);
  }

  /** We start writing piece `index`. */
  writing(index: number): void {
    this.#watch.writing(index);
  }

  /**
   * Our write of piece `index` ended.
   *
   * @param written Whether it was written (it passed its check).
   */
  wrote(index: number, written: boolean): void {
    this.#watch.wrote(index, written);
    if (written && this.#damaged.delete(index) && this.#damaged.size === 0) {
      this.#options.onRepaired();
    }
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
        this.#take([index], [], `piece ${index} cannot be read (${(error as Error).message})`);
      })(),
      `piece ${index}`,
    );
  }

  /** Stops checking and waits for what runs. */
  async stop(): Promise<void> {
    this.#abort.abort();
    while (this.#tasks.size > 0) await Promise.all(this.#tasks);
    await this.#watch.settled();
  }

  #changed(change: FileChange): void {
    const range = this.#options.torrent.pieceMap.pieces(change.file);
    if (!range) return;
    const had: number[] = [];
    // Pieces found bad before are checked again too: the file may have been restored.
    const damaged: number[] = [];
    for (let piece = range.first; piece <= range.last; piece++) {
      if (this.#options.has(piece)) had.push(piece);
      else if (this.#damaged.has(piece)) damaged.push(piece);
    }
    this.#options.reopen(change.file);
    if (this.#options.writable) this.#recreate.add(change.file);
    this.#take(had, damaged, describe(change));
  }

  /** Takes pieces away from the swarm and checks them again, with `again` (not ours now). */
  #take(pieces: number[], again: number[], reason: string): void {
    const lost = this.#options.lose(pieces);
    if (lost.length + again.length === 0) return;
    for (const piece of lost) {
      this.#options.forgetCached(piece);
      this.#pending.add(piece);
    }
    for (const piece of again) this.#pending.add(piece);
    this.#reasons.push(reason);
    this.#options.log.warn(
      `${reason}: checking ${lost.length + again.length} of its pieces again`,
    );
    if (this.#checking) return;
    this.#checking = true;
    this.#track(this.#checkPending(), "checking changed pieces");
  }

  async #checkPending(): Promise<void> {
    const signal = this.#abort.signal;
    try {
      while (this.#pending.size > 0 && !signal.aborted) {
        const pieces = [...this.#pending].sort((a, b) => a - b);
        this.#pending.clear();
        const reasons = this.#reasons;
        this.#reasons = [];
        // Reopened where it was open when the change was seen; recreating keeps the path's file.
        for (const file of this.#recreate) {
          this.#watch.recreated(file);
          await this.#options.store.recreate(file);
        }
        this.#recreate.clear();
        const good = await this.#check(pieces, reasons);
        if (good === undefined) {
          // Changed again while it was checked: once it settles, again.
          for (const piece of pieces) this.#pending.add(piece);
          this.#reasons.unshift(...reasons);
          await pause(this.#retryMs, signal);
          this.#retryMs = Math.min(this.#retryMs * 2, MAX_RETRY_MS);
          continue;
        }
        this.#retryMs = RETRY_MS;
        if (signal.aborted) return;
        this.#settle(pieces, good, reasons.join("; "));
      }
    } finally {
      // Cleared before anything else runs, so a change from now on starts a new check.
      this.#checking = false;
    }
  }

  /**
   * The good ones among `pieces`, or `undefined` when a file changed again
   * meanwhile. A piece that cannot be read is bad (the others are checked
   * one by one then), and why is added to `reasons`.
   */
  async #check(pieces: number[], reasons: string[]): Promise<number[] | undefined> {
    const { torrent, store } = this.#options;
    const signal = this.#abort.signal;
    try {
      const found = await checkPieces(torrent, store, { pieces, signal });
      return pieces.filter((piece) => found.has(piece));
    } catch (error) {
      if (error instanceof FileChangedError) return undefined;
      reasons.push(`some cannot be read (${(error as Error).message})`);
    }
    const good: number[] = [];
    for (const piece of pieces) {
      if (signal.aborted) break;
      try {
        if ((await checkPieces(torrent, store, { pieces: [piece], signal })).has(piece)) {
          good.push(piece);
        }
      } catch (error) {
        if (error instanceof FileChangedError) return undefined;
      }
    }
    return good;
  }

  /** Gives back the good pieces and says what became of the rest. */
  #settle(pieces: number[], good: number[], what: string): void {
    const { log, writable } = this.#options;
    this.#options.regain(good);
    for (const piece of good) this.#damaged.delete(piece);
    const goodSet = new Set(good);
    // A piece downloaded again while it was checked is good too.
    const bad = pieces.filter((piece) => !goodSet.has(piece) && !this.#options.has(piece));
    for (const piece of bad) this.#damaged.add(piece);
    if (bad.length === 0) {
      log.info(`${what}: every piece checked is good, and served again`);
      if (this.#damaged.size === 0) this.#options.onRepaired();
      return;
    }
    this.#options.onDamage(
      `${what}: ${bad.length} of its ${pieces.length} pieces no longer match the torrent; ${
        writable
          ? "downloading them again"
          : "they are not served until the file is restored, and the other pieces still are"
      }`,
    );
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
