/**
 * ut_pex (BEP 11): peers tell each other whom they are connected to. A
 * message is a bencoded dictionary of compact address lists: `added` and
 * `dropped` for IPv4 (6 bytes each), `added6` and `dropped6` for IPv6 (18
 * bytes each), and `added.f` / `added6.f` with one byte of flags per
 * added peer.
 *
 * @module
 */

import { decode } from "../bencode/decode.ts";
import { encode } from "../bencode/encode.ts";
import { isBytes, isDict } from "../bencode/read.ts";
import type { BencodeValue } from "../bencode/types.ts";
import { compactPeer, MAX_COMPACT_PEERS, parseCompactPeers } from "../net/compact.ts";
import type { PeerAddress } from "../net/peer_address.ts";
import { concatBytes } from "../util/_bytes.ts";
import { PeerError } from "../wire/errors.ts";
import type { PeerExtension } from "../wire/extension_registry.ts";

/** The extension's name in the BEP 10 handshake. */
export const UT_PEX = "ut_pex";

/** The flags of an added peer (BEP 11), one bit each. */
export const PexFlags = {
  /** It prefers encryption (its handshake's `e`, or it spoke encrypted). */
  encryption: 0x01,
  /** It is a seed (or upload only). */
  seed: 0x02,
  /** It speaks uTP. */
  utp: 0x04,
  /** It announced ut_holepunch. */
  holepunch: 0x08,
  /** We dialled it: it is reachable. */
  reachable: 0x10,
} as const;

/** A peer named in a PEX message's added lists, with its flags. */
export interface PexPeer {
  /** Where it listens. */
  address: PeerAddress;
  /** {@linkcode PexFlags} bits (0 when the sender gave none). */
  flags: number;
}

/** One ut_pex message, both address families together. */
export interface PexMessage {
  /** Peers the sender is now connected to. */
  added: PexPeer[];
  /** Peers it no longer is. */
  dropped: PeerAddress[];
}

/**
 * The payload of a ut_pex message. Addresses that are not IP addresses
 * (host names) are left out, and IPv4-mapped IPv6 addresses go in the
 * IPv4 lists.
 */
export function encodePexMessage(message: PexMessage): Uint8Array {
  const lists = { added: [] as Uint8Array[], added6: [] as Uint8Array[] };
  const flags = { added: [] as number[], added6: [] as number[] };
  for (const { address, flags: bits } of message.added) {
    const compact = compactPeer(address);
    if (!compact) continue;
    const list = compact.family === 4 ? "added" : "added6";
    lists[list].push(compact.bytes);
    flags[list].push(bits & 0xff);
  }
  const dropped = { dropped: [] as Uint8Array[], dropped6: [] as Uint8Array[] };
  for (const address of message.dropped) {
    const compact = compactPeer(address);
    if (compact) dropped[compact.family === 4 ? "dropped" : "dropped6"].push(compact.bytes);
  }
  const dict = new Map<string, BencodeValue>();
  for (const key of ["added", "added6"] as const) {
    if (lists[key].length === 0) continue;
    dict.set(key, concatBytes(lists[key]));
    dict.set(`${key}.f`, Uint8Array.from(flags[key]));
  }
  for (const key of ["dropped", "dropped6"] as const) {
    if (dropped[key].length > 0) dict.set(key, concatBytes(dropped[key]));
  }
  return encode(dict);
}

function malformed(what: string): PeerError {
  return new PeerError("protocol", `The peer sent a malformed ut_pex message: ${what}`);
}

/** The addresses of a compact list, or none when the key is absent. */
function list(dict: Map<string, BencodeValue>, key: string, family: 4 | 6): PeerAddress[] {
  const value = dict.get(key);
  if (value === undefined) return [];
  if (!isBytes(value)) throw malformed(`${key} is not a string`);
  return parseCompactPeers(value, family).peers;
}

/**
 * Decodes a ut_pex payload. Unknown keys are ignored, and so are the bytes
 * of a list that do not make a whole entry and entries with port 0;
 * missing flags count as 0. The length of the payload is bounded by the
 * extended message's limit, so are the lists.
 *
 * @throws {PeerError} When the payload is not a bencoded dictionary, or a list is not a string.
 */
export function decodePexMessage(payload: Uint8Array): PexMessage {
  let value: BencodeValue;
  try {
    value = decode(payload, { mode: "lenient", maxDepth: 2 });
  } catch (error) {
    throw malformed((error as Error).message);
  }
  if (!isDict(value)) throw malformed("it is not a dictionary");
  const added: PexPeer[] = [];
  for (const [key, family] of [["added", 4], ["added6", 6]] as const) {
    const flags = value.get(`${key}.f`);
    const bits = isBytes(flags) ? flags : new Uint8Array();
    const entries = value.get(key);
    if (entries === undefined) continue;
    if (!isBytes(entries)) throw malformed(`${key} is not a string`);
    // Entry by entry, so that each keeps its own flags when one is skipped (port 0).
    const stride = family === 4 ? 6 : 18;
    const count = Math.min(Math.floor(entries.length / stride), MAX_COMPACT_PEERS);
    for (let i = 0; i < count; i++) {
      const [address] = parseCompactPeers(entries.subarray(i * stride, (i + 1) * stride), family)
        .peers;
      if (address) added.push({ address, flags: bits[i] ?? 0 });
    }
  }
  return { added, dropped: [...list(value, "dropped", 4), ...list(value, "dropped6", 6)] };
}

/**
 * The ut_pex extension: decodes each message for `onMessage`. While
 * `enabled()` is false (a private torrent, or PEX turned off) our
 * handshake says so (id 0) and messages are ignored.
 *
 * @param onMessage Called with the peer and each decoded message.
 * @param enabled Whether we speak PEX now. Default: always.
 *
 * @example Registering it, and a message a peer sends
 * ```ts
 * import { ExtensionRegistry } from "../wire/extension_registry.ts";
 * import { encodePexMessage, PexFlags, utPex } from "./ut_pex.ts";
 *
 * const registry = new ExtensionRegistry<string>([
 *   utPex((peer, message) => console.log(peer, message.added.length, message.dropped.length)),
 * ]);
 * const payload = encodePexMessage({
 *   added: [{ address: { host: "10.0.0.2", port: 6881 }, flags: PexFlags.seed }],
 *   dropped: [{ host: "::1", port: 51413 }],
 * });
 * registry.route("peer A", 1, payload); // peer A 1 1
 * ```
 */
export function utPex<P>(
  onMessage: (peer: P, message: PexMessage) => void,
  enabled: () => boolean = () => true,
): PeerExtension<P> {
  return {
    name: UT_PEX,
    enabled,
    onMessage: (peer, payload) => onMessage(peer, decodePexMessage(payload)),
  };
}
