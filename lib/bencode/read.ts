/**
 * Type guards for decoded bencode values, so readers of torrent files,
 * tracker replies and peer messages check shapes without casts, and the
 * helper that reads a byte string holding text.
 *
 * @module
 */

import { bytesToBinary, decodeUtf8Lenient, decodeUtf8Strict } from "../util/_bytes.ts";
import type { BencodeDict, BencodeValue } from "./types.ts";

/** True for a dictionary. */
export function isDict(value: BencodeValue | undefined): value is BencodeDict {
  return value instanceof Map;
}

/** True for a list. */
export function isList(value: BencodeValue | undefined): value is BencodeValue[] {
  return Array.isArray(value);
}

/** True for a byte string. */
export function isBytes(value: BencodeValue | undefined): value is Uint8Array {
  return value instanceof Uint8Array;
}

/** True for an integer in the safe range (bigints are not). */
export function isInteger(value: BencodeValue | undefined): value is number {
  return typeof value === "number";
}

/**
 * Decodes a byte string that holds text: strict UTF-8 when valid, otherwise
 * each invalid sequence becomes `_`, so the result is deterministic and
 * printable.
 *
 * @example Text from a byte string
 * ```ts
 * import { decodeText } from "./read.ts";
 * console.assert(decodeText(new Uint8Array([0x61, 0xff, 0x62])) === "a_b");
 * ```
 */
export function decodeText(bytes: Uint8Array): string {
  // Most names are ASCII: skip the decoder call for them.
  if (bytes.length <= 256 && bytes.every((byte) => byte < 0x80)) return bytesToBinary(bytes);
  return decodeUtf8Strict(bytes) ?? decodeUtf8Lenient(bytes).replaceAll("\ufffd", "_");
}
