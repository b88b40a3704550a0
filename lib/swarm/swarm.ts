/**
 * The swarm of one torrent: the coordinator of the parts that each do one
 * job.
 *
 * - {@linkcode PeerSession}: one per connection; the wire protocol with that
 *   peer, and the checks that drop a peer breaking it.
 * - `_connector.ts` dials addresses from the {@linkcode PeerPool} (the one
 *   place peers are deduplicated and remembered) while there is room.
 * - `_downloads.ts`: interest, each peer's request pipeline, arriving blocks.
 * - {@linkcode PieceAssembler}: piece buffers, then verifier and storage.
 * - `_uploads.ts`: choking, queued requests, the loops that send blocks.
 * - {@linkcode SmartBan} finds who sent corrupt data; the swarm bans by IP.
 * - Extension messages go through an {@linkcode ExtensionRegistry}.
 *
 * What the swarm itself keeps: which connections are kept (at most
 * `maxPeers`, never two to one peer id or to ourselves, a newcomer may evict
 * a peer worth less: `_eviction.ts`), what a verified or lost piece means to
 * every peer, bans, and the order of stopping.
 *
 * A block's path: message reader → peer session → downloads (picker
 * bookkeeping) → assembler → verifier → storage → `have` to every peer.
 *
 * @module
 */

import type { PeerConnection } from "../peer/connection.ts";
import { PeerError } from "../peer/errors.ts";
import { encodeExtensionHandshake } from "../peer/extension_handshake.ts";
import { ExtensionRegistry } from "../peer/extension_registry.ts";
import { encodeDontHave, LT_DONTHAVE, ltDontHave } from "../extensions/lt_donthave.ts";
import { hostOfKey, parsePeerAddress, type PeerAddress } from "../net/peer_address.ts";
import { v1Verifier } from "../metainfo/piece_verifier.ts";
import { bytesToBinary, compareBytes } from "../util/_bytes.ts";
import { VERSION } from "../version.ts";
import { PeerSession, type PeerSessionEvents } from "./peer_session.ts";
import { PeerPool } from "./_peer_pool.ts";
import { evictionFor } from "./_eviction.ts";
import type { PiecePicker } from "./picker.ts";
import { type AssembledPiece, PieceAssembler } from "./piece_assembler.ts";
import { Connector } from "./_connector.ts";
import { Downloads } from "./_downloads.ts";
import { OUR_REQUEST_QUEUE, Uploads } from "./_uploads.ts";
import { RateMeter } from "./_rate.ts";
import { SmartBan } from "./_smart_ban.ts";
import type { PeerSummary, SwarmOptions, SwarmStats } from "./swarm_types.ts";

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
  readonly pool = new PeerPool();
  readonly #options: SwarmOptions;
  readonly #picker: PiecePicker;
  readonly #maxPeers: number;
  readonly #peers = new Map<number, PeerSession>();
  readonly #peerIds = new Map<string, PeerSession>();
  readonly #upload = new RateMeter();
  /** Dials, connections and upload loops, and pieces being written: `stop()` waits for them. */
  readonly #tasks = new Set<Promise<void>>();
  readonly #smartBan = new SmartBan();
  readonly #abort = new AbortController();
  readonly #peersServed = new Set<string>();
  readonly #connector: Connector;
  readonly #assembler: PieceAssembler;
  readonly #downloads: Downloads;
  readonly #uploads: Uploads;
  readonly #extensions: ExtensionRegistry<PeerSession>;
  readonly #events: PeerSessionEvents;
  #ticks = 0;
  #nextPeerId = 0;
  #hashFailures = 0;
  #banned = 0;
  #timer: ReturnType<typeof setInterval> | undefined;
  #stopped = false;
  #completeReported = false;

  /** @param options The torrent, the picker, storage and limits. */
  constructor(options: SwarmOptions) {
    this.#options = options;
    const { torrent, log } = options;
    const picker = this.#picker = options.picker;
    this.#maxPeers = options.maxPeers ?? 50;
    for (const host of ["127.0.0.1", "::1", "0.0.0.0", "localhost"]) {
      this.pool.ignore({ host, port: options.listenPort });
    }
    const spawn = (task: Promise<void>, what: string) => this.#spawn(task, what);
    this.#connector = new Connector({
      ...options,
      pool: this.pool,
      infoHash: torrent.infoHash,
      maxConnecting: options.maxConnecting ?? 10,
      room: () =>
        this.#stopped || (picker.missing === 0 && !options.seed)
          ? 0
          : this.#maxPeers - this.#peers.size,
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
      verified: (piece) => this.#verified(piece),
      failed: (piece) => this.#failed(piece),
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
      peers: this.#peers,
      stopped: () => this.#stopped,
      requestTimeoutMs: options.requestTimeoutMs ?? 20_000,
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
    this.#extensions = new ExtensionRegistry<PeerSession>([
      ltDontHave((peer, index) => {
        if (index < torrent.pieceCount) return this.#downloads.lost(peer, index);
        peer.protocolError(`sent lt_donthave for piece ${index}, which does not exist`);
      }),
    ]);
    this.#events = this.#sessionEvents();
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
      unrequestedBlock: (peer, length) => {
        downloads.unrequested(length);
        if (peer.unrequestedBlocks > MAX_UNREQUESTED_BLOCKS) {
          this.#misbehaved(peer, "keeps sending blocks we did not ask for");
        }
      },
      extensionHandshake: (peer, handshake) => {
        // A peer that dialled in is known by its listen port from now on, not its source port.
        if (
          handshake.listenPort && peer.connection.direction === "incoming" &&
          peer.poolKey === peer.key
        ) {
          peer.poolKey = this.pool.listensOn(peer.poolKey, handshake.listenPort);
        }
      },
      extended: (peer, id, payload) => void this.#extensions.route(peer, id, payload),
      blockTarget: (peer, index, begin, length) =>
        downloads.blockTarget(peer, index, begin, length),
      throttle: limiter ? (bytes) => limiter.acquire(bytes) : undefined,
    };
  }

  /** Starts dialling and the once-a-second housekeeping. */
  start(): void {
    if (this.#timer !== undefined || this.#stopped) return;
    this.#timer = setInterval(() => this.#tick(), 1000);
    this.#connector.fill();
  }

  /**
   * Adds peer addresses and dials if there is room.
   *
   * @param addresses The peers.
   * @param source Where they come from: a tracker's URL, or `user` (the default).
   */
  addPeers(addresses: readonly PeerAddress[], source?: string): void {
    if (this.pool.add(addresses, source) > 0) this.#connector.fill();
  }

  /**
   * Takes over a connection a peer opened to us.
   *
   * @returns False when it was refused (full, banned, duplicate).
   */
  adopt(connection: PeerConnection): boolean {
    const key = connection.label;
    if (this.#stopped || this.pool.isBanned(key) || !this.#roomFor(key)) {
      connection.close();
      return false;
    }
    this.#spawn(this.#run(connection, this.pool.epoch), `peer ${key}`);
    return true;
  }

  /** Whether a peer dialling in from `key` fits, evicting a peer worth less when full. */
  #roomFor(key: string): boolean {
    if (this.#peers.size < this.#maxPeers) return true;
    const candidates = [...this.#peers.values()].map((peer) => ({
      peer,
      key: peer.key,
      useful: peer.amInterested,
      unchoked: !peer.amChoking,
      wastedTurnAt: peer.wastedTurnAt,
      connectedAt: peer.connectedAt,
    }));
    const victim = evictionFor(candidates, hostOfKey(key), Date.now())?.peer;
    if (!victim) return false;
    this.#options.log.debug(`peer ${victim.key}: disconnected to make room for ${key}`);
    // Gone now, not when its task ends: the newcomer's place is taken at once.
    this.#peers.delete(victim.id);
    victim.connection.close();
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
      banned: this.#banned,
      peersUsed: downloads.peersUsed.size,
      peersTried: this.#connector.tried.size,
      peersServed: this.#peersServed.size,
      lastDialError: this.#connector.lastError,
    };
  }

  /** The connected peers. */
  peers(now: number = Date.now()): PeerSummary[] {
    return [...this.#peers.values()].map((peer) => ({
      address: peer.key,
      client: peer.client,
      direction: peer.connection.direction,
      encryption: peer.connection.encryption,
      progress: peer.bits.count / Math.max(1, peer.bits.size),
      downloadRate: peer.download.rate(now),
      downloaded: peer.download.total,
      roundTripMs: peer.roundTripMs,
      uploadRate: peer.upload.rate(now),
      choked: peer.peerChoking,
      interested: peer.amInterested,
      requests: peer.requests.size,
      snubbed: peer.snubbed,
      unchoked: !peer.amChoking,
      queuedRequests: peer.uploadQueue.length,
      sendQueueBytes: peer.connection.queuedBytes,
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
    this.#uploads.stop();
    clearInterval(this.#timer);
    for (const peer of this.#peers.values()) peer.connection.close();
    while (this.#tasks.size > 0) await Promise.all([...this.#tasks]);
  }

  /**
   * Runs `task` as one of the swarm's own: it cannot end in an unhandled
   * rejection (an error it lets through is a bug, logged as such), and
   * `stop()` waits for it.
   */
  #spawn(task: Promise<void>, what: string): void {
    const owned: Promise<void> = task.catch((error) => {
      this.#options.log.error(
        `${what}: ${(error as Error)?.stack ?? error} (a bug; please report it)`,
      );
    }).finally(() => this.#tasks.delete(owned));
    this.#tasks.add(owned);
  }

  /** Runs a connection to its end; `epoch` is the pool's when it was dialled or accepted. */
  async #run(connection: PeerConnection, epoch: number): Promise<void> {
    const { log } = this.#options;
    const peerIdKey = bytesToBinary(connection.handshake.peerId);
    const existing = this.#peerIds.get(peerIdKey);
    if (
      peerIdKey === bytesToBinary(this.#options.peerId) ||
      (existing && !this.#replaces(connection, existing))
    ) {
      log.debug(`peer ${connection.label}: already connected to this peer id; closing`);
      connection.close();
      if (connection.direction === "outgoing") {
        this.pool.disconnected(connection.label, Date.now(), epoch);
      }
      return;
    }
    if (existing) {
      log.debug(`peer ${existing.key}: a second connection with this peer id replaces it`);
      existing.connection.close();
    }
    const { pieceCount } = this.#options.torrent;
    const peer = new PeerSession(
      this.#nextPeerId++,
      connection,
      pieceCount,
      log,
      this.#options.pipeline,
    );
    this.#peers.set(peer.id, peer);
    this.#peerIds.set(peerIdKey, peer);
    if (connection.direction === "incoming") {
      this.pool.markConnected(peer.key, parsePeerAddress(peer.key)!);
    }
    const how = { none: "", handshake: ", encrypted handshake", rc4: ", encrypted" };
    log.debug(`peer ${peer.key}: connected (${connection.direction}${how[connection.encryption]})`);
    connection.onDrain = () => this.#uploads.serve(peer);
    this.#greet(peer);
    const error = await peer.run(this.#events);
    this.#peers.delete(peer.id);
    if (this.#peerIds.get(peerIdKey) === peer) this.#peerIds.delete(peerIdKey);
    this.#downloads.forget(peer);
    this.#smartBan.forget(peer.id);
    if (!peer.amChoking) this.#uploads.rechokeSoon();
    log.debug(`peer ${peer.key}: disconnected${error ? `: ${error.message}` : ""}`);
    if (!this.pool.isBanned(peer.key)) this.pool.disconnected(peer.poolKey, Date.now(), epoch);
    this.#connector.fill();
  }

  /**
   * Two connections to one peer (both dialled at once): both sides keep the
   * one dialled by the peer with the lower peer id, so they agree.
   */
  #replaces(connection: PeerConnection, existing: PeerSession): boolean {
    const weDialFirst = compareBytes(this.#options.peerId, connection.handshake.peerId) < 0;
    const keep = weDialFirst ? "outgoing" : "incoming";
    return connection.direction === keep && existing.connection.direction !== keep;
  }

  #greet(peer: PeerSession): void {
    if (peer.connection.features.extensions) {
      peer.send({
        type: "extended",
        id: 0,
        payload: encodeExtensionHandshake({
          extensions: this.#extensions.localIds(),
          client: `shoal ${VERSION}`,
          listenPort: this.#options.listenPort || undefined,
          requestQueue: OUR_REQUEST_QUEUE,
        }, this.#extensions.handshakeFields()),
      });
    }
    peer.sendPieces(this.#picker.have);
  }

  /**
   * Pieces we had are gone (their data changed on disk): they are no
   * longer served, peers that speak lt_donthave hear so, new peers are not
   * told of them, and they are downloaded again if the picker wants them.
   *
   * @returns The pieces we had among them.
   */
  losePieces(indices: Iterable<number>): number[] {
    const lost: number[] = [];
    for (const index of indices) if (this.#picker.pieceLost(index)) lost.push(index);
    if (lost.length === 0) return lost;
    this.#uploads.dropRequestsFor(new Set(lost));
    const payloads = lost.map(encodeDontHave);
    for (const peer of this.#peers.values()) {
      for (const payload of payloads) {
        const donthave = ExtensionRegistry.message(peer.extensions, LT_DONTHAVE, payload);
        if (!donthave) break; // The peer does not speak lt_donthave.
        peer.send(donthave);
      }
    }
    this.#downloads.wantAgain(lost.filter((index) => this.#picker.wants(index)));
    if (this.#picker.missing > 0) {
      this.#completeReported = false;
      // Seeds we left when we had everything have what we need again.
      this.pool.retryWorking();
      this.#connector.fill();
    }
    return lost;
  }

  /**
   * Pieces found good on disk again (checked by the caller): we have them,
   * and every peer hears so. Pieces we have or are downloading are left
   * alone.
   */
  regainPieces(indices: Iterable<number>): void {
    for (const index of indices) {
      if (this.#picker.have.has(index) || this.#picker.active(index)) continue;
      this.#gained(index);
    }
  }

  #verified(piece: AssembledPiece): void {
    // A piece that once failed with several senders is now good: ban whoever sent the bad blocks.
    for (const id of this.#smartBan.verified(piece.index, piece.data)) {
      const liar = this.#peers.get(id);
      if (liar) this.#ban(liar, `sent a corrupt block of piece ${piece.index}`);
    }
    this.#gained(piece.index);
  }

  /** We have piece `index` now (downloaded, or found good on disk again). */
  #gained(index: number): void {
    this.#picker.pieceVerified(index);
    // Its buffer is free: peers waiting for piece memory may ask again now, not at the next tick.
    this.#downloads.requestAllSoon();
    // Every peer hears of it, even one that has the piece (as libtorrent's
    // send_redundant_have): peers gauge our progress and speed from haves.
    for (const peer of this.#peers.values()) peer.send({ type: "have", index });
    this.#downloads.gained(index);
    this.#options.onPieceVerified?.(index);
    if (this.#picker.missing === 0 && !this.#completeReported) {
      this.#completeReported = true;
      this.#downloads.completed();
      this.#options.onComplete?.();
    }
  }

  #failed(piece: AssembledPiece): void {
    this.#hashFailures++;
    this.#downloads.wasted += piece.data.length;
    this.#picker.pieceFailed(piece.index);
    const senders = [...piece.contributors];
    this.#options.log.warn(
      `piece ${piece.index} failed its hash check (sent by ${
        senders.map((id) => this.#peers.get(id)?.key ?? "a gone peer").join(", ")
      }); downloading it again`,
    );
    // A piece sent alone by a peer already gone says nothing more of anyone.
    const gone = senders.length === 1 && !this.#peers.has(senders[0]);
    const guilty = gone ? undefined : this.#smartBan.failed(
      piece.index,
      piece.data,
      piece.senders,
      piece.contributors,
    );
    const liar = guilty === undefined ? undefined : this.#peers.get(guilty);
    if (liar) {
      const failures = this.#smartBan.soleFailures(liar.id);
      this.#ban(liar, `sent ${failures} pieces that failed their hash check`);
    }
    this.#downloads.requestAllSoon();
  }

  /**
   * Bans the peer's IP for the session: every connection from it is closed,
   * its requests go back to the picker, and the blocks it sent into pieces
   * not yet being checked are taken out of them, to be fetched elsewhere.
   */
  #ban(peer: PeerSession, why: string): void {
    const { log } = this.#options;
    if (!this.pool.isBanned(peer.key)) {
      this.#banned++;
      log.warn(`peer ${peer.key} banned for this session: it ${why}`);
      this.pool.ban(peer.key);
    }
    const dropped = this.#assembler.forgetSender(
      peer.id,
      (index, block) => this.#picker.forgetBlock(index, block),
    );
    if (dropped > 0) log.debug(`peer ${peer.key}: its ${dropped} blocks will come from others`);
    for (const other of this.#peers.values()) {
      if (!this.pool.isBanned(other.key)) continue;
      this.#downloads.releaseAll(other, false);
      other.connection.close(new PeerError("protocol", `${peer.key} ${why}`));
    }
  }

  /** Misbehaviour that is a strike against the peer's IP: dropped now, banned the second time. */
  #misbehaved(peer: PeerSession, why: string): void {
    if (this.pool.strike(peer.key)) this.#ban(peer, `${why}, again after a reconnect`);
    else peer.protocolError(why);
  }

  #tick(): void {
    const now = Date.now();
    this.#uploads.tick(now);
    if (++this.#ticks % RECHOKE_EVERY_TICKS === 0) this.#uploads.rechoke(now);
    for (const peer of this.#peers.values()) peer.connection.tick(now);
    this.#downloads.tick(now);
    this.#connector.fill();
  }
}
