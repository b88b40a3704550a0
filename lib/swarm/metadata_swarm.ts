/**
 * The swarm of a torrent that has only its info hash (a magnet link): it
 * dials and accepts peers like any swarm, and fetches the info dictionary
 * from those that announce `ut_metadata` (BEP 9), as a
 * {@linkcode MetadataFetcher} decides. Its peer sessions run without a
 * piece count; what the peers announce meanwhile is kept in each session.
 * Once the metadata checks out, {@linkcode MetadataSwarm.handOver} gives the
 * open sessions to the swarm that downloads: no connection is dropped, no
 * peer dialled again.
 *
 * @module
 */

import { learnDhtNode, sendDhtPort } from "./_dht_port.ts";
import type { PeerConnection, PeerTimeouts } from "../wire/connection.ts";
import type { ExtensionRegistry } from "../wire/extension_registry.ts";
import type { Transport } from "../wire/transport.ts";
import type { DhtPortLink } from "./swarm_types.ts";
import { type MetadataMessage, UT_METADATA } from "../extensions/ut_metadata.ts";
import { MetadataFetcher } from "../metadata/metadata_fetcher.ts";
import { parsePeerAddress, type PeerAddress } from "../net/peer_address.ts";
import type { PeerPool } from "../discovery/peer_pool.ts";
import type { PeerSourceKind } from "../discovery/peer_source.ts";
import type { Logger } from "../util/log.ts";
import { PeerSession, type PeerSessionEvents } from "./peer_session.ts";
import { PeerTable } from "./_peer_table.ts";
import { Connector } from "./_connector.ts";
import {
  learnListenPort,
  ourExtensions,
  sendExtensionHandshake,
  sendMetadataMessage,
} from "./_extensions.ts";
import { OwnedTasks } from "../util/_owned_tasks.ts";
import type { PexMessage } from "../extensions/ut_pex.ts";
import { PeerExchange } from "./peer_exchange.ts";
import type { RateLimiter } from "./rate_limiter.ts";

/** Metadata pieces a peer may send that we did not ask it for before it is dropped. */
const MAX_UNASKED_PIECES = 8;

/** Options of a {@linkcode MetadataSwarm}. */
export interface MetadataSwarmOptions {
  /** The info hash. */
  infoHash: Uint8Array;
  /** Our peer id. */
  peerId: Uint8Array;
  /** The port we listen on (sent in the extension handshake). */
  listenPort: number;
  /** The torrent's peer pool (kept by the torrent: the swarm that downloads uses it next). */
  pool: PeerPool;
  /**
   * The torrent's peer exchange (the swarm that downloads uses it next):
   * this swarm takes what peers name but names nobody. Default: a new one.
   */
  exchange?: PeerExchange;
  /** Where events are logged. */
  log: Logger;
  /** Largest `metadata_size` believed. Default 16 MiB. */
  maxMetadataSize?: number;
  /** Most connections. Default 50. */
  maxPeers?: number;
  /** Most connection attempts in flight. Default 10. */
  maxConnecting?: number;
  /** Connection timeouts. */
  timeouts?: PeerTimeouts;
  /** How to open connections. Default: TCP. */
  transport?: Transport;
  /** The session's DHT node (BEP 5 PORT messages both ways); none for a private torrent. */
  dht?: DhtPortLink;
  /** The shared download limit. */
  downloadLimiter?: RateLimiter;
  /** A metadata piece request unanswered for this long goes to another peer (ms). Default 5 s. */
  metadataTimeoutMs?: number;
  /**
   * The info dictionary arrived and matches the info hash. The swarm asks
   * for nothing more; the owner hands its sessions over (or stops it).
   */
  onMetadata: (metadata: Uint8Array) => void;
}

/** Progress of the metadata phase, for displays. */
export interface MetadataProgress {
  /** Metadata pieces received. */
  received: number;
  /** Metadata pieces in all; 0 until a peer has announced the size. */
  total: number;
  /** Peers that announced the metadata (and can be asked for it). */
  sources: number;
  /** Peers connected. */
  connected: number;
  /** Distinct addresses known. */
  seen: number;
  /** Distinct addresses dialled. */
  tried: number;
  /** Why the last dial failed, if it did. */
  lastDialError?: string;
  /** Peers banned in this phase (they sent metadata that was not the torrent's). */
  banned: number;
}

/** Peers of a torrent without metadata, and the metadata fetched from them. */
export class MetadataSwarm {
  readonly #options: MetadataSwarmOptions;
  readonly #fetcher: MetadataFetcher;
  readonly #peers: PeerTable;
  readonly #connector: Connector;
  readonly #extensions: ExtensionRegistry<PeerSession>;
  readonly #exchange: PeerExchange;
  readonly #events: PeerSessionEvents;
  readonly #tasks: OwnedTasks;
  readonly #abort = new AbortController();
  /** Resolves each session's task when the session is handed over. */
  readonly #released = new Map<PeerSession, () => void>();
  readonly #unasked = new Map<PeerSession, number>();
  #nextPeerId = 0;
  #banned = 0;
  #started = false;
  #stopped = false;
  #handedOver = false;

  /**
   * Prepares the swarm; nothing is dialled before {@linkcode start}.
   *
   * @param options The info hash, our identity, the pool and limits.
   */
  constructor(options: MetadataSwarmOptions) {
    this.#options = options;
    this.#tasks = new OwnedTasks(options.log);
    this.#fetcher = new MetadataFetcher({
      infoHash: options.infoHash,
      maxSize: options.maxMetadataSize,
      timeoutMs: options.metadataTimeoutMs,
    });
    this.#peers = new PeerTable(options.peerId, options.maxPeers ?? 50, options.log);
    options.pool.ignoreOurPort(options.listenPort);
    this.#connector = new Connector({
      ...options,
      maxConnecting: options.maxConnecting ?? 10,
      room: () => this.#stopped || this.#handedOver ? 0 : this.#peers.room,
      signal: this.#abort.signal,
      spawn: (task, what) => this.#spawn(task, what),
      run: (connection, epoch) => this.#run(connection, epoch),
    });
    const exchange = this.#exchange = options.exchange ?? new PeerExchange();
    this.#extensions = ourExtensions({
      dontHave: () => {}, // Pieces are counted once the piece count is known.
      metadata: (peer, message) => this.#onMetadata(peer, message),
      metadataSize: () => undefined,
      pex: (peer, message) => this.#onPex(peer, message),
      pexEnabled: () => exchange.enabled,
    });
    const limiter = options.downloadLimiter;
    this.#events = {
      pieces: () => {},
      have: () => {},
      choked: () => {},
      mayRequest: () => {},
      interest: () => {},
      request: (peer, request) => peer.reject(request), // We have nothing yet.
      released: () => {},
      block: () => {},
      unrequestedBlock: () => {},
      dhtPort: (peer, port) => learnDhtNode(peer, port, options.dht),
      extensionHandshake: (peer, handshake) => {
        learnListenPort(peer, handshake, options.pool);
        const size = handshake.metadataSize;
        if (!peer.extensions.get(UT_METADATA) || size === undefined) return;
        if (!this.#fetcher.offer(peer.key, size)) {
          options.log.debug(`peer ${peer.key}: announces metadata of ${size} bytes; not believed`);
          return;
        }
        this.#ask(peer);
      },
      extended: (peer, id, payload) => void this.#extensions.route(peer, id, payload),
      blockTarget: () => undefined,
      throttle: limiter ? (bytes) => limiter.acquire(bytes) : undefined,
    };
  }

  /** Peers connected now. */
  get peerCount(): number {
    return this.#peers.size;
  }

  /** Where the fetch is. */
  progress(): MetadataProgress {
    return {
      ...this.#fetcher.progress,
      sources: this.#fetcher.sources,
      connected: this.#peers.size,
      seen: this.#options.pool.size,
      tried: this.#connector.tried.size,
      lastDialError: this.#connector.lastError,
      banned: this.#banned,
    };
  }

  /** Starts dialling; the owner calls {@linkcode tick} once a second from now on. */
  start(): void {
    if (this.#started || this.#stopped) return;
    this.#started = true;
    this.#connector.fill();
  }

  /** Adds peer addresses and dials if there is room. */
  addPeers(addresses: readonly PeerAddress[], source?: string, kind?: PeerSourceKind): void {
    if (this.#options.pool.add(addresses, source, kind) > 0) this.#connector.fill();
  }

  /**
   * Takes over a connection a peer opened to us.
   *
   * @returns False when it was refused (full, banned, duplicate, or the phase is over).
   */
  adopt(connection: PeerConnection): boolean {
    const key = connection.label;
    if (
      this.#stopped || this.#handedOver || this.#options.pool.isBanned(key) ||
      !this.#peers.roomFor(key)
    ) {
      connection.close();
      return false;
    }
    this.#spawn(this.#run(connection, this.#options.pool.epoch), `peer ${key}`);
    return true;
  }

  /**
   * Once a second: timeouts of metadata requests, liveness, dialling. No
   * PEX goes out yet: whether the torrent is private (BEP 27: no PEX) is
   * only known with its metadata. What peers name is taken meanwhile (the
   * pool forgets it if the torrent turns out private).
   */
  tick(now: number = Date.now()): void {
    if (!this.#started || this.#stopped || this.#handedOver) return;
    for (const peer of this.#peers.values()) peer.connection.tick(now);
    this.#fetcher.expire(now);
    for (const peer of this.#peers.values()) this.#ask(peer, now);
    this.#connector.fill();
  }

  /**
   * Ends the phase and gives away the open sessions, still reading: the
   * new owner calls `reportTo` and `learnPieceCount` on each. Dials in
   * flight are cancelled (the pool has their addresses).
   */
  handOver(): PeerSession[] {
    this.#handedOver = true;
    this.#abort.abort();
    const sessions = [...this.#peers.values()].filter((peer) => !peer.connection.closed);
    for (const session of sessions) {
      this.#peers.remove(session);
      this.#released.get(session)?.();
    }
    return sessions;
  }

  /** Drops every peer and forgets every address (a private torrent's tracker changed: BEP 27). */
  dropAllPeers(): void {
    this.#options.pool.clear();
    for (const peer of this.#peers.values()) peer.connection.close();
  }

  /** Closes every connection not handed over and waits for each task to end. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#abort.abort();
    for (const peer of this.#peers.values()) peer.connection.close();
    await this.#tasks.settle();
  }

  #spawn(task: Promise<void>, what: string): void {
    this.#tasks.spawn(task, what);
  }

  async #run(connection: PeerConnection, epoch: number): Promise<void> {
    const { log, pool } = this.#options;
    if (this.#handedOver || !this.#peers.admits(connection)) {
      connection.close();
      if (connection.direction === "outgoing") {
        pool.disconnected(connection.label, Date.now(), epoch);
      }
      return;
    }
    const peer = new PeerSession(this.#nextPeerId++, connection, undefined, log);
    this.#peers.add(peer);
    if (connection.direction === "incoming") {
      pool.markConnected(peer.key, parsePeerAddress(peer.key)!);
    }
    log.debug(`peer ${peer.key}: connected (${connection.direction}), fetching metadata`);
    this.#greet(peer);
    const released = Promise.withResolvers<"released">();
    this.#released.set(peer, () => released.resolve("released"));
    const ended = await Promise.race([peer.run(this.#events), released.promise]);
    this.#released.delete(peer);
    this.#unasked.delete(peer);
    if (ended === "released") return; // The downloading swarm owns it now.
    this.#peers.remove(peer);
    this.#fetcher.gone(peer.key);
    this.#exchange.forget(peer);
    log.debug(`peer ${peer.key}: disconnected${ended ? `: ${ended.message}` : ""}`);
    if (!pool.isBanned(peer.key)) pool.disconnected(peer.poolKey, Date.now(), epoch);
    this.#connector.fill();
  }

  #greet(peer: PeerSession): void {
    sendExtensionHandshake(peer, this.#extensions, this.#options.listenPort);
    if (peer.connection.features.fast) peer.send({ type: "have-none" });
    sendDhtPort(peer, this.#options.dht);
  }

  /** Sends `peer` the requests the fetcher gives it. */
  #ask(peer: PeerSession, now: number = Date.now()): void {
    if (this.#handedOver || this.#stopped) return;
    for (const piece of this.#fetcher.next(peer.key, now)) {
      sendMetadataMessage(peer, { type: "request", piece });
    }
  }

  #onMetadata(peer: PeerSession, message: MetadataMessage): void {
    if (this.#handedOver) return;
    switch (message.type) {
      case "request":
        return sendMetadataMessage(peer, { type: "reject", piece: message.piece });
      case "reject":
        this.#fetcher.rejected(peer.key, message.piece);
        return this.#askAll();
      case "data":
        return this.#onData(peer, message);
    }
  }

  #onData(peer: PeerSession, message: Extract<MetadataMessage, { type: "data" }>): void {
    const receipt = this.#fetcher.received(
      peer.key,
      message.piece,
      message.totalSize,
      message.data,
    );
    switch (receipt.kind) {
      case "stored":
        return this.#ask(peer);
      case "unasked": {
        const count = (this.#unasked.get(peer) ?? 0) + 1;
        this.#unasked.set(peer, count);
        if (count > MAX_UNASKED_PIECES) {
          this.#misbehaved(peer, "keeps sending metadata we did not ask for");
        }
        return;
      }
      case "invalid":
        return this.#misbehaved(peer, receipt.reason);
      case "failed":
        this.#options.log.warn(
          "the metadata received does not match the info hash; fetching it again",
        );
        this.#ban(receipt.liars, "sent metadata that does not match the info hash");
        return this.#askAll();
      case "done":
        this.#ban(receipt.liars, "sent a metadata piece that does not match the info hash");
        this.#options.log.info(`metadata received (${receipt.metadata.length} bytes)`);
        return this.#options.onMetadata(receipt.metadata);
    }
  }

  /** Takes the addresses a peer names (ut_pex), as far as the exchange finds them worth it. */
  #onPex(peer: PeerSession, message: PexMessage): void {
    const verdict = this.#exchange.received(peer, message);
    if (verdict.kind === "misbehaved") return this.#misbehaved(peer, verdict.why);
    if (verdict.kind === "take") this.addPeers(verdict.addresses, `pex ${peer.key}`, "pex");
  }

  #askAll(): void {
    for (const peer of this.#peers.values()) this.#ask(peer);
  }

  #misbehaved(peer: PeerSession, why: string): void {
    if (this.#options.pool.strike(peer.key)) {
      this.#ban([peer.key], `${why}, again after a reconnect`);
    } else peer.protocolError(why);
  }

  #ban(keys: readonly string[], why: string): void {
    const { pool, log } = this.#options;
    for (const key of keys) {
      if (!pool.isBanned(key)) {
        this.#banned++;
        log.warn(`peer ${key} banned for this session: it ${why}`);
      }
      pool.ban(key);
      for (const peer of this.#peers.values()) {
        if (pool.isBanned(peer.key)) peer.connection.close();
      }
    }
  }
}
