/**
 * The values bencode carries.
 *
 * @module
 */

/**
 * A decoded bencode dictionary. Keys are *binary strings* (one character per
 * byte, see `bytesToBinary`), so ASCII keys read naturally and any raw key
 * survives a round trip. Iteration order is the order in the input.
 */
export type BencodeDict = Map<string, BencodeValue>;

/**
 * A decoded bencode value: integers are `number` when they fit in the safe
 * integer range and `bigint` beyond it; byte strings stay bytes.
 */
export type BencodeValue =
  | number
  | bigint
  | Uint8Array
  | BencodeValue[]
  | BencodeDict;

/**
 * What the encoder accepts: decoded values, plus JavaScript strings (encoded
 * as UTF-8) and plain objects (their keys are binary strings, like
 * {@linkcode BencodeDict}). `undefined` entries of objects and maps are
 * skipped, which makes optional fields easy to write.
 */
export type BencodeInput =
  | number
  | bigint
  | string
  | Uint8Array
  | readonly BencodeInput[]
  | ReadonlyMap<string, BencodeInput | undefined>
  | { readonly [key: string]: BencodeInput | undefined };

/** A half-open byte range `[start, end)` of the input. */
export interface ByteSpan {
  /** Offset of the first byte. */
  start: number;
  /** Offset one past the last byte. */
  end: number;
}
