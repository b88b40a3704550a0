/**
 * Byte helpers used across layers: hex, base32, binary strings, UTF-8,
 * comparison and concatenation.
 *
 * A *binary string* holds one byte per UTF-16 code unit (0–255). Bencode
 * dictionary keys are kept this way so any key, even raw info hash bytes,
 * survives a round trip, while ASCII keys read naturally (`dict.get("info")`).
 *
 * @module
 */

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
const BASE32_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const utf8Encoder = new TextEncoder();
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const lenientUtf8 = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });

/**
 * Lower-case hex of the bytes.
 *
 * @example Hex of two bytes
 * ```ts
 * import { toHex } from "./_bytes.ts";
 * console.assert(toHex(new Uint8Array([0, 255])) === "00ff");
 * ```
 */
export function toHex(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += HEX[bytes[i]];
  return out;
}

/**
 * Parses hex (either case) into bytes.
 *
 * @returns The bytes, or `undefined` when the text is not valid hex.
 */
export function fromHex(text: string): Uint8Array | undefined {
  if (text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) return undefined;
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) {
    out[i] = parseInt(text.slice(i * 2, i * 2 + 2), 16);
  }
  return out;
}

/** RFC 4648 base32 (upper case, no padding) of the bytes. */
export function toBase32(bytes: Uint8Array): string {
  let out = "";
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32_ALPHABET[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32_ALPHABET[(buffer << (5 - bits)) & 31];
  return out;
}

/**
 * Parses RFC 4648 base32 (either case, no padding).
 *
 * @returns The bytes, or `undefined` when the text is not valid base32.
 */
export function fromBase32(text: string): Uint8Array | undefined {
  const upper = text.toUpperCase();
  if (!/^[A-Z2-7]*$/.test(upper)) return undefined;
  const out = new Uint8Array(Math.floor((upper.length * 5) / 8));
  let buffer = 0;
  let bits = 0;
  let index = 0;
  for (const char of upper) {
    buffer = ((buffer << 5) | BASE32_ALPHABET.indexOf(char)) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      out[index++] = (buffer >>> (bits - 8)) & 0xff;
      bits -= 8;
    }
  }
  return out;
}

/** Converts bytes to a binary string (one code unit per byte). */
export function bytesToBinary(bytes: Uint8Array): string {
  let out = "";
  const chunk = 8192;
  for (let i = 0; i < bytes.length; i += chunk) {
    out += String.fromCharCode.apply(
      null,
      bytes.subarray(i, i + chunk) as unknown as number[],
    );
  }
  return out;
}

/**
 * Converts a binary string back to bytes.
 *
 * @throws {RangeError} When a code unit is above 255 (not a binary string).
 */
export function binaryToBytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code > 255) {
      throw new RangeError(
        `Character ${
          JSON.stringify(text[i])
        } at index ${i} is not a byte: binary strings hold one byte per character`,
      );
    }
    out[i] = code;
  }
  return out;
}

/** UTF-8 encodes text. */
export function utf8(text: string): Uint8Array {
  return utf8Encoder.encode(text);
}

/**
 * Decodes UTF-8 strictly.
 *
 * @returns The text, or `undefined` when the bytes are not valid UTF-8.
 */
export function decodeUtf8Strict(bytes: Uint8Array): string | undefined {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/** Decodes UTF-8, replacing invalid sequences with U+FFFD. */
export function decodeUtf8Lenient(bytes: Uint8Array): string {
  return lenientUtf8.decode(bytes);
}

/** Compares two byte arrays in lexicographic (memcmp) order. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    if (a[i] !== b[i]) return a[i] - b[i];
  }
  return a.length - b.length;
}

/** True when both arrays hold the same bytes. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && compareBytes(a, b) === 0;
}

/** Concatenates byte arrays into one new array. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const part of parts) total += part.length;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
