/**
 * Reading text fields of metainfo: UTF-8 where valid, and the `.utf-8`
 * variants some creators add beside a field.
 *
 * @module
 */

import { type BencodeDict } from "../bencode/types.ts";
import { decodeText, isBytes } from "../bencode/read.ts";
import { decodeUtf8Strict } from "../util/_bytes.ts";

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
