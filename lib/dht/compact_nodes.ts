/**
 * Compact node info (BEP 5, BEP 32): a node's 20-byte id followed by its
 * compact address, 26 bytes per IPv4 node (`nodes`) and 38 per IPv6 node
 * (`nodes6`).
 *
 * @module
 */

import { compactPeer, parseCompactPeers } from "../net/compact.ts";
import type { PeerAddress } from "../net/peer_address.ts";

/** A DHT node: its id and the UDP address it answers on. */
export interface NodeContact extends PeerAddress {
  /** The node's id (20 bytes). */
  id: Uint8Array;
}

/** Most nodes read from one compact list (a reply names 8; some name 16). */
export const MAX_COMPACT_NODES = 32;

/**
 * Parses a compact node list; entries with port 0 or a bad address are
 * left out, as are bytes past the last whole entry and entries past
 * {@linkcode MAX_COMPACT_NODES}.
 *
 * @param bytes `nodes` (family 4) or `nodes6` (family 6).
 */
export function parseCompactNodes(bytes: Uint8Array, family: 4 | 6): NodeContact[] {
  const stride = family === 4 ? 26 : 38;
  const count = Math.min(Math.floor(bytes.length / stride), MAX_COMPACT_NODES);
  const nodes: NodeContact[] = [];
  for (let i = 0; i < count; i++) {
    const entry = bytes.subarray(i * stride, (i + 1) * stride);
    const [address] = parseCompactPeers(entry.subarray(20), family).peers;
    if (address) nodes.push({ id: entry.slice(0, 20), host: address.host, port: address.port });
  }
  return nodes;
}

/**
 * Encodes the nodes of one family as a compact node list; nodes of the
 * other family (or with a host name) are left out.
 *
 * @example
 * ```ts
 * import { encodeCompactNodes, parseCompactNodes } from "./compact_nodes.ts";
 *
 * const bytes = encodeCompactNodes([{ id: new Uint8Array(20), host: "127.0.0.1", port: 6881 }], 4);
 * console.log(bytes.length, parseCompactNodes(bytes, 4)[0].port); // 26 6881
 * ```
 */
export function encodeCompactNodes(
  nodes: readonly NodeContact[],
  family: 4 | 6,
): Uint8Array<ArrayBuffer> {
  const entries: { id: Uint8Array; address: Uint8Array }[] = [];
  for (const node of nodes) {
    const address = compactPeer(node);
    if (address?.family === family && node.id.length === 20) {
      entries.push({ id: node.id, address: address.bytes });
    }
  }
  const stride = family === 4 ? 26 : 38;
  const bytes = new Uint8Array(entries.length * stride);
  entries.forEach(({ id, address }, i) => {
    bytes.set(id, i * stride);
    bytes.set(address, i * stride + 20);
  });
  return bytes;
}
