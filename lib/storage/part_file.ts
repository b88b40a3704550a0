/**
 * The part file: where the bytes of a piece that belong to files not on
 * disk are kept. A piece shared by a wanted file and a skipped one is
 * downloaded whole (its hash covers both); the skipped file's share goes
 * here, so that selecting the file later completes it without downloading
 * those bytes again, and the piece can still be checked and served.
 * libtorrent keeps such bytes the same way (`part_file.cpp`).
 *
 * The file (`<state-dir>/<info-hash>.parts`) is a header, a table giving
 * each piece its slot, and the slots, one piece long each:
 *
 * ```
 * "shoalprt"  version (u32)  piece length (u32)  piece count (u32)
 * piece count × u32: 0 = no slot, n = slot n − 1
 * slots, from the first multiple of 4096 after the table
 * ```
 *
 * A slot's table entry is written when the slot is given out, before any
 * of its bytes; a piece counts as ours only once its hash was checked, so
 * an entry whose bytes never came costs nothing. A part file that does not
 * match the torrent is treated as empty. It is created only when a slot is
 * first needed, and operations are synchronous: they are few, small and go
 * to the page cache.
 *
 * @module
 */

import { diskError } from "../errors.ts";
import type { FileState } from "./storage.ts";

const MAGIC = new TextEncoder().encode("shoalprt");
const VERSION = 1;
const HEADER = 20;
const ALIGN = 4096;

/** The part file's path for a torrent in a state directory. */
export function partFilePath(stateDir: string, torrent: { infoHashHex: string }): string {
  return `${stateDir}/${torrent.infoHashHex}.parts`;
}

/** Keeps the bytes of pieces that belong to files not on disk. */
export class PartFile {
  /** Where the part file is. */
  readonly path: string;
  readonly #pieceLength: number;
  readonly #pieceCount: number;
  readonly #write: boolean;
  /** Per piece: its slot + 1, or 0. */
  #table?: Uint32Array;
  /** Slots given back, to be given out again. */
  #free: number[] = [];
  #nextSlot = 0;
  #file?: Deno.FsFile;
  /** Whether the file on disk has this table's header (it may still be missing). */
  #headerWritten = false;

  /**
   * Prepares the part file of a torrent; nothing is read before it is used.
   *
   * @param path Its path.
   * @param pieceLength The torrent's piece length.
   * @param pieceCount The torrent's piece count.
   * @param mode `read` never creates or changes it.
   */
  constructor(path: string, pieceLength: number, pieceCount: number, mode: "read" | "write") {
    this.path = path;
    this.#pieceLength = pieceLength;
    this.#pieceCount = pieceCount;
    this.#write = mode === "write";
  }

  /** Whether piece `index` has a slot (its bytes for files not on disk may be here). */
  has(index: number): boolean {
    return this.#load()[index] !== 0;
  }

  /** Pieces with a slot. */
  get pieces(): number {
    return this.#load().reduce((n, entry) => n + (entry === 0 ? 0 : 1), 0);
  }

  /**
   * Where piece `index`'s slot starts in the file, giving it one (and
   * recording that) when it has none.
   *
   * @throws {DiskError} When the part file cannot be created or written.
   */
  slotOffset(index: number): number {
    const table = this.#load();
    if (table[index] === 0) {
      if (!this.#write) throw new Error("The part file is read-only");
      const slot = this.#free.pop() ?? this.#nextSlot++;
      table[index] = slot + 1;
      this.#guard("write to", () => {
        const file = this.#open();
        if (!this.#headerWritten) {
          file.truncateSync(0);
          writeAt(file, 0, this.#header());
          this.#headerWritten = true;
        } else {
          writeAt(file, HEADER + index * 4, entryBytes(slot + 1));
        }
      });
    }
    return this.#dataStart() + (table[index] - 1) * this.#pieceLength;
  }

  /**
   * Reads bytes of piece `index` from its slot.
   *
   * @returns False when the piece has no slot or the file is too short.
   * @throws {DiskError} On read errors.
   */
  read(index: number, pieceOffset: number, into: Uint8Array): boolean {
    const table = this.#load();
    if (table[index] === 0) return false;
    const at = this.#dataStart() + (table[index] - 1) * this.#pieceLength + pieceOffset;
    return this.#guard("read", () => readAt(this.#open(), at, into));
  }

  /**
   * Writes bytes of piece `index` into its slot (given one if needed).
   *
   * @throws {DiskError} When they cannot be written.
   */
  writeBytes(index: number, pieceOffset: number, bytes: Uint8Array): void {
    const at = this.slotOffset(index) + pieceOffset;
    this.#guard("write to", () => writeAt(this.#open(), at, bytes));
  }

  /** Piece `index`'s bytes are no longer needed here: its slot may be given to another. */
  free(index: number): void {
    const table = this.#load();
    if (table[index] === 0 || !this.#write) return;
    this.#free.push(table[index] - 1);
    table[index] = 0;
    if (this.#headerWritten) {
      this.#guard("write to", () => writeAt(this.#open(), HEADER + index * 4, entryBytes(0)));
    }
  }

  /** The part file's size and modification time, or `undefined` when there is none. */
  state(): FileState | undefined {
    try {
      const info = Deno.statSync(this.path);
      return info.isFile ? { size: info.size, mtimeMs: info.mtime?.getTime() ?? 0 } : undefined;
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return undefined;
      throw diskError(error, "read", this.path);
    }
  }

  /** Closes the file (it opens again when used). */
  close(): void {
    try {
      this.#file?.close();
    } catch {
      // Closed already.
    }
    this.#file = undefined;
  }

  /** Closes and deletes the part file. */
  delete(): void {
    this.close();
    try {
      Deno.removeSync(this.path);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw diskError(error, "delete", this.path);
    }
    this.#table = new Uint32Array(this.#pieceCount);
    this.#free = [];
    this.#nextSlot = 0;
    this.#headerWritten = false;
  }

  #dataStart(): number {
    return Math.ceil((HEADER + this.#pieceCount * 4) / ALIGN) * ALIGN;
  }

  #header(): Uint8Array {
    const bytes = new Uint8Array(HEADER + this.#pieceCount * 4);
    const view = new DataView(bytes.buffer);
    bytes.set(MAGIC, 0);
    view.setUint32(8, VERSION, true);
    view.setUint32(12, this.#pieceLength, true);
    view.setUint32(16, this.#pieceCount, true);
    const table = this.#table!;
    for (let i = 0; i < table.length; i++) view.setUint32(HEADER + i * 4, table[i], true);
    return bytes;
  }

  /** The table, read from the file the first time (a file that does not match counts as empty). */
  #load(): Uint32Array {
    if (this.#table) return this.#table;
    const table = this.#table = new Uint32Array(this.#pieceCount);
    let bytes: Uint8Array;
    try {
      const file = Deno.openSync(this.path, { read: true });
      try {
        bytes = new Uint8Array(HEADER + this.#pieceCount * 4);
        if (!readAt(file, 0, bytes)) return table;
      } finally {
        file.close();
      }
    } catch {
      return table; // Missing or unreadable: nothing kept here.
    }
    const view = new DataView(bytes.buffer);
    const matches = MAGIC.every((byte, i) => bytes[i] === byte) &&
      view.getUint32(8, true) === VERSION &&
      view.getUint32(12, true) === this.#pieceLength &&
      view.getUint32(16, true) === this.#pieceCount;
    if (!matches) return table;
    const used = new Set<number>();
    for (let i = 0; i < this.#pieceCount; i++) {
      const entry = view.getUint32(HEADER + i * 4, true);
      // A slot past any piece's, or given twice, is not ours: the table is not trusted.
      if (entry > this.#pieceCount || (entry !== 0 && used.has(entry))) {
        table.fill(0);
        return table;
      }
      if (entry !== 0) used.add(entry);
      table[i] = entry;
    }
    this.#headerWritten = true;
    for (const entry of used) this.#nextSlot = Math.max(this.#nextSlot, entry);
    for (let slot = 0; slot < this.#nextSlot; slot++) {
      if (!used.has(slot + 1)) this.#free.push(slot);
    }
    return table;
  }

  #open(): Deno.FsFile {
    this.#file ??= Deno.openSync(this.path, {
      read: true,
      write: this.#write,
      create: this.#write,
    });
    return this.#file;
  }

  #guard<T>(what: string, work: () => T): T {
    try {
      return work();
    } catch (error) {
      if (!this.#write && error instanceof Deno.errors.NotFound) return false as T;
      throw diskError(error, what, this.path);
    }
  }
}

function entryBytes(entry: number): Uint8Array {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setUint32(0, entry, true);
  return bytes;
}

function writeAt(file: Deno.FsFile, at: number, bytes: Uint8Array): void {
  file.seekSync(at, Deno.SeekMode.Start);
  let written = 0;
  while (written < bytes.length) written += file.writeSync(bytes.subarray(written));
}

function readAt(file: Deno.FsFile, at: number, into: Uint8Array): boolean {
  file.seekSync(at, Deno.SeekMode.Start);
  let filled = 0;
  while (filled < into.length) {
    const n = file.readSync(into.subarray(filled));
    if (n === null) return false;
    filled += n;
  }
  return true;
}
