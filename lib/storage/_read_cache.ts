/**
 * Pieces read for uploading, kept in a small cache so that a piece many
 * peers ask for is read from disk once. Bounded in bytes; the least
 * recently used piece goes first. Concurrent reads of one piece share a
 * single disk read.
 *
 * @module
 */

import { DiskError } from "../errors.ts";
import type { Storage } from "./storage.ts";

/** Reads whole pieces through a bounded LRU cache. */
export class PieceReadCache {
  readonly #store: Storage;
  readonly #pieceSize: (index: number) => number;
  readonly #maxBytes: number;
  readonly #pieces = new Map<number, Promise<Uint8Array>>();
  readonly #sizes = new Map<number, number>();
  #bytes = 0;

  /**
   * Creates an empty cache.
   *
   * @param store Where pieces are read from.
   * @param pieceSize The size of each piece.
   * @param maxBytes Most bytes cached (at least one piece is always allowed). Default 16 MiB.
   */
  constructor(store: Storage, pieceSize: (index: number) => number, maxBytes = 16 * 1024 * 1024) {
    this.#store = store;
    this.#pieceSize = pieceSize;
    this.#maxBytes = maxBytes;
  }

  /** Bytes held now. */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * The bytes of a verified piece.
   *
   * @throws {DiskError} When it cannot be read or the file is too short.
   */
  read(index: number): Promise<Uint8Array> {
    const cached = this.#pieces.get(index);
    if (cached) {
      this.#pieces.delete(index);
      this.#pieces.set(index, cached);
      return cached;
    }
    const size = this.#pieceSize(index);
    const reading = (async () => {
      const data = new Uint8Array(size);
      if (!(await this.#store.readPiece(index, data))) {
        throw new DiskError(
          `Cannot read piece ${index}: a file is missing or shorter than the torrent says`,
        );
      }
      return data;
    })();
    reading.catch(() => this.#forget(index, reading));
    this.#pieces.set(index, reading);
    this.#sizes.set(index, size);
    this.#bytes += size;
    this.#evict(index);
    return reading;
  }

  /** Drops piece `index` (its data on disk changed): the next read reads it again. */
  forget(index: number): void {
    const entry = this.#pieces.get(index);
    if (entry) this.#forget(index, entry);
  }

  #forget(index: number, entry: Promise<Uint8Array>): void {
    if (this.#pieces.get(index) !== entry) return;
    this.#pieces.delete(index);
    this.#bytes -= this.#sizes.get(index) ?? 0;
    this.#sizes.delete(index);
  }

  #evict(keep: number): void {
    for (const index of this.#pieces.keys()) {
      if (this.#bytes <= this.#maxBytes) return;
      if (index === keep) continue;
      this.#forget(index, this.#pieces.get(index)!);
    }
  }
}
