/**
 * Network basics every layer shares: the peer address type and its
 * `host:port` keys, and compact peer lists (BEP 23, BEP 7).
 *
 * @example An address, its key, and a compact list
 * ```ts
 * import { formatPeerAddress, parseCompactPeers } from "./mod.ts";
 *
 * const { peers } = parseCompactPeers(new Uint8Array([10, 0, 0, 5, 0x1a, 0xe1]), 4);
 * console.log(peers.map(formatPeerAddress)); // [ "10.0.0.5:6881" ]
 * ```
 *
 * @module
 */

export * from "./peer_address.ts";
export type { SharedUdp } from "./shared_udp.ts";
export {
  compactPeer,
  type CompactPeers,
  formatIpv6,
  MAX_COMPACT_PEERS,
  parseCompactPeers,
} from "./compact.ts";
