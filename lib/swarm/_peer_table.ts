/**
 * The connections a swarm keeps: at most `maxPeers`, never two to one peer
 * id or one to ourselves. When two connections to one peer exist (both
 * sides dialled at once), both sides keep the one dialled by the peer with
 * the lower peer id, so they agree. When the swarm is full, a peer dialling
 * in may take the place of one worth less (`_eviction.ts`).
 *
 * @module
 */

import type { PeerConnection } from "../wire/connection.ts";
import { hostOfKey } from "../net/peer_address.ts";
import { bytesToBinary, compareBytes } from "../util/_bytes.ts";
import type { Logger } from "../util/log.ts";
import { evictionFor } from "./_eviction.ts";
import type { PeerSession } from "./peer_session.ts";

/** The connected peers of one swarm, by session id and by peer id. */
export class PeerTable {
  /** The sessions, by id. */
  readonly byId = new Map<number, PeerSession>();
  readonly #byPeerId = new Map<string, PeerSession>();
  readonly #ourPeerId: Uint8Array;
  readonly #maxPeers: number;
  readonly #log: Logger;

  /**
   * @param ourPeerId Our peer id.
   * @param maxPeers Most connections.
   * @param log Where refusals are logged.
   */
  constructor(ourPeerId: Uint8Array, maxPeers: number, log: Logger) {
    this.#ourPeerId = ourPeerId;
    this.#maxPeers = maxPeers;
    this.#log = log;
  }

  /** Peers connected now. */
  get size(): number {
    return this.byId.size;
  }

  /** How many more connections fit. */
  get room(): number {
    return this.#maxPeers - this.byId.size;
  }

  /** The sessions. */
  values(): IterableIterator<PeerSession> {
    return this.byId.values();
  }

  /** Whether a peer dialling in from `key` fits, closing a peer worth less when full. */
  roomFor(key: string): boolean {
    if (this.byId.size < this.#maxPeers) return true;
    const candidates = [...this.byId.values()].map((peer) => ({
      peer,
      key: peer.key,
      useful: peer.amInterested,
      unchoked: !peer.amChoking,
      wastedTurnAt: peer.wastedTurnAt,
      connectedAt: peer.connectedAt,
    }));
    const victim = evictionFor(candidates, hostOfKey(key), Date.now())?.peer;
    if (!victim) return false;
    this.#log.debug(`peer ${victim.key}: disconnected to make room for ${key}`);
    // Gone now, not when its task ends: the newcomer's place is taken at once.
    this.byId.delete(victim.id);
    victim.connection.close();
    return true;
  }

  /**
   * Whether a handshaken connection may stay: not to ourselves, and not a
   * second one to a peer id unless it is the one both sides keep (the
   * other is closed then).
   */
  admits(connection: PeerConnection): boolean {
    const peerId = bytesToBinary(connection.handshake.peerId);
    const existing = this.#byPeerId.get(peerId);
    if (
      peerId === bytesToBinary(this.#ourPeerId) ||
      (existing && !this.#replaces(connection, existing))
    ) {
      this.#log.debug(`peer ${connection.label}: already connected to this peer id; closing`);
      return false;
    }
    if (existing) {
      this.#log.debug(`peer ${existing.key}: a second connection with this peer id replaces it`);
      existing.connection.close();
    }
    return true;
  }

  /** Adds an admitted peer. */
  add(peer: PeerSession): void {
    this.byId.set(peer.id, peer);
    this.#byPeerId.set(bytesToBinary(peer.connection.handshake.peerId), peer);
  }

  /** Removes a peer whose connection ended. */
  remove(peer: PeerSession): void {
    this.byId.delete(peer.id);
    const peerId = bytesToBinary(peer.connection.handshake.peerId);
    if (this.#byPeerId.get(peerId) === peer) this.#byPeerId.delete(peerId);
  }

  #replaces(connection: PeerConnection, existing: PeerSession): boolean {
    const weDialFirst = compareBytes(this.#ourPeerId, connection.handshake.peerId) < 0;
    const keep = weDialFirst ? "outgoing" : "incoming";
    return connection.direction === keep && existing.connection.direction !== keep;
  }
}
