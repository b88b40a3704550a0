/**
 * What the swarm knows about one connected peer: its pieces, the choke and
 * interest flags both ways, our outstanding requests to it, its measured
 * rate and the pipeline depth derived from it.
 *
 * @module
 */

import type { PeerConnection } from "../peer/connection.ts";
import { BLOCK_SIZE } from "../peer/messages.ts";
import { Bitfield } from "../util/bitfield.ts";
import type { ActivePiece, BlockRequest } from "./picker.ts";
import { RateMeter } from "./_rate.ts";
import { addNewest } from "../util/_bounded.ts";

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

/** How long a round-trip sample counts (two windows are kept). */
const RTT_WINDOW_MS = 10_000;

/** Most taken-back requests remembered per peer. */
const MAX_RELEASED = 2048;

/** A key for a block address, unique within a torrent. */
export function blockKey(index: number, begin: number): number {
  return index * 65536 + begin / BLOCK_SIZE;
}

/** The swarm's view of one connected peer. */
export class Peer {
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
  /** The peer's pieces. */
  bits: Bitfield;
  /** Counted as a seed by the picker (has every piece). */
  countedAsSeed = false;
  /** The peer took back a piece it had announced (BEP 54). */
  tookPiecesBack = false;
  /** Whether the peer sent its bitfield (or have all / have none) yet. */
  bitsReceived = false;
  /** How many of the peer's pieces we still want: we are interested while it is above 0. */
  wantedPieces = 0;
  /** The extensions the peer speaks, with its ids for them (from its extension handshake). */
  extensions: ReadonlyMap<string, number> = new Map();
  /** The peer chokes us. */
  choked = true;
  /** We told the peer we are interested. */
  interested = false;
  /** The peer told us it is interested. */
  peerInterested = false;
  /** We choke the peer (do not serve its requests). */
  amChoking = true;
  /** When we last unchoked it (ms). */
  unchokedSince?: number;
  /** When it connected (ms). */
  readonly connectedAt = Date.now();
  /** When it last sent us a request (ms). */
  lastRequestAt?: number;
  /** Upload slots it has been given. */
  turns = 0;
  /** When it last held an upload slot without using it (ms). */
  wastedTurnAt?: number;
  /** Its requests we have accepted and not yet served, in order. */
  incoming: BlockRequest[] = [];
  /** A serving loop is running for this peer. */
  serving = false;
  /** Pieces we may request while choked (BEP 6). */
  readonly allowedFast = new Set<number>();
  /** Requests sent, not yet answered. */
  readonly outstanding = new Map<number, OutstandingRequest>();
  /** Most requests the peer queues (its `reqq`), if it said. */
  queueLimit: number;
  /** The client the peer runs (from its extension handshake). */
  client?: string;
  /** Payload bytes received from the peer. */
  readonly download: RateMeter;
  /** Payload bytes sent to the peer. */
  readonly upload: RateMeter;
  /** When the last block arrived (ms), or when the peer connected. */
  lastBlockAt: number;
  /** Snubbed: it let requests time out; its pipeline is kept at the minimum. */
  snubbed = false;
  /** Blocks the peer sent that we never asked it for. */
  unrequestedBlocks = 0;
  /**
   * Requests we took back without the peer's word (it choked us, we
   * cancelled, it was too slow): a block for one of them may still come and
   * is one we asked for. Oldest first, at most {@linkcode MAX_RELEASED}.
   */
  readonly released = new Set<number>();
  /** The piece a block is being read into straight from the socket, if any. */
  placing?: ActivePiece;
  /** That block's key. */
  placingKey?: number;
  readonly #pipeline: Required<PipelineOptions>;
  /** The fastest answer to a request in this window and in the last one (ms): the round trip without queueing. */
  #rtt = { current: Infinity, previous: Infinity, windowStart: Date.now() };

  /**
   * Starts tracking a newly connected peer.
   *
   * @param id Number for the picker.
   * @param connection The open connection.
   * @param pieceCount The torrent's piece count.
   * @param pipeline Pipeline sizing.
   */
  constructor(
    id: number,
    connection: PeerConnection,
    pieceCount: number,
    pipeline: PipelineOptions = {},
  ) {
    this.id = id;
    this.connection = connection;
    this.key = connection.label;
    this.poolKey = connection.label;
    this.bits = new Bitfield(pieceCount);
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

  /** Remembers that the request `key` was taken back: its block may still arrive. */
  releasedRequest(key: number): void {
    addNewest(this.released, key, MAX_RELEASED);
  }

  /** Whether we may send requests: unchoked, or choked with allowed-fast pieces. */
  get canRequest(): boolean {
    return !this.choked || this.allowedFast.size > 0;
  }
}
