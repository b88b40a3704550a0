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

/** The 4 bytes of a dotted IPv4 address, or `undefined` when `host` is not one. */
function ipv4Bytes(host: string): Uint8Array | undefined {
  const parts = host.split(".");
  if (parts.length !== 4) return undefined;
  const bytes = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    if (!/^\d{1,3}$/.test(parts[i]) || Number(parts[i]) > 255) return undefined;
    bytes[i] = Number(parts[i]);
  }
  return bytes;
}

/** The 16 bytes of an IPv6 address (`::` shortening, a trailing IPv4 part), or `undefined`. */
function ipv6Bytes(host: string): Uint8Array | undefined {
  let text = host.replace(/%.*$/, "");
  const values: number[] = [];
  const tail = /(?:^|:)(\d{1,3}(?:\.\d{1,3}){3})$/.exec(text);
  if (tail) {
    const v4 = ipv4Bytes(tail[1]);
    if (!v4) return undefined;
    values.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
    text = text.slice(0, -tail[1].length);
    if (text.endsWith(":") && !text.endsWith("::")) text = text.slice(0, -1);
  }
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const groups = (part: string) => (part === "" ? [] : part.split(":"));
  const head = groups(halves[0]);
  const rest = halves.length === 2 ? groups(halves[1]) : [];
  const given = head.length + rest.length + values.length;
  if (halves.length === 1 ? given !== 8 : given > 7) return undefined;
  const parts = [...head, ...Array<string>(8 - given).fill("0"), ...rest];
  if (!parts.every((part) => /^[0-9a-f]{1,4}$/i.test(part))) return undefined;
  values.unshift(...parts.map((part) => parseInt(part, 16)));
  const bytes = new Uint8Array(16);
  values.forEach((value, i) => {
    bytes[2 * i] = value >> 8;
    bytes[2 * i + 1] = value & 0xff;
  });
  return bytes;
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
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address.host);
  const v4 = ipv4Bytes(mapped ? mapped[1] : address.host);
  const ip = v4 ?? ipv6Bytes(address.host);
  if (!ip) return undefined;
  const bytes = new Uint8Array(ip.length + 2);
  bytes.set(ip);
  bytes[ip.length] = port >> 8;
  bytes[ip.length + 1] = port & 0xff;
  return { family: v4 ? 4 : 6, bytes };
}
