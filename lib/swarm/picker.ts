/**
 * The piece picker: decides which blocks to ask each peer for.
 *
 * - Pieces already in progress are finished before new ones start.
 * - New pieces are chosen rarest first over the availability of connected
 *   peers, with random tie-breaking; the first few are chosen at random so
 *   that a new peer quickly has something to trade.
 * - Pieces have priorities (0, not wanted, to 3): a piece starts only when
 *   no piece of a higher priority that the peer has is waiting. Priorities
 *   change at any time ({@linkcode PiecePicker.setPriorities}); a piece in
 *   progress that is no longer wanted is finished.
 * - Sequential mode ({@linkcode PiecePicker.setSequential}) starts pieces in
 *   index order instead, rarest first within a short window ahead (see
 *   `_sequential.ts`).
 * - Pieces with a deadline ({@linkcode PiecePicker.setDeadline}, a reader
 *   waiting for them) are requested before all others, soonest first, even
 *   over the memory cap; one whose deadline passed may be asked of two peers.
 * - Pieces are fetched as 16 KiB blocks. A piece being downloaded needs a
 *   buffer of its size (the assembler's); the bytes held this way are
 *   capped, and no new piece starts while the cap is reached.
 * - End game: once every missing block has been asked for, a peer may also
 *   ask for blocks others are fetching (at most `maxRequestsPerBlock` at
 *   once), so a slow peer holding the last blocks cannot stall completion.
 *   When a block arrives, the other peers that asked for it are named so
 *   their requests can be cancelled.
 *
 * The picker does the request bookkeeping only: which blocks are requested
 * from whom and which have arrived. It holds no bytes (the piece assembler
 * does) and knows nothing of sockets: peers are numbers, and a peer's
 * pieces are a {@linkcode Bitfield} the caller owns.
 *
 * @module
 */

import { BLOCK_SIZE } from "../wire/messages.ts";
import { Bitfield } from "../util/bitfield.ts";
import { AvailabilityIndex } from "./_availability.ts";
import { Deadlines } from "./_deadlines.ts";
import { SequentialOrder, sequentialWindow } from "./_sequential.ts";

/** A block to request. */
export interface BlockRequest {
  /** Piece index. */
  index: number;
  /** Offset in the piece. */
  begin: number;
  /** Length in bytes. */
  length: number;
}

/** Options of {@linkcode PiecePicker}. */
export interface PiecePickerOptions {
  /** Number of pieces. */
  pieceCount: number;
  /** Size of piece `index`. */
  pieceSize: (index: number) => number;
  /** Pieces we already have (verified); the picker keeps it up to date. */
  have?: Bitfield;
  /**
   * Each piece's priority: 0 (not wanted) to 3 (high; see
   * {@linkcode PRIORITY_NORMAL}). Default: every piece normal. The picker keeps a copy.
   */
  priorities?: Uint8Array;
  /** Most bytes of unfinished pieces held in memory. Default 64 MiB; at least one piece. */
  maxBufferedBytes?: number;
  /** How many pieces are picked at random before rarest first takes over. Default 4. */
  randomFirstPieces?: number;
  /** In end game, most peers asked for one block at once. Default 2. */
  maxRequestsPerBlock?: number;
  /** Random numbers in [0, 1). Default `Math.random`. */
  random?: () => number;
  /** Start in sequential order (see {@linkcode PiecePicker.setSequential}). Default: rarest first. */
  sequential?: SequentialOptions;
  /** The clock deadlines are compared with, in ms. Default `Date.now`. */
  now?: () => number;
}

/** How a sequential download goes. */
export interface SequentialOptions {
  /** Pieces to start before the others, in this order (the first and last piece of each file). */
  early?: readonly number[];
  /** Pieces from the first missing one among which the rarest starts first. Default about 4 MiB of pieces. */
  window?: number;
}

/** The priority of a piece nothing was said about. */
export const PRIORITY_NORMAL = 2;
/** The highest piece priority. */
export const PRIORITY_HIGHEST = 3;

/** A piece being downloaded. */
export interface ActivePiece {
  /** Piece index. */
  readonly index: number;
  /** Its size in bytes. */
  readonly length: number;
  /** Blocks in the piece. */
  readonly blockCount: number;
  /** Per block: 1 once received. */
  readonly received: Uint8Array;
  /** Per block: the peers it is requested from. */
  readonly requesters: (number[] | undefined)[];
  /** Blocks received so far. */
  receivedCount: number;
  /** Blocks neither received nor requested. */
  freeCount: number;
}

/** What {@linkcode PiecePicker.blockReceived} found. */
export interface BlockOutcome {
  /** The block was still missing: its bytes belong in the piece. */
  fresh: boolean;
  /** Other peers that had been asked for the same block: cancel their requests. */
  cancel: number[];
  /** The piece, when this block completed it (all blocks received: verify it). */
  completed?: ActivePiece;
}

/** Chooses blocks to request, rarest first, with end game. */
export class PiecePicker {
  /** Pieces we have. */
  readonly have: Bitfield;
  readonly #options: Required<Omit<PiecePickerOptions, "have" | "priorities" | "sequential">>;
  readonly #priority: Uint8Array;
  /** Pieces waiting to start, by priority. */
  readonly #waitingAt = [0, 0, 0, 0];
  readonly #availability: AvailabilityIndex;
  readonly #active = new Map<number, ActivePiece>();
  /** Active pieces with free blocks, oldest first. */
  readonly #partial = new Set<ActivePiece>();
  #bufferedBytes = 0;
  #wantedMissing = 0;
  #sequential?: SequentialOrder;
  readonly #deadlines = new Deadlines();

  /**
   * Creates a picker for a torrent's pieces.
   *
   * @param options Sizes, what we have, limits.
   */
  constructor(options: PiecePickerOptions) {
    this.#options = {
      pieceCount: options.pieceCount,
      pieceSize: options.pieceSize,
      maxBufferedBytes: options.maxBufferedBytes ?? 64 * 1024 * 1024,
      randomFirstPieces: options.randomFirstPieces ?? 4,
      maxRequestsPerBlock: options.maxRequestsPerBlock ?? 2,
      random: options.random ?? Math.random,
      now: options.now ?? Date.now,
    };
    this.#priority = options.priorities
      ? priorityCopy(options.priorities, options.pieceCount)
      : new Uint8Array(options.pieceCount).fill(PRIORITY_NORMAL);
    this.have = options.have ?? new Bitfield(options.pieceCount);
    this.#availability = new AvailabilityIndex(options.pieceCount);
    for (let piece = 0; piece < options.pieceCount; piece++) {
      if (this.wants(piece)) {
        this.#wait(piece);
        this.#wantedMissing++;
      }
    }
    if (options.sequential) this.setSequential(options.sequential);
  }

  /** Whether pieces start in sequential order. */
  get sequential(): boolean {
    return this.#sequential !== undefined;
  }

  /**
   * Starts pieces in index order from now on (the `early` ones first), or
   * rarest first again when `sequential` is undefined.
   */
  setSequential(sequential: SequentialOptions | undefined): void {
    if (!sequential) {
      this.#sequential = undefined;
      return;
    }
    const view = {
      pieceCount: this.#options.pieceCount,
      isWaiting: (piece: number) => this.#availability.isWaiting(piece),
      has: (piece: number) => this.have.has(piece),
      availability: (piece: number) => this.#availability.count(piece),
    };
    const window = sequential.window ?? sequentialWindow(this.#options.pieceSize(0));
    this.#sequential = new SequentialOrder(view, window, sequential.early);
  }

  /**
   * Piece `index` is needed by time `at` (ms, on the picker's clock): it is
   * requested before pieces without a deadline, soonest first. Pieces we
   * have or do not want are ignored; the deadline goes once the piece is ours.
   *
   * @returns False when too many pieces have a deadline already (see `MAX_DEADLINES`).
   */
  setDeadline(index: number, at: number): boolean {
    if (!Number.isInteger(index) || index < 0 || index >= this.#priority.length) {
      throw new RangeError(`piece ${index} is not in this torrent`);
    }
    if (this.have.has(index)) return true;
    return this.#deadlines.set(index, at);
  }

  /** Piece `index` (or, without one, every piece) needs no deadline any more. */
  clearDeadline(index?: number): void {
    if (index === undefined) this.#deadlines.clear();
    else this.#deadlines.delete(index);
  }

  /** Pieces with a deadline. */
  get deadlineCount(): number {
    return this.#deadlines.size;
  }

  /** Piece `index`'s priority, 0 (not wanted) to 3. */
  priority(index: number): number {
    return this.#priority[index];
  }

  /**
   * Gives every piece a new priority (0 to 3). Pieces no longer wanted are
   * not started (one in progress is finished); pieces wanted now are.
   *
   * @returns Whether the set of wanted pieces changed (peers' interest may have).
   */
  setPriorities(priorities: Uint8Array): boolean {
    const next = priorityCopy(priorities, this.#priority.length);
    let changed = false;
    for (let piece = 0; piece < next.length; piece++) {
      const before = this.#priority[piece];
      const after = next[piece];
      if (before === after) continue;
      if (!this.have.has(piece) && (before === 0) !== (after === 0)) {
        changed = true;
        this.#wantedMissing += after === 0 ? -1 : 1;
      }
      const waiting = this.#availability.isWaiting(piece);
      if (waiting) this.#unwait(piece);
      this.#priority[piece] = after;
      if (after > 0 && !this.have.has(piece) && !this.#active.has(piece)) this.#wait(piece);
    }
    return changed;
  }

  /** Wanted pieces waiting to start (not ours, not in progress). */
  get waiting(): number {
    return this.#availability.waiting;
  }

  /** Wanted pieces we do not have yet (including those in progress). */
  get missing(): number {
    return this.#wantedMissing;
  }

  /** Bytes of unfinished pieces (the memory their buffers take). */
  get bufferedBytes(): number {
    return this.#bufferedBytes;
  }

  /** The most bytes unfinished pieces may hold. */
  get maxBufferedBytes(): number {
    return this.#options.maxBufferedBytes;
  }

  /** Pieces in progress. */
  get activeCount(): number {
    return this.#active.size;
  }

  /** True when every missing block is requested or received: duplicates are allowed. */
  get endGame(): boolean {
    return this.#availability.waiting === 0 && this.#partial.size === 0 && this.#wantedMissing > 0;
  }

  /** Whether we want `piece` and do not have it. */
  wants(piece: number): boolean {
    return !this.have.has(piece) && this.#priority[piece] > 0;
  }

  /** The active piece `index`, if it is in progress. */
  active(index: number): ActivePiece | undefined {
    return this.#active.get(index);
  }

  /** Whether piece `index` is in progress and every block of it has arrived. */
  allReceived(index: number): boolean {
    const piece = this.#active.get(index);
    return piece !== undefined && piece.receivedCount === piece.blockCount;
  }

  /** A peer announced it has `piece`. */
  peerHas(piece: number): void {
    this.#availability.increment(piece);
  }

  /** A peer that announced `piece` took it back (BEP 54; undoes {@linkcode peerHas}). */
  peerLost(piece: number): void {
    this.#availability.decrement(piece);
  }

  /** A peer has these pieces (it connected, or is counted piece by piece again); a full set counts as a seed. */
  addPeerPieces(bits: Bitfield): void {
    if (bits.full) {
      this.#availability.seeds++;
      return;
    }
    for (const piece of bits.indices()) this.#availability.increment(piece);
  }

  /** A peer no longer has these pieces (it left; undoes {@linkcode peerHas} / {@linkcode addPeerPieces}). */
  removePeerPieces(bits: Bitfield, wasSeed: boolean): void {
    if (wasSeed) {
      this.#availability.seeds--;
      return;
    }
    for (const piece of bits.indices()) this.#availability.decrement(piece);
  }

  /** A peer that was counted piece by piece now has everything: count it as a seed. */
  peerBecameSeed(previous: Bitfield): void {
    this.removePeerPieces(previous, false);
    this.#availability.seeds++;
  }

  /** Peers that have `piece`, seeds included. */
  availability(piece: number): number {
    return this.#availability.count(piece) + this.#availability.seeds;
  }

  /**
   * Picks up to `count` blocks for a peer and marks them requested by it.
   *
   * @param peer The peer's number.
   * @param bits The peer's pieces.
   * @param count How many blocks the peer's pipeline has room for.
   * @param allowed When the peer chokes us: only these pieces (BEP 6 allowed fast).
   * @param idle The peer has no request outstanding: it may start a piece
   *   even when the memory cap is reached, up to a quarter over it, so that
   *   no peer that could send waits while others hold every piece buffer.
   */
  pick(
    peer: number,
    bits: Bitfield,
    count: number,
    allowed?: Set<number>,
    idle = false,
  ): BlockRequest[] {
    const out: BlockRequest[] = [];
    const usable = (piece: number) =>
      bits.has(piece) && (allowed === undefined || allowed.has(piece));
    if (this.#deadlines.size > 0) this.#pickUrgent(peer, usable, count, out);
    for (const piece of this.#partial) {
      if (out.length >= count) return out;
      if (usable(piece.index)) this.#takeFree(piece, peer, count, out);
    }
    while (out.length < count) {
      const piece = this.#startPiece(bits, usable, idle && out.length === 0);
      if (!piece) break;
      this.#takeFree(piece, peer, count, out);
    }
    if (out.length < count && this.endGame) this.#takeDuplicates(peer, usable, count, out);
    return out;
  }

  /**
   * Claims a run of consecutive waiting pieces for a source that fetches
   * ranges (a web seed): every block of them is requested by `source`. The
   * run starts at `from` when that piece waits and is of the highest
   * priority waiting, else at the rarest such piece; it goes on while the
   * next piece waits, up to `maxPieces` and the memory cap (one piece is
   * always allowed when nothing is in progress).
   *
   * @returns The pieces claimed, in index order; none when nothing waits.
   */
  claimRun(source: number, maxPieces: number, from?: number): ActivePiece[] {
    let level = PRIORITY_HIGHEST;
    while (level > 0 && this.#waitingAt[level] === 0) level--;
    if (level === 0) return [];
    const accept = (piece: number) => this.#priority[piece] === level;
    let index = from !== undefined && from < this.#priority.length &&
        this.#availability.isWaiting(from) && accept(from)
      ? from
      : this.#availability.rarest(accept, this.#options.random);
    const run: ActivePiece[] = [];
    while (
      index !== undefined && index < this.#priority.length && run.length < maxPieces &&
      this.#availability.isWaiting(index) && this.#priority[index] > 0
    ) {
      if (!this.#roomFor(this.#options.pieceSize(index))) break;
      run.push(this.#claim(source, index));
      index++;
    }
    return run;
  }

  /**
   * Claims piece `index` for `source` (every block requested by it) when
   * it waits to start.
   *
   * @returns The piece, or undefined when it is ours, in progress or not wanted.
   */
  claimPiece(source: number, index: number): ActivePiece | undefined {
    if (this.#availability.isWaiting(index)) return this.#claim(source, index);
    // In progress, but nobody is asked for any of it (given back): the rest is the source's.
    const piece = this.#active.get(index);
    if (!piece || piece.requesters.some((requesters) => requesters?.length)) return undefined;
    this.#claimFree(source, piece);
    return piece;
  }

  /**
   * Gives back the blocks of piece `index` that `source` claimed and did
   * not deliver; a piece of which nothing arrived waits to start again.
   */
  unclaim(source: number, index: number): void {
    const piece = this.#active.get(index);
    if (!piece) return;
    for (let block = 0; block < piece.blockCount; block++) {
      if (!piece.received[block]) this.release(source, index, block * BLOCK_SIZE);
    }
    if (piece.receivedCount === 0 && piece.requesters.every((requesters) => !requesters?.length)) {
      this.#deactivate(piece);
      if (this.#priority[index] > 0) this.#wait(index);
    }
  }

  #claim(source: number, index: number): ActivePiece {
    const piece = this.#activate(index);
    this.#claimFree(source, piece);
    return piece;
  }

  #claimFree(source: number, piece: ActivePiece): void {
    for (let block = 0; block < piece.blockCount; block++) {
      if (!piece.received[block] && !piece.requesters[block]) piece.requesters[block] = [source];
    }
    piece.freeCount = 0;
    this.#partial.delete(piece);
  }

  /**
   * Records an arrived block.
   *
   * @param peer Who sent it.
   * @param index Piece.
   * @param begin Offset.
   * @param length Block length.
   */
  blockReceived(peer: number, index: number, begin: number, length: number): BlockOutcome {
    const piece = this.#active.get(index);
    const block = begin / BLOCK_SIZE;
    if (
      !piece || !Number.isInteger(block) || block >= piece.blockCount ||
      length !== blockLength(piece, block)
    ) {
      return { fresh: false, cancel: [] };
    }
    const requesters = piece.requesters[block] ?? [];
    piece.requesters[block] = undefined;
    if (piece.received[block]) {
      return { fresh: false, cancel: requesters.filter((p) => p !== peer) };
    }
    if (requesters.length === 0) piece.freeCount--;
    if (piece.freeCount === 0) this.#partial.delete(piece);
    piece.received[block] = 1;
    piece.receivedCount++;
    return {
      fresh: true,
      cancel: requesters.filter((p) => p !== peer),
      completed: piece.receivedCount === piece.blockCount ? piece : undefined,
    };
  }

  /**
   * Whether `peer` may have block (`index`, `begin`) read straight into its
   * piece: it alone asked for it, and it has not arrived.
   */
  mayPlace(peer: number, index: number, begin: number): boolean {
    const piece = this.#active.get(index);
    if (!piece || begin % BLOCK_SIZE !== 0) return false;
    const block = begin / BLOCK_SIZE;
    const requesters = piece.requesters[block];
    return !piece.received[block] && requesters?.length === 1 && requesters[0] === peer;
  }

  /**
   * A request will not be answered (rejected, timed out, choked, peer gone):
   * the block goes back to the pool.
   */
  release(peer: number, index: number, begin: number): void {
    const piece = this.#active.get(index);
    if (!piece) return;
    const block = begin / BLOCK_SIZE;
    const requesters = piece.requesters[block];
    if (!requesters) return;
    const at = requesters.indexOf(peer);
    if (at < 0) return;
    requesters.splice(at, 1);
    if (requesters.length === 0) {
      piece.requesters[block] = undefined;
      if (!piece.received[block]) {
        piece.freeCount++;
        this.#partial.add(piece);
      }
    }
  }

  /**
   * A received block is missing again (its sender was found to lie): it is
   * requested from others.
   *
   * @returns Whether it had been received.
   */
  forgetBlock(index: number, block: number): boolean {
    const piece = this.#active.get(index);
    if (!piece || !piece.received[block]) return false;
    piece.received[block] = 0;
    piece.receivedCount--;
    if (!piece.requesters[block]) {
      piece.freeCount++;
      this.#partial.add(piece);
    }
    return true;
  }

  /** A completed piece passed its hash check and was written: we have it. */
  pieceVerified(index: number): void {
    const piece = this.#active.get(index);
    if (piece) this.#deactivate(piece);
    if (this.have.set(index) && this.#priority[index] > 0) this.#wantedMissing--;
    this.#unwait(index);
    this.#deadlines.delete(index);
  }

  /**
   * A piece we had is gone (its data changed on disk): we no longer have
   * it, and it is downloaded again if wanted. Nothing happens for a piece
   * we do not have.
   *
   * @returns Whether we had it.
   */
  pieceLost(index: number): boolean {
    if (!this.have.clear(index)) return false;
    if (this.#priority[index] > 0) {
      this.#wantedMissing++;
      this.#wait(index);
    }
    return true;
  }

  /**
   * A completed piece failed its hash check: it is downloaded again.
   *
   * @returns The failed piece, if it was active.
   */
  pieceFailed(index: number): ActivePiece | undefined {
    const piece = this.#active.get(index);
    if (!piece) return undefined;
    this.#deactivate(piece);
    if (this.#priority[index] > 0) this.#wait(index);
    return piece;
  }

  #deactivate(piece: ActivePiece): void {
    this.#active.delete(piece.index);
    this.#partial.delete(piece);
    this.#bufferedBytes -= piece.length;
  }

  #startPiece(
    bits: Bitfield,
    usable: (piece: number) => boolean,
    overCap = false,
  ): ActivePiece | undefined {
    if (!this.#roomFor(this.#options.pieceSize(0), overCap ? 1.25 : 1)) return;
    const random = this.#options.random;
    const sequential = this.#sequential;
    const early = !sequential &&
      this.have.count + this.#active.size < this.#options.randomFirstPieces;
    let index: number | undefined;
    for (let level = PRIORITY_HIGHEST; level > 0 && index === undefined; level--) {
      if (this.#waitingAt[level] === 0) continue;
      // With pieces of one priority only waiting (the usual case) no filter is needed.
      const alone = this.#availability.waiting === this.#waitingAt[level];
      const accept = alone ? usable : (p: number) => this.#priority[p] === level && usable(p);
      index = sequential
        ? sequential.next(accept)
        : early
        ? this.#availability.random(accept, random)
        : this.#availability.rarest(accept, random, bits.full ? 0 : 1);
    }
    if (index === undefined) return undefined;
    return this.#activate(index);
  }

  /**
   * Requests for pieces with a deadline, soonest first: free blocks of
   * those in progress, those waiting started (over the memory cap if need
   * be: they are few), and, once a deadline has passed, blocks already
   * asked of one peer asked of this one too.
   */
  #pickUrgent(
    peer: number,
    usable: (piece: number) => boolean,
    count: number,
    out: BlockRequest[],
  ): void {
    const now = this.#options.now();
    for (const index of this.#deadlines.order()) {
      if (out.length >= count) return;
      if (!usable(index) || !this.wants(index)) continue;
      let piece = this.#active.get(index);
      if (!piece) {
        if (!this.#availability.isWaiting(index)) continue;
        if (this.#bufferedBytes > 2 * this.#options.maxBufferedBytes) return;
        piece = this.#activate(index);
      }
      if (piece.freeCount > 0) this.#takeFree(piece, peer, count, out);
      else if (this.#deadlines.get(index)! <= now) this.#duplicate(piece, peer, count, out);
    }
  }

  /**
   * Whether a piece of `size` bytes may start: the first always may; others
   * while the buffered pieces stay within the memory cap (times `factor`).
   */
  #roomFor(size: number, factor = 1): boolean {
    return this.#active.size === 0 ||
      this.#bufferedBytes + size <= this.#options.maxBufferedBytes * factor;
  }

  /** Starts piece `index`, which is waiting. */
  #activate(index: number): ActivePiece {
    this.#unwait(index);
    const length = this.#options.pieceSize(index);
    const blockCount = Math.ceil(length / BLOCK_SIZE);
    const piece: ActivePiece = {
      index,
      length,
      blockCount,
      received: new Uint8Array(blockCount),
      requesters: new Array(blockCount),
      receivedCount: 0,
      freeCount: blockCount,
    };
    this.#active.set(index, piece);
    this.#partial.add(piece);
    this.#bufferedBytes += length;
    return piece;
  }

  /** Puts a wanted piece among those waiting to start. */
  #wait(piece: number): void {
    if (this.#availability.isWaiting(piece)) return;
    this.#availability.add(piece);
    this.#waitingAt[this.#priority[piece]]++;
    this.#sequential?.waiting(piece);
  }

  /** Takes a piece out of those waiting to start (it started, we have it, or it is not wanted). */
  #unwait(piece: number): void {
    if (!this.#availability.isWaiting(piece)) return;
    this.#availability.remove(piece);
    this.#waitingAt[this.#priority[piece]]--;
  }

  #takeFree(piece: ActivePiece, peer: number, count: number, out: BlockRequest[]): void {
    for (
      let block = 0;
      block < piece.blockCount && out.length < count && piece.freeCount > 0;
      block++
    ) {
      if (piece.received[block] || piece.requesters[block]) continue;
      piece.requesters[block] = [peer];
      piece.freeCount--;
      out.push({
        index: piece.index,
        begin: block * BLOCK_SIZE,
        length: blockLength(piece, block),
      });
    }
    if (piece.freeCount === 0) this.#partial.delete(piece);
  }

  #takeDuplicates(
    peer: number,
    usable: (piece: number) => boolean,
    count: number,
    out: BlockRequest[],
  ): void {
    for (const piece of this.#active.values()) {
      if (piece.receivedCount === piece.blockCount || !usable(piece.index)) continue;
      this.#duplicate(piece, peer, count, out);
      if (out.length >= count) return;
    }
  }

  /** Asks `peer` too for blocks of `piece` that others are fetching (up to `maxRequestsPerBlock` each). */
  #duplicate(piece: ActivePiece, peer: number, count: number, out: BlockRequest[]): void {
    for (let block = 0; block < piece.blockCount && out.length < count; block++) {
      const requesters = piece.requesters[block];
      if (piece.received[block] || !requesters || requesters.includes(peer)) continue;
      if (requesters.length >= this.#options.maxRequestsPerBlock) continue;
      requesters.push(peer);
      out.push({
        index: piece.index,
        begin: block * BLOCK_SIZE,
        length: blockLength(piece, block),
      });
    }
  }
}

function priorityCopy(priorities: Uint8Array, pieceCount: number): Uint8Array {
  if (priorities.length !== pieceCount) {
    throw new RangeError(`${priorities.length} priorities for ${pieceCount} pieces`);
  }
  return priorities.map((level) => Math.min(level, PRIORITY_HIGHEST));
}

function blockLength(piece: ActivePiece, block: number): number {
  return Math.min(BLOCK_SIZE, piece.length - block * BLOCK_SIZE);
}
