/**
 * Type guards for decoded bencode values, so readers of torrent files,
 * tracker replies and peer messages check shapes without casts.
 *
 * @module
 */

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
