/**
 * Hashes a byte stream piece by piece as it arrives, without copying: each
 * chunk is fed to the running SHA-1 in slices cut at piece boundaries.
 *
 * @module
 */

import { createSha1, type Sha1 } from "../util/_sha1.ts";

/** Computes the `pieces` field of a torrent from the concatenated file data. */
export class PieceHasher {
  readonly #pieceLength: number;
  readonly #totalLength: number;
  readonly #hashes: Uint8Array;
  #pieces = 0;
  #inPiece = 0;
  #hash: Sha1 | undefined;
  #total = 0;

  /**
   * Prepares room for every hash of the stream.
   *
   * @param pieceLength Bytes per piece.
   * @param totalLength Bytes that will be fed in all.
   */
  constructor(pieceLength: number, totalLength: number) {
    this.#pieceLength = pieceLength;
    this.#totalLength = totalLength;
    this.#hashes = new Uint8Array(Math.ceil(totalLength / pieceLength) * 20);
  }

  /** Bytes fed so far. */
  get bytesHashed(): number {
    return this.#total;
  }

  /** Feeds the next bytes of the stream. */
  update(data: Uint8Array): void {
    let offset = 0;
    while (offset < data.length) {
      const take = Math.min(this.#pieceLength - this.#inPiece, data.length - offset);
      this.#hash ??= createSha1();
      this.#hash.update(data.subarray(offset, offset + take));
      offset += take;
      this.#inPiece += take;
      if (this.#inPiece === this.#pieceLength) this.#finishPiece();
    }
    this.#total += data.length;
  }

  #finishPiece(): void {
    if (!this.#hash) return;
    if ((this.#pieces + 1) * 20 > this.#hashes.length) {
      throw new RangeError("More data was hashed than announced");
    }
    this.#hashes.set(this.#hash.digest(), this.#pieces * 20);
    this.#pieces++;
    this.#hash = undefined;
    this.#inPiece = 0;
  }

  /**
   * Hashes the last, possibly short, piece and returns all hashes.
   *
   * @throws {RangeError} When a different number of bytes was fed than announced.
   */
  finish(): Uint8Array {
    if (this.#total !== this.#totalLength) {
      throw new RangeError(`Hashed ${this.#total} bytes, expected ${this.#totalLength}`);
    }
    if (this.#inPiece > 0) this.#finishPiece();
    return this.#hashes;
  }
}
