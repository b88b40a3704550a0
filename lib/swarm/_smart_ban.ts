/**
 * Smart ban: who to blame for pieces that fail their hash check. A peer
 * that alone sent two bad pieces is guilty. When a bad piece had several
 * senders, its bytes are kept (up to a bound) until the piece is
 * downloaded right, and the senders of the blocks that differ from the
 * good copy are guilty. Peers are numbers; this module knows nothing else
 * of them and does no banning itself.
 *
 * @module
 */

import { BLOCK_SIZE } from "../wire/messages.ts";
import { bytesEqual } from "../util/_bytes.ts";

/** Bad pieces a peer may send alone before it is guilty. */
export const SOLE_FAILURES_BEFORE_BAN = 2;
/** Default bytes of bad pieces kept to compare with their good copy. */
const MAX_KEPT_BYTES = 16 * 1024 * 1024;

/** Finds the peers that send corrupt data. */
export class SmartBan {
  readonly #maxKeptBytes: number;
  /** Bad pieces with several senders: their bytes and who sent each block. */
  readonly #kept = new Map<number, { data: Uint8Array; senders: Int32Array }>();
  #keptBytes = 0;
  /** Bad pieces each peer sent alone. */
  readonly #soleFailures = new Map<number, number>();

  /** @param maxKeptBytes Most bytes of bad pieces kept. Default 16 MiB. */
  constructor(maxKeptBytes: number = MAX_KEPT_BYTES) {
    this.#maxKeptBytes = maxKeptBytes;
  }

  /** Bytes of bad pieces kept now. */
  get keptBytes(): number {
    return this.#keptBytes;
  }

  /**
   * Piece `index` failed its check.
   *
   * @param data Its bytes (kept, not copied, when it had several senders: do not reuse the buffer).
   * @param senders Who sent each block.
   * @param contributors Every peer that sent a block of it.
   * @returns A peer that is guilty now (it sent its second bad piece alone), if any.
   */
  failed(
    index: number,
    data: Uint8Array,
    senders: Int32Array,
    contributors: ReadonlySet<number>,
  ): number | undefined {
    if (contributors.size === 1) {
      const [peer] = contributors;
      const failures = (this.#soleFailures.get(peer) ?? 0) + 1;
      this.#soleFailures.set(peer, failures);
      return failures >= SOLE_FAILURES_BEFORE_BAN ? peer : undefined;
    }
    if (this.#kept.has(index) || this.#keptBytes + data.length > this.#maxKeptBytes) {
      return undefined;
    }
    this.#keptBytes += data.length;
    this.#kept.set(index, { data, senders });
    return undefined;
  }

  /**
   * Piece `index` was downloaded right: the senders of the blocks of its
   * kept bad copy that differ are guilty.
   *
   * @returns The guilty peers (none when no bad copy was kept).
   */
  verified(index: number, good: Uint8Array): Set<number> {
    const guilty = new Set<number>();
    const bad = this.#kept.get(index);
    if (!bad) return guilty;
    this.#kept.delete(index);
    this.#keptBytes -= bad.data.length;
    for (let block = 0; block < bad.senders.length; block++) {
      const begin = block * BLOCK_SIZE;
      const end = Math.min(begin + BLOCK_SIZE, good.length);
      if (!bytesEqual(bad.data.subarray(begin, end), good.subarray(begin, end))) {
        guilty.add(bad.senders[block]);
      }
    }
    return guilty;
  }

  /** How many bad pieces `peer` sent alone. */
  soleFailures(peer: number): number {
    return this.#soleFailures.get(peer) ?? 0;
  }

  /** A peer left: its count goes (a peer that comes back is a new number). */
  forget(peer: number): void {
    this.#soleFailures.delete(peer);
  }
}
