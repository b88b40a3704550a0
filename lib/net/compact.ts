/**
 * Compact peer lists: 6 bytes per IPv4 peer (BEP 23), 18 per IPv6 peer
 * (BEP 7), as trackers send them and as PEX and the DHT will.
 *
 * @module
 */

import type { PeerAddress } from "./peer_address.ts";

/** Most peers read from one compact list; the rest are ignored. */
export const MAX_COMPACT_PEERS = 10_000;

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
  const count = Math.min(Math.floor(bytes.length / stride), MAX_COMPACT_PEERS);
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
