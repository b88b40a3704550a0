/**
 * Piece deadlines for the picker (libtorrent's `set_piece_deadline`): a
 * reader waiting for bytes names the pieces it needs and by when. Pieces
 * with a deadline are requested before any other, soonest first; one whose
 * deadline has passed may be asked of a second peer too, so a slow peer
 * holding its blocks does not keep the reader waiting.
 *
 * @module
 */

/** Most pieces with a deadline at once; more are refused (a reader needs a few ahead of it). */
export const MAX_DEADLINES = 256;

/** The pieces someone waits for, and by when. */
export class Deadlines {
  readonly #at = new Map<number, number>();
  #order: number[] | undefined = [];

  /** Pieces with a deadline. */
  get size(): number {
    return this.#at.size;
  }

  /**
   * Sets (or moves) piece `piece`'s deadline.
   *
   * @returns False when {@linkcode MAX_DEADLINES} other pieces have one.
   */
  set(piece: number, at: number): boolean {
    if (!this.#at.has(piece) && this.#at.size >= MAX_DEADLINES) return false;
    if (this.#at.get(piece) === at) return true;
    this.#at.set(piece, at);
    this.#order = undefined;
    return true;
  }

  /** The deadline of `piece`, if it has one. */
  get(piece: number): number | undefined {
    return this.#at.get(piece);
  }

  /** Piece `piece` needs no deadline any more (it arrived, or the reader moved on). */
  delete(piece: number): void {
    if (this.#at.delete(piece)) this.#order = undefined;
  }

  /** No piece has a deadline. */
  clear(): void {
    this.#at.clear();
    this.#order = [];
  }

  /** The pieces, soonest deadline first. */
  order(): readonly number[] {
    this.#order ??= [...this.#at.keys()].sort((a, b) =>
      this.#at.get(a)! - this.#at.get(b)! || a - b
    );
    return this.#order;
  }
}
