/**
 * Piece availability with the pieces still to start kept sorted by it, so
 * the rarest piece is found without sorting and every availability change
 * costs O(1) (libtorrent's layout: one array partitioned into buckets of
 * equal availability).
 *
 * Seeds are counted apart: a peer that has every piece adds the same amount
 * to all pieces and changes no order, so connecting a seed costs O(1)
 * instead of O(pieces).
 *
 * @module
 */

/** Pieces to start, ordered by availability; plus the availability of every piece. */
export class AvailabilityIndex {
  /** Peers that have every piece. */
  seeds = 0;
  readonly #count: Uint16Array;
  /** Pieces waiting to start, grouped by availability (ascending). */
  readonly #order: Int32Array;
  /** Position of each piece in `#order`, or -1 when it is not waiting. */
  readonly #position: Int32Array;
  /** `#bucketStart[a]` is where availability `a` starts; one extra entry marks the end. */
  readonly #bucketStart: number[] = [0, 0];
  #length = 0;

  /** @param pieceCount Number of pieces; none is waiting until {@linkcode add}ed. */
  constructor(pieceCount: number) {
    this.#count = new Uint16Array(pieceCount);
    this.#order = new Int32Array(pieceCount);
    this.#position = new Int32Array(pieceCount).fill(-1);
  }

  /** Number of pieces waiting to start. */
  get waiting(): number {
    return this.#length;
  }

  /** Peers (not counting seeds) that have `piece`. */
  count(piece: number): number {
    return this.#count[piece];
  }

  /** Whether `piece` is waiting to start. */
  isWaiting(piece: number): boolean {
    return this.#position[piece] >= 0;
  }

  /** One more non-seed peer has `piece`. */
  increment(piece: number): void {
    const a = this.#count[piece];
    if (a === 0xffff) return;
    this.#count[piece] = a + 1;
    if (this.#position[piece] < 0) return;
    if (a + 2 >= this.#bucketStart.length) this.#bucketStart.push(this.#length);
    const lastOfBucket = this.#bucketStart[a + 1] - 1;
    this.#swap(this.#position[piece], lastOfBucket);
    this.#bucketStart[a + 1]--;
  }

  /** One non-seed peer that had `piece` is gone. */
  decrement(piece: number): void {
    const a = this.#count[piece];
    if (a === 0) return;
    this.#count[piece] = a - 1;
    if (this.#position[piece] < 0) return;
    this.#swap(this.#position[piece], this.#bucketStart[a]);
    this.#bucketStart[a]++;
  }

  /** Puts `piece` among those waiting to start. */
  add(piece: number): void {
    if (this.#position[piece] >= 0) return;
    const top = this.#bucketStart.length - 2;
    this.#order[this.#length] = piece;
    this.#position[piece] = this.#length;
    this.#length++;
    this.#bucketStart[top + 1] = this.#length;
    // It sits in the top bucket; walk it down to its own.
    for (let a = top; a > this.#count[piece]; a--) {
      this.#swap(this.#position[piece], this.#bucketStart[a]);
      this.#bucketStart[a]++;
    }
    if (this.#count[piece] > top) {
      // Availability above every bucket so far: open buckets up to it.
      while (this.#bucketStart.length - 2 < this.#count[piece]) {
        this.#bucketStart.push(this.#length);
      }
      for (let a = top + 1; a <= this.#count[piece]; a++) this.#bucketStart[a] = this.#length - 1;
    }
  }

  /** Takes `piece` out of those waiting (it started or we have it). */
  remove(piece: number): void {
    if (this.#position[piece] < 0) return;
    const top = this.#bucketStart.length - 2;
    // Carry it up to the top bucket, then to the very end, then drop it.
    for (let a = this.#count[piece]; a < top; a++) {
      this.#swap(this.#position[piece], this.#bucketStart[a + 1] - 1);
      this.#bucketStart[a + 1]--;
    }
    this.#swap(this.#position[piece], this.#length - 1);
    this.#length--;
    this.#bucketStart[top + 1] = this.#length;
    this.#position[piece] = -1;
  }

  /**
   * The first waiting piece, rarest first, for which `accept` is true. Within
   * a bucket of equal availability the scan starts at a random place.
   *
   * @param accept Whether the peer has the piece (and it is wanted).
   * @param random Random numbers in [0, 1).
   * @param fromRarity Skip buckets below this availability (a non-seed peer has none of rarity 0).
   */
  rarest(
    accept: (piece: number) => boolean,
    random: () => number,
    fromRarity = 0,
  ): number | undefined {
    const buckets = this.#bucketStart.length - 1;
    for (let a = fromRarity; a < buckets; a++) {
      const start = this.#bucketStart[a];
      const size = this.#bucketStart[a + 1] - start;
      if (size === 0) continue;
      const found = this.#scan(start, size, accept, random);
      if (found !== undefined) return found;
    }
    return undefined;
  }

  /** A random waiting piece for which `accept` is true. */
  random(accept: (piece: number) => boolean, random: () => number): number | undefined {
    return this.#scan(0, this.#length, accept, random);
  }

  #scan(start: number, size: number, accept: (piece: number) => boolean, random: () => number) {
    const offset = Math.floor(random() * size);
    for (let i = 0; i < size; i++) {
      const piece = this.#order[start + ((offset + i) % size)];
      if (accept(piece)) return piece;
    }
    return undefined;
  }

  #swap(i: number, j: number): void {
    if (i === j) return;
    const a = this.#order[i];
    const b = this.#order[j];
    this.#order[i] = b;
    this.#order[j] = a;
    this.#position[b] = i;
    this.#position[a] = j;
  }

  /** Checks the layout; for tests. */
  assertConsistent(): void {
    for (let i = 0; i < this.#length; i++) {
      const piece = this.#order[i];
      if (this.#position[piece] !== i) throw new Error(`position of ${piece} is wrong`);
      const a = this.#count[piece];
      if (!(this.#bucketStart[a] <= i && i < this.#bucketStart[a + 1])) {
        throw new Error(`piece ${piece} (availability ${a}) is at ${i}, outside its bucket`);
      }
    }
    if (this.#bucketStart[this.#bucketStart.length - 1] !== this.#length) {
      throw new Error("end is wrong");
    }
  }
}
