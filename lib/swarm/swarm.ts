/**
 * The swarm of one torrent: dials peers from the pool, speaks the wire
 * protocol with each, asks the picker what to request, assembles pieces,
 * verifies them with SHA-1 and hands them to storage.
 *
 * Rules it keeps:
 * - At most `maxPeers` connections; dead peers are replaced from the pool;
 *   never two connections to one address or one peer id, never to ourselves.
 * - A peer that breaks the protocol (oversized message, bitfield with spare
 *   bits, `have` out of range, fast-extension messages without
 *   the fast extension) is disconnected.
 * - Requests not answered in time go back to the pool and the peer is
 *   snubbed (pipeline at its minimum) until it delivers again.
 * - A piece that fails its hash check is downloaded again. A peer that
 *   alone sent two bad pieces is banned; when a bad piece had several
 *   senders, its bytes are kept until the piece is downloaded correctly and
 *   the senders of the blocks that differ are banned.
 * - A full torrent makes room for a peer dialling in when a peer worth
 *   less is there (see `_eviction.ts`).
 * - Uploads (choking, the requests peers queue with us, the loops that
 *   send blocks) are `_uploads.ts`.
 * - Extension messages go through an {@linkcode ExtensionRegistry}; a piece
 *   we lose (its file changed on disk) is taken back with lt_donthave
 *   (BEP 54) from peers that speak it, and one a peer takes back is no
 *   longer asked of it.
 *
 * @module
 */

import {
  connectToPeer,
  type PeerConnection,
  type PeerEncryption,
  type PeerTimeouts,
} from "../peer/connection.ts";
import { PeerError } from "../peer/errors.ts";
import type { Transport } from "../peer/transport.ts";
import { decodeExtensionHandshake, encodeExtensionHandshake } from "../peer/extension_handshake.ts";
import { ExtensionRegistry } from "../peer/extension_registry.ts";
import { encodeDontHave, LT_DONTHAVE, ltDontHave } from "../extensions/lt_donthave.ts";
import type { ReceivedMessage } from "../peer/message_reader.ts";
import { BLOCK_SIZE } from "../peer/messages.ts";
import {
  formatPeerAddress,
  hostOfKey,
  parsePeerAddress,
  type PeerAddress,
} from "../net/peer_address.ts";
import type { Torrent } from "../metainfo/torrent.ts";
import { type PieceVerifier, v1Verifier } from "../metainfo/piece_verifier.ts";
import { Bitfield } from "../util/bitfield.ts";
import { bytesToBinary, compareBytes } from "../util/_bytes.ts";
import type { Logger } from "../util/log.ts";
import { VERSION } from "../version.ts";
import { blockKey, Peer, type PipelineOptions } from "./peer.ts";
import { PeerPool } from "./_peer_pool.ts";
import { evictionFor } from "./_eviction.ts";
import type { ActivePiece, PiecePicker } from "./picker.ts";
import { RateMeter } from "./_rate.ts";
import type { ChokerOptions } from "./choker.ts";
import { OUR_REQUEST_QUEUE, Uploads } from "./_uploads.ts";
import { SmartBan } from "./_smart_ban.ts";
import type { RateLimiter } from "./rate_limiter.ts";

/** Options of {@linkcode Swarm}. */
export interface SwarmOptions {
  /** The torrent. */
  torrent: Torrent;
  /** Our peer id. */
  peerId: Uint8Array;
  /** The port we listen on (sent in the extension handshake; never dialled). */
  listenPort: number;
  /** The picker, holding what we have. */
  picker: PiecePicker;
  /** Stores a verified piece; a rejection stops the swarm (see `onFatal`). */
  writePiece: (index: number, data: Uint8Array) => Promise<void>;
  /** How a finished piece is checked, without `verifyAndWrite`. Default: v1 SHA-1. */
  verifier?: PieceVerifier;
  /**
   * Checks a finished piece and stores it when it is right, instead of
   * hashing here and calling `writePiece` (a worker does it, beside the
   * thread that reads the peers). It may move `data`: the bytes returned are
   * the piece's from then on. A rejection stops the swarm (see `onFatal`).
   */
  verifyAndWrite?: (
    index: number,
    data: Uint8Array,
  ) => Promise<{ valid: boolean; data: Uint8Array }>;
  /** Where events are logged. */
  log: Logger;
  /** Most connections. Default 50. */
  maxPeers?: number;
  /** Most connection attempts in flight. Default 10. */
  maxConnecting?: number;
  /** A peer that delivers no requested block for this long is snubbed. Default 20 s. */
  requestTimeoutMs?: number;
  /** Connection timeouts. */
  timeouts?: PeerTimeouts;
  /** How to open connections to peers. Default: TCP. */
  transport?: Transport;
  /** Request pipeline sizing. */
  pipeline?: PipelineOptions;
  /** A piece was verified and written. */
  onPieceVerified?: (index: number) => void;
  /** Every wanted piece is verified and written. */
  onComplete?: () => void;
  /**
   * Reads a verified piece for uploading. Without it no request is served
   * (every request is rejected or ignored).
   */
  readPiece?: (index: number) => Promise<Uint8Array>;
  /** Keep dialling peers once complete, to seed. Default false. */
  seed?: boolean;
  /** The choker's settings. */
  choker?: ChokerOptions;
  /** Shared download limit (`--max-down`). */
  downloadLimiter?: RateLimiter;
  /** Shared upload limit (`--max-up`). */
  uploadLimiter?: RateLimiter;
  /** Storage failed: the swarm has stopped. */
  onFatal?: (error: unknown) => void;
  /** A verified piece could not be read for a peer (its request was refused). */
  onReadError?: (index: number, error: unknown) => void;
}

/** A connected peer, for displays. */
export interface PeerSummary {
  /** `host:port`. */
  address: string;
  /** Client name from the extension handshake. */
  client?: string;
  /** Who dialled. */
  direction: "outgoing" | "incoming";
  /** Plain, an encrypted handshake with plaintext payload, or RC4 throughout. */
  encryption: PeerEncryption;
  /** Share of the torrent's pieces the peer has, 0–1. */
  progress: number;
  /** Bytes per second from the peer. */
  downloadRate: number;
  /** Payload bytes received from the peer. */
  downloaded: number;
  /** The round trip to the peer in ms (its fastest recent answer to a request), once known. */
  roundTripMs?: number;
  /** Bytes per second to the peer. */
  uploadRate: number;
  /** The peer chokes us. */
  choked: boolean;
  /** We are interested in the peer. */
  interested: boolean;
  /** Requests outstanding. */
  requests: number;
  /** Snubbed for not answering requests. */
  snubbed: boolean;
  /** We upload to the peer (it is unchoked). */
  unchoked: boolean;
  /** Its requests queued with us. */
  queuedRequests: number;
  /** Bytes waiting to be sent to it. */
  sendQueueBytes: number;
}

/** Counters of a swarm, for displays and tracker announces. */
export interface SwarmStats {
  /** Peers connected now. */
  connected: number;
  /** Distinct peer addresses known. */
  seen: number;
  /** Payload bytes per second received (5 s average). */
  downloadRate: number;
  /** Payload bytes per second sent. */
  uploadRate: number;
  /** Payload bytes received this session. */
  downloaded: number;
  /** Payload bytes sent this session. */
  uploaded: number;
  /** Bytes received that were of no use (duplicates, unrequested, failed pieces). */
  wasted: number;
  /** Pieces that failed the hash check. */
  hashFailures: number;
  /** Peers banned this session. */
  banned: number;
  /** Peers that sent at least one useful block. */
  peersUsed: number;
  /** Distinct addresses dialled so far. */
  peersTried: number;
  /** Peers we sent at least one block to. */
  peersServed: number;
  /** Why the last dial failed, if the last one did. */
  lastDialError?: string;
}

/**
 * Blocks we never asked a peer for that it may send before it is dropped;
 * each drop is a strike against its IP, and the second a ban. Such a block
 * never touches a piece: only blocks we requested from that peer do.
 */
const MAX_UNREQUESTED_BLOCKS = 16;
/** Seconds between rechokes. */
const RECHOKE_EVERY_TICKS = 10;
const MAX_ALLOWED_FAST = 256;

/** Downloads one torrent from many peers. */
export class Swarm {
  /** Addresses to dial. */
  readonly pool = new PeerPool();
  readonly #options: SwarmOptions;
  readonly #torrent: Torrent;
  readonly #picker: PiecePicker;
  readonly #log: Logger;
  readonly #maxPeers: number;
  readonly #peers = new Map<number, Peer>();
  readonly #peerIds = new Map<string, Peer>();
  readonly #ourPeerId: string;
  readonly #download = new RateMeter();
  readonly #upload = new RateMeter();
  readonly #finishing = new Set<number>();
  /** Pieces being hashed and written: `stop()` waits for them. */
  readonly #writes = new Set<Promise<void>>();
  /** Dials, connections and upload loops in progress: `stop()` waits for them. */
  readonly #tasks = new Set<Promise<void>>();
  /** Who sent the pieces that failed their check. */
  readonly #smartBan = new SmartBan();
  readonly #abort = new AbortController();
  readonly #peersUsed = new Set<string>();
  readonly #peersTried = new Set<string>();
  readonly #peersServed = new Set<string>();
  #lastDialError?: string;
  /** Each peer's share of the request budget, in blocks, and when it was counted. */
  #share = { blocks: Infinity, at: -Infinity };
  readonly #uploads: Uploads;
  readonly #extensions: ExtensionRegistry<Peer>;
  readonly #verifier: PieceVerifier;
  #ticks = 0;
  #connecting = 0;
  #nextPeerId = 0;
  #wasted = 0;
  #hashFailures = 0;
  #banned = 0;
  #timer: ReturnType<typeof setInterval> | undefined;
  #stopped = false;
  #completeReported = false;

  /** @param options The torrent, the picker, storage and limits. */
  constructor(options: SwarmOptions) {
    this.#options = options;
    this.#torrent = options.torrent;
    this.#picker = options.picker;
    this.#verifier = options.verifier ?? v1Verifier(options.torrent);
    this.#log = options.log;
    this.#maxPeers = options.maxPeers ?? 50;
    this.#ourPeerId = bytesToBinary(options.peerId);
    for (const host of ["127.0.0.1", "::1", "0.0.0.0", "localhost"]) {
      this.pool.ignore({ host, port: options.listenPort });
    }
    this.#uploads = new Uploads({
      peers: () => this.#peers.values(),
      has: (index) => this.#picker.have.has(index),
      pieceSize: (index) => this.#torrent.pieceMap.pieceSize(index),
      pieceCount: this.#torrent.pieceCount,
      readPiece: options.readPiece,
      onReadError: options.onReadError,
      seeding: () => this.#picker.missing === 0,
      choker: options.choker,
      uploadLimiter: options.uploadLimiter,
      log: this.#log,
      spawn: (task, what) => this.#spawn(task, what),
      onSent: (peer, bytes, now) => {
        peer.upload.add(bytes, now);
        this.#upload.add(bytes, now);
        if (this.#peersServed.size < 10_000) this.#peersServed.add(peer.key);
      },
    });
    this.#extensions = new ExtensionRegistry<Peer>([
      ltDontHave((peer, index) => this.#onDontHave(peer, index)),
    ]);
  }

  /** Starts dialling and the once-a-second housekeeping. */
  start(): void {
    if (this.#timer !== undefined || this.#stopped) return;
    this.#timer = setInterval(() => this.#tick(), 1000);
    this.#fillConnections();
  }

  /**
   * Adds peer addresses and dials if there is room.
   *
   * @param addresses The peers.
   * @param source Where they come from: a tracker's URL, or `user` (the default).
   */
  addPeers(addresses: readonly PeerAddress[], source?: string): void {
    const added = this.pool.add(addresses, source);
    if (added > 0) this.#fillConnections();
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
    this.#spawn(this.#run(connection), `peer ${key}`);
    return true;
  }

  /** Whether a peer dialling in from `key` fits, evicting a peer worth less when full. */
  #roomFor(key: string): boolean {
    if (this.#peers.size < this.#maxPeers) return true;
    const now = Date.now();
    const candidates = [...this.#peers.values()].map((peer) => ({
      peer,
      key: peer.key,
      useful: peer.interested,
      unchoked: !peer.amChoking,
      wastedTurnAt: peer.wastedTurnAt,
      connectedAt: peer.connectedAt,
    }));
    const victim = evictionFor(candidates, hostOfKey(key), now)?.peer;
    if (!victim) return false;
    this.#log.debug(`peer ${victim.key}: disconnected to make room for ${key}`);
    // Gone now, not when its task ends: the newcomer's place is taken at once.
    this.#peers.delete(victim.id);
    victim.connection.close();
    return true;
  }

  /** Counters for displays and announces. */
  stats(now: number = Date.now()): SwarmStats {
    return {
      connected: this.#peers.size,
      seen: this.pool.size,
      downloadRate: this.#download.rate(now),
      uploadRate: this.#upload.rate(now),
      downloaded: this.#download.total,
      uploaded: this.#upload.total,
      wasted: this.#wasted,
      hashFailures: this.#hashFailures,
      banned: this.#banned,
      peersUsed: this.#peersUsed.size,
      peersTried: this.#peersTried.size,
      peersServed: this.#peersServed.size,
      lastDialError: this.#lastDialError,
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
      choked: peer.choked,
      interested: peer.interested,
      requests: peer.outstanding.size,
      snubbed: peer.snubbed,
      unchoked: !peer.amChoking,
      queuedRequests: peer.incoming.length,
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
    while (this.#tasks.size > 0 || this.#writes.size > 0) {
      await Promise.all([...this.#tasks, ...this.#writes]);
    }
  }

  /**
   * Runs `task` as one of the swarm's own: it cannot end in an unhandled
   * rejection (an error it lets through is a bug, logged as such), and
   * `stop()` waits for it.
   */
  #spawn(task: Promise<void>, what: string, into: Set<Promise<void>> = this.#tasks): void {
    const owned: Promise<void> = task.catch((error) => {
      this.#log.error(`${what}: ${(error as Error)?.stack ?? error} (a bug; please report it)`);
    }).finally(() => into.delete(owned));
    into.add(owned);
  }

  #fillConnections(): void {
    if (this.#stopped || (this.#picker.missing === 0 && !this.#options.seed)) return;
    const maxConnecting = this.#options.maxConnecting ?? 10;
    const room = Math.min(
      this.#maxPeers - this.#peers.size - this.#connecting,
      maxConnecting - this.#connecting,
    );
    if (room <= 0) return;
    for (const address of this.pool.take(room)) {
      this.#spawn(this.#dial(address), `dialling ${formatPeerAddress(address)}`);
    }
  }

  async #dial(address: PeerAddress): Promise<void> {
    const key = formatPeerAddress(address);
    const epoch = this.pool.epoch;
    this.#connecting++;
    if (this.#peersTried.size < 10_000) this.#peersTried.add(key);
    let connection: PeerConnection;
    try {
      connection = await connectToPeer(address, {
        infoHash: this.#torrent.infoHash,
        peerId: this.#options.peerId,
        timeouts: this.#options.timeouts,
        signal: this.#abort.signal,
        transport: this.#options.transport,
      });
    } catch (error) {
      this.#connecting--;
      if (error instanceof PeerError && error.kind === "self") this.pool.ignoreKey(key);
      else {
        this.pool.failed(key, Date.now(), epoch);
        if (!this.#stopped) this.#lastDialError = (error as Error).message;
      }
      this.#log.debug(`peer ${key}: ${(error as Error).message}`);
      this.#fillConnections();
      return;
    }
    this.#connecting--;
    this.#lastDialError = undefined;
    if (this.#stopped) {
      connection.close();
      return;
    }
    await this.#run(connection, epoch);
  }

  /** Runs a connection to its end; `epoch` is the pool's when it was dialled or accepted. */
  async #run(connection: PeerConnection, epoch: number = this.pool.epoch): Promise<void> {
    const peerIdKey = bytesToBinary(connection.handshake.peerId);
    const existing = this.#peerIds.get(peerIdKey);
    if (peerIdKey === this.#ourPeerId || (existing && !this.#replaces(connection, existing))) {
      this.#log.debug(`peer ${connection.label}: already connected to this peer id; closing`);
      connection.close();
      if (connection.direction === "outgoing") {
        this.pool.disconnected(connection.label, Date.now(), epoch);
      }
      return;
    }
    if (existing) {
      this.#log.debug(`peer ${existing.key}: a second connection with this peer id replaces it`);
      existing.connection.close();
    }
    const peer = new Peer(
      this.#nextPeerId++,
      connection,
      this.#torrent.pieceCount,
      this.#options.pipeline,
    );
    this.#peers.set(peer.id, peer);
    this.#peerIds.set(peerIdKey, peer);
    if (connection.direction === "incoming") {
      this.pool.markConnected(peer.key, parsePeerAddress(peer.key)!);
    }
    const encrypted = connection.encryption === "rc4"
      ? ", encrypted"
      : connection.encryption === "handshake"
      ? ", encrypted handshake"
      : "";
    this.#log.debug(`peer ${peer.key}: connected (${connection.direction}${encrypted})`);
    connection.onDrain = () => this.#uploads.serve(peer);
    this.#greet(peer);
    const error = await connection.run({
      onMessage: (message) => this.#onMessage(peer, message),
      blockTarget: (index, begin, length) => this.#blockTarget(peer, index, begin, length),
      throttle: this.#options.downloadLimiter
        ? (bytes) => this.#options.downloadLimiter!.acquire(bytes)
        : undefined,
    }, this.#torrent.pieceCount);
    this.#peers.delete(peer.id);
    if (this.#peerIds.get(peerIdKey) === peer) this.#peerIds.delete(peerIdKey);
    this.#forget(peer);
    if (!peer.amChoking) this.#uploads.rechokeSoon();
    this.#log.debug(`peer ${peer.key}: disconnected${error ? `: ${error.message}` : ""}`);
    if (!this.pool.isBanned(peer.key)) this.pool.disconnected(peer.poolKey, Date.now(), epoch);
    this.#fillConnections();
  }

  /**
   * Two connections to one peer (both dialled at once): both sides keep the
   * one dialled by the peer with the lower peer id, so they agree.
   */
  #replaces(connection: PeerConnection, existing: Peer): boolean {
    const weDialFirst = compareBytes(this.#options.peerId, connection.handshake.peerId) < 0;
    const keep = weDialFirst ? "outgoing" : "incoming";
    return connection.direction === keep && existing.connection.direction !== keep;
  }

  #greet(peer: Peer): void {
    const connection = peer.connection;
    if (connection.features.extensions) {
      connection.send({
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
    const have = this.#picker.have;
    if (connection.features.fast && have.count === 0) connection.send({ type: "have-none" });
    else if (connection.features.fast && have.full) connection.send({ type: "have-all" });
    else if (have.count > 0) connection.send({ type: "bitfield", bytes: have.bytes });
  }

  #onMessage(peer: Peer, message: ReceivedMessage): void {
    switch (message.type) {
      case "keep-alive":
      case "suggest":
      case "port":
      case "unknown":
        return;
      case "cancel":
        return this.#uploads.onCancel(peer, message.index, message.begin);
      case "choke":
        peer.choked = true;
        if (!peer.connection.features.fast) this.#releaseAll(peer, false);
        return;
      case "unchoke":
        peer.choked = false;
        this.#requestMore(peer);
        return;
      case "interested":
        peer.peerInterested = true;
        this.#uploads.rechokeSoon();
        return;
      case "not-interested":
        peer.peerInterested = false;
        this.#uploads.rechokeSoon();
        return;
      case "have":
        return this.#onHave(peer, message.index);
      case "bitfield":
        if (Bitfield.hasSpareBits(this.#torrent.pieceCount, message.bytes)) {
          return this.#protocolError(peer, "sent a bitfield with spare bits set");
        }
        return this.#onPieces(peer, new Bitfield(this.#torrent.pieceCount, message.bytes));
      case "have-all":
      case "have-none": {
        if (!peer.connection.features.fast) {
          return this.#protocolError(peer, `sent ${message.type} without the fast extension`);
        }
        const bits = new Bitfield(this.#torrent.pieceCount);
        if (message.type === "have-all") bits.setAll();
        return this.#onPieces(peer, bits);
      }
      case "request":
        return this.#uploads.onRequest(peer, message);
      case "piece":
        return this.#onBlock(
          peer,
          message.index,
          message.begin,
          message.block,
          "inPlace" in message,
        );
      case "reject": {
        if (!peer.connection.features.fast) {
          return this.#protocolError(peer, "sent reject without the fast extension");
        }
        const key = blockKey(message.index, message.begin);
        peer.released.delete(key);
        if (peer.outstanding.delete(key)) {
          this.#picker.release(peer.id, message.index, message.begin);
          this.#requestAllSoon();
        }
        return;
      }
      case "allowed-fast":
        if (!peer.connection.features.fast) {
          return this.#protocolError(peer, "sent allowed fast without the fast extension");
        }
        if (message.index < this.#torrent.pieceCount && peer.allowedFast.size < MAX_ALLOWED_FAST) {
          peer.allowedFast.add(message.index);
          this.#requestMore(peer);
        }
        return;
      case "extended":
        try {
          if (message.id !== 0) {
            this.#extensions.route(peer, message.id, message.payload);
            return;
          }
          const handshake = decodeExtensionHandshake(message.payload);
          peer.client = handshake.client;
          peer.extensions = ExtensionRegistry.merge(peer.extensions, handshake.extensions);
          // A peer that dialled in is known by its listen port from now on, not its source port.
          if (
            handshake.listenPort && peer.connection.direction === "incoming" &&
            peer.poolKey === peer.key
          ) {
            peer.poolKey = this.pool.listensOn(peer.poolKey, handshake.listenPort);
          }
          if (handshake.requestQueue !== undefined) peer.queueLimit = handshake.requestQueue;
        } catch (error) {
          if (!(error instanceof PeerError)) throw error;
          this.#protocolError(peer, error.message);
        }
        return;
    }
  }

  #protocolError(peer: Peer, what: string): void {
    this.#log.warn(`peer ${peer.key}: ${what}; disconnecting`);
    peer.connection.close(new PeerError("protocol", `${peer.key} ${what}`));
  }

  /** Two seeds have nothing to trade: close the connection. */
  #dropIfBothComplete(peer: Peer): void {
    if (peer.bits.full && this.#picker.have.full) {
      this.#log.debug(`peer ${peer.key}: we both have every piece; disconnecting`);
      peer.connection.close();
    }
  }

  #onPieces(peer: Peer, bits: Bitfield): void {
    if (peer.bitsReceived || peer.bits.count > 0) {
      // A second piece list (aria2c sends have none, then a bitfield once it has a
      // piece): take it as a batch of have messages; pieces are never taken back.
      for (const index of bits.indices()) this.#onHave(peer, index);
      return;
    }
    peer.bitsReceived = true;
    peer.bits = bits;
    peer.wantedPieces = 0;
    for (const index of bits.indices()) if (this.#picker.wants(index)) peer.wantedPieces++;
    if (bits.full) {
      peer.countedAsSeed = true;
      this.#picker.addPeerPieces(bits);
    } else if (bits.count > 0) {
      this.#picker.addPeerPieces(bits);
    }
    this.#updateInterest(peer);
    this.#dropIfBothComplete(peer);
  }

  #onHave(peer: Peer, index: number): void {
    if (index >= this.#torrent.pieceCount) {
      return this.#protocolError(peer, `sent have for piece ${index}, which does not exist`);
    }
    peer.bitsReceived = true;
    if (!peer.bits.set(index) || peer.countedAsSeed) return;
    const wanted = this.#picker.wants(index);
    if (wanted) peer.wantedPieces++;
    // A peer that took pieces back stays counted piece by piece: turning it into a
    // seed and back on each have and lt_donthave would cost a pass over every piece.
    if (peer.bits.full && !peer.tookPiecesBack) {
      // Counted piece by piece so far; now it is a seed.
      const all = new Bitfield(peer.bits.size);
      all.setAll();
      all.clear(index);
      this.#picker.peerBecameSeed(all);
      peer.countedAsSeed = true;
      this.#dropIfBothComplete(peer);
    } else {
      this.#picker.peerHas(index);
    }
    if (!peer.interested && wanted) this.#updateInterest(peer);
  }

  /** BEP 54: the peer no longer has piece `index`. */
  #onDontHave(peer: Peer, index: number): void {
    if (index >= this.#torrent.pieceCount) {
      return this.#protocolError(peer, `sent lt_donthave for piece ${index}, which does not exist`);
    }
    if (!peer.bits.has(index)) return;
    peer.tookPiecesBack = true;
    if (peer.countedAsSeed) {
      // Counted as a seed so far: from now on piece by piece.
      this.#picker.removePeerPieces(peer.bits, true);
      peer.bits.clear(index);
      this.#picker.addPeerPieces(peer.bits);
      peer.countedAsSeed = false;
    } else {
      peer.bits.clear(index);
      this.#picker.peerLost(index);
    }
    if (this.#picker.wants(index)) peer.wantedPieces--;
    // Without the fast extension nothing will answer requests for it: they are dropped now.
    if (!peer.connection.features.fast) this.#releaseAll(peer, false, { piece: index });
    this.#updateInterest(peer);
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
    const wanted = lost.filter((index) => this.#picker.wants(index));
    const payloads = lost.map(encodeDontHave);
    for (const peer of this.#peers.values()) {
      for (const payload of payloads) {
        const donthave = ExtensionRegistry.message(peer.extensions, LT_DONTHAVE, payload);
        if (!donthave) break; // The peer does not speak lt_donthave.
        peer.connection.send(donthave);
      }
      for (const index of wanted) if (peer.bits.has(index)) peer.wantedPieces++;
      this.#updateInterest(peer);
    }
    if (this.#picker.missing > 0) {
      this.#completeReported = false;
      // Seeds we left when we had everything have what we need again.
      this.pool.retryWorking();
      this.#fillConnections();
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

  /** Whether the peer has a piece we want (kept as a count, so this is O(1)). */
  #wantsFrom(peer: Peer): boolean {
    return this.#picker.missing > 0 && peer.wantedPieces > 0;
  }

  #updateInterest(peer: Peer): void {
    const interested = this.#wantsFrom(peer);
    if (interested === peer.interested) return;
    peer.interested = interested;
    peer.connection.send({ type: interested ? "interested" : "not-interested" });
    if (interested) this.#requestMore(peer);
  }

  #requestMore(peer: Peer, now: number = Date.now()): void {
    if (this.#stopped || peer.connection.closed || !peer.interested || !peer.canRequest) return;
    const depth = peer.pipelineDepth(now, this.#fairShare(now));
    const room = depth - peer.outstanding.size;
    // Refill in batches rather than one block per arrival.
    if (room <= 0 || (peer.outstanding.size > 0 && room < Math.min(8, depth / 2))) return;
    const blocks = this.#picker.pick(
      peer.id,
      peer.bits,
      room,
      peer.choked ? peer.allowedFast : undefined,
      peer.outstanding.size === 0 && !peer.snubbed,
    );
    for (const block of blocks) {
      peer.outstanding.set(blockKey(block.index, block.begin), { ...block, sentAt: now });
      peer.connection.send({ type: "request", ...block });
    }
  }

  /**
   * The most requests one peer may have outstanding: the memory for
   * unverified pieces (less a fifth, for pieces partly received) split
   * evenly among the peers we want pieces from, and those that have not
   * said yet what they have (choked ones too: they are about to be
   * unchoked, and a peer that took the whole budget first would keep it),
   * so a fast peer with a deep queue cannot take every piece buffer and
   * leave another seeder idle. Counted again at most every 250 ms.
   */
  #fairShare(now: number): number {
    if (now - this.#share.at < 250) return this.#share.blocks;
    let requestable = 0;
    for (const peer of this.#peers.values()) {
      // A peer that has not said what it has counts for a few seconds: it may well be a seeder.
      const unheard = !peer.bitsReceived && now - peer.connectedAt < 5000;
      if ((peer.interested || unheard) && !peer.snubbed && !peer.connection.closed) requestable++;
    }
    const budget = (this.#picker.maxBufferedBytes * 0.8) / BLOCK_SIZE;
    this.#share = { blocks: Math.max(2, Math.floor(budget / Math.max(1, requestable))), at: now };
    return this.#share.blocks;
  }

  #requestAllSoon(): void {
    queueMicrotask(() => {
      for (const peer of this.#peers.values()) this.#requestMore(peer);
    });
  }

  /** Whether some peer's copy of block `key` is being read straight into its piece. */
  #beingPlaced(key: number): boolean {
    for (const other of this.#peers.values()) {
      if (other.placing && other.placingKey === key) return true;
    }
    return false;
  }

  #blockTarget(peer: Peer, index: number, begin: number, length: number): Uint8Array | undefined {
    const request = peer.outstanding.get(blockKey(index, begin));
    if (request?.length !== length || peer.placing) return undefined;
    const piece = this.#picker.inPlaceTarget(peer.id, index, begin);
    if (!piece || begin + length > piece.data.length || this.#finishing.has(index)) {
      return undefined;
    }
    piece.placing++;
    peer.placing = piece;
    peer.placingKey = blockKey(index, begin);
    return piece.data.subarray(begin, begin + length);
  }

  #onBlock(peer: Peer, index: number, begin: number, block: Uint8Array, inPlace: boolean): void {
    const placed = inPlace ? peer.placing : undefined;
    if (inPlace) {
      peer.placing = undefined;
      if (placed) placed.placing--;
    }
    if (index >= this.#torrent.pieceCount) {
      return this.#protocolError(peer, `sent a block of piece ${index}, which does not exist`);
    }
    const now = Date.now();
    const length = block.length;
    const key = blockKey(index, begin);
    const request = peer.outstanding.get(key);
    peer.download.add(length, now);
    this.#download.add(length, now);
    if (request) {
      peer.outstanding.delete(key);
      if (request.length !== length) {
        this.#picker.release(peer.id, index, begin);
        return this.#protocolError(
          peer,
          `answered a request for ${request.length} bytes with ${length}`,
        );
      }
      peer.lastBlockAt = now;
      peer.snubbed = false;
      peer.answered(now - request.sentAt, now);
    } else if (!peer.released.delete(key)) {
      // Never asked of this peer: it must not reach a piece, whatever it holds.
      this.#wasted += length;
      if (++peer.unrequestedBlocks > MAX_UNREQUESTED_BLOCKS) {
        this.#misbehaved(peer, "keeps sending blocks we did not ask for");
      }
      return;
    } else if (this.#beingPlaced(key)) {
      // Late, and another peer's copy is being read into the piece right now.
      this.#wasted += length;
      return;
    }
    // Asked of this peer (perhaps taken back since, and then still welcome if missing).
    const piece = this.#picker.active(index);
    const outcome = this.#picker.blockReceived(peer.id, index, begin, length);
    if (outcome.fresh) this.#peersUsed.add(peer.key);
    if (outcome.fresh && piece && !inPlace) piece.data.set(block, begin);
    else if (!outcome.fresh) this.#wasted += length;
    if (inPlace && piece && !outcome.fresh && begin % BLOCK_SIZE === 0) {
      piece.senders[begin / BLOCK_SIZE] = peer.id;
    }
    for (const otherId of outcome.cancel) {
      const other = this.#peers.get(otherId);
      if (other?.outstanding.delete(key)) {
        other.releasedRequest(key);
        other.connection.send({ type: "cancel", index, begin, length });
      }
    }
    if (piece && (outcome.completed || placed === piece)) this.#maybeFinish(piece);
    this.#requestMore(peer, now);
  }

  #maybeFinish(piece: ActivePiece): void {
    if (piece.receivedCount !== piece.blockCount || piece.placing > 0) return;
    if (this.#finishing.has(piece.index) || this.#picker.active(piece.index) !== piece) return;
    this.#finishing.add(piece.index);
    const finish = this.#finishPiece(piece).finally(() => this.#finishing.delete(piece.index));
    this.#spawn(finish, `piece ${piece.index}`, this.#writes);
  }

  async #finishPiece(piece: ActivePiece): Promise<void> {
    const index = piece.index;
    let valid: boolean;
    try {
      const checked = await this.#verifyAndWrite(index, piece.data);
      valid = checked.valid;
      piece.data = checked.data; // The bytes may have been moved away and back.
    } catch (error) {
      if (!this.#stopped) {
        this.#log.error(`piece ${index}: ${(error as Error).message}`);
        this.#options.onFatal?.(error);
      }
      return;
    }
    if (!valid) {
      this.#onHashFailure(piece);
      return;
    }
    this.#convictLiars(index, piece.data);
    this.#gained(index);
  }

  /** We have piece `index` now (downloaded, or found good on disk again). */
  #gained(index: number): void {
    this.#picker.pieceVerified(index);
    // Its buffer is free: peers waiting for piece memory may ask again now, not at the next tick.
    this.#requestAllSoon();
    // Every peer hears of it, even one that has the piece (as libtorrent's
    // send_redundant_have): peers gauge our progress and speed from haves.
    for (const peer of this.#peers.values()) {
      peer.connection.send({ type: "have", index });
      if (!peer.bits.has(index)) continue;
      peer.wantedPieces--;
      if (peer.interested && !this.#wantsFrom(peer)) this.#updateInterest(peer);
    }
    this.#options.onPieceVerified?.(index);
    if (this.#picker.missing === 0 && !this.#completeReported) {
      this.#completeReported = true;
      for (const peer of this.#peers.values()) {
        this.#updateInterest(peer);
        this.#dropIfBothComplete(peer);
      }
      this.#options.onComplete?.();
    }
  }

  #onHashFailure(piece: ActivePiece): void {
    this.#hashFailures++;
    this.#wasted += piece.data.length;
    this.#picker.pieceFailed(piece.index);
    const senders = [...piece.contributors];
    this.#log.warn(
      `piece ${piece.index} failed its hash check (sent by ${
        senders.map((id) => this.#peers.get(id)?.key ?? "a gone peer").join(", ")
      }); downloading it again`,
    );
    // A piece sent alone by a peer already gone says nothing more of anyone.
    const gone = piece.contributors.size === 1 && !this.#peers.has([...piece.contributors][0]);
    // The buffer is not reused (only verified pieces return theirs), so it can be kept.
    const guilty = gone ? undefined : this.#smartBan.failed(
      piece.index,
      piece.data,
      piece.senders,
      piece.contributors,
    );
    const liar = guilty === undefined ? undefined : this.#peers.get(guilty);
    if (liar) {
      this.#ban(
        liar,
        `sent ${this.#smartBan.soleFailures(liar.id)} pieces that failed their hash check`,
      );
    }
    this.#requestAllSoon();
  }

  /** A piece that once failed with several senders is now good: ban whoever sent the bad blocks. */
  #convictLiars(index: number, good: Uint8Array): void {
    for (const id of this.#smartBan.verified(index, good)) {
      const liar = this.#peers.get(id);
      if (liar) this.#ban(liar, `sent a corrupt block of piece ${index}`);
    }
  }

  /**
   * Bans the peer's IP for the session: every connection from it is closed,
   * its requests go back to the picker, and the blocks it sent into pieces
   * not yet being checked are taken out of them, to be fetched elsewhere.
   */
  #ban(peer: Peer, why: string): void {
    if (!this.pool.isBanned(peer.key)) {
      this.#banned++;
      this.#log.warn(`peer ${peer.key} banned for this session: it ${why}`);
      this.pool.ban(peer.key);
    }
    const dropped = this.#picker.forgetSender(peer.id, (index) => this.#finishing.has(index));
    if (dropped > 0) {
      this.#log.debug(`peer ${peer.key}: its ${dropped} blocks will come from others`);
    }
    for (const other of this.#peers.values()) {
      if (!this.pool.isBanned(other.key)) continue;
      this.#releaseAll(other, false);
      other.connection.close(new PeerError("protocol", `${peer.key} ${why}`));
    }
  }

  /** Misbehaviour that is a strike against the peer's IP: dropped now, banned the second time. */
  #misbehaved(peer: Peer, why: string): void {
    if (this.pool.strike(peer.key)) this.#ban(peer, `${why}, again after a reconnect`);
    else this.#protocolError(peer, why);
  }

  /**
   * Puts a peer's requests (or those for one `piece`) back in the pool; the
   * block being placed stays unless the peer is gone. `cancel` tells the peer.
   */
  #releaseAll(
    peer: Peer,
    gone: boolean,
    { cancel = false, piece }: { cancel?: boolean; piece?: number } = {},
  ): void {
    const placingKey = peer.placing && !gone ? peer.placingKey : undefined;
    for (const [key, request] of peer.outstanding) {
      if (key === placingKey || (piece !== undefined && request.index !== piece)) continue;
      peer.outstanding.delete(key);
      if (!gone) peer.releasedRequest(key);
      this.#picker.release(peer.id, request.index, request.begin);
      if (cancel) peer.connection.send({ type: "cancel", ...pick(request) });
    }
    this.#requestAllSoon();
  }

  #forget(peer: Peer): void {
    if (peer.placing) {
      const piece = peer.placing;
      peer.placing = undefined;
      piece.placing--;
      this.#maybeFinish(piece);
    }
    this.#releaseAll(peer, true);
    this.#smartBan.forget(peer.id);
    if (peer.countedAsSeed) this.#picker.removePeerPieces(peer.bits, true);
    else if (peer.bits.count > 0) this.#picker.removePeerPieces(peer.bits, false);
  }

  /** Hashes a finished piece and writes it when right: through `verifyAndWrite` when given. */
  async #verifyAndWrite(
    index: number,
    data: Uint8Array,
  ): Promise<{ valid: boolean; data: Uint8Array }> {
    if (this.#options.verifyAndWrite) return await this.#options.verifyAndWrite(index, data);
    const valid = this.#verifier.verify(index, data);
    if (valid) await this.#options.writePiece(index, data);
    return { valid, data };
  }

  #tick(): void {
    const now = Date.now();
    this.#uploads.tick(now);
    if (++this.#ticks % RECHOKE_EVERY_TICKS === 0) this.#uploads.rechoke(now);
    const timeout = this.#options.requestTimeoutMs ?? 20_000;
    for (const peer of this.#peers.values()) {
      peer.connection.tick(now);
      if (peer.outstanding.size > 0 && now - peer.lastBlockAt > timeout && !peer.snubbed) {
        peer.snubbed = true;
        this.#log.debug(
          `peer ${peer.key}: no block for ${
            Math.round(timeout / 1000)
          } s; snubbed, its ${peer.outstanding.size} requests go to other peers`,
        );
        this.#releaseAll(peer, false, { cancel: true });
      }
      this.#requestMore(peer, now);
    }
    this.#fillConnections();
  }
}

function pick({ index, begin, length }: { index: number; begin: number; length: number }) {
  return { index, begin, length };
}
