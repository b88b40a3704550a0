/**
 * Compact peer lists: 6 bytes per IPv4 peer (BEP 23), 18 per IPv6 peer
 * (BEP 7), as trackers send them and as PEX and the DHT will.
 *
 * @module
 */

import type { PeerAddress } from "./peer_address.ts";
import { ipv4Bytes, ipv6Bytes, isIpv4Mapped } from "./_ip.ts";

/** Most peers read from one compact list; the rest are ignored. */
export const MAX_COMPACT_PEERS = 10_000;

/**
 * Formats 16 bytes as an IPv6 address (RFC 5952: lower case, longest run of
 * zero groups shortened to `::`, an IPv4-mapped address as `::ffff:a.b.c.d`).
 */
export function formatIpv6(bytes: Uint8Array): string {
  if (isIpv4Mapped(bytes)) return `::ffff:${bytes.subarray(12, 16).join(".")}`; // RFC 5952 §5
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
    // An IPv4-mapped IPv6 entry is the IPv4 peer it names (one key for it, and its scope checked).
    const mapped = family === 6 && isIpv4Mapped(entry);
    const host = family === 6 && !mapped
      ? formatIpv6(entry.subarray(0, 16))
      : entry.subarray(mapped ? 12 : 0, mapped ? 16 : 4).join(".");
    peers.push({ host, port });
  }
  return { peers, leftover: bytes.length % stride };
}

/**
 * An address in compact form: 4 bytes of IPv4 (an IPv4-mapped IPv6
 * address counts as IPv4) or 16 of IPv6, then the port, big endian.
 *
 * @returns The family and the 6 or 18 bytes, or `undefined` for a host
 *   that is not an IP address (a name) or a port out of range.
 *
 * @example
 * ```ts
 * import { compactPeer } from "./compact.ts";
 *
 * console.log(compactPeer({ host: "10.0.0.2", port: 6881 })); // { family: 4, bytes: Uint8Array(6) [ 10, 0, 0, 2, 26, 225 ] }
 * console.log(compactPeer({ host: "::1", port: 6881 })?.bytes.length); // 18
 * ```
 */
export function compactPeer(
  address: PeerAddress,
): { family: 4 | 6; bytes: Uint8Array } | undefined {
  const { port } = address;
  if (!Number.isInteger(port) || port < 1 || port > 0xffff) return undefined;
  const v4 = ipv4Bytes(address.host);
  const v6 = v4 ? undefined : ipv6Bytes(address.host);
  // An IPv4-mapped IPv6 address, however written, is the IPv4 address it names.
  const ip = v4 ?? (v6 && isIpv4Mapped(v6) ? v6.subarray(12) : v6);
  if (!ip) return undefined;
  const bytes = new Uint8Array(ip.length + 2);
  bytes.set(ip);
  bytes[ip.length] = port >> 8;
  bytes[ip.length + 1] = port & 0xff;
  return { family: ip.length === 4 ? 4 : 6, bytes };
}
