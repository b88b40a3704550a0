/**
 * The download side of a swarm: what we want from each peer (interest),
 * the requests we keep in each peer's pipeline, and what happens to a
 * block when it arrives.
 *
 * - Interest is a count per peer of the pieces it has that we want, so it
 *   is O(1) to keep.
 * - Each peer's pipeline is its bandwidth-delay product, capped by its fair
 *   share of the memory for unverified pieces (see {@linkcode Downloads.fairShare}).
 * - A block that arrives goes to the picker (fresh or a duplicate), then to
 *   the assembler; other peers asked for the same block are sent a cancel.
 * - Requests not answered in time go back to the picker and the peer is
 *   snubbed (pipeline at its minimum) until it delivers again.
 *
 * @module
 */

import { BLOCK_SIZE } from "../wire/messages.ts";
import { Bitfield } from "../util/bitfield.ts";
import type { Logger } from "../util/log.ts";
import { type ArrivedBlock, blockKey, type PeerSession } from "./peer_session.ts";
import type { PieceAssembler } from "./piece_assembler.ts";
import type { PiecePicker } from "./picker.ts";
import { RateMeter } from "./rate_meter.ts";

/** What the download side needs of its swarm. */
export interface DownloadsOptions {
  /** What we have and want, and who was asked for what. */
  picker: PiecePicker;
  /** The pieces' buffers. */
  assembler: PieceAssembler;
  /** The connected peers, by id. */
  peers: ReadonlyMap<number, PeerSession>;
  /** Whether the swarm has stopped. */
  stopped: () => boolean;
  /** A peer that delivers no requested block for this long is snubbed. */
  requestTimeoutMs: number;
  /** Where events are logged. */
  log: Logger;
}

/** Interest, requests and arriving blocks of one swarm. */
export class Downloads {
  /** Payload bytes received. */
  readonly meter = new RateMeter();
  /** Peers that sent at least one useful block. */
  readonly peersUsed = new Set<string>();
  /** Bytes received that were of no use (duplicates, unrequested, failed pieces). */
  wasted = 0;
  readonly #options: DownloadsOptions;
  readonly #picker: PiecePicker;
  /** Each peer's share of the request budget, in blocks, and when it was counted. */
  #share = { blocks: Infinity, at: -Infinity };

  /** @param options The swarm's picker, assembler and peers. */
  constructor(options: DownloadsOptions) {
    this.#options = options;
    this.#picker = options.picker;
  }

  // ---- What peers have ----

  /** A peer's first piece list. */
  pieces(peer: PeerSession, bits: Bitfield): void {
    peer.wantedPieces = 0;
    for (const index of bits.indices()) if (this.#picker.wants(index)) peer.wantedPieces++;
    if (bits.full) peer.countedAsSeed = true;
    if (bits.count > 0) this.#picker.addPeerPieces(bits);
    this.updateInterest(peer);
    this.dropIfBothComplete(peer);
  }

  /** A peer has a new piece (already in its `bits`). */
  have(peer: PeerSession, index: number): void {
    if (peer.countedAsSeed) return;
    const wanted = this.#picker.wants(index);
    if (wanted) peer.wantedPieces++;
    // A peer that took pieces back stays counted piece by piece: turning it into a
    // seed and back on each have and lt_donthave would cost a pass over every piece.
    if (peer.bits.full && !peer.tookPiecesBack) {
      // Counted piece by piece so far; now it is a seed.
      const previous = new Bitfield(peer.bits.size);
      previous.setAll();
      previous.clear(index);
      this.#picker.peerBecameSeed(previous);
      peer.countedAsSeed = true;
      this.dropIfBothComplete(peer);
    } else {
      this.#picker.peerHas(index);
    }
    if (!peer.amInterested && wanted) this.updateInterest(peer);
  }

  /** BEP 54: the peer no longer has piece `index` (still in its `bits`). */
  lost(peer: PeerSession, index: number): void {
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
    if (!peer.connection.features.fast) this.releaseAll(peer, false, { piece: index });
    this.updateInterest(peer);
  }

  /** We have piece `index`, which we wanted: if `peer` has it, it has one piece fewer that we want. */
  gained(peer: PeerSession, index: number): void {
    if (!peer.bits.has(index)) return;
    peer.wantedPieces--;
    if (peer.amInterested && !this.#wantsFrom(peer)) this.updateInterest(peer);
  }

  /** We lost pieces we want again: peers that have them have more that we want. */
  wantAgain(wanted: readonly number[]): void {
    for (const peer of this.#options.peers.values()) {
      for (const index of wanted) if (peer.bits.has(index)) peer.wantedPieces++;
      this.updateInterest(peer);
    }
  }

  /** Which pieces we want changed (new priorities): every peer's count is taken again. */
  recountWanted(): void {
    for (const peer of this.#options.peers.values()) {
      peer.wantedPieces = 0;
      for (const index of peer.bits.indices()) if (this.#picker.wants(index)) peer.wantedPieces++;
      this.updateInterest(peer);
    }
  }

  /** Every wanted piece is in: no more interest, and seeds are left. */
  completed(): void {
    for (const peer of this.#options.peers.values()) {
      this.updateInterest(peer);
      this.dropIfBothComplete(peer);
    }
  }

  /** Two seeds have nothing to trade: close the connection. */
  dropIfBothComplete(peer: PeerSession): void {
    if (peer.bits.full && this.#picker.have.full) {
      this.#options.log.debug(`peer ${peer.key}: we both have every piece; disconnecting`);
      peer.connection.close();
    }
  }

  // ---- Interest and requests ----

  /** Whether the peer has a piece we want (kept as a count, so this is O(1)). */
  #wantsFrom(peer: PeerSession): boolean {
    return this.#picker.missing > 0 && peer.wantedPieces > 0;
  }

  /** Tells the peer whether we are interested, when that changed, and requests if we are. */
  updateInterest(peer: PeerSession): void {
    if (peer.setInterested(this.#wantsFrom(peer)) && peer.amInterested) this.requestMore(peer);
  }

  /** The peer choked us: without the fast extension its requests will not be answered. */
  choked(peer: PeerSession): void {
    if (!peer.connection.features.fast) this.releaseAll(peer, false);
  }

  /** Fills the peer's pipeline, in batches rather than one block per arrival. */
  requestMore(peer: PeerSession, now: number = Date.now()): void {
    if (this.#options.stopped() || peer.connection.closed || !peer.amInterested) return;
    if (!peer.canRequest) return;
    const depth = peer.pipelineDepth(now, this.fairShare(now));
    const outstanding = peer.requests.size;
    const room = depth - outstanding;
    if (room <= 0 || (outstanding > 0 && room < Math.min(8, depth / 2))) return;
    const blocks = this.#picker.pick(
      peer.id,
      peer.bits,
      room,
      peer.peerChoking ? peer.allowedFast : undefined,
      outstanding === 0 && !peer.snubbed,
    );
    peer.request(blocks, now);
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
  fairShare(now: number): number {
    if (now - this.#share.at < 250) return this.#share.blocks;
    let requestable = 0;
    for (const peer of this.#options.peers.values()) {
      // A peer that has not said what it has counts for a few seconds: it may well be a seeder.
      const unheard = !peer.bitsReceived && now - peer.connectedAt < 5000;
      if ((peer.amInterested || unheard) && !peer.snubbed && !peer.connection.closed) {
        requestable++;
      }
    }
    const budget = (this.#picker.maxBufferedBytes * 0.8) / BLOCK_SIZE;
    this.#share = { blocks: Math.max(2, Math.floor(budget / Math.max(1, requestable))), at: now };
    return this.#share.blocks;
  }

  /** Fills every peer's pipeline once the current turn is over. */
  requestAllSoon(): void {
    queueMicrotask(() => {
      for (const peer of this.#options.peers.values()) this.requestMore(peer);
    });
  }

  /** A request of ours will not be answered: its block goes back to the picker. */
  released(peer: PeerSession, index: number, begin: number): void {
    this.#picker.release(peer.id, index, begin);
    this.requestAllSoon();
  }

  /**
   * Puts a peer's requests (or those for one `piece`) back in the picker;
   * the block being read in place stays unless the peer is `gone`.
   * `cancel` tells the peer.
   */
  releaseAll(
    peer: PeerSession,
    gone: boolean,
    { cancel = false, piece }: { cancel?: boolean; piece?: number } = {},
  ): void {
    const placingKey = gone ? undefined : this.#options.assembler.placingKey(peer.id);
    for (const [key, request] of peer.requests) {
      if (key === placingKey || (piece !== undefined && request.index !== piece)) continue;
      if (gone) peer.requests.delete(key);
      else peer.takeBack(key, cancel);
      this.#picker.release(peer.id, request.index, request.begin);
    }
    this.requestAllSoon();
  }

  /** The peer is gone: its requests and its pieces are forgotten. */
  forget(peer: PeerSession): void {
    const placed = this.#options.assembler.placed(peer.id);
    if (placed !== undefined) this.#options.assembler.maybeFinish(placed);
    this.releaseAll(peer, true);
    if (peer.countedAsSeed) this.#picker.removePeerPieces(peer.bits, true);
    else if (peer.bits.count > 0) this.#picker.removePeerPieces(peer.bits, false);
  }

  // ---- Blocks ----

  /** Where a block the peer alone was asked for may be read straight into. */
  blockTarget(
    peer: PeerSession,
    index: number,
    begin: number,
    length: number,
  ): Uint8Array | undefined {
    if (!this.#picker.mayPlace(peer.id, index, begin)) return undefined;
    return this.#options.assembler.target(peer.id, index, begin, length);
  }

  /** A block we asked `peer` for arrived. */
  block(peer: PeerSession, { index, begin, data, inPlace, late }: ArrivedBlock): void {
    const assembler = this.#options.assembler;
    const placed = inPlace ? assembler.placed(peer.id) : undefined;
    const now = Date.now();
    const key = blockKey(index, begin);
    this.meter.add(data.length, now);
    if (late && assembler.beingPlaced(key)) {
      // Late, and another peer's copy is being read into the piece right now.
      this.wasted += data.length;
      return;
    }
    // Asked of this peer (perhaps taken back since, and then still welcome if missing).
    if (this.#arrived(peer.id, index, begin, data, inPlace, placed)) this.peersUsed.add(peer.key);
    this.requestMore(peer, now);
  }

  /**
   * A block from a source that is not a peer (a web seed, whose pieces the
   * picker gave it whole): the same path as a peer's, without the socket.
   * `data` may be reused by the caller once this returns.
   */
  sourceBlock(source: number, index: number, begin: number, data: Uint8Array): void {
    this.meter.add(data.length, Date.now());
    this.#arrived(source, index, begin, data, false);
  }

  /**
   * What every source's block goes through: the picker's bookkeeping, the
   * piece (when it is still being downloaded), the same block taken back
   * from other peers, and the piece finished when it is whole (or when
   * `placed`, the piece a block was read into in place, is this one).
   *
   * @returns Whether the block was new.
   */
  #arrived(
    source: number,
    index: number,
    begin: number,
    data: Uint8Array,
    inPlace: boolean,
    placed?: number,
  ): boolean {
    const assembler = this.#options.assembler;
    const active = this.#picker.active(index) !== undefined;
    const outcome = this.#picker.blockReceived(source, index, begin, data.length);
    if (!outcome.fresh) this.wasted += data.length;
    if (active) assembler.put(index, begin, data, source, { fresh: outcome.fresh, inPlace });
    const key = blockKey(index, begin);
    for (const otherId of outcome.cancel) this.#options.peers.get(otherId)?.takeBack(key, true);
    if (active && (outcome.completed || placed === index)) assembler.maybeFinish(index);
    return outcome.fresh;
  }

  /** Gives back the blocks of `pieces` that `source` was given and did not deliver. */
  releasePieces(source: number, pieces: readonly number[]): void {
    for (const index of pieces) this.#picker.unclaim(source, index);
    this.requestAllSoon();
  }

  /**
   * A block we never asked this peer for: counted as waste, and never put
   * into a piece. One read in place (for a request taken back and
   * forgotten) has overwritten its block already: the block is marked as
   * this peer's, for smart ban, and the placement ends.
   */
  unrequested(peer: PeerSession, { index, begin, data, inPlace }: ArrivedBlock): void {
    this.meter.add(data.length, Date.now());
    this.wasted += data.length;
    if (!inPlace) return;
    const assembler = this.#options.assembler;
    const placed = assembler.placed(peer.id);
    if (placed === undefined) return;
    assembler.put(index, begin, data, peer.id, { fresh: false, inPlace: true });
    assembler.maybeFinish(placed);
  }

  /** Once a second: peers that let requests time out are snubbed, and every pipeline is filled. */
  tick(now: number): void {
    const timeout = this.#options.requestTimeoutMs;
    for (const peer of this.#options.peers.values()) {
      if (peer.requests.size > 0 && now - peer.lastBlockAt > timeout && !peer.snubbed) {
        peer.snubbed = true;
        this.#options.log.debug(
          `peer ${peer.key}: no block for ${
            Math.round(timeout / 1000)
          } s; snubbed, its ${peer.requests.size} requests go to other peers`,
        );
        this.releaseAll(peer, false, { cancel: true });
      }
      this.requestMore(peer, now);
    }
  }
}
