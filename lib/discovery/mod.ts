/**
 * Peer discovery: where a torrent's peers come from ({@linkcode PeerSource}:
 * trackers, the user, peers that dial in, peer exchange (from the swarm),
 * local service discovery ({@linkcode LocalDiscovery}, session-wide); later
 * the DHT) and the torrent's {@linkcode PeerPool}, the one
 * place addresses are deduplicated, remembered with their sources, retried,
 * banned, and filtered for private torrents (BEP 27).
 *
 * @example A private torrent takes tracker peers, not DHT ones
 * ```ts
 * import { PeerPool } from "./mod.ts";
 *
 * const pool = new PeerPool({ private: true });
 * const peer = { host: "10.0.0.1", port: 6881 };
 * console.log(pool.add([peer], "dht", "dht")); // 0
 * console.log(pool.add([peer], "http://tracker.example/announce", "tracker")); // 1
 * console.log(pool.take(10)); // [ { host: "10.0.0.1", port: 6881 } ]
 * ```
 *
 * @module
 */

export * from "./peer_source.ts";
export * from "./peer_pool.ts";
export { LocalDiscovery, type LocalDiscoveryOptions } from "./local_discovery.ts";
export {
  encodeLsdAnnounce,
  LSD_IPV4,
  LSD_IPV6,
  type LsdAnnounce,
  MAX_LSD_DATAGRAM,
  parseLsdAnnounce,
} from "./lsd_message.ts";
