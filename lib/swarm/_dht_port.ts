/**
 * The PORT message of BEP 5 between a swarm and the session's DHT node:
 * a peer whose handshake says it runs a DHT hears our node's port, and a
 * peer that tells us its node's port gets that node pinged (it enters
 * the routing table if it answers). Never for a private torrent: its
 * swarm is given no DHT.
 *
 * @module
 */

import { hostOfKey } from "../net/peer_address.ts";
import type { PeerSession } from "./peer_session.ts";
import type { DhtPortLink } from "./swarm_types.ts";

/** Tells a peer that runs a DHT (reserved bit, BEP 5) where our node is. */
export function sendDhtPort(peer: PeerSession, dht: DhtPortLink | undefined): void {
  if (dht && dht.port > 0 && peer.connection.features.dht) {
    peer.send({ type: "port", port: dht.port });
  }
}

/** Peers whose PORT was taken: one per connection (a peer repeating it gets no more pings). */
const told = new WeakSet<PeerSession>();

/** A peer named its DHT node's port: the node is at the peer's address. Once per connection. */
export function learnDhtNode(peer: PeerSession, port: number, dht: DhtPortLink | undefined): void {
  if (!dht || port <= 0 || told.has(peer)) return;
  told.add(peer);
  dht.addNode(hostOfKey(peer.key), port);
}
