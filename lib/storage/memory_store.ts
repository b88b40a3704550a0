/**
 * A torrent's data in memory: the {@linkcode Storage} for tests, and for
 * data that has no files yet. Bounded: a torrent larger than the limit is
 * refused when the store is made.
 *
 * @module
 */

import { DiskError } from "../errors.ts";
import type { Torrent } from "../metainfo/torrent.ts";
import { type FileState, holdsBytes, type Storage, type StorageFactory } from "./storage.ts";

/** Default most bytes a memory store holds. */
const DEFAULT_MAX_BYTES = 256 * 1024 * 1024;

/**
 * A {@linkcode StorageFactory} that keeps torrents in memory, one store per
 * torrent: a torrent paused and resumed gets its store back, with its data.
 *
 * @param maxBytes Most bytes of one torrent. Default 256 MiB.
 * @param made Called with each store made (to read the data back).
 */
export function memoryStorage(
  maxBytes: number = DEFAULT_MAX_BYTES,
  made?: (store: MemoryStore) => void,
): StorageFactory {
  const stores = new Map<string, MemoryStore>();
  return (torrent) => {
    let store = stores.get(torrent.infoHashHex);
    if (!store) {
      store = new MemoryStore(torrent, maxBytes);
      stores.set(torrent.infoHashHex, store);
      made?.(store);
    }
    return store;
  };
}

/**
 * A torrent's files as byte arrays.
 *
 * @example Writing a piece and reading it back
 * ```ts
 * import { createTorrent } from "../metainfo/mod.ts";
 * import { checkPieces, MemoryStore } from "./mod.ts";
 *
 * const dir = await Deno.makeTempDir();
 * const content = new Uint8Array(40_000).fill(7);
 * await Deno.writeFile(`${dir}/data.bin`, content);
 * const { torrent } = await createTorrent(`${dir}/data.bin`, { pieceLength: 16384 });
 * const store = new MemoryStore(torrent);
 * await store.create();
 * await store.writePiece(0, content.subarray(0, 16384));
 * console.log((await checkPieces(torrent, store)).count); // 1: only piece 0 is right so far
 * await store.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class MemoryStore implements Storage {
  readonly #torrent: Torrent;
  /** Each stored file's bytes, once created. */
  readonly #files: (Uint8Array | undefined)[];
  /** When each file was last written (ms). */
  readonly #written: number[];

  /**
   * Holds nothing until {@linkcode create} or a write.
   *
   * @param torrent The torrent whose data this holds.
   * @param maxBytes Most bytes held. Default 256 MiB.
   * @throws {DiskError} When the torrent is larger.
   */
  constructor(torrent: Torrent, maxBytes: number = DEFAULT_MAX_BYTES) {
    if (torrent.totalLength > maxBytes) {
      throw new DiskError(
        `${torrent.name} holds ${torrent.totalLength} bytes, more than a memory store takes (${maxBytes})`,
      );
    }
    this.#torrent = torrent;
    this.#files = torrent.files.map(() => undefined);
    this.#written = torrent.files.map(() => 0);
  }

  /** Makes every stored file, zero-filled at its size. */
  create(): Promise<void> {
    for (const file of this.#torrent.files) {
      if (this.stored(file.index)) this.#files[file.index] ??= new Uint8Array(file.length);
    }
    return Promise.resolve();
  }

  /** Whether file `index` holds bytes (padding files and symlinks do not). */
  stored(index: number): boolean {
    return holdsBytes(this.#torrent.files[index]);
  }

  /** Reads piece `index`; false when a file it spans was not created. */
  readPiece(index: number, into: Uint8Array): Promise<boolean> {
    for (const span of this.#torrent.pieceMap.spans(index)) {
      const target = into.subarray(span.pieceOffset, span.pieceOffset + span.length);
      if (!this.stored(span.file)) {
        target.fill(0);
        continue;
      }
      const bytes = this.#files[span.file];
      if (!bytes) return Promise.resolve(false);
      target.set(bytes.subarray(span.fileOffset, span.fileOffset + span.length));
    }
    return Promise.resolve(true);
  }

  /** Writes piece `index` into the files it spans (created if they were not). */
  writePiece(index: number, data: Uint8Array): Promise<void> {
    const now = Date.now();
    for (const span of this.#torrent.pieceMap.spans(index)) {
      if (!this.stored(span.file)) continue;
      const bytes = this.#files[span.file] ??= new Uint8Array(
        this.#torrent.files[span.file].length,
      );
      bytes.set(data.subarray(span.pieceOffset, span.pieceOffset + span.length), span.fileOffset);
      this.#written[span.file] = now;
    }
    return Promise.resolve();
  }

  /** Each file's size and last write, `undefined` for files not created or not stored. */
  states(): Promise<(FileState | undefined)[]> {
    return Promise.all(this.#torrent.files.map((file) => this.state(file.index)));
  }

  /** File `index`'s size and last write. */
  state(index: number): Promise<FileState | undefined> {
    const bytes = this.stored(index) ? this.#files[index] : undefined;
    return Promise.resolve(
      bytes ? { size: bytes.length, mtimeMs: this.#written[index] } : undefined,
    );
  }

  /** Nothing to let go: the data stays until {@linkcode delete} (a paused torrent resumes with it). */
  close(): Promise<void> {
    return Promise.resolve();
  }

  /** Drops the data. */
  delete(): Promise<void> {
    this.#files.fill(undefined);
    return Promise.resolve();
  }
}
