/**
 * Peer lists in tracker replies: compact IPv4 (BEP 23), compact IPv6
 * (`peers6`, BEP 7) and the original dictionary model (BEP 3).
 *
 * @module
 */

import { type BencodeValue } from "../bencode/types.ts";
import { decodeText, isBytes, isDict, isInteger, isList } from "../bencode/read.ts";
import type { PeerAddress } from "../metainfo/magnet.ts";
import type { TrackerPeer } from "./types.ts";

/** Most peers taken from one reply; the rest are ignored. */
export const MAX_PEERS_PER_REPLY = 10_000;

/**
 * Formats 16 bytes as an IPv6 address (RFC 5952: lower case, longest run of
 * zero groups shortened to `::`).
 */
export function formatIpv6(bytes: Uint8Array): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i] << 8) | bytes[i + 1]);
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(":");
  return `${hex.slice(0, bestStart).join(":")}::${hex.slice(bestStart + bestLength).join(":")}`;
}

/** The result of parsing a compact peer list. */
export interface CompactPeers {
  /** The peers, port 0 entries left out. */
  peers: PeerAddress[];
  /** Bytes at the end that did not make a whole entry. */
  leftover: number;
}

/**
 * Parses a compact peer list: 6 bytes (IPv4 + port) or 18 bytes (IPv6 + port) each.
 *
 * @param bytes The list.
 * @param family 4 or 6.
 */
export function parseCompactPeers(bytes: Uint8Array, family: 4 | 6): CompactPeers {
  const stride = family === 4 ? 6 : 18;
  const count = Math.min(Math.floor(bytes.length / stride), MAX_PEERS_PER_REPLY);
  const peers: PeerAddress[] = [];
  for (let i = 0; i < count; i++) {
    const entry = bytes.subarray(i * stride, (i + 1) * stride);
    const port = (entry[stride - 2] << 8) | entry[stride - 1];
    if (port === 0) continue;
    const host = family === 4 ? entry.subarray(0, 4).join(".") : formatIpv6(entry.subarray(0, 16));
    peers.push({ host, port });
  }
  return { peers, leftover: bytes.length % stride };
}

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
