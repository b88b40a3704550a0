/**
 * One connection's side of the protocol: the peer's wire state under BEP 3's
 * names (`amChoking`, `amInterested`, `peerChoking`, `peerInterested`), the
 * pieces it announced, our requests to it, its requests queued with us, and
 * the checks that drop a peer breaking the protocol (a bitfield with spare
 * bits, `have` out of range, fast-extension messages without the fast
 * extension, a block of another length than asked, a malformed extension
 * handshake).
 *
 * A session knows nothing of the other peers, the picker or storage: it
 * tells its {@linkcode PeerSessionEvents} what happened, and the swarm
 * decides. It runs over any {@linkcode PeerConnection}, so it is tested over
 * an in-memory stream pair.
 *
 * @module
 */

import type { PeerConnection } from "../wire/connection.ts";
import { PeerError } from "../wire/errors.ts";
import { decodeExtensionHandshake, type ExtensionHandshake } from "../wire/extension_handshake.ts";
import { ExtensionRegistry } from "../wire/extension_registry.ts";
import type { ReceivedMessage } from "../wire/message_reader.ts";
import { BLOCK_SIZE, type PeerMessage } from "../wire/messages.ts";
import { Bitfield } from "../util/bitfield.ts";
import { MAX_PIECES } from "../metainfo/limits.ts";
import { addNewest } from "../util/_bounded.ts";
import type { Logger } from "../util/log.ts";
import type { BlockRequest } from "./picker.ts";
import { RateMeter } from "./rate_meter.ts";
import type { PeerSummary } from "./swarm_types.ts";

/** A request we sent and have not had answered. */
export interface OutstandingRequest extends BlockRequest {
  /** When it was sent (ms). */
  sentAt: number;
}

/**
 * Pipeline sizing: how deep each peer's request queue is kept. The depth is
 * the bandwidth-delay product (the peer's measured rate times its round
 * trip, the fastest answer to a request seen lately) plus `targetSeconds`
 * of data as margin, capped by the peer's `reqq` and by the peer's fair
 * share of the memory for unverified pieces.
 */
export interface PipelineOptions {
  /** Seconds of data, at the peer's measured rate, kept requested beyond one round trip. Default 2. */
  targetSeconds?: number;
  /** Fewest requests outstanding. Default 2. */
  minimum?: number;
  /** Requests outstanding before the rate is known. Default 16. */
  initial?: number;
  /** Most requests outstanding when the peer names no `reqq`. Default 250. */
  defaultQueueLimit?: number;
}

/** A block that arrived for a request of ours. */
export interface ArrivedBlock {
  /** Piece index. */
  index: number;
  /** Offset in the piece. */
  begin: number;
  /** The bytes (a view valid until the event returns), or the place they were read into. */
  data: Uint8Array;
  /** The bytes were read straight into the buffer `blockTarget` gave. */
  inPlace: boolean;
  /** The request had been taken back (choke, snub, cancel): the block may be a late copy. */
  late: boolean;
}

/**
 * What a session tells its owner. Each event comes after the session's own
 * state is updated (`bits`, `peerChoking`, `requests`, …).
 */
export interface PeerSessionEvents {
  /** The peer's first piece list (bitfield, have all or have none). */
  pieces(session: PeerSession, bits: Bitfield): void;
  /** The peer has a piece it did not announce before. */
  have(session: PeerSession, index: number): void;
  /** The peer choked us. */
  choked(session: PeerSession): void;
  /** The peer unchoked us, or allowed a piece while choking (BEP 6): requests may go out. */
  mayRequest(session: PeerSession): void;
  /** `peerInterested` changed. */
  interest(session: PeerSession): void;
  /** The peer asks for a block (not yet queued: the owner accepts or refuses it). */
  request(session: PeerSession, request: BlockRequest): void;
  /** A request of ours will not be answered (rejected, or answered wrongly): its block goes back. */
  released(session: PeerSession, index: number, begin: number): void;
  /** A block we asked for arrived. */
  block(session: PeerSession, block: ArrivedBlock): void;
  /**
   * A block we never asked this peer for arrived (counted in
   * `unrequestedBlocks`). It may have been read in place all the same, for
   * a request taken back and forgotten since (see `released`).
   */
  unrequestedBlock(session: PeerSession, block: ArrivedBlock): void;
  /** The peer's extension handshake (BEP 10); the session took `client`, `extensions` and `reqq`. */
  extensionHandshake(session: PeerSession, handshake: ExtensionHandshake): void;
  /** The peer's DHT node listens on this UDP port (PORT, BEP 5). */
  dhtPort(session: PeerSession, port: number): void;
  /**
   * An extended message under one of our ids (not the handshake).
   *
   * @throws {PeerError} A malformed message: the peer is dropped.
   */
  extended(session: PeerSession, id: number, payload: Uint8Array): void;
  /** Where a block we asked for may be read straight into, if anywhere. */
  blockTarget(
    session: PeerSession,
    index: number,
    begin: number,
    length: number,
  ): Uint8Array | undefined;
  /** Waits before `bytes` more are read (the download limit). */
  throttle?(bytes: number): Promise<void>;
}

/** How long a round-trip sample counts (two windows are kept). */
const RTT_WINDOW_MS = 10_000;
/** Most taken-back requests remembered per peer. */
const MAX_RELEASED = 2048;
/** Most allowed-fast pieces believed. */
const MAX_ALLOWED_FAST = 256;
/** Most `have` messages kept while the piece count is unknown (the rest come again as the peer's pieces grow). */
const MAX_EARLY_HAVES = 65_536;

/**
 * The pieces a peer announced before the torrent's piece count was known
 * (its metadata was being fetched), kept to be applied once it is.
 */
interface EarlyPieces {
  /** Its bitfield's bytes (a copy), or have all / have none. */
  list?: Uint8Array | "all" | "none";
  /** Its `have` messages. */
  haves: Set<number>;
}

/** A key for a block address, unique within a torrent. */
export function blockKey(index: number, begin: number): number {
  return index * 65536 + begin / BLOCK_SIZE;
}

/**
 * One connected peer and the protocol spoken with it.
 *
 * @example A session over an in-memory connection
 * ```ts ignore
 * const session = new PeerSession(0, connection, torrent.pieceCount, log);
 * const error = await session.run(events); // until the connection ends
 * ```
 */
export class PeerSession {
  /** Small number naming the peer inside the picker. */
  readonly id: number;
  /** `host:port`: the address of the connection's other end. */
  readonly key: string;
  /**
   * Its key in the peer pool: the listen address. For a peer that dialled
   * in, its source address until its BEP 10 handshake names its port.
   */
  poolKey: string;
  /** The connection. */
  readonly connection: PeerConnection;

  // The wire state, as BEP 3 names it.
  /** We choke the peer: its requests are not served. */
  amChoking = true;
  /** We told the peer we are interested. */
  amInterested = false;
  /** The peer chokes us. */
  peerChoking = true;
  /** The peer told us it is interested. */
  peerInterested = false;

  // What the peer has.
  /** The peer's pieces. */
  bits: Bitfield;
  /** Whether the peer sent its bitfield (or have all / have none) yet. */
  bitsReceived = false;
  /** Counted as a seed by the picker (has every piece). */
  countedAsSeed = false;
  /** The peer took back a piece it had announced (BEP 54). */
  tookPiecesBack = false;
  /** How many of the peer's pieces we still want: we are interested while it is above 0. */
  wantedPieces = 0;
  /** Pieces we may request while choked (BEP 6). */
  readonly allowedFast = new Set<number>();
  /** The extensions the peer speaks, with its ids for them (from its extension handshakes). */
  extensions: ReadonlyMap<string, number> = new Map();
  /** The client the peer runs (from its extension handshake). */
  client?: string;

  // Our requests to it.
  /** Requests sent, not yet answered. */
  readonly requests = new Map<number, OutstandingRequest>();
  /**
   * Requests we took back without the peer's word (it choked us, we
   * cancelled, it was too slow): a block for one of them may still come and
   * is one we asked for. Oldest first, at most {@linkcode MAX_RELEASED}.
   */
  readonly released = new Set<number>();
  /** Most requests the peer queues (its `reqq`, or the default). */
  queueLimit: number;
  /** When the last block arrived (ms), or when the peer connected. */
  lastBlockAt: number;
  /** Snubbed: it let requests time out; its pipeline is kept at the minimum. */
  snubbed = false;
  /** Blocks the peer sent that we never asked it for. */
  unrequestedBlocks = 0;

  // Its requests to us.
  /** Its requests we have accepted and not yet served, in order. */
  uploadQueue: BlockRequest[] = [];
  /** A serving loop is running for this peer. */
  serving = false;
  /** When it last sent us a request (ms). */
  lastRequestAt?: number;
  /** When we last unchoked it (ms). */
  unchokedSince?: number;
  /** Upload slots it has been given. */
  turns = 0;
  /** When it last held an upload slot without using it (ms). */
  wastedTurnAt?: number;

  /** When it connected (ms). */
  readonly connectedAt: number = Date.now();
  /** Payload bytes received from the peer. */
  readonly download: RateMeter;
  /** Payload bytes sent to the peer. */
  readonly upload: RateMeter;
  #pieceCount: number | undefined;
  /** What the peer announced while the piece count was unknown. */
  #early?: EarlyPieces;
  #events?: PeerSessionEvents;
  #ended?: Promise<PeerError | undefined>;
  readonly #log: Logger;
  readonly #pipeline: Required<PipelineOptions>;
  /** The fastest answer to a request in this window and in the last one (ms): the round trip without queueing. */
  #rtt = { current: Infinity, previous: Infinity, windowStart: Date.now() };

  /**
   * Starts a session on a connection whose handshake is done.
   *
   * @param id Number for the picker.
   * @param connection The open connection, not yet reading.
   * @param pieceCount The torrent's piece count; `undefined` while its
   *   metadata is fetched (the pieces the peer announces are kept until
   *   {@linkcode learnPieceCount}).
   * @param log Where protocol errors are logged.
   * @param pipeline Pipeline sizing.
   */
  constructor(
    id: number,
    connection: PeerConnection,
    pieceCount: number | undefined,
    log: Logger,
    pipeline: PipelineOptions = {},
  ) {
    this.id = id;
    this.connection = connection;
    this.key = connection.label;
    this.poolKey = connection.label;
    this.bits = new Bitfield(pieceCount ?? 0);
    this.#pieceCount = pieceCount;
    if (pieceCount === undefined) this.#early = { haves: new Set() };
    this.#log = log;
    this.#pipeline = {
      targetSeconds: pipeline.targetSeconds ?? 2,
      minimum: pipeline.minimum ?? 2,
      initial: pipeline.initial ?? 16,
      defaultQueueLimit: pipeline.defaultQueueLimit ?? 250,
    };
    this.queueLimit = this.#pipeline.defaultQueueLimit;
    const now = Date.now();
    this.download = new RateMeter(5, now);
    this.upload = new RateMeter(5, now);
    this.lastBlockAt = now;
  }

  /**
   * Reads the peer's messages until the connection ends, telling `events`.
   *
   * @returns The error that closed the connection, if any.
   */
  run(events: PeerSessionEvents): Promise<PeerError | undefined> {
    if (this.#ended) throw new Error("A peer session runs once");
    this.#events = events;
    this.#ended = this.connection.run({
      onMessage: (message) => this.#onMessage(this.#events!, message),
      blockTarget: (index, begin, length) => {
        const request = this.requests.get(blockKey(index, begin));
        return request?.length === length
          ? this.#events!.blockTarget(this, index, begin, length)
          : undefined;
      },
      // Whoever takes the session over has the same download limit, or none.
      throttle: events.throttle
        ? (bytes) => this.#events!.throttle?.(bytes) ?? Promise.resolve()
        : undefined,
    }, this.#pieceCount);
    return this.#ended;
  }

  /**
   * Resolves when the connection ends, with the error that closed it, if
   * any (what `run` returned).
   */
  get ended(): Promise<PeerError | undefined> {
    if (!this.#ended) throw new Error("The peer session has not been run");
    return this.#ended;
  }

  /**
   * Hands the running session to another owner (the swarm that downloads,
   * once the metadata phase is over): what happens from now on is told to
   * `events`.
   */
  reportTo(events: PeerSessionEvents): void {
    this.#events = events;
  }

  /**
   * The torrent's piece count, now that its metadata is known: the pieces
   * the peer announced meanwhile are checked (a peer whose bitfield does
   * not fit, or that named a piece that does not exist, is dropped) and
   * reported as if they came now.
   */
  learnPieceCount(pieceCount: number): void {
    if (this.#pieceCount !== undefined) return;
    const early = this.#early!;
    this.#pieceCount = pieceCount;
    this.#early = undefined;
    this.bits = new Bitfield(pieceCount);
    this.connection.pieceCount = pieceCount;
    const events = this.#events!;
    const list = early.list;
    if (list instanceof Uint8Array) {
      this.#onMessage(events, { type: "bitfield", bytes: list });
    } else if (list) {
      this.#onMessage(events, { type: list === "all" ? "have-all" : "have-none" });
    }
    for (const index of early.haves) {
      if (this.connection.closed) return;
      this.#onHave(events, index);
    }
  }

  /** What displays show of the peer (its `sources` are the pool's to know: none here). */
  summary(now: number = Date.now()): PeerSummary {
    return {
      address: this.key,
      client: this.client,
      direction: this.connection.direction,
      sources: [],
      encryption: this.connection.encryption,
      progress: this.bits.count / Math.max(1, this.bits.size),
      downloadRate: this.download.rate(now),
      downloaded: this.download.total,
      roundTripMs: this.roundTripMs,
      uploadRate: this.upload.rate(now),
      choked: this.peerChoking,
      interested: this.amInterested,
      requests: this.requests.size,
      snubbed: this.snubbed,
      unchoked: !this.amChoking,
      queuedRequests: this.uploadQueue.length,
      sendQueueBytes: this.connection.queuedBytes,
    };
  }

  /** Queues a message to the peer. */
  send(message: PeerMessage): void {
    this.connection.send(message);
  }

  /** Logs what the peer did wrong and closes the connection. */
  protocolError(what: string): void {
    this.#log.warn(`peer ${this.key}: ${what}; disconnecting`);
    this.connection.close(new PeerError("protocol", `${this.key} ${what}`));
  }

  /** Tells the peer which pieces we have: have none / have all with the fast extension, else a bitfield (none when empty). */
  sendPieces(have: Bitfield): void {
    const fast = this.connection.features.fast;
    if (fast && have.count === 0) this.send({ type: "have-none" });
    else if (fast && have.full) this.send({ type: "have-all" });
    else if (have.count > 0) this.send({ type: "bitfield", bytes: have.bytes });
  }

  // ---- Download side: interest and our requests ----

  /** Sets `amInterested`, telling the peer when it changes. @returns Whether it changed. */
  setInterested(interested: boolean): boolean {
    if (interested === this.amInterested) return false;
    this.amInterested = interested;
    this.send({ type: interested ? "interested" : "not-interested" });
    return true;
  }

  /** Whether we may send requests: unchoked, or choked with allowed-fast pieces. */
  get canRequest(): boolean {
    return !this.peerChoking || this.allowedFast.size > 0;
  }

  /** Sends requests for `blocks` and remembers them. */
  request(blocks: readonly BlockRequest[], now: number = Date.now()): void {
    for (const block of blocks) {
      this.requests.set(blockKey(block.index, block.begin), { ...block, sentAt: now });
      this.send({ type: "request", ...block });
    }
  }

  /**
   * Takes request `key` back without the peer's word (its block may still
   * come, and is then one we asked for); `cancel` tells the peer.
   *
   * @returns The request, if it was outstanding.
   */
  takeBack(key: number, cancel = false): OutstandingRequest | undefined {
    const request = this.requests.get(key);
    if (!request) return undefined;
    this.requests.delete(key);
    addNewest(this.released, key, MAX_RELEASED);
    if (cancel) {
      const { index, begin, length } = request;
      this.send({ type: "cancel", index, begin, length });
    }
    return request;
  }

  /** A requested block arrived `latencyMs` after it was asked for. */
  answered(latencyMs: number, now: number = Date.now()): void {
    if (now - this.#rtt.windowStart > RTT_WINDOW_MS) {
      this.#rtt = { current: Infinity, previous: this.#rtt.current, windowStart: now };
    }
    if (latencyMs < this.#rtt.current) this.#rtt.current = latencyMs;
  }

  /** The round trip to the peer in ms, as far as it is known (the fastest recent answer). */
  get roundTripMs(): number | undefined {
    const rtt = Math.min(this.#rtt.current, this.#rtt.previous);
    return Number.isFinite(rtt) ? rtt : undefined;
  }

  /**
   * How many requests to keep outstanding now.
   *
   * @param now The time in ms.
   * @param share The most this peer may have outstanding so that every peer gets its part of the memory for unverified pieces.
   */
  pipelineDepth(now: number = Date.now(), share: number = Infinity): number {
    const { minimum, initial, targetSeconds } = this.#pipeline;
    if (this.snubbed) return minimum;
    const seconds = (this.roundTripMs ?? 0) / 1000 + targetSeconds;
    const byRate = Math.ceil((this.download.rate(now) * seconds) / BLOCK_SIZE);
    return Math.max(minimum, Math.min(this.queueLimit, share, Math.max(initial, byRate)));
  }

  // ---- Upload side: choking and the peer's queued requests ----

  /** Unchokes the peer: it has an upload slot from `now`. */
  unchoke(now: number): void {
    if (!this.amChoking) return;
    this.amChoking = false;
    this.unchokedSince = now;
    this.turns++;
    this.send({ type: "unchoke" });
  }

  /** Chokes the peer; its queued requests are rejected (BEP 6) or, without the fast extension, discarded. */
  choke(): void {
    if (this.amChoking) return;
    this.amChoking = true;
    this.send({ type: "choke" });
    for (const request of this.uploadQueue) this.reject(request);
    this.uploadQueue = [];
  }

  /** Refuses a request: a reject with the fast extension, silence without. */
  reject(request: BlockRequest): void {
    if (this.connection.features.fast) this.send({ type: "reject", ...request });
  }

  /** Drops the queued requests for `pieces`, rejecting them (BEP 6). */
  dropQueued(pieces: ReadonlySet<number>): void {
    const kept = this.uploadQueue.filter((request) => !pieces.has(request.index));
    if (kept.length === this.uploadQueue.length) return;
    for (const request of this.uploadQueue) if (pieces.has(request.index)) this.reject(request);
    this.uploadQueue = kept;
  }

  // ---- What the peer sends ----

  #onMessage(events: PeerSessionEvents, message: ReceivedMessage): void {
    switch (message.type) {
      case "keep-alive":
      case "suggest":
      case "unknown":
        return;
      case "port":
        return events.dhtPort(this, message.port);
      case "choke":
        this.peerChoking = true;
        return events.choked(this);
      case "unchoke":
        this.peerChoking = false;
        return events.mayRequest(this);
      case "interested":
      case "not-interested":
        this.peerInterested = message.type === "interested";
        return events.interest(this);
      case "have":
        if (this.#early) return this.#keepHave(message.index);
        return this.#onHave(events, message.index);
      case "bitfield":
        if (this.#early) {
          this.#early.list ??= message.bytes.slice();
          return;
        }
        if (message.bytes.length !== Math.ceil(this.#pieceCount! / 8)) {
          return this.protocolError(
            `sent a bitfield of ${message.bytes.length} bytes for ${this.#pieceCount} pieces`,
          );
        }
        if (Bitfield.hasSpareBits(this.#pieceCount!, message.bytes)) {
          return this.protocolError("sent a bitfield with spare bits set");
        }
        return this.#onPieces(events, new Bitfield(this.#pieceCount!, message.bytes));
      case "have-all":
      case "have-none": {
        if (!this.#fast(message.type)) return;
        if (this.#early) {
          this.#early.list ??= message.type === "have-all" ? "all" : "none";
          return;
        }
        const bits = new Bitfield(this.#pieceCount!);
        if (message.type === "have-all") bits.setAll();
        return this.#onPieces(events, bits);
      }
      case "request":
        this.lastRequestAt = Date.now();
        return events.request(this, message);
      case "cancel": {
        const { index, begin } = message;
        this.uploadQueue = this.uploadQueue.filter((r) => r.index !== index || r.begin !== begin);
        return;
      }
      case "piece":
        return this.#onBlock(
          events,
          message.index,
          message.begin,
          message.block,
          "inPlace" in message,
        );
      case "reject": {
        if (!this.#fast("reject")) return;
        const key = blockKey(message.index, message.begin);
        this.released.delete(key);
        if (this.requests.delete(key)) events.released(this, message.index, message.begin);
        return;
      }
      case "allowed-fast":
        if (!this.#fast("allowed fast")) return;
        if (
          this.#pieceCount !== undefined && message.index < this.#pieceCount &&
          this.allowedFast.size < MAX_ALLOWED_FAST
        ) {
          this.allowedFast.add(message.index);
          events.mayRequest(this);
        }
        return;
      case "extended":
        try {
          if (message.id !== 0) return events.extended(this, message.id, message.payload);
          const handshake = decodeExtensionHandshake(message.payload);
          this.client = handshake.client;
          this.extensions = ExtensionRegistry.merge(this.extensions, handshake.extensions);
          if (handshake.requestQueue !== undefined) this.queueLimit = handshake.requestQueue;
          events.extensionHandshake(this, handshake);
        } catch (error) {
          if (!(error instanceof PeerError)) throw error;
          this.protocolError(error.message);
        }
        return;
    }
  }

  /** Whether the peer speaks the fast extension; one that sends `what` without it is dropped. */
  #fast(what: string): boolean {
    if (this.connection.features.fast) return true;
    this.protocolError(`sent ${what} without the fast extension`);
    return false;
  }

  #onPieces(events: PeerSessionEvents, bits: Bitfield): void {
    if (this.bitsReceived || this.bits.count > 0) {
      // A second piece list (aria2c sends have none, then a bitfield once it has a
      // piece): taken as a batch of have messages; pieces are never taken back.
      for (const index of bits.indices()) this.#onHave(events, index);
      return;
    }
    this.bitsReceived = true;
    this.bits = bits;
    events.pieces(this, bits);
  }

  /** A `have` before the piece count is known: kept, up to the most pieces a torrent may have. */
  #keepHave(index: number): void {
    if (index >= MAX_PIECES) {
      return this.protocolError(`sent have for piece ${index}, which no torrent has`);
    }
    if (this.#early!.haves.size < MAX_EARLY_HAVES) this.#early!.haves.add(index);
  }

  #onHave(events: PeerSessionEvents, index: number): void {
    if (index >= this.#pieceCount!) {
      return this.protocolError(`sent have for piece ${index}, which does not exist`);
    }
    this.bitsReceived = true;
    if (this.bits.set(index)) events.have(this, index);
  }

  #onBlock(
    events: PeerSessionEvents,
    index: number,
    begin: number,
    data: Uint8Array,
    inPlace: boolean,
  ): void {
    // A block read in place came for an outstanding request of the right length (see
    // `blockTarget`): its piece exists and its length is right, so every path below
    // that can see one ends in `block` or `unrequestedBlock`, which end the placement.
    if (this.#pieceCount === undefined || index >= this.#pieceCount) {
      return this.protocolError(`sent a block of piece ${index}, which does not exist`);
    }
    const now = Date.now();
    const key = blockKey(index, begin);
    const request = this.requests.get(key);
    this.download.add(data.length, now);
    if (request) {
      this.requests.delete(key);
      if (request.length !== data.length) {
        events.released(this, index, begin);
        return this.protocolError(
          `answered a request for ${request.length} bytes with ${data.length}`,
        );
      }
      this.lastBlockAt = now;
      this.snubbed = false;
      this.answered(now - request.sentAt, now);
      return events.block(this, { index, begin, data, inPlace, late: false });
    }
    if (this.released.delete(key)) {
      return events.block(this, { index, begin, data, inPlace, late: true });
    }
    this.unrequestedBlocks++;
    events.unrequestedBlock(this, { index, begin, data, inPlace, late: false });
  }
}
