/**
 * HTTP `Range` requests (RFC 9110 §14): which bytes of a representation a
 * client asks for.
 *
 * @module
 */

/** A satisfiable byte range: `start` to `end`, `end` excluded. */
export interface ByteRange {
  /** First byte. */
  start: number;
  /** One past the last byte. */
  end: number;
}

/**
 * What a `Range` header asks of a representation of `length` bytes:
 *
 * - `undefined`: no range (no header, another unit, a syntax error, or
 *   several ranges, which this server answers with the whole, as RFC 9110
 *   allows): answer 200 with everything;
 * - `"unsatisfiable"`: a range wholly past the end: answer 416;
 * - a {@linkcode ByteRange}: answer 206 with those bytes.
 *
 * @example
 * ```ts
 * import { parseRange } from "./range.ts";
 *
 * console.log(parseRange("bytes=0-99", 1000)); // { start: 0, end: 100 }
 * console.log(parseRange("bytes=-100", 1000)); // { start: 900, end: 1000 }
 * console.log(parseRange("bytes=2000-", 1000)); // "unsatisfiable"
 * ```
 */
export function parseRange(
  header: string | null,
  length: number,
): ByteRange | "unsatisfiable" | undefined {
  if (header === null) return undefined;
  const match = /^\s*bytes\s*=\s*(\d{0,16})\s*-\s*(\d{0,16})\s*$/i.exec(header);
  if (!match) return undefined;
  const [, first, last] = match;
  if (first === "" && last === "") return undefined;
  if (first === "") {
    // A suffix: the last N bytes.
    const count = Number(last);
    if (count === 0) return "unsatisfiable";
    return { start: Math.max(0, length - count), end: length };
  }
  const start = Number(first);
  if (last !== "" && Number(last) < start) return undefined;
  if (start >= length) return "unsatisfiable";
  const end = last === "" ? length : Math.min(length, Number(last) + 1);
  return { start, end };
}
