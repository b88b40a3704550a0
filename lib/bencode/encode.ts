/**
 * Canonical bencode encoder (BEP 3): dictionary keys sorted by raw bytes,
 * integers without leading zeros. `decode(encode(x))` gives back `x`.
 *
 * @module
 */

import { BencodeError } from "./errors.ts";
import type { BencodeInput } from "./types.ts";

const textEncoder = new TextEncoder();

/** Grows one buffer instead of concatenating many small ones. */
class ByteWriter {
  buffer: Uint8Array<ArrayBuffer> = new Uint8Array(256);
  length = 0;

  reserve(extra: number): void {
    const needed = this.length + extra;
    if (needed <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < needed) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.buffer.subarray(0, this.length));
    this.buffer = grown;
  }

  ascii(text: string): void {
    this.reserve(text.length);
    for (let i = 0; i < text.length; i++) {
      this.buffer[this.length++] = text.charCodeAt(i);
    }
  }

  bytes(data: Uint8Array): void {
    this.reserve(data.length);
    this.buffer.set(data, this.length);
    this.length += data.length;
  }

  /** Writes a byte string whose content is a binary string (dictionary keys). */
  binaryString(text: string): void {
    this.ascii(`${text.length}:`);
    this.reserve(text.length);
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      if (code > 255) {
        throw new BencodeError(
          `dictionary key ${
            JSON.stringify(text)
          } is not a binary string (character above 255); encode text keys with utf8ToBinary`,
          this.length,
        );
      }
      this.buffer[this.length++] = code;
    }
  }

  result(): Uint8Array<ArrayBuffer> {
    return this.buffer.slice(0, this.length);
  }
}

function isMap(
  value: BencodeInput,
): value is ReadonlyMap<string, BencodeInput | undefined> {
  return value instanceof Map;
}

function writeValue(writer: ByteWriter, value: BencodeInput, depth: number): void {
  if (depth > 1000) {
    throw new BencodeError("value nests too deeply to encode", writer.length);
  }
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) {
      throw new BencodeError(
        `${value} is not an integer in the safe range; use bigint for larger values`,
        writer.length,
      );
    }
    writer.ascii(`i${value === 0 ? 0 : value}e`);
  } else if (typeof value === "bigint") {
    writer.ascii(`i${value}e`);
  } else if (typeof value === "string") {
    const bytes = textEncoder.encode(value);
    writer.ascii(`${bytes.length}:`);
    writer.bytes(bytes);
  } else if (value instanceof Uint8Array) {
    writer.ascii(`${value.length}:`);
    writer.bytes(value);
  } else if (Array.isArray(value)) {
    writer.ascii("l");
    for (const item of value as readonly BencodeInput[]) {
      writeValue(writer, item, depth + 1);
    }
    writer.ascii("e");
  } else {
    const entries = isMap(value)
      ? [...value.entries()]
      : Object.entries(value as { [key: string]: BencodeInput | undefined });
    const present = entries.filter((entry): entry is [string, BencodeInput] =>
      entry[1] !== undefined
    );
    // Binary-string keys sort by UTF-16 code unit, which is raw byte order.
    present.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    writer.ascii("d");
    for (let i = 0; i < present.length; i++) {
      const [key, item] = present[i];
      if (i > 0 && present[i - 1][0] === key) {
        throw new BencodeError(`duplicate dictionary key ${JSON.stringify(key)}`, writer.length);
      }
      writer.binaryString(key);
      writeValue(writer, item, depth + 1);
    }
    writer.ascii("e");
  }
}

/**
 * Encodes a value as canonical bencode.
 *
 * @param value Integers, byte strings, text (as UTF-8), lists, maps or objects.
 * @returns The encoded bytes.
 * @throws {BencodeError} For non-integer numbers and keys that are not binary strings.
 *
 * @example Keys come out sorted
 * ```ts
 * import { encode } from "./encode.ts";
 * const bytes = encode({ b: 1, a: "x" });
 * console.assert(new TextDecoder().decode(bytes) === "d1:a1:x1:bi1ee");
 * ```
 */
export function encode(value: BencodeInput): Uint8Array<ArrayBuffer> {
  const writer = new ByteWriter();
  writeValue(writer, value, 0);
  return writer.result();
}
