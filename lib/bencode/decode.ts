/**
 * Bencode decoder (BEP 3): strict by default, with a lenient mode for the
 * unsorted dictionaries seen in real torrent files and tracker replies.
 *
 * Byte strings are returned as views (`subarray`) of the input, so decoding a
 * 100 MB piece-hash blob copies nothing. Optional span recording gives the
 * exact bytes of any dictionary or list, which is how the info hash is
 * computed over the original bytes.
 *
 * @module
 */

import { bytesToBinary } from "../util/_bytes.ts";
import { BencodeError } from "./errors.ts";
import type { BencodeDict, BencodeValue, ByteSpan } from "./types.ts";

/** Nesting deeper than this is refused unless the caller sets `maxDepth`. */
export const DEFAULT_MAX_DEPTH = 100;

/** Integer literals longer than this many digits are refused. */
const MAX_INTEGER_DIGITS = 64;
/** Byte string length prefixes longer than this many digits are refused. */
const MAX_LENGTH_DIGITS = 15;

const CHAR_0 = 0x30;
const CHAR_9 = 0x39;
const CHAR_COLON = 0x3a;
const CHAR_MINUS = 0x2d;
const CHAR_D = 0x64;
const CHAR_E = 0x65;
const CHAR_I = 0x69;
const CHAR_L = 0x6c;

/** Options of {@linkcode decode} and {@linkcode decodeWithDetails}. */
export interface DecodeOptions {
  /**
   * `"strict"` (default) refuses dictionaries whose keys are not sorted by
   * raw bytes. `"lenient"` accepts them and reports it in
   * {@linkcode DecodeDetails.unsortedKeysAt}. Duplicate keys are refused in
   * both modes: they make the meaning of a dictionary ambiguous.
   */
  mode?: "strict" | "lenient";
  /** Deepest nesting of lists and dictionaries accepted. Default 100. */
  maxDepth?: number;
  /** Record the byte span of every list and dictionary. Default false. */
  recordSpans?: boolean;
  /**
   * With `recordSpans`, record only containers this deep or less (the top
   * level is 1): a torrent needs the span of its info dictionary (2), not of
   * a million file entries. Default: every depth.
   */
  maxSpanDepth?: number;
  /**
   * Most items one list or dictionary may hold: decoding stops at the first
   * item over it, before memory is spent on the rest. Default: no limit
   * beyond the input's size.
   */
  maxItems?: number;
  /**
   * Accept bytes after the first complete value (BEP 9 metadata messages
   * append raw data to a bencoded header). Default false.
   */
  allowTrailing?: boolean;
}

/** The result of {@linkcode decodeWithDetails}. */
export interface DecodeDetails {
  /** The decoded value. */
  value: BencodeValue;
  /** Offset one past the end of the value (the input length unless `allowTrailing`). */
  end: number;
  /**
   * Offset of the first dictionary whose keys were out of order (lenient
   * mode only), or `undefined` when every dictionary was sorted.
   */
  unsortedKeysAt: number | undefined;
  /**
   * The byte span of a list or dictionary of the decoded value, when
   * `recordSpans` was set; `undefined` for values it did not record.
   */
  spanOf(value: BencodeValue): ByteSpan | undefined;
}

class Decoder {
  position = 0;
  depth = 0;
  unsortedKeysAt: number | undefined = undefined;
  readonly spans: WeakMap<object, ByteSpan> | undefined;

  constructor(
    readonly input: Uint8Array,
    readonly strict: boolean,
    readonly maxDepth: number,
    recordSpans: boolean,
    readonly maxSpanDepth: number,
    readonly maxItems: number,
  ) {
    this.spans = recordSpans ? new WeakMap() : undefined;
  }

  tooMany(start: number): never {
    return this.fail(`a list or dictionary holds more than ${this.maxItems} items`, start);
  }

  fail(problem: string, offset = this.position): never {
    throw new BencodeError(problem, offset);
  }

  value(): BencodeValue {
    const byte = this.input[this.position];
    if (byte === undefined) return this.fail("unexpected end of input");
    if (byte === CHAR_I) return this.integer();
    if (byte >= CHAR_0 && byte <= CHAR_9) return this.byteString();
    if (byte === CHAR_L) return this.list();
    if (byte === CHAR_D) return this.dictionary();
    return this.fail(
      `unexpected byte 0x${byte.toString(16).padStart(2, "0")}; expected i, l, d or a digit`,
    );
  }

  integer(): number | bigint {
    const start = this.position;
    const input = this.input;
    let position = start + 1;
    const negative = input[position] === CHAR_MINUS;
    if (negative) position++;
    const digitsStart = position;
    let value = 0;
    while (position < input.length) {
      const byte = input[position];
      if (byte < CHAR_0 || byte > CHAR_9) break;
      value = value * 10 + (byte - CHAR_0);
      position++;
    }
    const digits = position - digitsStart;
    if (position >= input.length) {
      return this.fail("integer is not terminated by 'e'", start);
    }
    if (input[position] !== CHAR_E) {
      return this.fail("integer contains a character that is not a digit", position);
    }
    if (digits === 0) return this.fail("integer has no digits", start);
    if (digits > MAX_INTEGER_DIGITS) {
      return this.fail(`integer is longer than ${MAX_INTEGER_DIGITS} digits`, start);
    }
    if (input[digitsStart] === CHAR_0 && digits > 1) {
      return this.fail("integer has a leading zero", start);
    }
    if (negative && digits === 1 && input[digitsStart] === CHAR_0) {
      return this.fail("integer is negative zero", start);
    }
    this.position = position + 1;
    if (digits <= 15) return negative ? -value : value;
    const big = BigInt(bytesToBinary(input.subarray(start + 1, position)));
    const small = Number(big);
    return Number.isSafeInteger(small) ? small : big;
  }

  byteString(): Uint8Array {
    const start = this.position;
    const input = this.input;
    let position = start;
    let length = 0;
    while (position < input.length) {
      const byte = input[position];
      if (byte < CHAR_0 || byte > CHAR_9) break;
      length = length * 10 + (byte - CHAR_0);
      position++;
    }
    const digits = position - start;
    if (digits > MAX_LENGTH_DIGITS) {
      return this.fail("byte string length is absurdly long", start);
    }
    if (position >= input.length) {
      return this.fail("byte string length is not followed by ':'", start);
    }
    if (input[position] !== CHAR_COLON) {
      return this.fail("byte string length is not followed by ':'", position);
    }
    if (input[start] === CHAR_0 && digits > 1) {
      return this.fail("byte string length has a leading zero", start);
    }
    const dataStart = position + 1;
    const available = input.length - dataStart;
    if (length > available) {
      return this.fail(
        `byte string of ${length} bytes runs past the end of input (${available} bytes left)`,
        start,
      );
    }
    this.position = dataStart + length;
    return input.subarray(dataStart, dataStart + length);
  }

  /**
   * A dictionary key as a binary string, read straight from the input: no
   * view is made for it (a million-file torrent has millions of keys).
   */
  keyString(): string {
    const start = this.position;
    const input = this.input;
    let length = 0;
    let position = start;
    while (position < input.length && position - start <= MAX_LENGTH_DIGITS) {
      const byte = input[position];
      if (byte < CHAR_0 || byte > CHAR_9) break;
      length = length * 10 + (byte - CHAR_0);
      position++;
    }
    if (length > 64 || input[position] !== CHAR_COLON || position + 1 + length > input.length) {
      return bytesToBinary(this.byteString()); // long or malformed: the general path says why
    }
    if (input[start] === CHAR_0 && position - start > 1) {
      return this.fail("byte string length has a leading zero", start);
    }
    let key = "";
    for (let i = position + 1; i < position + 1 + length; i++) key += String.fromCharCode(input[i]);
    this.position = position + 1 + length;
    return key;
  }

  enter(): void {
    if (++this.depth > this.maxDepth) {
      this.fail(`nesting is deeper than the limit of ${this.maxDepth}`);
    }
    this.position++;
  }

  leave(container: object, start: number): void {
    this.position++;
    if (this.depth-- <= this.maxSpanDepth) {
      this.spans?.set(container, { start, end: this.position });
    }
  }

  list(): BencodeValue[] {
    const start = this.position;
    this.enter();
    const items: BencodeValue[] = [];
    while (this.input[this.position] !== CHAR_E) {
      if (this.position >= this.input.length) {
        this.fail("list is not terminated by 'e'", start);
      }
      if (items.length >= this.maxItems) this.tooMany(start);
      items.push(this.value());
    }
    this.leave(items, start);
    return items;
  }

  dictionary(): BencodeDict {
    const start = this.position;
    this.enter();
    const dict: BencodeDict = new Map();
    let previous: string | undefined;
    while (this.input[this.position] !== CHAR_E) {
      if (this.position >= this.input.length) {
        this.fail("dictionary is not terminated by 'e'", start);
      }
      const keyOffset = this.position;
      const byte = this.input[keyOffset];
      if (byte < CHAR_0 || byte > CHAR_9) {
        this.fail("dictionary key is not a byte string");
      }
      const key = this.keyString();
      if (dict.has(key)) this.fail(`duplicate dictionary key ${JSON.stringify(key)}`, keyOffset);
      if (previous !== undefined && key < previous) {
        if (this.strict) {
          this.fail(
            `dictionary keys are not sorted (${JSON.stringify(key)} after ${
              JSON.stringify(previous)
            })`,
            keyOffset,
          );
        }
        this.unsortedKeysAt ??= keyOffset;
      }
      if (this.position >= this.input.length) {
        this.fail(`dictionary key ${JSON.stringify(key)} has no value`);
      }
      if (this.input[this.position] === CHAR_E) {
        this.fail(`dictionary key ${JSON.stringify(key)} has no value`);
      }
      if (dict.size >= this.maxItems) this.tooMany(start);
      dict.set(key, this.value());
      previous = key;
    }
    this.leave(dict, start);
    return dict;
  }
}

/**
 * Decodes one bencoded value, returning details: where it ended, whether any
 * dictionary was unsorted and, on request, the byte span of each container.
 *
 * @param input The bencoded bytes.
 * @param options Mode, depth limit, span recording, trailing data.
 * @returns The value and the details.
 * @throws {BencodeError} When the input is malformed; the message names the offset.
 *
 * @example The exact bytes of a nested dictionary
 * ```ts
 * import { decodeWithDetails } from "./decode.ts";
 * const input = new TextEncoder().encode("d4:infod1:ai1eee");
 * const details = decodeWithDetails(input, { recordSpans: true });
 * const info = (details.value as Map<string, unknown>).get("info") as Map<string, unknown>;
 * const span = details.spanOf(info as never)!;
 * console.assert(new TextDecoder().decode(input.subarray(span.start, span.end)) === "d1:ai1ee");
 * ```
 */
export function decodeWithDetails(
  input: Uint8Array,
  options: DecodeOptions = {},
): DecodeDetails {
  const decoder = new Decoder(
    input,
    (options.mode ?? "strict") === "strict",
    options.maxDepth ?? DEFAULT_MAX_DEPTH,
    options.recordSpans ?? false,
    options.maxSpanDepth ?? Infinity,
    options.maxItems ?? Infinity,
  );
  const value = decoder.value();
  if (!options.allowTrailing && decoder.position !== input.length) {
    decoder.fail(
      `${input.length - decoder.position} bytes of trailing data after the value`,
    );
  }
  const spans = decoder.spans;
  return {
    value,
    end: decoder.position,
    unsortedKeysAt: decoder.unsortedKeysAt,
    spanOf: (container) => typeof container === "object" ? spans?.get(container) : undefined,
  };
}

/**
 * Decodes one bencoded value that must fill the whole input.
 *
 * @param input The bencoded bytes.
 * @param options Mode and depth limit.
 * @returns The decoded value.
 * @throws {BencodeError} When the input is malformed; the message names the offset.
 *
 * @example Decoding a dictionary
 * ```ts
 * import { decode } from "./decode.ts";
 * const value = decode(new TextEncoder().encode("d3:agei42ee")) as Map<string, unknown>;
 * console.assert(value.get("age") === 42);
 * ```
 */
export function decode(
  input: Uint8Array,
  options: Omit<DecodeOptions, "recordSpans" | "allowTrailing"> = {},
): BencodeValue {
  return decodeWithDetails(input, options).value;
}
