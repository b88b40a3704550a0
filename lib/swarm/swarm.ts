/**
 * The swarm of one torrent: the coordinator of the parts that each do one
 * job.
 *
 * - {@linkcode PeerSession}: one per connection; the wire protocol with that
 *   peer, and the checks that drop a peer breaking it.
 * - {@linkcode PeerPool}: the addresses to dial, the one place peers are
 *   deduplicated and remembered; `_connector.ts` dials them while there is
 *   room; `_peer_table.ts` decides which connections are kept.
 * - `_downloads.ts`: interest, each peer's request pipeline, arriving blocks.
 * - {@linkcode PieceAssembler}: piece buffers, then verifier and storage.
 * - `_our_pieces.ts`: what a piece we gain or lose means to every peer.
 * - `_uploads.ts`: choking, queued requests, the loops that send blocks.
 * - `_bans.ts`: smart ban and bans by IP.
 * - {@linkcode PeerExchange}: what peers hear of each other (ut_pex).
 * - Extension messages go through an {@linkcode ExtensionRegistry}.
 *
 * The swarm wires them together, routes what each session reports, owns
 * every task (none ends unhandled) and stops them in order.
 *
 * A block's path: message reader → peer session → downloads (picker
 * bookkeeping) → assembler → verifier → storage → `have` to every peer.
 *
 * @module
 */

import { learnDhtNode, sendDhtPort } from "./_dht_port.ts";
import type { PeerConnection } from "../wire/connection.ts";
import type { ExtensionRegistry } from "../wire/extension_registry.ts";
import {
  METADATA_PIECE_SIZE,
  type MetadataMessage,
  metadataPieceCount,
} from "../extensions/ut_metadata.ts";
import {
  learnListenPort,
  ourExtensions,
  sendExtensionHandshake,
  sendMetadataMessage,
} from "./_extensions.ts";
import { OwnedTasks } from "../util/_owned_tasks.ts";
import type { PexMessage } from "../extensions/ut_pex.ts";
import { PeerExchange } from "./peer_exchange.ts";
import { parsePeerAddress, type PeerAddress } from "../net/peer_address.ts";
import { v1Verifier } from "../metainfo/piece_verifier.ts";
import { PeerSession, type PeerSessionEvents } from "./peer_session.ts";
import { PeerPool } from "../discovery/peer_pool.ts";
import type { PeerSourceKind } from "../discovery/peer_source.ts";
import { PeerTable } from "./_peer_table.ts";
import type { PiecePicker, SequentialOptions } from "./picker.ts";
import { PieceAssembler } from "./piece_assembler.ts";
import { Connector } from "./_connector.ts";
import { Downloads } from "./_downloads.ts";
import { Uploads } from "./_uploads.ts";
import { RateMeter } from "./rate_meter.ts";
import { Bans } from "./_bans.ts";
import { OurPieces } from "./_our_pieces.ts";
import type { PeerSummary, SwarmOptions, SwarmStats } from "./swarm_types.ts";
import { WebSeeds } from "./_web_seeds.ts";
import { usableWebSeeds } from "../webseed/url.ts";
import type { WebSeedStatus } from "../webseed/web_seed.ts";

export type { PeerSummary, SwarmOptions, SwarmStats } from "./swarm_types.ts";

/**
 * Blocks we never asked a peer for that it may send before it is dropped;
 * each drop is a strike against its IP, and the second a ban. Such a block
 * never touches a piece: only blocks we requested from that peer do.
 */
const MAX_UNREQUESTED_BLOCKS = 16;
/** Seconds between rechokes. */
const RECHOKE_EVERY_TICKS = 10;

/** Downloads one torrent from many peers, and serves it to them. */
export class Swarm {
  /** Addresses to dial. */
  readonly pool: PeerPool;
  readonly #options: SwarmOptions;
  readonly #picker: PiecePicker;
  readonly #peers: PeerTable;
  readonly #upload = new RateMeter();
  /** Dials, connections and upload loops, and pieces being written: `stop()` waits for them. */
  readonly #tasks: OwnedTasks;
  readonly #bans: Bans;
  readonly #abort = new AbortController();
  readonly #peersServed = new Set<string>();
  readonly #connector: Connector;
  readonly #assembler: PieceAssembler;
  readonly #downloads: Downloads;
  readonly #uploads: Uploads;
  readonly #ours: OurPieces;
  readonly #extensions: ExtensionRegistry<PeerSession>;
  readonly #exchange: PeerExchange;
  readonly #events: PeerSessionEvents;
  readonly #webSeeds: WebSeeds;
  #ticks = 0;
  #nextPeerId = 0;
  #hashFailures = 0;
  #started = false;
  #stopped = false;

  /** @param options The torrent, the picker, storage and limits. */
  constructor(options: SwarmOptions) {
    this.#options = options;
    this.#tasks = new OwnedTasks(options.log);
    const { torrent, log } = options;
    const picker = this.#picker = options.picker;
    this.pool = options.pool ?? new PeerPool({ private: torrent.private });
    // BEP 27: a private torrent never exchanges peers (a magnet link's peers hear our
    // handshake again, now without ut_pex).
    this.#exchange = options.exchange ?? new PeerExchange();
    if (torrent.private) this.#exchange.disable();
    this.#peers = new PeerTable(options.peerId, options.maxPeers ?? 50, log);
    this.pool.ignoreOurPort(options.listenPort);
    const spawn = (task: Promise<void>, what: string) => this.#spawn(task, what);
    this.#connector = new Connector({
      ...options,
      pool: this.pool,
      infoHash: torrent.infoHash,
      maxConnecting: options.maxConnecting ?? 10,
      room: () => this.#stopped || (picker.missing === 0 && !options.seed) ? 0 : this.#peers.room,
      signal: this.#abort.signal,
      spawn,
      run: (connection, epoch) => this.#run(connection, epoch),
    });
    const verifier = options.verifier ?? v1Verifier(torrent);
    this.#assembler = new PieceAssembler({
      pieceSize: (index) => torrent.pieceMap.pieceSize(index),
      complete: (index) => picker.allReceived(index),
      verifyAndWrite: options.verifyAndWrite ?? (async (index, data) => {
        const valid = verifier.verify(index, data);
        if (valid) await options.writePiece(index, data);
        return { valid, data };
      }),
      verified: (piece) => {
        this.#bans.pieceVerified(piece);
        this.#ours.gained(piece.index);
        this.#webSeeds.wake();
      },
      failed: (piece) => {
        this.#hashFailures++;
        this.#downloads.wasted += piece.data.length;
        picker.pieceFailed(piece.index);
        this.#bans.pieceFailed(piece);
        this.#webSeeds.pieceFailed(piece);
        this.#askSources();
      },
      fatal: (index, error) => {
        if (this.#stopped) return;
        log.error(`piece ${index}: ${(error as Error).message}`);
        options.onFatal?.(error);
      },
      spawn,
    });
    this.#downloads = new Downloads({
      picker,
      assembler: this.#assembler,
      peers: this.#peers.byId,
      stopped: () => this.#stopped,
      requestTimeoutMs: options.requestTimeoutMs ?? 20_000,
      log,
    });
    this.#webSeeds = new WebSeeds({
      torrent,
      urls: usableWebSeeds(options.webSeeds ?? []),
      maxWebSeeds: options.maxWebSeeds ?? 3,
      picker,
      downloads: this.#downloads,
      nextId: () => this.#nextPeerId++,
      spawn,
      stopped: () => this.#stopped,
      downloadLimiter: options.downloadLimiter,
      log,
    });
    this.#uploads = new Uploads({
      ...options,
      peers: () => this.#peers.values(),
      has: (index) => picker.have.has(index),
      pieceSize: (index) => torrent.pieceMap.pieceSize(index),
      pieceCount: torrent.pieceCount,
      seeding: () => picker.missing === 0,
      spawn,
      onSent: (peer, bytes, now) => {
        peer.upload.add(bytes, now);
        this.#upload.add(bytes, now);
        if (this.#peersServed.size < 10_000) this.#peersServed.add(peer.key);
      },
    });
    this.#ours = new OurPieces({
      ...options,
      picker,
      peers: () => this.#peers.values(),
      downloads: this.#downloads,
      uploads: this.#uploads,
      onWantAgain: () => {
        // Seeds we left when we had everything have what we need again.
        this.pool.retryWorking();
        this.#connector.fill();
      },
    });
    this.#bans = new Bans({
      pool: this.pool,
      peers: this.#peers.byId,
      picker,
      assembler: this.#assembler,
      downloads: this.#downloads,
      log,
    });
    this.#extensions = ourExtensions({
      dontHave: (peer, index) => {
        if (index < torrent.pieceCount) return this.#downloads.lost(peer, index);
        peer.protocolError(`sent lt_donthave for piece ${index}, which does not exist`);
      },
      metadata: (peer, message) => this.#serveMetadata(peer, message),
      metadataSize: () => torrent.infoBytes.length,
      pex: (peer, message) => this.#onPex(peer, message),
      pexEnabled: () => this.#exchange.enabled,
    });
    this.#events = this.#sessionEvents();
  }

  /** Peers connected now. */
  get peerCount(): number {
    return this.#peers.size;
  }

  /** What the swarm does with what each peer session reports. */
  #sessionEvents(): PeerSessionEvents {
    const downloads = this.#downloads;
    const limiter = this.#options.downloadLimiter;
    return {
      pieces: (peer, bits) => downloads.pieces(peer, bits),
      have: (peer, index) => downloads.have(peer, index),
      choked: (peer) => downloads.choked(peer),
      mayRequest: (peer) => downloads.requestMore(peer),
      interest: () => this.#uploads.rechokeSoon(),
      request: (peer, request) => this.#uploads.onRequest(peer, request),
      released: (peer, index, begin) => downloads.released(peer, index, begin),
      block: (peer, block) => downloads.block(peer, block),
      unrequestedBlock: (peer, block) => {
        downloads.unrequested(peer, block);
        if (peer.unrequestedBlocks > MAX_UNREQUESTED_BLOCKS) {
          this.#bans.misbehaved(peer, "keeps sending blocks we did not ask for");
        }
      },
      extensionHandshake: (peer, handshake) => {
        learnListenPort(peer, handshake, this.pool);
        // A newcomer is named to the others (and hears of them) now, not at the next tick.
        if (this.#started) this.#exchange.tick(this.#peers.values());
      },
      dhtPort: (peer, port) => learnDhtNode(peer, port, this.#options.dht),
      extended: (peer, id, payload) => void this.#extensions.route(peer, id, payload),
      blockTarget: (peer, index, begin, length) =>
        downloads.blockTarget(peer, index, begin, length),
      throttle: limiter ? (bytes) => limiter.acquire(bytes) : undefined,
    };
  }

  /** Starts dialling; from now on the owner calls {@linkcode tick} once a second. */
  start(): void {
    if (this.#started || this.#stopped) return;
    this.#started = true;
    this.#connector.fill();
    this.#webSeeds.start();
  }

  /**
   * Adds peer addresses and dials if there is room.
   *
   * @param addresses The peers.
   * @param source Where they come from: a tracker's URL, or `user` (the default).
   * @param kind The kind of source (a private torrent takes only some kinds: see the pool).
   */
  addPeers(addresses: readonly PeerAddress[], source?: string, kind?: PeerSourceKind): void {
    if (this.pool.add(addresses, source, kind) > 0) this.#connector.fill();
  }

  /**
   * Takes over a connection a peer opened to us.
   *
   * @returns False when it was refused (full, banned, duplicate).
   */
  adopt(connection: PeerConnection): boolean {
    const key = connection.label;
    if (this.#stopped || this.pool.isBanned(key) || !this.#peers.roomFor(key)) {
      connection.close();
      return false;
    }
    this.#spawn(this.#run(connection, this.pool.epoch), `peer ${key}`);
    return true;
  }

  /** Counters for displays and announces. */
  stats(now: number = Date.now()): SwarmStats {
    const downloads = this.#downloads;
    return {
      connected: this.#peers.size,
      seen: this.pool.size,
      downloadRate: downloads.meter.rate(now),
      uploadRate: this.#upload.rate(now),
      downloaded: downloads.meter.total,
      uploaded: this.#upload.total,
      wasted: downloads.wasted,
      hashFailures: this.#hashFailures,
      banned: this.#bans.banned,
      peersUsed: downloads.peersUsed.size,
      peersTried: this.#connector.tried.size,
      peersServed: this.#peersServed.size,
      lastDialError: this.#connector.lastError,
    };
  }

  /** The connected peers. */
  peers(now: number = Date.now()): PeerSummary[] {
    return [...this.#peers.values()].map((peer) => ({
      ...peer.summary(now),
      sources: this.pool.sources(peer.poolKey),
    }));
  }

  /**
   * Drops every peer and forgets every address: a private torrent whose
   * tracker changed must use only the new tracker's peers (BEP 27).
   */
  dropAllPeers(): void {
    this.pool.clear();
    for (const peer of this.#peers.values()) peer.connection.close();
  }

  /**
   * Stops in a fixed order: no new dials (those in flight are aborted), every
   * connection closed, then waits until each connection's task has ended and
   * every piece being verified has been written. After it resolves nothing
   * of the swarm runs any more.
   */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#abort.abort();
    this.#webSeeds.stop();
    this.#uploads.stop();
    for (const peer of this.#peers.values()) peer.connection.close();
    await this.#tasks.settle();
  }

  /**
   * Runs `task` as one of the swarm's own: it cannot end in an unhandled
   * rejection (an error it lets through is a bug, logged as such), and
   * `stop()` waits for it.
   */
  #spawn(task: Promise<void>, what: string): void {
    this.#tasks.spawn(task, what);
  }

  /**
   * Takes over the peer sessions of the metadata phase
   * ({@linkcode MetadataSwarm.handOver}), still open: each learns the piece
   * count (what the peer announced meanwhile counts now), hears our
   * extension handshake again (now with `metadata_size`) and our pieces.
   * Call before {@linkcode start}.
   */
  adoptSessions(sessions: readonly PeerSession[]): void {
    const epoch = this.pool.epoch;
    for (const peer of sessions) {
      this.#nextPeerId = Math.max(this.#nextPeerId, peer.id + 1);
      if (this.#stopped || peer.connection.closed) {
        peer.connection.close();
        this.#exchange.forget(peer);
        this.pool.disconnected(peer.poolKey, Date.now(), epoch);
        continue;
      }
      this.#peers.add(peer);
      peer.reportTo(this.#events);
      this.#greet(peer, true);
      this.#spawn(this.#attend(peer, epoch), `peer ${peer.key}`);
      peer.learnPieceCount(this.#options.torrent.pieceCount);
    }
  }

  /** Runs a connection to its end; `epoch` is the pool's when it was dialled or accepted. */
  async #run(connection: PeerConnection, epoch: number): Promise<void> {
    const { log, torrent, pipeline } = this.#options;
    if (!this.#peers.admits(connection)) {
      connection.close();
      if (connection.direction === "outgoing") {
        this.pool.disconnected(connection.label, Date.now(), epoch);
      }
      return;
    }
    const peer = new PeerSession(this.#nextPeerId++, connection, torrent.pieceCount, log, pipeline);
    this.#peers.add(peer);
    if (connection.direction === "incoming") {
      this.pool.markConnected(peer.key, parsePeerAddress(peer.key)!);
    }
    const how = { none: "", handshake: ", encrypted handshake", rc4: ", encrypted" };
    log.debug(`peer ${peer.key}: connected (${connection.direction}${how[connection.encryption]})`);
    // Our extension handshake and pieces go first: messages that came with the peer's
    // handshake are handled as soon as the session runs, and what they make us send follows.
    this.#greet(peer, false);
    peer.run(this.#events);
    await this.#attend(peer, epoch);
  }

  /** Serves a running session until its connection ends, then forgets it. */
  async #attend(peer: PeerSession, epoch: number): Promise<void> {
    const log = this.#options.log;
    const error = await peer.ended;
    this.#peers.remove(peer);
    this.#downloads.forget(peer);
    this.#bans.forget(peer);
    this.#exchange.forget(peer);
    if (!peer.amChoking) this.#uploads.rechokeSoon();
    log.debug(`peer ${peer.key}: disconnected${error ? `: ${error.message}` : ""}`);
    if (!this.pool.isBanned(peer.key)) this.pool.disconnected(peer.poolKey, Date.now(), epoch);
    this.#connector.fill();
  }

  /**
   * Our extension handshake and our pieces. A peer adopted from the
   * metadata phase has heard "have none" (or nothing) already: it hears
   * each piece we have as `have`.
   */
  #greet(peer: PeerSession, adopted: boolean): void {
    peer.connection.onDrain = () => this.#uploads.serve(peer);
    sendExtensionHandshake(peer, this.#extensions, this.#options.listenPort);
    if (!adopted) {
      peer.sendPieces(this.#picker.have);
      return sendDhtPort(peer, this.#options.dht);
    }
    for (const index of this.#picker.have.indices()) peer.send({ type: "have", index });
  }

  /** Answers ut_metadata requests from the info dictionary (BEP 9); late answers to our own requests are ignored. */
  #serveMetadata(peer: PeerSession, message: MetadataMessage): void {
    if (message.type !== "request") return;
    const info = this.#options.torrent.infoBytes;
    const piece = message.piece;
    const reply: MetadataMessage = piece < metadataPieceCount(info.length)
      ? {
        type: "data",
        piece,
        totalSize: info.length,
        data: info.subarray(piece * METADATA_PIECE_SIZE, (piece + 1) * METADATA_PIECE_SIZE),
      }
      : { type: "reject", piece };
    sendMetadataMessage(peer, reply);
  }

  /** Takes the addresses a peer names (ut_pex), as far as the exchange finds them worth it. */
  #onPex(peer: PeerSession, message: PexMessage): void {
    const verdict = this.#exchange.received(peer, message);
    if (verdict.kind === "misbehaved") return this.#bans.misbehaved(peer, verdict.why);
    if (verdict.kind === "ignore") return;
    this.#options.log.debug(`peer ${peer.key}: PEX names ${verdict.addresses.length} peers`);
    this.addPeers(verdict.addresses, `pex ${peer.key}`, "pex");
  }

  /**
   * Pieces we had are gone (their data changed on disk): they are no
   * longer served, peers that speak lt_donthave hear so, new peers are not
   * told of them, and they are downloaded again if the picker wants them.
   *
   * @returns The pieces we had among them.
   */
  losePieces(indices: Iterable<number>): number[] {
    return this.#ours.lose(indices);
  }

  /**
   * Gives the pieces new priorities (0, not wanted, to 3; the picker's):
   * new pieces start by them, peers' interest follows, and the swarm is
   * complete, or downloading again, by the new set of wanted pieces.
   */
  setPiecePriorities(priorities: Uint8Array): void {
    if (this.#picker.setPriorities(priorities)) this.#ours.wantedChanged();
    this.#askSources();
  }

  /**
   * Starts pieces in index order from now on (or rarest first again, when
   * undefined): the picker's {@linkcode PiecePicker.setSequential}.
   */
  setSequential(sequential: SequentialOptions | undefined): void {
    this.#picker.setSequential(sequential);
    this.#askSources();
  }

  /**
   * Piece `index` is needed by `at` (ms since the epoch): it is requested
   * before others, now by every peer with room that has it.
   *
   * @returns False when too many pieces have a deadline already.
   */
  setDeadline(index: number, at: number): boolean {
    const set = this.#picker.setDeadline(index, at);
    if (set) this.#askSources();
    return set;
  }

  /** What to start changed, or piece memory was freed: peers and web seeds look for pieces now. */
  #askSources(): void {
    this.#downloads.requestAllSoon();
    this.#webSeeds.wake();
  }

  /** Piece `index` (or, without one, every piece) needs no deadline any more. */
  clearDeadline(index?: number): void {
    this.#picker.clearDeadline(index);
  }

  /**
   * Pieces found good on disk again (checked by the caller): we have them,
   * and every peer hears so. Pieces we have or are downloading are left
   * alone.
   */
  regainPieces(indices: Iterable<number>): void {
    this.#ours.regain(indices);
  }

  /**
   * The once-a-second housekeeping (the session's clock calls it): idle
   * slots, rechokes every 10 s, keep-alives and timeouts, snubbing, pipelines,
   * peer exchange, dialling.
   */
  tick(now: number = Date.now()): void {
    if (!this.#started || this.#stopped) return;
    this.#uploads.tick(now);
    if (++this.#ticks % RECHOKE_EVERY_TICKS === 0) this.#uploads.rechoke(now);
    for (const peer of this.#peers.values()) peer.connection.tick(now);
    this.#downloads.tick(now);
    this.#exchange.tick(this.#peers.values(), now);
    this.#connector.fill();
    this.#webSeeds.tick();
  }

  /** The web seeds' states (BEP 19): those in use, then those not tried yet. */
  webSeeds(now: number = Date.now()): WebSeedStatus[] {
    return this.#webSeeds.statuses(now);
  }
}
