/**
 * The files of one torrent on disk: creating them (sparse, at their final
 * size), and reading and writing pieces through the piece ↔ file map. BEP 47
 * padding files are never created, read or written: their bytes are zeros
 * by definition. Open files are cached with a bound on how many stay open,
 * and the operations on one file run one at a time.
 *
 * Files not selected are not created: the bytes of their pieces that are
 * shared with selected files go to the part file (`part_file.ts`), and
 * move into the file when it is selected later. A file's bytes are in the
 * file when it is selected, or exists on disk when the store is first
 * looked at (a file deselected after it was downloaded keeps its data).
 *
 * @module
 */

import { diskError } from "../errors.ts";
import { PartFile } from "./part_file.ts";
import { joinInside } from "../metainfo/_safe_path.ts";
import { resolveSymlinks, type SymlinkPlan } from "../metainfo/symlinks.ts";
import { createSymlinks } from "./_symlinks.ts";
import type { Torrent } from "../metainfo/torrent.ts";
import {
  type FileState,
  holdsBytes,
  type Storage,
  type StorageFactory,
  type StorageRequest,
} from "./storage.ts";

/** Options of {@linkcode FileStore}. */
export interface FileStoreOptions {
  /** `read` never creates or changes anything (for `verify`). Default `write`. */
  mode?: "read" | "write";
  /** Most files open at once. Default 64. */
  maxOpenFiles?: number;
  /**
   * Called before each read of an open file, just before its state is
   * taken; the function it returns gets the state, and what that throws
   * fails the read (a file that changed since it was checked).
   */
  beforeRead?: (file: number) => (state: FileState) => void;
  /**
   * Where bytes of pieces shared with files not selected are kept (see
   * the module's text). Without it every file is created, selected or not.
   */
  partFile?: string;
  /** Per file: whether it is selected (see {@linkcode FileStore.select}). Default: every file. */
  selected?: readonly boolean[];
  /** Told what could not be done and was left out (a BEP 47 symlink not created). */
  warn?: (message: string) => void;
}

export type { FileState } from "./storage.ts";

/** Where a span of a piece is written: a file, or the part file. */
export interface PieceTarget {
  /** The path written to. */
  path: string;
  /** Offset in that file. */
  fileOffset: number;
  /** Offset in the piece. */
  pieceOffset: number;
  /** Bytes. */
  length: number;
}

/** Pieces being written elsewhere (by a `PieceWriter`), which moving bytes out of the part file waits for. */
export interface PendingWrites {
  /** Whether a piece is being written now. */
  readonly busy: boolean;
  /** Resolves once no piece being written now is. */
  idle(): Promise<void>;
}

/** The default {@linkcode StorageFactory}: the torrent's files under the download directory. */
export const fileStorage: StorageFactory = (
  torrent: Torrent,
  request: StorageRequest,
): FileStore =>
  new FileStore(torrent, request.downloadDir, {
    mode: request.mode,
    maxOpenFiles: request.maxOpenFiles,
    beforeRead: request.beforeRead,
    partFile: request.partFile,
    selected: request.selected,
    warn: request.warn,
  });

interface OpenFile {
  file: Deno.FsFile;
  /** The tail of this file's chain of operations. */
  queue: Promise<unknown>;
}

/**
 * Reads and writes a torrent's pieces in its files under a download directory.
 *
 * @example Reading a piece from disk
 * ```ts
 * import { createTorrent } from "../metainfo/mod.ts";
 * import { FileStore } from "./mod.ts";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.writeFile(`${dir}/data.bin`, new Uint8Array(40_000).fill(9));
 * const { torrent } = await createTorrent(`${dir}/data.bin`, { pieceLength: 16384 });
 * const store = new FileStore(torrent, dir, { mode: "read" }); // reads only, creates nothing
 * const piece = new Uint8Array(torrent.pieceMap.pieceSize(2));
 * console.log(await store.readPiece(2, piece), piece.length); // true 7232
 * await store.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class FileStore implements Storage {
  /** The download directory. */
  readonly directory: string;
  readonly #torrent: Torrent;
  readonly #mode: "read" | "write";
  readonly #maxOpen: number;
  readonly #beforeRead?: (file: number) => (state: FileState) => void;
  readonly #open = new Map<number, OpenFile>();
  readonly #part?: PartFile;
  #selected: boolean[];
  /** Per file: 1 when its bytes are in the file, 0 when (shared ones) are in the part file. */
  readonly #inFile: Uint8Array;
  /** Per file: 1 when it was found on disk before the files were made. */
  readonly #found: Uint8Array;
  /** Whether `create` ran: from then on files are placed only by selecting them. */
  #created = false;
  #pending?: PendingWrites;
  #closed = false;
  /** BEP 47 symlinks not created yet (their files not selected, or not made yet). */
  #links: SymlinkPlan[];
  readonly #warn: (message: string) => void;

  /**
   * Prepares access to a torrent's files; nothing is opened until used.
   *
   * @param torrent The torrent whose files these are.
   * @param directory The download directory; file paths are joined under it.
   * @param options Mode and the open-file bound.
   */
  constructor(torrent: Torrent, directory: string, options: FileStoreOptions = {}) {
    this.#torrent = torrent;
    this.directory = directory;
    this.#mode = options.mode ?? "write";
    this.#maxOpen = Math.max(1, options.maxOpenFiles ?? 64);
    this.#beforeRead = options.beforeRead;
    const count = torrent.files.length;
    this.#selected = torrent.files.map((file) => options.selected?.[file.index] ?? true);
    if (options.partFile) {
      const map = torrent.pieceMap;
      this.#part = new PartFile(options.partFile, map.pieceLength, map.pieceCount, this.#mode);
    }
    this.#inFile = new Uint8Array(count);
    this.#found = new Uint8Array(count);
    this.#links = resolveSymlinks(torrent);
    this.#warn = options.warn ?? (() => {});
    this.#place();
  }

  /**
   * Before the files are made: a file's bytes are in it when it is on disk
   * (`create` makes the selected ones and moves their bytes in).
   */
  #place(): void {
    for (let i = 0; i < this.#inFile.length; i++) {
      this.#inFile[i] = !this.#part || this.#found[i] ? 1 : 0;
    }
  }

  /** The part file, when the store has one. */
  get partFile(): PartFile | undefined {
    return this.#part;
  }

  /** Pieces written elsewhere (a `PieceWriter` says so): moving bytes into a file waits for them. */
  trackWrites(pending: PendingWrites): void {
    this.#pending = pending;
  }

  /** Whether file `index`'s bytes are kept in the file (else its shared bytes are in the part file). */
  inFile(index: number): boolean {
    return this.#inFile[index] === 1;
  }

  /** Whether file `file`'s bytes in piece `piece` are in the part file. */
  heldElsewhere(piece: number, file: number): boolean {
    return !this.inFile(file) && (this.#part?.has(piece) ?? false);
  }

  /**
   * Selects files: those selected now are created (once {@linkcode create}
   * has run), with the bytes the part file kept for them; those no longer
   * selected keep what they have on disk.
   *
   * @param selected Per file, whether it is wanted.
   * @throws {DiskError} When a file cannot be created or written.
   */
  async select(selected: readonly boolean[]): Promise<void> {
    this.#selected = this.#torrent.files.map((file) => selected[file.index] ?? false);
    if (this.#created) {
      await this.#moveIn(this.#placeable());
      await this.#link();
    } else this.#place();
  }

  /** Creates the selected symlinks not made yet. */
  async #link(): Promise<void> {
    const selected = this.#links.filter((plan) => this.#selected[plan.file.index]);
    if (selected.length === 0) return;
    const done = new Set(await createSymlinks(this.directory, selected, this.#warn));
    this.#links = this.#links.filter((plan) => !done.has(plan));
  }

  /** Stored files that are selected and whose bytes are not in their file yet. */
  #placeable(): number[] {
    return this.#torrent.files
      .filter((file) => this.stored(file.index) && this.#selected[file.index])
      .filter((file) => !this.inFile(file.index))
      .map((file) => file.index);
  }

  /**
   * Where each span of piece `index` that holds bytes is written (giving
   * the piece a part-file slot when it needs one).
   *
   * @throws {DiskError} When the part file cannot be written.
   */
  targets(index: number): PieceTarget[] {
    return this.#torrent.pieceMap.spans(index)
      .filter((span) => this.stored(span.file))
      .map((span) => ({
        path: this.inFile(span.file) ? this.path(span.file) : this.#part!.path,
        fileOffset: this.inFile(span.file)
          ? span.fileOffset
          : this.#part!.slotOffset(index) + span.pieceOffset,
        pieceOffset: span.pieceOffset,
        length: span.length,
      }));
  }

  /** The path of file `index` on disk. */
  path(index: number): string {
    return joinInside(this.directory, this.#torrent.files[index].path);
  }

  /** Whether file `index` is stored on disk (padding files and symlinks are not). */
  stored(index: number): boolean {
    return holdsBytes(this.#torrent.files[index]);
  }

  /**
   * Creates every folder and file, each file sparse at its final size. A
   * file that exists with another size is cut or extended to the right size.
   * Files with the BEP 47 `x` attribute are made executable; BEP 47
   * symlinks are created inside the torrent's folder (see `_symlinks.ts`).
   *
   * @throws {DiskError} When a folder or file cannot be created.
   */
  async create(): Promise<void> {
    const folders = new Set<string>();
    const moving = this.#placeable();
    for (const file of this.#torrent.files) {
      if (!this.stored(file.index) || file.path.length < 2) continue;
      if (!this.#selected[file.index] && !this.inFile(file.index)) continue;
      folders.add(joinInside(this.directory, file.path.slice(0, -1)));
    }
    for (const folder of folders) {
      try {
        await Deno.mkdir(folder, { recursive: true });
      } catch (error) {
        throw diskError(error, "create the folder", folder);
      }
    }
    await Deno.mkdir(this.directory, { recursive: true }).catch((error) => {
      throw diskError(error, "create the folder", this.directory);
    });
    for (const file of this.#torrent.files) {
      if (this.stored(file.index) && this.inFile(file.index)) await this.#size(file.index);
    }
    this.#created = true;
    await this.#moveIn(moving);
    await this.#link();
  }

  /**
   * Creates files (at their size) and moves the bytes the part file kept
   * for them in; slots no longer needed are freed. The move itself is
   * synchronous, once no piece is being written, so no write lands in
   * the part file after its bytes were moved.
   */
  async #moveIn(files: number[]): Promise<void> {
    if (files.length === 0) return;
    for (const index of files) {
      const parts = this.#torrent.files[index].path;
      if (parts.length > 1) {
        const folder = joinInside(this.directory, parts.slice(0, -1));
        await Deno.mkdir(folder, { recursive: true }).catch((error) => {
          throw diskError(error, "create the folder", folder);
        });
      }
      await this.#size(index);
    }
    while (this.#pending?.busy) await this.#pending.idle();
    const part = this.#part!;
    const touched = new Set<number>();
    for (const index of files) {
      const path = this.path(index);
      const range = this.#torrent.pieceMap.pieces(index);
      try {
        const handle = Deno.openSync(path, { write: true });
        try {
          for (let piece = range?.first ?? 0; range && piece <= range.last; piece++) {
            if (!part.has(piece)) continue;
            touched.add(piece);
            for (const span of this.#torrent.pieceMap.spans(piece)) {
              if (span.file !== index) continue;
              const bytes = new Uint8Array(span.length);
              if (!part.read(piece, span.pieceOffset, bytes)) continue;
              handle.seekSync(span.fileOffset, Deno.SeekMode.Start);
              let written = 0;
              while (written < bytes.length) written += handle.writeSync(bytes.subarray(written));
            }
          }
        } finally {
          handle.close();
        }
      } catch (error) {
        throw diskError(error, "write to", path);
      }
      this.#inFile[index] = 1;
    }
    for (const piece of touched) {
      const spans = this.#torrent.pieceMap.spans(piece);
      if (spans.every((span) => !this.stored(span.file) || this.inFile(span.file))) {
        part.free(piece);
      }
    }
  }

  /**
   * Creates file `index` again (with its folder) when it is missing, and
   * cuts or extends it to its size: for a file that changed on disk, before
   * its pieces are downloaded again.
   *
   * @throws {DiskError} When it cannot be created.
   */
  async recreate(index: number): Promise<void> {
    if (!this.stored(index)) return;
    const parts = this.#torrent.files[index].path;
    const folder = parts.length > 1
      ? joinInside(this.directory, parts.slice(0, -1))
      : this.directory;
    await Deno.mkdir(folder, { recursive: true }).catch((error) => {
      throw diskError(error, "create the folder", folder);
    });
    this.reopen(index);
    await this.#size(index);
  }

  /** Gives a stored file its size (creating it), and the executable bit it asks for. */
  async #size(index: number): Promise<void> {
    const file = this.#torrent.files[index];
    const path = this.path(index);
    try {
      const state = await Deno.stat(path).catch((error) => {
        if (error instanceof Deno.errors.NotFound) return undefined;
        throw error;
      });
      if (!(state?.isFile && state.size === file.length)) {
        await this.#run(index, (handle) => handle.truncate(file.length));
      }
      // BEP 47 "x": executable by whoever may read it (Windows has no such bit).
      if (file.executable && Deno.build.os !== "windows") {
        const mode = ((await Deno.stat(path)).mode ?? 0o644) & 0o777;
        if ((mode & 0o111) === 0) await Deno.chmod(path, mode | ((mode & 0o444) >> 2));
      }
    } catch (error) {
      throw diskError(error, "create", path);
    }
  }

  /**
   * Size and modification time of each file, `undefined` for files that do
   * not exist (or are not files) and files that are not stored.
   *
   * @throws {DiskError} When a file's state cannot be read (permission
   *   denied, or refused by Deno's permissions): it may exist, so it is not
   *   reported missing.
   */
  states(): Promise<(FileState | undefined)[]> {
    return Promise.all(this.#torrent.files.map((file) => this.state(file.index)));
  }

  /**
   * Size and modification time of file `index` by its path, as
   * {@linkcode states} gives them.
   *
   * @throws {DiskError} As {@linkcode states}.
   */
  async state(index: number): Promise<FileState | undefined> {
    if (!this.stored(index)) return undefined;
    const path = this.path(index);
    try {
      const state = fileState(await Deno.stat(path));
      // Before the files are made, a file found on disk holds its own bytes.
      if (state && !this.#created) this.#found[index] = this.#inFile[index] = 1;
      return state;
    } catch (error) {
      if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory) {
        return undefined;
      }
      throw diskError(error, "read", path);
    }
  }

  /**
   * Closes file `index` once the operations queued on it are done, so the
   * next one opens it again by its path (a file replaced on disk is then
   * the new one).
   */
  reopen(index: number): void {
    const entry = this.#open.get(index);
    if (!entry) return;
    this.#open.delete(index);
    entry.queue.then(() => closeQuietly(entry.file), () => {});
  }

  /**
   * Writes a whole verified piece, one write per file it spans.
   *
   * @throws {DiskError} When a write fails (no space, permission denied).
   */
  async writePiece(piece: number, data: Uint8Array): Promise<void> {
    const writes: Promise<unknown>[] = [];
    for (const span of this.#torrent.pieceMap.spans(piece)) {
      if (!this.stored(span.file)) continue;
      const bytes = data.subarray(span.pieceOffset, span.pieceOffset + span.length);
      if (!this.inFile(span.file)) {
        this.#part!.writeBytes(piece, span.pieceOffset, bytes);
        continue;
      }
      writes.push(
        // Synchronous on purpose: Deno's async file writes copy each buffer
        // and go through a thread pool. Measured on a 1 GiB download over
        // loopback: 11 s and 219 MB peak RSS with async writes, 2.3 s and
        // 82 MB with these (a write to the page cache takes well under 1 ms
        // per MiB).
        this.#run(span.file, (handle) => {
          handle.seekSync(span.fileOffset, Deno.SeekMode.Start);
          let written = 0;
          while (written < bytes.length) written += handle.writeSync(bytes.subarray(written));
        }).catch((error) => {
          throw diskError(error, "write to", this.path(span.file));
        }),
      );
    }
    await Promise.all(writes);
  }

  /**
   * Reads a piece into `into` (which must be the piece's size). Padding
   * bytes read as zeros.
   *
   * @returns False when a file is missing or too short to hold the piece.
   * @throws {DiskError} On other read errors.
   */
  async readPiece(piece: number, into: Uint8Array): Promise<boolean> {
    const reads: Promise<boolean>[] = [];
    for (const span of this.#torrent.pieceMap.spans(piece)) {
      const target = into.subarray(span.pieceOffset, span.pieceOffset + span.length);
      if (!this.stored(span.file)) {
        target.fill(0);
        continue;
      }
      if (!this.inFile(span.file)) {
        if (!this.#part!.read(piece, span.pieceOffset, target)) return false;
        continue;
      }
      reads.push(
        this.#run(span.file, async (handle) => {
          // A handle already replaced (the file was reopened) reads the old file: not asked.
          if (this.#beforeRead && this.#open.get(span.file)?.file === handle) {
            const check = this.#beforeRead(span.file);
            // Synchronous: an fstat of an open file does not wait for the disk. The
            // asynchronous one added 22 µs to each 256 KiB piece read from the page cache
            // (50 µs without it); this one is lost in the noise.
            check(fileState(handle.statSync()) ?? gone);
          }
          await handle.seek(span.fileOffset, Deno.SeekMode.Start);
          let filled = 0;
          while (filled < target.length) {
            const n = await handle.read(target.subarray(filled));
            if (n === null) return false;
            filled += n;
          }
          return true;
        }).catch((error) => {
          if (error instanceof Deno.errors.NotFound) return false;
          throw diskError(error, "read", this.path(span.file));
        }),
      );
    }
    return (await Promise.all(reads)).every(Boolean);
  }

  /**
   * Deletes the torrent's files, then the folders they were in that are
   * left empty (never the download directory, never anything else).
   *
   * @throws {DiskError} When a file exists and cannot be deleted.
   */
  async delete(): Promise<void> {
    const folders = new Set<string>();
    for (const file of this.#torrent.files) {
      if (!this.stored(file.index)) continue;
      const path = this.path(file.index);
      try {
        await Deno.remove(path);
      } catch (error) {
        if (!(error instanceof Deno.errors.NotFound)) throw diskError(error, "delete", path);
      }
      for (let depth = 1; depth < file.path.length; depth++) {
        folders.add(joinInside(this.directory, file.path.slice(0, depth)));
      }
    }
    this.#part?.delete();
    // Deepest first; a folder that holds anything else stays, and a link to a folder is not one.
    for (const folder of [...folders].sort((a, b) => b.length - a.length)) {
      const info = await Deno.lstat(folder).catch(() => undefined);
      if (info?.isDirectory) await Deno.remove(folder).catch(() => {});
    }
  }

  /** Waits for pending operations and closes every file. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#part?.close();
    const open = [...this.#open.values()];
    this.#open.clear();
    await Promise.all(open.map(async (entry) => {
      await entry.queue.catch(() => {});
      closeQuietly(entry.file);
    }));
  }

  /** Runs `operation` on file `index` after the operations queued before it. */
  #run<T>(index: number, operation: (file: Deno.FsFile) => T | Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new Error("The file store is closed"));
    let entry = this.#open.get(index);
    if (entry) {
      // Most recently used last.
      this.#open.delete(index);
      this.#open.set(index, entry);
    } else {
      const file = this.#openFile(index);
      entry = { file: undefined as unknown as Deno.FsFile, queue: file };
      const opened = entry;
      opened.queue = file.then((handle) => {
        opened.file = handle;
      }, (error) => {
        // Forget a failed open so the next operation tries again.
        if (this.#open.get(index) === opened) this.#open.delete(index);
        throw error;
      });
      this.#open.set(index, entry);
      this.#evict();
    }
    const current = entry;
    const result = current.queue.then(() => operation(current.file));
    current.queue = result.catch(() => {});
    return result;
  }

  #openFile(index: number): Promise<Deno.FsFile> {
    const write = this.#mode === "write";
    return Deno.open(this.path(index), { read: true, write, create: write });
  }

  #evict(): void {
    while (this.#open.size > this.#maxOpen) {
      const [index, entry] = this.#open.entries().next().value!;
      this.#open.delete(index);
      entry.queue.then(() => closeQuietly(entry.file), () => {});
    }
  }
}

/** The state of an open file that is no longer a file (never equal to a real one). */
const gone: FileState = { size: -1, mtimeMs: 0 };

function fileState(info: Deno.FileInfo): FileState | undefined {
  return info.isFile ? { size: info.size, mtimeMs: info.mtime?.getTime() ?? 0 } : undefined;
}

/** Closes a file that may not have opened, or may be closed already. */
function closeQuietly(file: Deno.FsFile | undefined): void {
  try {
    file?.close();
  } catch {
    // Already closed.
  }
}
