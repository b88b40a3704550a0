/**
 * The addresses of peers a torrent could talk to, from trackers, the
 * command line and peers that dial in, and which to dial next: the one
 * place where peers are deduplicated. Peers are keyed by their listen
 * address `host:port` (several peers may share one IP, as on loopback),
 * and each remembers where it was heard of. A peer that dials in is known
 * by its source port, which is never dialled, until it names its listen
 * port (BEP 10 `p`). A failed address is retried later with a growing
 * delay and given up after a few failures; a source that lists it again
 * brings it back.
 * A private torrent (BEP 27) takes peers only from trackers, the user and
 * peers that dial in: addresses from peer exchange, the DHT or local
 * service discovery are refused here, whoever hands them in.
 * Bans are by IP: a peer that connects in comes from a new port each time,
 * so a ban by address would not outlast its reconnect. Misbehaviour short
 * of a ban earns a strike against the IP; enough strikes are a ban.
 *
 * @module
 */

import { formatPeerAddress, hostOfKey, type PeerAddress } from "../net/peer_address.ts";
import { setNewest } from "../util/_bounded.ts";
import { type PeerSourceKind, PRIVATE_TORRENT_SOURCES } from "./peer_source.ts";

/** What the pool knows about one address. */
interface Candidate {
  address: PeerAddress;
  key: string;
  /** Connections (or dials) using this address now: two are possible for a moment. */
  connections: number;
  failures: number;
  retryAt: number;
  banned: boolean;
  /** False for a peer that dialled in, known only by its source port. */
  dialable: boolean;
  /** Where it was heard of, first first (a few at most). */
  sources: string[];
  /** The kinds of those sources. */
  kinds: Set<PeerSourceKind>;
  /** First heard of from other peers (PEX, LSD, the DHT), not from a tracker or the user. */
  gossip: boolean;
}

/** Whether an address may be dialled now: not connected, not banned, not waiting for a retry. */
function dialableNow(candidate: Candidate, now: number): boolean {
  return candidate.connections <= 0 && !candidate.banned && candidate.dialable &&
    candidate.retryAt <= now;
}

/** Sources that pass on what other peers say, which anyone can fill with made-up addresses. */
const GOSSIP: ReadonlySet<PeerSourceKind> = new Set<PeerSourceKind>(["pex", "lsd", "dht"]);
/** Most addresses per IP taken from gossip (peers sharing an IP differ by port). */
const GOSSIP_PER_HOST = 8;

/** Most sources remembered per address. */
const MAX_SOURCES = 4;

/** Remembers that `candidate` was heard of from `source` too (a few sources at most). */
function addSource(candidate: Candidate, source: string): void {
  if (!candidate.sources.includes(source) && candidate.sources.length < MAX_SOURCES) {
    candidate.sources.push(source);
  }
}

/** Options of {@linkcode PeerPool}. */
export interface PeerPoolOptions {
  /** Most addresses remembered. Default 2000. */
  maxAddresses?: number;
  /** Failures after which an address is forgotten. Default 5. */
  maxFailures?: number;
  /** First retry delay in ms; doubles per failure. Default 15 s. */
  retryBaseMs?: number;
  /** Strikes after which an IP is banned. Default 2. */
  strikesBeforeBan?: number;
  /** The torrent is private (BEP 27): only trackers', the user's and incoming peers are taken. */
  private?: boolean;
}

/** Most IPs whose strikes are remembered (the oldest are forgotten first). */
const MAX_STRUCK_HOSTS = 4096;

/** Known peer addresses and their dialling state. */
export class PeerPool {
  readonly #candidates = new Map<string, Candidate>();
  readonly #maxAddresses: number;
  readonly #maxFailures: number;
  readonly #retryBaseMs: number;
  readonly #strikesBeforeBan: number;
  #private: boolean;
  /** Banned IPs. */
  readonly #banned = new Set<string>();
  /** Strikes per IP, oldest first. */
  readonly #strikes = new Map<string, number>();
  readonly #ignored = new Set<string>();
  /** Addresses given up after their failures, oldest first: listed again, they get one try. */
  readonly #givenUp = new Map<string, true>();
  #epoch = 0;

  /**
   * Makes an empty pool.
   *
   * @param options Limits, and whether the torrent is private.
   */
  constructor(options: PeerPoolOptions = {}) {
    this.#maxAddresses = options.maxAddresses ?? 2000;
    this.#maxFailures = options.maxFailures ?? 5;
    this.#retryBaseMs = options.retryBaseMs ?? 15_000;
    this.#strikesBeforeBan = options.strikesBeforeBan ?? 2;
    this.#private = options.private ?? false;
  }

  /**
   * The torrent turned out to be private (BEP 27; a magnet link's metadata
   * says so only once fetched): addresses from sources a private torrent
   * refuses are forgotten, and no more are taken.
   */
  makePrivate(): void {
    this.#private = true;
    for (const [key, candidate] of this.#candidates) {
      if (![...candidate.kinds].some((kind) => PRIVATE_TORRENT_SOURCES.has(kind))) {
        this.#candidates.delete(key);
      }
    }
  }

  /** Number of distinct addresses known (seen). */
  get size(): number {
    return this.#candidates.size;
  }

  /** Never dial `address` (our own listening address). */
  ignore(address: PeerAddress): void {
    this.ignoreKey(formatPeerAddress(address));
  }

  /** Never dial our own listening port on this machine's addresses (trackers list us too). */
  ignoreOurPort(port: number): void {
    for (const host of ["127.0.0.1", "::1", "0.0.0.0", "localhost"]) this.ignore({ host, port });
  }

  /** Never dial the address `key` again (it turned out to be ourselves); its IP is not banned. */
  ignoreKey(key: string): void {
    this.#ignored.add(key);
    this.#candidates.delete(key);
  }

  /**
   * Adds addresses heard of from `source` (a tracker's URL, `user`, …);
   * ignored and banned ones are skipped, and known ones only remember the
   * source. A private torrent refuses them all unless `kind` is one it
   * takes (BEP 27).
   *
   * @param kind What kind of source it is. Default `user` for the source `user`, else `tracker`
   *   (peer exchange, the DHT and LSD must say so: a private torrent refuses them).
   * @returns How many were new.
   */
  add(
    addresses: readonly PeerAddress[],
    source = "user",
    kind: PeerSourceKind = source === "user" ? "user" : "tracker",
  ): number {
    if (this.#private && !PRIVATE_TORRENT_SOURCES.has(kind)) return 0;
    const gossip = GOSSIP.has(kind) ? this.#gossipCounts() : undefined;
    let added = 0;
    for (const address of addresses) {
      const key = formatPeerAddress(address);
      const known = this.#candidates.get(key);
      if (known) {
        addSource(known, source);
        known.kinds.add(kind);
        continue;
      }
      if (this.#ignored.has(key) || this.isBanned(key)) continue;
      // Full: a tracker's or the user's address takes the place of an idle one from gossip.
      if (this.#candidates.size >= this.#maxAddresses && (gossip || !this.#evictGossip())) break;
      if (gossip) {
        // Gossip fills at most three quarters of the pool, a few ports per IP: room stays
        // for trackers' and the user's peers, and nobody makes us scan one host's ports.
        const host = hostOfKey(key);
        const onHost = gossip.perHost.get(host) ?? 0;
        if (gossip.total >= (this.#maxAddresses * 3) >> 2) break;
        if (onHost >= GOSSIP_PER_HOST) continue;
        gossip.total++;
        gossip.perHost.set(host, onHost + 1);
      }
      this.#candidates.set(key, {
        address,
        key,
        connections: 0,
        failures: this.#givenUp.delete(key) ? this.#maxFailures - 1 : 0,
        retryAt: 0,
        banned: false,
        dialable: true,
        sources: [source],
        kinds: new Set([kind]),
        gossip: GOSSIP.has(kind),
      });
      added++;
    }
    return added;
  }

  /** Forgets one address heard of only from gossip and not connected; false when there is none. */
  #evictGossip(): boolean {
    for (const [key, candidate] of this.#candidates) {
      if (candidate.gossip && candidate.connections === 0 && candidate.kinds.size === 1) {
        this.#candidates.delete(key);
        return true;
      }
    }
    return false;
  }

  /** How many addresses came from gossip, in all and per IP. */
  #gossipCounts(): { total: number; perHost: Map<string, number> } {
    const counts = { total: 0, perHost: new Map<string, number>() };
    for (const candidate of this.#candidates.values()) {
      if (!candidate.gossip) continue;
      counts.total++;
      const host = hostOfKey(candidate.key);
      counts.perHost.set(host, (counts.perHost.get(host) ?? 0) + 1);
    }
    return counts;
  }

  /** Where the address `key` was heard of, first first; empty when unknown. */
  sources(key: string): readonly string[] {
    return this.#candidates.get(key)?.sources ?? [];
  }

  /** Whether some address could be dialled now (see {@linkcode take}). */
  hasDialable(now: number = Date.now()): boolean {
    for (const candidate of this.#candidates.values()) if (dialableNow(candidate, now)) return true;
    return false;
  }

  /**
   * Addresses to dial now, at most `count`: not connected, not banned, not
   * waiting for a retry. They count as connected until {@linkcode failed}
   * or {@linkcode disconnected} is called.
   */
  take(count: number, now: number = Date.now()): PeerAddress[] {
    const out: PeerAddress[] = [];
    for (const candidate of this.#candidates.values()) {
      if (out.length >= count) break;
      if (!dialableNow(candidate, now)) continue;
      candidate.connections++;
      out.push(candidate.address);
    }
    return out;
  }

  /**
   * A peer dialled in from `key` (its source port, never dialled): known
   * as connected until it names its listen port or leaves. False if banned.
   */
  markConnected(key: string, address: PeerAddress): boolean {
    if (this.isBanned(key)) return false;
    const known = this.#candidates.get(key);
    if (known) {
      // Its source port is its listen port (some clients dial from it).
      known.connections++;
      return true;
    }
    if (this.#candidates.size >= this.#maxAddresses) return true;
    this.#candidates.set(key, {
      address,
      key,
      connections: 1,
      failures: 0,
      retryAt: 0,
      banned: false,
      dialable: false,
      sources: ["incoming"],
      kinds: new Set(["incoming"]),
      gossip: false,
    });
    return true;
  }

  /**
   * The peer that dialled in from `key` listens on `port` (its BEP 10
   * handshake says so): from now on it is known by that address, connected
   * (so it is not dialled while it is), and dialled after it leaves.
   *
   * @returns The peer's key from now on.
   */
  listensOn(key: string, port: number): string {
    const incoming = this.#candidates.get(key);
    if (!incoming || incoming.dialable) return key;
    this.#candidates.delete(key);
    const address = { host: incoming.address.host, port };
    const listenKey = formatPeerAddress(address);
    if (this.#ignored.has(listenKey)) return key;
    const known = this.#candidates.get(listenKey);
    if (known) {
      known.connections++;
      addSource(known, "incoming");
      known.kinds.add("incoming");
    } else {
      this.#candidates.set(listenKey, { ...incoming, address, key: listenKey, dialable: true });
    }
    return listenKey;
  }

  /** Whether the address `key` is known (not forgotten, as a private torrent forgets gossip). */
  knows(key: string): boolean {
    return this.#candidates.has(key);
  }

  /** Whether we hold a connection to `key` (or are dialling it). */
  isConnected(key: string): boolean {
    return (this.#candidates.get(key)?.connections ?? 0) > 0;
  }

  /**
   * The dial failed: retry later, or forget the address after too many
   * failures (a source that lists it again then gets one more try).
   *
   * @param epoch The pool's {@linkcode epoch} when the dial began: a dial
   *   from before a {@linkcode clear} says nothing of the addresses now.
   */
  failed(key: string, now: number = Date.now(), epoch: number = this.#epoch): void {
    const candidate = this.#candidates.get(key);
    if (!candidate || epoch !== this.#epoch) return;
    candidate.connections = Math.max(0, candidate.connections - 1);
    if (candidate.connections > 0) return; // Another connection to it works.
    candidate.failures++;
    if (candidate.failures >= this.#maxFailures) {
      this.#candidates.delete(key);
      setNewest(this.#givenUp, key, true, this.#maxAddresses);
      return;
    }
    candidate.retryAt = now + this.#retryBaseMs * 2 ** (candidate.failures - 1);
  }

  /**
   * A connection that worked ended; the address may be dialled again after
   * a pause (a peer known only by its source port is forgotten).
   */
  disconnected(key: string, now: number = Date.now(), epoch: number = this.#epoch): void {
    const candidate = this.#candidates.get(key);
    if (!candidate || epoch !== this.#epoch) return;
    candidate.connections = Math.max(0, candidate.connections - 1);
    if (candidate.connections > 0) return; // Another connection to it is still up.
    if (!candidate.dialable) {
      this.#candidates.delete(key);
      return;
    }
    candidate.failures = 0;
    candidate.retryAt = now + this.#retryBaseMs;
  }

  /**
   * Addresses whose last connection worked may be dialled now rather than
   * after their pause (we need pieces again that such peers may have).
   */
  retryWorking(): void {
    for (const candidate of this.#candidates.values()) {
      if (candidate.connections === 0 && candidate.failures === 0) candidate.retryAt = 0;
    }
  }

  /**
   * Counts {@linkcode clear}s: connections and dials from before one give
   * it with their end, so they do not touch the addresses added since.
   */
  get epoch(): number {
    return this.#epoch;
  }

  /**
   * A new swarm takes over the pool (a torrent resumed): nothing is
   * connected, and every address may be dialled now. Failures, sources,
   * bans and strikes stay.
   */
  readyAgain(): void {
    this.#epoch++;
    for (const [key, candidate] of this.#candidates) {
      if (!candidate.dialable) this.#candidates.delete(key);
      candidate.connections = 0;
      candidate.retryAt = 0;
    }
  }

  /** Forgets every address (bans stay). */
  clear(): void {
    this.#epoch++;
    this.#candidates.clear();
  }

  /** Never connect to the IP of `key` (`host:port`) again in this session, on any port. */
  ban(key: string): void {
    const host = hostOfKey(key);
    this.#banned.add(host);
    this.#strikes.delete(host);
    for (const candidate of this.#candidates.values()) {
      if (hostOfKey(candidate.key) === host) candidate.banned = true;
    }
  }

  /**
   * Counts a strike against the IP of `key`: misbehaviour that is not
   * proof of malice once, but is when it comes back after a reconnect.
   *
   * @returns True when the IP has had enough strikes: ban it.
   */
  strike(key: string): boolean {
    const host = hostOfKey(key);
    if (this.#banned.has(host)) return true;
    const strikes = (this.#strikes.get(host) ?? 0) + 1;
    this.#strikes.delete(host);
    if (strikes >= this.#strikesBeforeBan) return true;
    setNewest(this.#strikes, host, strikes, MAX_STRUCK_HOSTS);
    return false;
  }

  /** Whether the IP of `key` (`host:port`, or a bare IP) is banned. */
  isBanned(key: string): boolean {
    return this.#banned.size > 0 && (this.#banned.has(key) || this.#banned.has(hostOfKey(key)));
  }
}
