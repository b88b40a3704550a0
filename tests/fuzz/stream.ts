/**
 * Streams for the fuzz targets that read from a connection: the input's
 * first bytes choose how the rest arrives (chunk sizes from a small PRNG
 * seeded by them), so a saved input replays exactly and mutations of those
 * bytes explore other splits.
 *
 * @module
 */

import type { ByteSource } from "../../lib/wire/message_reader.ts";

/** Largest chunk sizes the control byte chooses between. */
const MAX_CHUNKS = [1, 2, 3, 7, 16, 100, 4096, 1 << 30];

/** The first `count` bytes of `input` (zero-padded) and the rest. */
export function splitControl(
  input: Uint8Array,
  count: number,
): { control: Uint8Array; rest: Uint8Array } {
  const control = new Uint8Array(count);
  control.set(input.subarray(0, count));
  return { control, rest: input.subarray(count) };
}

/** `control` followed by `bytes`: a seed for a target that reads control bytes first. */
export function withControl(control: readonly number[], bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(control.length + bytes.length);
  out.set(control);
  out.set(bytes, control.length);
  return out;
}

/**
 * A {@linkcode ByteSource} over `bytes` that hands them out in chunks of
 * pseudo-random sizes, then ends.
 */
export class ChunkedSource implements ByteSource {
  readonly #bytes: Uint8Array;
  readonly #maxChunk: number;
  #state: number;
  #emptyReads = 0;
  /** Bytes handed out so far. */
  delivered = 0;

  /**
   * Prepares the stream.
   *
   * @param bytes What the stream carries.
   * @param chunkByte Chooses the largest chunk size (low 3 bits) and seeds the sizes.
   * @param seed More seed for the sizes.
   */
  constructor(bytes: Uint8Array, chunkByte: number, seed: number) {
    this.#bytes = bytes;
    this.#maxChunk = MAX_CHUNKS[chunkByte & 7];
    this.#state = ((seed << 8) ^ chunkByte ^ 0x9e3779b9) >>> 0 || 1;
  }

  #next(): number {
    let x = this.#state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#state = x >>> 0;
    return this.#state;
  }

  /**
   * Copies the next chunk into `buffer`; `null` once everything was read. A
   * reader that keeps asking with an empty buffer would spin forever on a
   * socket: after 100 such reads in a row this throws.
   */
  read(buffer: Uint8Array): Promise<number | null> {
    const left = this.#bytes.length - this.delivered;
    if (left === 0) return Promise.resolve(null);
    if (buffer.length === 0) {
      if (++this.#emptyReads >= 100) throw new Error("The reader keeps reading into no room");
      return Promise.resolve(0);
    }
    this.#emptyReads = 0;
    const chunk = 1 + (this.#next() % this.#maxChunk);
    const n = Math.min(chunk, left, buffer.length);
    buffer.set(this.#bytes.subarray(this.delivered, this.delivered + n));
    this.delivered += n;
    return Promise.resolve(n);
  }
}
