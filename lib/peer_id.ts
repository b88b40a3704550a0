/**
 * Our peer id: the Azureus-style client prefix and version, then random
 * characters.
 *
 * @module
 */

import { PEER_ID_PREFIX } from "./version.ts";

const ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/**
 * A fresh 20-byte peer id: `-SH0100-` followed by 12 random alphanumerics.
 *
 * @example A fresh peer id
 * ```ts
 * import { randomPeerId } from "./peer_id.ts";
 * console.assert(new TextDecoder().decode(randomPeerId()).startsWith("-SH"));
 * ```
 */
export function randomPeerId(): Uint8Array {
  const random = crypto.getRandomValues(new Uint8Array(20 - PEER_ID_PREFIX.length));
  const suffix = [...random].map((byte) => ALPHABET[byte % ALPHABET.length]).join("");
  return new TextEncoder().encode(PEER_ID_PREFIX + suffix);
}
