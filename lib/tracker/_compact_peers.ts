/**
 * Peer lists in tracker replies: the compact lists (BEP 23, BEP 7) are read
 * by the net layer's `parseCompactPeers`; the original dictionary model
 * (BEP 3) is here, with the de-duplication of a reply's peers.
 *
 * @module
 */

import { type BencodeValue } from "../bencode/types.ts";
import { decodeText, isBytes, isDict, isInteger, isList } from "../bencode/read.ts";
import type { PeerAddress } from "../net/peer_address.ts";
import { MAX_COMPACT_PEERS } from "../net/compact.ts";
import type { TrackerPeer } from "./types.ts";

/** Most peers taken from one reply; the rest are ignored. */
export const MAX_PEERS_PER_REPLY = MAX_COMPACT_PEERS;

/**
 * What a dictionary-model `ip` may hold: an IPv4 or IPv6 address or a DNS
 * name (BEP 3), so letters, digits, `.`, `-`, `_`, and `:` and `%` for IPv6.
 * Anything else (control characters, spaces, URLs) is no address, and would
 * reach the terminal in `shoal tracker`'s peer list.
 */
const PEER_HOST = /^[A-Za-z0-9._:%-]{1,253}$/;

/**
 * Parses the dictionary model: a list of `{ ip, port, peer id }`. Malformed
 * entries, and those whose `ip` is not an address or host name, are skipped.
 */
export function parseDictionaryPeers(list: BencodeValue): TrackerPeer[] {
  if (!isList(list)) return [];
  const peers: TrackerPeer[] = [];
  for (const entry of list.slice(0, MAX_PEERS_PER_REPLY)) {
    if (!isDict(entry)) continue;
    const ip = entry.get("ip");
    const port = entry.get("port");
    if (!isBytes(ip) || !isInteger(port) || port <= 0 || port >= 65536) continue;
    const host = decodeText(ip).replace(/^\[(.*)\]$/, "$1"); // "[::1]" as some trackers write it
    if (!PEER_HOST.test(host)) continue;
    const peerId = entry.get("peer id");
    peers.push({
      host,
      port,
      ...(isBytes(peerId) && peerId.length === 20 ? { peerId: peerId.slice() } : {}),
    });
  }
  return peers;
}

/** Removes duplicate peers, keeping the first of each `host:port`. */
export function uniquePeers<T extends PeerAddress>(peers: readonly T[]): T[] {
  const seen = new Set<string>();
  return peers.filter((peer) => {
    const key = `${peer.host}|${peer.port}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
