/**
 * The error the bencode decoder and encoder throw.
 *
 * @module
 */

import { ShoalError } from "../errors.ts";

/** Malformed bencode: says what was wrong and at which byte offset. */
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
