/**
 * What a torrent's data lives in: the storage interface, about the size of
 * anacrolix/torrent's. `FileStore` (files under a download directory) is
 * the one a download uses; `MemoryStore` holds a torrent in memory (for
 * tests, and for data that has no files yet). Piece checks and the upload
 * read cache take the interface, not a concrete store.
 *
 * @module
 */

import type { Torrent, TorrentFile } from "../metainfo/torrent.ts";

/** Whether a torrent's file holds bytes of its own (BEP 47 padding files and symlinks do not). */
export function holdsBytes(file: TorrentFile): boolean {
  return !file.padding && file.symlinkTarget === undefined;
}

/** Size and modification time of a file on disk. */
export interface FileState {
  /** Bytes. */
  size: number;
  /** Modification time in ms since the epoch (with fractions where the system has them). */
  mtimeMs: number;
}

/** The data of one torrent, piece by piece, and the state of its files. */
export interface Storage {
  /** Makes room for every file (a `FileStore` creates them, sparse, at their size). */
  create(): Promise<void>;
  /** Whether file `index` holds bytes (padding files and symlinks do not). */
  stored(index: number): boolean;
  /**
   * Reads piece `index` into `into` (its size); bytes of files not stored read as zeros.
   *
   * @returns False when some of its bytes are missing.
   */
  readPiece(index: number, into: Uint8Array): Promise<boolean>;
  /** Writes a whole verified piece. */
  writePiece(index: number, data: Uint8Array): Promise<void>;
  /** Each file's state; `undefined` for a file that is missing or not stored. */
  states(): Promise<(FileState | undefined)[]>;
  /** File `index`'s state, as {@linkcode states} gives it. */
  state(index: number): Promise<FileState | undefined>;
  /**
   * Selects files (optional: a store without it keeps every file). Files
   * selected are created once {@linkcode create} has run, with any bytes
   * kept for them elsewhere; files no longer selected keep what they hold.
   */
  select?(selected: readonly boolean[]): Promise<void>;
  /**
   * Whether the bytes of file `file` in piece `piece` are kept outside
   * the file (a part file), so a check reads the piece though the file is
   * missing. Optional: without it, a missing file's pieces are missing.
   */
  heldElsewhere?(piece: number, file: number): boolean;
  /** Ends all use of the storage. */
  close(): Promise<void>;
  /** Deletes the torrent's data, and nothing else (after {@linkcode close}). */
  delete(): Promise<void>;
}

/** What a torrent asks of the storage it is given. */
export interface StorageRequest {
  /** The download directory (where a `FileStore` puts the files). */
  downloadDir: string;
  /** `read` never creates or changes data (a seed that only reads). */
  mode: "read" | "write";
  /** Most files open at once (for stores with files). */
  maxOpenFiles?: number;
  /**
   * For stores with files: called before each read of an open file; the
   * function it returns gets the file's state, and what that throws fails
   * the read (a file changed since it was checked). See `FileStoreOptions`.
   */
  beforeRead?: (file: number) => (state: FileState) => void;
  /** Per file: whether it is selected; a store need not create the others. Default: every file. */
  selected?: readonly boolean[];
  /**
   * Where a store may keep the bytes of pieces shared with files that are
   * not selected (in the state directory).
   */
  partFile?: string;
  /** Told what a store could not do and left out (a BEP 47 symlink not created). */
  warn?: (message: string) => void;
}

/**
 * Makes the storage of a torrent (`AddTorrentOptions.storage`):
 * `fileStorage` (the default) or `memoryStorage()`, or one of your own.
 */
export type StorageFactory = (torrent: Torrent, request: StorageRequest) => Storage;
