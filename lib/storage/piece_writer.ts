/**
 * Checking and writing finished pieces off the thread that talks to peers:
 * a worker hashes each piece and, when it is right, writes it through the
 * piece ↔ file map. The bytes travel to the worker and back without being
 * copied. With it a download reads its peers while earlier pieces are
 * hashed and written.
 *
 * @module
 */

import { DiskError, diskError, type ShoalError } from "../errors.ts";
import type { Torrent } from "../metainfo/torrent.ts";
import { type PieceVerifier, v1Verifier } from "../metainfo/piece_verifier.ts";
import type { FileStore } from "./file_store.ts";
import type { JobSpan, PieceOutcome } from "./_piece_jobs.ts";
import { PieceWorkerLease } from "./_piece_worker_pool.ts";

/** What became of a piece handed to {@linkcode PieceWriter.verifyAndWrite}. */
export interface VerifiedPiece {
  /** Whether its SHA-1 matched; it was written only then. */
  valid: boolean;
  /** Its bytes again (the buffer given was moved to the worker and back). */
  data: Uint8Array;
}

/**
 * Checks finished pieces against the torrent's hashes and writes the good
 * ones, in a worker (shared with the process's other torrents: a few
 * workers serve them all).
 *
 * @example Checking and writing a piece
 * ```ts
 * import { createTorrent } from "../metainfo/mod.ts";
 * import { FileStore, PieceWriter } from "./mod.ts";
 *
 * const dir = await Deno.makeTempDir();
 * const content = crypto.getRandomValues(new Uint8Array(20_000));
 * await Deno.writeFile(`${dir}/original.bin`, content);
 * const { torrent } = await createTorrent(`${dir}/original.bin`, { pieceLength: 16384 });
 * const store = new FileStore(torrent, `${dir}/copy`);
 * await store.create();
 * const writer = new PieceWriter(torrent, store);
 * const piece = await writer.verifyAndWrite(0, content.slice(0, 16384));
 * console.log(piece.valid); // true: piece 0 is now in copy/original.bin
 * console.log((await writer.verifyAndWrite(1, new Uint8Array(3616))).valid); // false
 * await writer.close();
 * await store.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class PieceWriter {
  readonly #store: FileStore;
  readonly #lease = new PieceWorkerLease();
  readonly #inFlight = new Set<Promise<PieceOutcome>>();
  readonly #verifier: PieceVerifier;
  /** The files the worker may hold open for this writer, closed by close(). */
  readonly #paths = new Set<string>();
  #closing?: Promise<void>;

  /**
   * Leases a worker (shared with the other torrents of the process).
   *
   * @param torrent The torrent whose pieces these are.
   * @param store Its files (already created; they give the paths).
   * @param verifier The hash each piece must have. Default: the torrent's v1 SHA-1 hashes.
   */
  constructor(torrent: Torrent, store: FileStore, verifier: PieceVerifier = v1Verifier(torrent)) {
    this.#verifier = verifier;
    this.#store = store;
    store.trackWrites(this);
  }

  /**
   * Hashes piece `index` and writes it when the hash matches. `data` is
   * moved to the worker: use the returned bytes afterwards.
   *
   * @throws {DiskError} When the piece cannot be written (the message names the file).
   */
  verifyAndWrite(index: number, data: Uint8Array): Promise<VerifiedPiece> {
    const failure = this.#lease.failure;
    if (failure) return Promise.reject(failure);
    if (this.#closing) return Promise.reject(new DiskError("The piece writer is closed"));
    // Only a whole buffer can be moved; a view into a larger one is copied first.
    const whole = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength &&
        data.buffer instanceof ArrayBuffer
      ? data
      : data.slice();
    let spans: JobSpan[];
    try {
      spans = this.#store.targets(index);
    } catch (error) {
      return Promise.reject(error);
    }
    for (const span of spans) this.#paths.add(span.path);
    const length = whole.length;
    const outcome = this.#lease.run({
      buffer: whole.buffer as ArrayBuffer,
      length,
      hash: this.#verifier.expected(index),
      spans,
    });
    this.#inFlight.add(outcome);
    outcome.finally(() => this.#inFlight.delete(outcome)).catch(() => {});
    return outcome.then((result) => {
      const bytes = new Uint8Array(result.buffer, 0, length);
      if (result.error) throw this.#writeError(result.error);
      return { valid: result.valid, data: bytes };
    });
  }

  /** Whether a piece is being checked or written now. */
  get busy(): boolean {
    return this.#inFlight.size > 0;
  }

  /** Resolves once the pieces handed over so far are written (or failed). */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.#inFlight]);
  }

  /**
   * Closes file `index` in the worker after the pieces handed over so far,
   * so later pieces are written to the file now at its path (it was
   * replaced or deleted on disk).
   */
  reopen(index: number): void {
    if (this.#closing || this.#lease.failure || !this.#store.stored(index)) return;
    this.#lease.reopen(this.#store.path(index));
  }

  /** Waits for the pieces handed over, closes this writer's files and ends its lease of the worker. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await Promise.allSettled([...this.#inFlight]);
      await this.#lease.closeFiles([...this.#paths]);
      this.#lease.release();
    })();
    return this.#closing;
  }

  #writeError(error: { name: string; message: string; path: string }): ShoalError {
    const cause = Object.assign(new Error(error.message), { name: error.name });
    // Give it back the Deno error class it had, so the message says why as elsewhere.
    const known = (Deno.errors as Record<string, new (m: string) => Error>)[error.name];
    return diskError(known ? new known(error.message) : cause, "write to", error.path);
  }
}
