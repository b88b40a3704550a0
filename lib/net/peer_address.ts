/**
 * Peer addresses: one type, and one way to write an address as a key
 * (`host:port`, IPv6 as `[host]:port`) and to read it back, for every layer
 * (magnet links, trackers, the peer pool, PEX and DHT to come).
 *
 * @module
 */

/** A peer named by host (name, IPv4 or IPv6 literal without brackets) and port. */
export interface PeerAddress {
  /** Host name or IP address. */
  host: string;
  /** TCP port, 1–65535. */
  port: number;
}

/**
 * Parses `host:port`, `ipv4:port` or `[ipv6]:port`.
 *
 * @returns The address, or `undefined` when malformed.
 *
 * @example Reading the addresses users type
 * ```ts
 * import { parsePeerAddress } from "./mod.ts";
 *
 * console.log(parsePeerAddress("127.0.0.1:51413")); // { host: "127.0.0.1", port: 51413 }
 * console.log(parsePeerAddress("[::1]:6881")); // { host: "::1", port: 6881 }
 * console.log(parsePeerAddress("no port")); // undefined
 * ```
 */
export function parsePeerAddress(text: string): PeerAddress | undefined {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\[\]\s]+)):(\d{1,5})$/.exec(text);
  if (!match) return undefined;
  const port = Number(match[3]);
  if (port < 1 || port > 65535) return undefined;
  return { host: match[1] ?? match[2], port };
}

/**
 * Formats a peer as `host:port`, IPv6 as `[host]:port` (the inverse of {@linkcode parsePeerAddress}).
 *
 * @example Printing peers
 * ```ts
 * import { formatPeerAddress } from "./mod.ts";
 *
 * console.log(formatPeerAddress({ host: "::1", port: 6881 })); // [::1]:6881
 * console.log(formatPeerAddress({ host: "10.0.0.2", port: 51413 })); // 10.0.0.2:51413
 * ```
 */
export function formatPeerAddress(peer: PeerAddress): string {
  return peer.host.includes(":") ? `[${peer.host}]:${peer.port}` : `${peer.host}:${peer.port}`;
}

/**
 * The IP (or host) of a `host:port` key; a bare IP is given back as it is,
 * and `[v6]:port` keys give the bare IPv6 address.
 *
 * @example The host of a key
 * ```ts
 * import { hostOfKey } from "./mod.ts";
 *
 * console.log(hostOfKey("[::1]:6881"), hostOfKey("10.0.0.2:51413")); // ::1 10.0.0.2
 * ```
 */
export function hostOfKey(key: string): string {
  const at = key.lastIndexOf(":");
  return (at < 0 ? key : key.slice(0, at)).replace(/^\[|\]$/g, "");
}
