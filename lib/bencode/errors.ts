/**
 * The error the bencode decoder and encoder throw.
 *
 * @module
 */

import { ShoalError } from "../errors.ts";

/**
 * Malformed bencode: says what was wrong and at which byte offset.
 *
 * @example Where the bytes go wrong
 * ```ts
 * import { BencodeError, decode } from "./mod.ts";
 *
 * try {
 *   decode(new TextEncoder().encode("d3:key5:valuee"));
 * } catch (error) {
 *   if (!(error instanceof BencodeError)) throw error;
 *   console.log(error.message); // … at byte 6 …
 * }
 * ```
 */
export class BencodeError extends ShoalError {
  /** Byte offset in the input where the problem was found. */
  readonly offset: number;

  /**
   * Creates an error for malformed input.
   *
   * @param problem What was wrong, e.g. "integer has a leading zero".
   * @param offset Byte offset of the problem.
   */
  constructor(problem: string, offset: number) {
    super(`Invalid bencode at byte ${offset}: ${problem}`);
    this.offset = offset;
  }
}
