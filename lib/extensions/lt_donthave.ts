/**
 * lt_donthave (BEP 54): a peer takes back a piece it announced, so it is no
 * longer asked for it. The message is the piece index as four bytes, big
 * endian.
 *
 * @module
 */

import type { PeerExtension } from "../wire/extension_registry.ts";
import { PeerError } from "../wire/errors.ts";

/** The extension's name in the BEP 10 handshake. */
export const LT_DONTHAVE = "lt_donthave";

/** The payload of a DontHave message for piece `index`. */
export function encodeDontHave(index: number): Uint8Array {
  const payload = new Uint8Array(4);
  new DataView(payload.buffer).setUint32(0, index);
  return payload;
}

/**
 * The piece index of a DontHave payload.
 *
 * @throws {PeerError} When the payload is not exactly four bytes.
 */
export function decodeDontHave(payload: Uint8Array): number {
  if (payload.length !== 4) {
    throw new PeerError(
      "protocol",
      `The peer sent an lt_donthave message of ${payload.length} bytes (4 expected)`,
    );
  }
  return new DataView(payload.buffer, payload.byteOffset, 4).getUint32(0);
}

/**
 * The lt_donthave extension, receiving side: each message names a piece the
 * peer no longer has.
 *
 * @param onDontHave Called with the peer and the piece index (not checked
 *   against the torrent's piece count: the caller knows it).
 *
 * @example Registering it
 * ```ts
 * import { ExtensionRegistry } from "../wire/extension_registry.ts";
 * import { encodeDontHave, ltDontHave } from "./lt_donthave.ts";
 *
 * const registry = new ExtensionRegistry<string>([
 *   ltDontHave((peer, index) => console.log(`${peer} no longer has piece ${index}`)),
 * ]);
 * registry.route("peer A", 1, encodeDontHave(210)); // peer A no longer has piece 210
 * ```
 */
export function ltDontHave<P>(onDontHave: (peer: P, index: number) => void): PeerExtension<P> {
  return {
    name: LT_DONTHAVE,
    onMessage: (peer, payload) => onDontHave(peer, decodeDontHave(payload)),
  };
}
