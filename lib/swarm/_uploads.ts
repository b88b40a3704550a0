/**
 * The upload side of a swarm: which peers are unchoked (the choker's
 * decision, applied), the requests they queue with us, and the loop that
 * sends each peer its blocks while its send queue has room.
 *
 * A slot is for a peer that uses it. An unchoked peer that asks for nothing
 * within {@linkcode IDLE_SLOT_MS} of its unchoke (or of its last request),
 * or that takes none of the bytes waiting for it for as long, loses the
 * slot at the next tick, and waits behind every peer that has not wasted a
 * turn (a wasted turn is remembered for its IP too, so reconnecting does
 * not wipe it). Turns are also shared out by IP: among waiting peers, those
 * from an IP whose connected peers have had fewer turns go first, so many
 * connections from one host cannot queue a newcomer behind them.
 *
 * @module
 */

import { BLOCK_SIZE } from "../wire/messages.ts";
import type { Logger } from "../util/log.ts";
import { choke, type ChokerOptions, type ChokerState } from "./choker.ts";
import { hostOfKey } from "../net/peer_address.ts";
import { setNewest } from "../util/_bounded.ts";
import type { PeerSession } from "./peer_session.ts";
import type { BlockRequest } from "./picker.ts";
import type { RateLimiter } from "./rate_limiter.ts";

/** Requests a peer may have queued with us: the `reqq` we announce. */
export const OUR_REQUEST_QUEUE = 500;
/** Bytes waiting to be sent to one peer before we stop reading pieces for it. */
const MAX_SEND_QUEUE = 256 * 1024;
/** An unchoked peer that asks for nothing, or takes nothing, for this long loses its slot. */
export const IDLE_SLOT_MS = 2_000;
/** Most IPs whose wasted turns are remembered. */
const MAX_COUNTED_HOSTS = 4096;

/** What the uploads need of their swarm. */
export interface UploadsOptions {
  /** The connected peers. */
  peers: () => Iterable<PeerSession>;
  /** Whether we may serve piece `index` now (we have it, checked). */
  has: (index: number) => boolean;
  /** The size of piece `index` (valid indices only). */
  pieceSize: (index: number) => number;
  /** The torrent's piece count. */
  pieceCount: number;
  /** Reads a verified piece; without it, every request is refused. */
  readPiece?: (index: number) => Promise<Uint8Array>;
  /** A piece could not be read for uploading. */
  onReadError?: (index: number, error: unknown) => void;
  /** True when we have every piece (the choker's seeding rules apply). */
  seeding: () => boolean;
  /** The choker's settings. */
  choker?: ChokerOptions;
  /** Shared upload limit. */
  uploadLimiter?: RateLimiter;
  /** Where events are logged. */
  log: Logger;
  /** Runs a task the swarm owns (awaited when it stops). */
  spawn: (task: Promise<void>, what: string) => void;
  /** A block was handed to a peer's connection. */
  onSent: (peer: PeerSession, bytes: number, now: number) => void;
}

/** Choking, queued requests and the upload loops of one swarm. */
export class Uploads {
  readonly #options: UploadsOptions;
  #chokerState: ChokerState = {};
  #rechokeQueued = false;
  #stopped = false;
  /** When each IP last wasted a slot, oldest first: a reconnect does not wipe it. */
  readonly #hostWasted = new Map<string, number>();

  /** @param options The swarm's peers, pieces and limits. */
  constructor(options: UploadsOptions) {
    this.#options = options;
  }

  /** No more uploads start; loops in progress end with their connections. */
  stop(): void {
    this.#stopped = true;
  }

  /** A peer asks for a block: queue it if it is valid and the peer may ask, else reject it. */
  onRequest(peer: PeerSession, request: BlockRequest): void {
    const { index, begin, length } = request;
    const valid = index < this.#options.pieceCount && this.#options.has(index) && length > 0 &&
      length <= BLOCK_SIZE && begin + length <= this.#options.pieceSize(index);
    if (
      !valid || peer.amChoking || !this.#options.readPiece ||
      peer.uploadQueue.length >= OUR_REQUEST_QUEUE
    ) {
      return peer.reject({ index, begin, length });
    }
    peer.uploadQueue.push({ index, begin, length });
    this.serve(peer);
  }

  /**
   * These pieces are no longer ours to serve: requests queued for them are
   * rejected (BEP 6 peers) or dropped (BEP 54).
   */
  dropRequestsFor(pieces: ReadonlySet<number>): void {
    for (const peer of this.#options.peers()) peer.dropQueued(pieces);
  }

  /** Starts the upload loop for a peer unless it runs already. */
  serve(peer: PeerSession): void {
    if (peer.serving || this.#stopped) return;
    peer.serving = true;
    this.#options.spawn(this.#serveQueued(peer), `serving ${peer.key}`);
  }

  /** Sends queued blocks while the peer's send queue has room; `serve` resumes it when it drains. */
  async #serveQueued(peer: PeerSession): Promise<void> {
    const { readPiece, uploadLimiter } = this.#options;
    try {
      while (
        !peer.connection.closed && !peer.amChoking && peer.uploadQueue.length > 0 &&
        peer.connection.queuedBytes < MAX_SEND_QUEUE
      ) {
        const request = peer.uploadQueue[0];
        let data: Uint8Array;
        try {
          data = await readPiece!(request.index);
        } catch (error) {
          this.#options.log.warn(`piece ${request.index}: ${(error as Error).message}`);
          this.#options.onReadError?.(request.index, error);
          // The request cannot be served: refused, as one for a piece we do not have
          // (unless it was refused meanwhile, with its piece).
          if (peer.uploadQueue[0] !== request) continue;
          peer.uploadQueue.shift();
          peer.reject(request);
          continue;
        }
        // A wait for the upload limit ends when the peer goes (a stop does not wait for it).
        if (uploadLimiter) {
          await Promise.race([uploadLimiter.acquire(request.length), peer.connection.whenClosed]);
          if (peer.connection.closed) return;
        }
        // Cancelled, choked or the piece lost while it was read: the request is gone.
        if (peer.uploadQueue[0] !== request) continue;
        peer.uploadQueue.shift();
        if (!this.#options.has(request.index)) {
          peer.reject(request);
          continue;
        }
        const block = data.subarray(request.begin, request.begin + request.length);
        peer.connection.send({ type: "piece", index: request.index, begin: request.begin, block });
        this.#options.onSent(peer, request.length, Date.now());
      }
    } finally {
      peer.serving = false;
    }
  }

  /** Runs the choker soon (once, however often this is called in one turn). */
  rechokeSoon(): void {
    if (this.#rechokeQueued) return;
    this.#rechokeQueued = true;
    queueMicrotask(() => {
      this.#rechokeQueued = false;
      this.rechoke();
    });
  }

  /**
   * Once a second: an unchoked peer that wastes its slot loses it now, not
   * at the next rechoke.
   */
  tick(now: number): void {
    let wasted = false;
    for (const peer of this.#options.peers()) {
      if (!this.#wastesSlot(peer, now)) continue;
      peer.wastedTurnAt = now;
      setNewest(this.#hostWasted, hostOfKey(peer.key), now, MAX_COUNTED_HOSTS);
      wasted = true;
      this.#options.log.debug(
        `peer ${peer.key}: ${
          peer.uploadQueue.length === 0 ? "asks for nothing" : "takes nothing we send"
        }; its upload slot goes to another peer`,
      );
    }
    if (wasted) this.rechoke(now);
  }

  /** Whether an unchoked peer holds its slot without using it. */
  #wastesSlot(peer: PeerSession, now: number): boolean {
    if (peer.amChoking || peer.unchokedSince === undefined) return false;
    const since = now - peer.unchokedSince;
    if (since < IDLE_SLOT_MS) return false;
    const queued = peer.connection.queuedBytes;
    if (queued > 0) return now - peer.connection.lastSentAt >= IDLE_SLOT_MS;
    return peer.uploadQueue.length === 0 && now - (peer.lastRequestAt ?? 0) >= IDLE_SLOT_MS;
  }

  /** Runs the choker and applies its decision. */
  rechoke(now: number = Date.now()): void {
    if (this.#stopped) return;
    const peers = [...this.#options.peers()];
    const hostTurns = new Map<string, number>();
    for (const peer of peers) {
      const host = hostOfKey(peer.key);
      hostTurns.set(host, (hostTurns.get(host) ?? 0) + peer.turns);
    }
    const decision = choke(
      peers.map((peer) => ({
        id: peer.id,
        interested: peer.peerInterested,
        downloadRate: peer.download.rate(now),
        uploadRate: peer.upload.rate(now),
        snubbed: peer.snubbed,
        connectedAt: peer.connectedAt,
        unchoked: !peer.amChoking,
        unchokedSince: peer.unchokedSince,
        wasting: !peer.amChoking && peer.wastedTurnAt !== undefined &&
          peer.wastedTurnAt >= (peer.unchokedSince ?? 0),
        wastedTurnAt: Math.max(
          peer.wastedTurnAt ?? -Infinity,
          this.#hostWasted.get(hostOfKey(peer.key)) ?? -Infinity,
        ),
        hostTurns: hostTurns.get(hostOfKey(peer.key)) ?? 0,
      })),
      this.#options.seeding(),
      this.#chokerState,
      now,
      this.#options.choker,
    );
    this.#chokerState = decision.state;
    for (const peer of peers) {
      if (decision.unchoke.has(peer.id)) peer.unchoke(now);
      else peer.choke();
    }
  }
}
