/** Test helpers for bytes and text. */

/** UTF-8 (or, for bencode literals, ASCII) bytes of a string. */
export function ascii(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/** A binary string's bytes (one char per byte, as in raw bencode literals). */
export function latin1(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}
