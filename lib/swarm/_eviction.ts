/**
 * Which peer makes room when a torrent is full and another peer dials in.
 * Refusing every newcomer would let whoever connected first hold the
 * torrent: many connections from one host, or peers that take a slot and
 * use nothing. So a newcomer takes the place of, in this order:
 *
 * 1. a peer from the IP with the most connections, when that IP has at
 *    least two more than the newcomer's (the one of them that is worth
 *    least to us: not unchoked, wasted its slot lately, newest);
 * 2. a peer that wasted an upload slot lately and that we want nothing from.
 *
 * Peers we want pieces from are never evicted for a newcomer.
 *
 * @module
 */

import { hostOfKey } from "../net/peer_address.ts";

/** What eviction knows of a connected peer. */
export interface EvictionCandidate {
  /** `host:port`. */
  key: string;
  /** We want pieces it has. */
  useful: boolean;
  /** We upload to it now. */
  unchoked: boolean;
  /** When it last wasted an upload slot (ms). */
  wastedTurnAt?: number;
  /** When it connected (ms). */
  connectedAt: number;
}

/** How long a wasted slot counts against a peer here. */
const WASTED_LATELY_MS = 300_000;

/**
 * The peer to close so that a newcomer from `host` fits, if any.
 *
 * @param peers The connected peers.
 * @param host The newcomer's IP.
 * @param now The time in ms.
 */
export function evictionFor<P extends EvictionCandidate>(
  peers: Iterable<P>,
  host: string,
  now: number,
): P | undefined {
  const byHost = new Map<string, P[]>();
  for (const peer of peers) {
    const peerHost = hostOfKey(peer.key);
    const list = byHost.get(peerHost);
    if (list) list.push(peer);
    else byHost.set(peerHost, [peer]);
  }
  const wastedLately = (peer: P) =>
    peer.wastedTurnAt !== undefined && now - peer.wastedTurnAt < WASTED_LATELY_MS;
  const worthLeast = (a: P, b: P) =>
    Number(a.unchoked) - Number(b.unchoked) ||
    Number(wastedLately(b)) - Number(wastedLately(a)) ||
    b.connectedAt - a.connectedAt;
  const own = byHost.get(host)?.length ?? 0;
  let crowded: P[] = [];
  for (const list of byHost.values()) if (list.length > crowded.length) crowded = list;
  if (crowded.length >= own + 2) {
    const victim = crowded.filter((peer) => !peer.useful).sort(worthLeast)[0];
    if (victim) return victim;
  }
  const idle: P[] = [];
  for (const list of byHost.values()) {
    for (const peer of list) if (!peer.useful && wastedLately(peer)) idle.push(peer);
  }
  return idle.sort(worthLeast)[0];
}
