/**
 * The piece assembler: the buffers of the pieces being downloaded, the
 * blocks read straight from a socket into them, and the hand-over of a
 * finished piece to the verifier and storage.
 *
 * The block path runs one way: a peer session hands an arrived block to the
 * swarm, which asks the picker whether it is fresh and puts it here; when
 * the picker has every block of a piece and no block is still being read
 * into it, the piece goes to `verifyAndWrite` (hash, then storage), and the
 * outcome goes to `verified` or `failed`. The assembler knows who sent each
 * block, for smart ban, and nothing of sockets or requests.
 *
 * @module
 */

import { BLOCK_SIZE } from "../wire/messages.ts";
import { blockKey } from "./peer_session.ts";

/** Piece buffers kept for reuse. */
const MAX_SPARE_BUFFERS = 8;

/** A piece whose blocks are all in, as the verifier saw it. */
export interface AssembledPiece {
  /** Piece index. */
  readonly index: number;
  /** Its bytes. */
  readonly data: Uint8Array;
  /** Per block: the peer whose bytes are in `data`, or -1. */
  readonly senders: Int32Array;
  /** Peers that sent any block of it. */
  readonly contributors: ReadonlySet<number>;
}

/** Options of {@linkcode PieceAssembler}. */
export interface PieceAssemblerOptions {
  /** The size of piece `index`. */
  pieceSize: (index: number) => number;
  /** Whether every block of piece `index` is in (the picker's count). */
  complete: (index: number) => boolean;
  /**
   * Checks a finished piece and stores it when right. It may move `data`:
   * the bytes returned are the piece's from then on. A rejection is fatal.
   */
  verifyAndWrite: (
    index: number,
    data: Uint8Array,
  ) => Promise<{ valid: boolean; data: Uint8Array }>;
  /** A piece passed its check and was stored. Its buffer is reused after this returns. */
  verified: (piece: AssembledPiece) => void;
  /** A piece failed its check; its buffer is never reused, so it may be kept. */
  failed: (piece: AssembledPiece) => void;
  /** Storing a piece failed. */
  fatal: (index: number, error: unknown) => void;
  /** Runs a task the swarm owns (awaited when it stops). */
  spawn: (task: Promise<void>, what: string) => void;
}

interface Buffer {
  data: Uint8Array;
  readonly senders: Int32Array;
  readonly contributors: Set<number>;
  /** Blocks being read into `data` right now: it is not hashed until this is 0. */
  placing: number;
}

/** Assembles pieces from blocks and hands them to the verifier. */
export class PieceAssembler {
  readonly #options: PieceAssemblerOptions;
  readonly #buffers = new Map<number, Buffer>();
  readonly #spare: Uint8Array[] = [];
  /** Per peer: the block it is reading in place now. */
  readonly #placing = new Map<number, { index: number; key: number }>();
  /** Pieces being verified and written. */
  readonly #finishing = new Set<number>();

  /**
   * Makes an assembler with no piece in progress.
   *
   * @param options Sizes, the verifier and where outcomes go.
   */
  constructor(options: PieceAssemblerOptions) {
    this.#options = options;
  }

  /** Whether piece `index` is being verified and written now. */
  finishing(index: number): boolean {
    return this.#finishing.has(index);
  }

  /**
   * Where `peer` may read block (`index`, `begin`) straight from its socket
   * (the picker said the block is the peer's alone), or undefined: a peer
   * places one block at a time, and never into a piece being verified.
   */
  target(peer: number, index: number, begin: number, length: number): Uint8Array | undefined {
    if (this.#placing.has(peer) || this.#finishing.has(index)) return undefined;
    const buffer = this.#buffer(index);
    if (begin + length > buffer.data.length) return undefined;
    buffer.placing++;
    this.#placing.set(peer, { index, key: blockKey(index, begin) });
    return buffer.data.subarray(begin, begin + length);
  }

  /**
   * The block `peer` was reading in place has ended (it arrived, or the
   * peer is gone).
   *
   * @returns The piece it went into, if the peer was placing one.
   */
  placed(peer: number): number | undefined {
    const placing = this.#placing.get(peer);
    if (!placing) return undefined;
    this.#placing.delete(peer);
    const buffer = this.#buffers.get(placing.index);
    if (buffer) buffer.placing--;
    return placing.index;
  }

  /** The key of the block `peer` is reading in place, if any. */
  placingKey(peer: number): number | undefined {
    return this.#placing.get(peer)?.key;
  }

  /** Whether some peer is reading block `key` in place right now. */
  beingPlaced(key: number): boolean {
    for (const placing of this.#placing.values()) if (placing.key === key) return true;
    return false;
  }

  /**
   * Puts an arrived block into its piece.
   *
   * @param fresh The picker found the block missing: it belongs to the piece.
   * @param inPlace Its bytes were read into the piece already (a late copy overwrote them).
   */
  put(
    index: number,
    begin: number,
    data: Uint8Array,
    sender: number,
    { fresh, inPlace }: { fresh: boolean; inPlace: boolean },
  ): void {
    if (!fresh && !inPlace) return;
    const buffer = this.#buffer(index);
    if (fresh) {
      buffer.contributors.add(sender);
      if (!inPlace) buffer.data.set(data, begin);
    }
    if (begin % BLOCK_SIZE === 0) buffer.senders[begin / BLOCK_SIZE] = sender;
  }

  /**
   * Takes out of unfinished pieces the blocks `sender` put in (it was found
   * to lie), leaving pieces being verified to their check.
   *
   * @param forget Called for each block, to mark it missing; says whether it was received.
   * @returns How many blocks were taken out.
   */
  forgetSender(sender: number, forget: (index: number, block: number) => boolean): number {
    let dropped = 0;
    for (const [index, buffer] of this.#buffers) {
      if (!buffer.contributors.has(sender) || this.#finishing.has(index)) continue;
      for (let block = 0; block < buffer.senders.length; block++) {
        if (buffer.senders[block] !== sender || !forget(index, block)) continue;
        buffer.senders[block] = -1;
        dropped++;
      }
      buffer.contributors.delete(sender);
    }
    return dropped;
  }

  /** Sends piece `index` to the verifier if all its blocks are in and none is still being read. */
  maybeFinish(index: number): void {
    const buffer = this.#buffers.get(index);
    if (!buffer || buffer.placing > 0 || this.#finishing.has(index)) return;
    if (!this.#options.complete(index)) return;
    this.#finishing.add(index);
    const finish = this.#finish(index, buffer).finally(() => this.#finishing.delete(index));
    this.#options.spawn(finish, `piece ${index}`);
  }

  async #finish(index: number, buffer: Buffer): Promise<void> {
    let valid: boolean;
    try {
      const checked = await this.#options.verifyAndWrite(index, buffer.data);
      valid = checked.valid;
      buffer.data = checked.data; // The bytes may have been moved away and back.
    } catch (error) {
      this.#options.fatal(index, error);
      return;
    }
    this.#buffers.delete(index);
    const piece = { index, ...buffer };
    if (!valid) return this.#options.failed(piece);
    this.#options.verified(piece);
    if (
      buffer.data.length === this.#options.pieceSize(0) && this.#spare.length < MAX_SPARE_BUFFERS
    ) {
      this.#spare.push(buffer.data);
    }
  }

  /** The buffer of piece `index`, made on its first block. */
  #buffer(index: number): Buffer {
    let buffer = this.#buffers.get(index);
    if (buffer) return buffer;
    const length = this.#options.pieceSize(index);
    const blocks = Math.ceil(length / BLOCK_SIZE);
    buffer = {
      data: (length === this.#options.pieceSize(0) ? this.#spare.pop() : undefined) ??
        new Uint8Array(length),
      senders: new Int32Array(blocks).fill(-1),
      contributors: new Set(),
      placing: 0,
    };
    this.#buffers.set(index, buffer);
    return buffer;
  }
}
