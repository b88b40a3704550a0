/**
 * Write tokens (BEP 5): a `get_peers` reply gives the querier a token tied
 * to its IP address, and an `announce_peer` is taken only with a token
 * given to that address. A token is the SHA-1 of a secret, the address and
 * the info hash, cut to 8 bytes; the secret changes every 5 minutes and
 * the previous one is still accepted, so a token is good for 5 to 10
 * minutes.
 *
 * @module
 */

import { sha1 } from "../util/_sha1.ts";
import { bytesEqual, concatBytes, utf8 } from "../util/_bytes.ts";

/** How often the secret changes. */
export const TOKEN_ROTATION_MS = 5 * 60_000;
const TOKEN_LENGTH = 8;

/**
 * The node's token secrets.
 *
 * @example A token is accepted from the address it was given to
 * ```ts
 * import { TokenSecrets } from "./tokens.ts";
 *
 * const tokens = new TokenSecrets();
 * const infoHash = new Uint8Array(20);
 * const token = tokens.issue("10.0.0.2", infoHash, Date.now());
 * console.log(tokens.accepts(token, "10.0.0.2", infoHash, Date.now())); // true
 * console.log(tokens.accepts(token, "10.0.0.3", infoHash, Date.now())); // false
 * ```
 */
export class TokenSecrets {
  #current = crypto.getRandomValues(new Uint8Array(16));
  #previous = crypto.getRandomValues(new Uint8Array(16));
  #rotatedAt: number;

  /**
   * Makes the first two secrets.
   *
   * @param now When they were made.
   */
  constructor(now: number = Date.now()) {
    this.#rotatedAt = now;
  }

  #rotate(now: number): void {
    const steps = Math.floor((now - this.#rotatedAt) / TOKEN_ROTATION_MS);
    if (steps <= 0) return;
    // Two steps or more: neither old secret is good any more.
    this.#previous = steps === 1 ? this.#current : crypto.getRandomValues(new Uint8Array(16));
    this.#current = crypto.getRandomValues(new Uint8Array(16));
    this.#rotatedAt += steps * TOKEN_ROTATION_MS;
  }

  #token(secret: Uint8Array, host: string, infoHash: Uint8Array): Uint8Array {
    return sha1(concatBytes([secret, utf8(host), infoHash])).slice(0, TOKEN_LENGTH);
  }

  /** The token for `host` asking about `infoHash`. */
  issue(host: string, infoHash: Uint8Array, now: number): Uint8Array {
    this.#rotate(now);
    return this.#token(this.#current, host, infoHash);
  }

  /** Whether `token` was given to `host` for `infoHash` within the last 5 to 10 minutes. */
  accepts(token: Uint8Array, host: string, infoHash: Uint8Array, now: number): boolean {
    this.#rotate(now);
    return [this.#current, this.#previous].some((secret) =>
      bytesEqual(token, this.#token(secret, host, infoHash))
    );
  }
}
