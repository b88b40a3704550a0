/**
 * Notices when a torrent's files change under it, cheaply: by size and
 * modification time, never by reading data. Each file's state is known
 * from when its pieces were last verified or written by us; a state that
 * differs (another program truncated, overwrote, replaced or deleted the
 * file) is a change. Changes are looked for in three places:
 *
 * - before every read, on the open file (a `beforeRead` hook of the
 *   {@linkcode FileStore}): a changed file is refused, so its data is never
 *   served unchecked;
 * - periodically, by path, a bounded number of files per round (a file
 *   replaced by a new one is seen only this way: the open handle still
 *   reads the old one);
 * - on demand, for the files of a piece that could not be read.
 *
 * While we write a file ourselves its new states are ours, not changes.
 *
 * @module
 */

import { DiskError } from "../errors.ts";
import type { Torrent } from "../metainfo/torrent.ts";
import type { FileState, FileStore } from "./file_store.ts";

/** A file that changed on disk. */
export interface FileChange {
  /** Its index in the torrent. */
  file: number;
  /** Its path on disk. */
  path: string;
  /** What it was. */
  before?: FileState;
  /** What it is now; `undefined` when it is gone. */
  after?: FileState;
}

/** A read refused because the file changed since its pieces were verified. */
export class FileChangedError extends DiskError {}

/** Files stated per periodic round, so a huge torrent costs a bounded amount each time. */
const FILES_PER_ROUND = 1000;

/** Watches the state of a torrent's stored files. */
export class FileWatch {
  readonly #torrent: Torrent;
  readonly #store: FileStore;
  readonly #onChange: (change: FileChange) => void;
  readonly #known: (FileState | undefined)[];
  /** Writes of ours in progress, per file. */
  readonly #writing = new Map<number, number>();
  /**
   * Files we changed, each with the count of our writes when it was
   * changed: a state taken after that (the count was then at least this)
   * is ours, and so is one taken before, which may be stale.
   */
  readonly #written = new Map<number, number>();
  /** Our writes so far. */
  #writes = 0;
  /** Looks at files begun so far, and the latest whose answer was used, per file. */
  #looks = 0;
  readonly #lastLook: Float64Array;
  /** Files to state again after our writes, and the loop doing it. */
  readonly #refresh = new Set<number>();
  #refreshing?: Promise<void>;
  #next = 0;

  /**
   * @param torrent The torrent.
   * @param store Its files.
   * @param known Each file's state when its pieces were verified (from {@linkcode FileStore.states}).
   * @param onChange Called once for each change found.
   */
  constructor(
    torrent: Torrent,
    store: FileStore,
    known: (FileState | undefined)[],
    onChange: (change: FileChange) => void,
  ) {
    this.#torrent = torrent;
    this.#store = store;
    this.#known = [...known];
    this.#lastLook = new Float64Array(torrent.files.length);
    this.#onChange = onChange;
  }

  /** We start writing piece `piece`: its files' states are ours until {@linkcode wrote}. */
  writing(piece: number): void {
    for (const file of this.filesOf(piece)) {
      this.#writing.set(file, (this.#writing.get(file) ?? 0) + 1);
    }
  }

  /**
   * Our write of piece `piece` ended.
   *
   * @param changed Whether anything was written (a piece that failed its check was not).
   */
  wrote(piece: number, changed = true): void {
    const files = this.filesOf(piece);
    for (const file of files) {
      const count = (this.#writing.get(file) ?? 1) - 1;
      if (count > 0) this.#writing.set(file, count);
      else this.#writing.delete(file);
      if (changed) this.recreated(file);
    }
    // Stated again at once, so a change by another program soon after ours is not taken for ours.
    if (changed) this.#refreshSoon(files);
  }

  /** We changed file `file` ourselves (created it again): its next state is ours. */
  recreated(file: number): void {
    this.#written.set(file, ++this.#writes);
  }

  /**
   * The hook for {@linkcode FileStore}'s `beforeRead`: called before the
   * state of the open file is taken, it returns the check of that state.
   * The check throws {@linkcode FileChangedError} when the file changed:
   * the read must not be used.
   */
  beforeRead(file: number): (state: FileState) => void {
    const look = this.#look();
    return (state) => {
      if (this.#compare(file, state, look)) return;
      throw new FileChangedError(
        `${this.#store.path(file)} changed on disk since its pieces were checked`,
      );
    };
  }

  /**
   * States files by path: the ones given, or the next round of at most
   * 1000 (all of them, in turn, over successive rounds).
   */
  async check(files?: Iterable<number>): Promise<void> {
    const count = this.#torrent.files.length;
    let chosen: number[];
    if (files) {
      chosen = [...new Set(files)];
    } else {
      chosen = [];
      for (let i = 0; i < Math.min(FILES_PER_ROUND, count); i++) {
        chosen.push(this.#next);
        this.#next = (this.#next + 1) % count;
      }
    }
    for (const file of chosen) {
      if (!this.#store.stored(file)) continue;
      const look = this.#look();
      let state: FileState | undefined;
      try {
        state = await this.#store.state(file);
      } catch {
        continue; // Cannot be stated now (permission): looked at again next round.
      }
      this.#compare(file, state, look);
    }
  }

  /** A look at a file begins: its number, and our write count then. */
  #look(): { number: number; writes: number } {
    return { number: ++this.#looks, writes: this.#writes };
  }

  /**
   * Whether `state`, from `look`, is the file's known one, or ours; a
   * change is reported once, then known. Looks may end out of order: one
   * that began before the last one used is stale, and ignored.
   */
  #compare(
    file: number,
    state: FileState | undefined,
    look: { number: number; writes: number },
  ): boolean {
    if (look.number < this.#lastLook[file]) return true;
    this.#lastLook[file] = look.number;
    const writes = look.writes;
    const written = this.#written.get(file);
    // We never cut, grow or delete a file: a state of another size is no write of ours.
    const ourSize = state?.size === this.#torrent.files[file].length;
    if (ourSize && (this.#writing.has(file) || written !== undefined)) {
      // Taken after our last change: that change is now known, and later states are compared.
      if (written !== undefined && writes >= written && !this.#writing.has(file)) {
        this.#written.delete(file);
      }
      this.#known[file] = state;
      return true;
    }
    const before = this.#known[file];
    if (sameState(before, state)) return true;
    this.#known[file] = state;
    this.#onChange({ file, path: this.#store.path(file), before, after: state });
    return false;
  }

  /** States `files` again as soon as possible (one look at a time, each file once). */
  #refreshSoon(files: number[]): void {
    for (const file of files) this.#refresh.add(file);
    if (this.#refreshing) return;
    this.#refreshing = (async () => {
      while (this.#refresh.size > 0) {
        const batch = [...this.#refresh];
        this.#refresh.clear();
        await this.check(batch);
      }
    })().catch(() => {}).finally(() => this.#refreshing = undefined);
  }

  /** Waits for the looks {@linkcode wrote} started. */
  async settled(): Promise<void> {
    while (this.#refreshing) await this.#refreshing;
  }

  /** The stored files piece `piece` spans. */
  filesOf(piece: number): number[] {
    const files: number[] = [];
    for (const span of this.#torrent.pieceMap.spans(piece)) {
      if (this.#store.stored(span.file)) files.push(span.file);
    }
    return files;
  }
}

function sameState(a: FileState | undefined, b: FileState | undefined): boolean {
  return a === b || (a !== undefined && b !== undefined && a.size === b.size &&
    a.mtimeMs === b.mtimeMs);
}
