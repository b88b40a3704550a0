/**
 * Sequential order for the picker: pieces in index order (file order), for
 * a download that is played or read while it comes in.
 *
 * - Some pieces go first (the first and last piece of each file: players
 *   read a file's header and often its end before playing).
 * - Then the pieces from the lowest one still missing, rarest first within
 *   a short window from it, so that a swarm of sequential downloaders still
 *   spreads pieces (strict order would have every peer want the same piece
 *   at once) while nothing starts more than a window ahead of the first
 *   piece missing.
 * - A peer that has none of the window's pieces gets the first piece it
 *   has after them, in order.
 *
 * @module
 */

/** What the order reads of the picker. */
export interface SequentialView {
  /** Number of pieces. */
  readonly pieceCount: number;
  /** Whether a piece waits to start (wanted, missing, not in progress). */
  isWaiting(piece: number): boolean;
  /** Whether we have it. */
  has(piece: number): boolean;
  /** Peers that have it (the rarer, the sooner within the window). */
  availability(piece: number): number;
}

/** How many pieces the window ahead spans: about 4 MiB, 4 to 32 pieces. */
export function sequentialWindow(pieceLength: number): number {
  return Math.min(32, Math.max(4, Math.ceil(4 * 1024 * 1024 / Math.max(1, pieceLength))));
}

/** Picks the next piece to start in sequential order. */
export class SequentialOrder {
  readonly #view: SequentialView;
  readonly #window: number;
  /** Pieces to start before the others, in this order. */
  readonly #early: number[];
  /** Early pieces before this one are ours. */
  #earlyFrom = 0;
  /** Pieces before this one are ours or not waiting for good (only moves back through {@linkcode waiting}). */
  #from = 0;

  /**
   * @param view The picker's state.
   * @param window Pieces from the first missing among which the rarest goes first.
   * @param early Pieces to start first, in order (duplicates and out-of-range ones are dropped).
   */
  constructor(view: SequentialView, window: number, early: readonly number[] = []) {
    this.#view = view;
    this.#window = Math.max(1, window);
    this.#early = [...new Set(early)].filter((piece) =>
      Number.isInteger(piece) && piece >= 0 && piece < view.pieceCount
    );
  }

  /** A piece waits to start again (lost, failed, wanted again): the scan goes back to it. */
  waiting(piece: number): void {
    if (piece < this.#from) this.#from = piece;
    this.#earlyFrom = 0;
  }

  /**
   * The piece to start next among those `accept` takes (the peer has it,
   * of the priority being served), or undefined.
   */
  next(accept: (piece: number) => boolean): number | undefined {
    const view = this.#view;
    while (this.#earlyFrom < this.#early.length && view.has(this.#early[this.#earlyFrom])) {
      this.#earlyFrom++;
    }
    for (let i = this.#earlyFrom; i < this.#early.length; i++) {
      const piece = this.#early[i];
      if (view.isWaiting(piece) && accept(piece)) return piece;
    }
    while (this.#from < view.pieceCount && view.has(this.#from)) this.#from++;
    // The window is the pieces just after the first one missing: nothing starts more
    // than a window ahead of it, so no piece is left behind for being common.
    const end = Math.min(view.pieceCount, this.#from + this.#window);
    let best: number | undefined;
    for (let piece = this.#from; piece < end; piece++) {
      if (!view.isWaiting(piece) || !accept(piece)) continue;
      if (best === undefined || view.availability(piece) < view.availability(best)) best = piece;
    }
    if (best !== undefined) return best;
    for (let piece = end; piece < view.pieceCount; piece++) {
      if (view.isWaiting(piece) && accept(piece)) return piece;
    }
    return best;
  }
}
