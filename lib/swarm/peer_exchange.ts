/**
 * Peer exchange (BEP 11) for one torrent: what we tell each connected peer
 * about the others, and what we take from what peers tell us.
 *
 * Sending: once a second the swarm hands over its sessions; a peer that
 * speaks ut_pex hears which peers joined and left since its last message,
 * at most once a minute, the first as soon as there is somebody to name,
 * never an empty message, at most 50 added and 50 dropped per message.
 * Only peers whose listen address we know are named: those we dialled, and
 * those that dialled in and gave their port.
 *
 * Receiving: what a peer names is untrusted. A message naming hundreds of
 * peers, or a peer sending many messages a minute, is misbehaviour; beyond
 * two messages a minute the rest are ignored; at most 50 addresses are
 * taken per message, a few per IP, and addresses that cannot be peers
 * (multicast, unspecified), or that name this machine or a local network
 * while the sender is not on it, are left out.
 *
 * The same exchange serves the metadata phase (which only listens: a
 * magnet link's torrent may turn out private) and the swarm that downloads
 * after it: a peer handed over keeps what it was told.
 *
 * @module
 */

import { ExtensionRegistry } from "../wire/extension_registry.ts";
import {
  encodePexMessage,
  PexFlags,
  type PexMessage,
  type PexPeer,
  UT_PEX,
} from "../extensions/ut_pex.ts";
import { formatPeerAddress, hostOfKey, parsePeerAddress } from "../net/peer_address.ts";
import type { PeerAddress } from "../net/peer_address.ts";
import { addressScope } from "../net/_ip.ts";
import { compactPeer } from "../net/compact.ts";
import { setNewest } from "../util/_bounded.ts";
import { toHex } from "../util/_bytes.ts";
import type { PeerSession } from "./peer_session.ts";

/** Least time between two messages to one peer (BEP 11: at most one a minute). */
export const PEX_INTERVAL_MS = 60_000;
/** Most peers added, and most dropped, in one message we send (BEP 11: 50). */
const MAX_LISTED = 50;
/** Most addresses taken from one message. */
const MAX_TAKEN = 50;
/** Most addresses taken per IP from one message (peers sharing an IP differ by port). */
const MAX_TAKEN_PER_IP = 5;
/** A message naming more added peers than this is misbehaviour (BEP 11 asks for 50; an initial one may hold more). */
const MAX_NAMED = 200;
/** Messages a minute whose addresses are taken; later ones that minute are ignored. */
const TAKEN_PER_MINUTE = 2;
/** Messages a minute after which the peer is dropped (libtorrent drops at the 7th). */
const MAX_PER_MINUTE = 6;
/** Most addresses taken a minute from one IP, however often it reconnects. */
const TAKEN_PER_IP_PER_MINUTE = 100;
/** Sender IPs whose minute is remembered. */
const REMEMBERED_SENDERS = 4096;

/** What to do with a PEX message that arrived. */
export type PexVerdict =
  | { kind: "take"; addresses: PeerAddress[] }
  | { kind: "ignore"; why: string }
  | { kind: "misbehaved"; why: string };

/** What we told one peer, and when it last wrote. */
interface PeerState {
  /** The peers it heard as added and not yet as dropped, by {@linkcode compactKey}. */
  readonly told: Map<string, PeerAddress>;
  /** When we last sent to it. */
  sentAt?: number;
  /** When its latest messages arrived (the last minute's). */
  arrivals: number[];
}

/** Options of a {@linkcode PeerExchange}. */
export interface PeerExchangeOptions {
  /** Exchange peers at all (off for a private torrent, or when the user says so). Default true. */
  enabled?: boolean;
  /** Least time between two messages to one peer. Default {@linkcode PEX_INTERVAL_MS}. */
  intervalMs?: number;
}

/**
 * The listen address a session is known by to others, when we know it:
 * the address we dialled, or the port a peer that dialled in gave us.
 */
function listenAddress(peer: PeerSession): PeerAddress | undefined {
  if (peer.connection.direction === "incoming" && peer.poolKey === peer.key) return undefined;
  return parsePeerAddress(peer.poolKey);
}

/**
 * One key per peer as a PEX message names it: its compact bytes (an
 * IPv4-mapped address is its IPv4 address). `undefined` for a host name,
 * which a PEX message cannot carry.
 */
function compactKey(address: PeerAddress | undefined): string | undefined {
  const compact = address && compactPeer(address);
  return compact && `${compact.family}:${toHex(compact.bytes)}`;
}

/** The flags of a connected peer, from what we know of it. */
function flagsOf(peer: PeerSession): number {
  let flags = 0;
  if (peer.connection.encryption !== "none") flags |= PexFlags.encryption;
  if (peer.countedAsSeed) flags |= PexFlags.seed;
  if (peer.connection.direction === "outgoing") flags |= PexFlags.reachable;
  return flags;
}

/**
 * One torrent's peer exchange (BEP 11), shared by its swarms.
 *
 * @example The message a peer hears about the others
 * ```ts
 * import { PeerExchange } from "./peer_exchange.ts";
 *
 * const exchange = new PeerExchange({ enabled: true });
 * console.log(exchange.enabled); // true
 * exchange.disable(); // the torrent turned out to be private
 * console.log(exchange.enabled); // false
 * ```
 */
export class PeerExchange {
  readonly #states = new Map<PeerSession, PeerState>();
  /** Addresses taken from each sender IP in its current minute. */
  readonly #takenByIp = new Map<string, { since: number; taken: number }>();
  readonly #intervalMs: number;
  #enabled: boolean;

  /**
   * Makes the exchange of one torrent.
   *
   * @param options Whether it is on, and how often it speaks.
   */
  constructor(options: PeerExchangeOptions = {}) {
    this.#enabled = options.enabled ?? true;
    this.#intervalMs = options.intervalMs ?? PEX_INTERVAL_MS;
  }

  /** Whether we exchange peers (our handshake announces ut_pex only then). */
  get enabled(): boolean {
    return this.#enabled;
  }

  /** Stops for good: the torrent is private (BEP 27), or the user turned PEX off. */
  disable(): void {
    this.#enabled = false;
    this.#states.clear();
  }

  /**
   * Sends each peer that speaks ut_pex and is due what changed since its
   * last message (the once-a-second housekeeping).
   *
   * @param peers The torrent's connected sessions.
   */
  tick(peers: Iterable<PeerSession>, now: number = Date.now()): void {
    if (!this.#enabled) return;
    let live: Map<string, PexPeer> | undefined;
    const sessions = [...peers];
    for (const peer of sessions) {
      if (!peer.extensions.get(UT_PEX) || peer.connection.closed) continue;
      const state = this.#state(peer);
      if (state.sentAt !== undefined && now - state.sentAt < this.#intervalMs) continue;
      live ??= this.#live(sessions);
      const message = this.#diff(peer, state, live);
      if (!message) continue;
      const framed = ExtensionRegistry.message(peer.extensions, UT_PEX, encodePexMessage(message));
      if (!framed) continue;
      peer.send(framed);
      state.sentAt = now;
    }
  }

  /**
   * Judges a message from `peer` and picks the addresses worth taking.
   *
   * @returns The addresses to add to the pool (source `pex`), or why none are taken.
   */
  received(peer: PeerSession, message: PexMessage, now: number = Date.now()): PexVerdict {
    if (!this.#enabled) return { kind: "ignore", why: "peer exchange is off" };
    const state = this.#state(peer);
    state.arrivals = state.arrivals.filter((at) => now - at < 60_000);
    state.arrivals.push(now);
    if (state.arrivals.length > MAX_PER_MINUTE) {
      return { kind: "misbehaved", why: "sends PEX messages many times a minute" };
    }
    if (message.added.length > MAX_NAMED) {
      return {
        kind: "misbehaved",
        why: `sent a PEX message naming ${message.added.length} peers`,
      };
    }
    if (state.arrivals.length > TAKEN_PER_MINUTE) {
      return { kind: "ignore", why: "another PEX message within a minute" };
    }
    return { kind: "take", addresses: this.#worthTaking(peer, message, now) };
  }

  /** The peer has left (or the swarm stopped): its state goes. */
  forget(peer: PeerSession): void {
    this.#states.delete(peer);
  }

  #state(peer: PeerSession): PeerState {
    let state = this.#states.get(peer);
    if (!state) this.#states.set(peer, state = { told: new Map(), arrivals: [] });
    return state;
  }

  /**
   * The connected peers others may be told of, by {@linkcode compactKey}:
   * those whose listen address we know and is an IP address.
   */
  #live(sessions: readonly PeerSession[]): Map<string, PexPeer> {
    const live = new Map<string, PexPeer>();
    for (const peer of sessions) {
      const address = listenAddress(peer);
      const key = compactKey(address);
      if (!key || peer.connection.closed) continue;
      live.set(key, { address: address!, flags: flagsOf(peer) });
    }
    return live;
  }

  /** What `peer` has not heard yet: joined and left since, or nothing to say. */
  #diff(peer: PeerSession, state: PeerState, live: Map<string, PexPeer>): PexMessage | undefined {
    const self = new Set([peer.key, peer.poolKey].map((key) => compactKey(parsePeerAddress(key))));
    const added: [string, PexPeer][] = [];
    for (const [key, entry] of live) {
      if (added.length >= MAX_LISTED) break;
      if (!self.has(key) && !state.told.has(key)) added.push([key, entry]);
    }
    const dropped: [string, PeerAddress][] = [];
    for (const [key, address] of state.told) {
      if (dropped.length >= MAX_LISTED) break;
      if (!live.has(key)) dropped.push([key, address]);
    }
    if (added.length === 0 && dropped.length === 0) return undefined;
    for (const [key, entry] of added) state.told.set(key, entry.address);
    for (const [key] of dropped) state.told.delete(key);
    return {
      added: added.map(([, entry]) => entry),
      dropped: dropped.map(([, address]) => address),
    };
  }

  /** The addresses of a message that could be peers for us, a bounded few. */
  #worthTaking(peer: PeerSession, message: PexMessage, now: number): PeerAddress[] {
    const senderIp = hostOfKey(peer.key);
    // A peer dialled by name is judged as a stranger.
    const scope = addressScope(senderIp);
    const from = scope === "unusable" ? "public" : scope;
    let budget = this.#takenByIp.get(senderIp);
    if (!budget || now - budget.since >= 60_000) budget = { since: now, taken: 0 };
    setNewest(this.#takenByIp, senderIp, budget, REMEMBERED_SENDERS);
    const limit = Math.min(MAX_TAKEN, TAKEN_PER_IP_PER_MINUTE - budget.taken);
    const taken = new Map<string, PeerAddress>();
    const perIp = new Map<string, number>();
    for (const { address } of message.added) {
      if (taken.size >= limit) break;
      const scope = addressScope(address.host);
      if (scope === "unusable") continue;
      // This machine's addresses only from a peer on it; a local network's only from one on one.
      if (scope === "loopback" && from !== "loopback") continue;
      if (scope === "private" && from === "public") continue;
      const key = formatPeerAddress(address);
      const count = perIp.get(address.host) ?? 0;
      if (taken.has(key) || count >= MAX_TAKEN_PER_IP) continue;
      perIp.set(address.host, count + 1);
      taken.set(key, address);
    }
    budget.taken += taken.size;
    return [...taken.values()];
  }
}
