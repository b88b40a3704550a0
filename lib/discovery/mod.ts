/**
 * Peer discovery: where a torrent's peers come from ({@linkcode PeerSource}:
 * trackers, the user, peers that dial in; later peer exchange, the DHT and
 * local service discovery) and the torrent's {@linkcode PeerPool}, the one
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
