/**
 * The DHT (BEP 5): a node ({@linkcode DhtNode}) with its routing table,
 * lookups and the peers others announce to it, over KRPC on UDP, IPv4 and
 * IPv6 (BEP 32), with node ids that follow BEP 42; and
 * {@linkcode DhtDiscovery}, the DHT as a source of peers for a session's
 * torrents.
 *
 * @example A node that answers others and finds nothing (no bootstrap node)
 * ```ts
 * import { DhtNode } from "./mod.ts";
 *
 * const node = new DhtNode({ port: 0, bind: ["127.0.0.1"], bootstrap: [] });
 * const found = await node.getPeers(new Uint8Array(20));
 * console.log(found.peers.length, node.stats().nodes); // 0 0
 * await node.close();
 * ```
 *
 * @module
 */

export {
  DEFAULT_BOOTSTRAP,
  DhtNode,
  type DhtNodeOptions,
  type DhtStats,
  type PeerLookup,
} from "./dht_node.ts";
export { DHT_ANNOUNCE_EVERY_MS, DhtDiscovery, type DhtDiscoveryOptions } from "./dht_discovery.ts";
export * from "./krpc.ts";
export * from "./compact_nodes.ts";
export * from "./routing_table.ts";
export * from "./node_id.ts";
export { TOKEN_ROTATION_MS, TokenSecrets } from "./tokens.ts";
export { PEER_TTL_MS, PeerStore, type PeerStoreOptions } from "./peer_store.ts";
export type { LookupResult, Responder } from "./_lookup.ts";
export type { AnnouncingPeerSource, DiscoveryService } from "../discovery/peer_source.ts";
