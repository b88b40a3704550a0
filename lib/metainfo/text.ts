/**
 * Reading text fields of metainfo: UTF-8 where valid, and the `.utf-8`
 * variants some creators add beside a field.
 *
 * @module
 */

import { type BencodeDict, isBytes } from "../bencode/mod.ts";
import { bytesToBinary, decodeUtf8Lenient, decodeUtf8Strict } from "../util/bytes.ts";

/**
 * Decodes a text field: strict UTF-8 when valid, otherwise each invalid
 * sequence becomes `_` so the result is deterministic and printable.
 */
export function decodeText(bytes: Uint8Array): string {
  // Most names are ASCII: skip the decoder call for them.
  if (bytes.length <= 256 && bytes.every((byte) => byte < 0x80)) return bytesToBinary(bytes);
  return decodeUtf8Strict(bytes) ?? decodeUtf8Lenient(bytes).replaceAll("\ufffd", "_");
}

/**
 * Reads a text field, preferring `<key>.utf-8` when it is present and valid.
 *
 * @returns The text, or `undefined` when neither field is a byte string.
 */
export function readTextField(dict: BencodeDict, key: string): string | undefined {
  const unicode = dict.get(`${key}.utf-8`);
  if (isBytes(unicode)) {
    const text = decodeUtf8Strict(unicode);
    if (text !== undefined) return text;
  }
  const plain = dict.get(key);
  return isBytes(plain) ? decodeText(plain) : undefined;
}
