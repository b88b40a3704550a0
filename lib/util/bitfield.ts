/**
 * A fixed-size set of piece indices stored as bits, most significant bit
 * first, as the BitTorrent `bitfield` message lays them out (BEP 3).
 *
 * @module
 */

/**
 * A set of piece indices in `[0, size)`, one bit each.
 *
 * @example Pieces a peer has
 * ```ts
 * import { Bitfield } from "./bitfield.ts";
 *
 * const pieces = new Bitfield(10);
 * pieces.set(0);
 * pieces.set(9);
 * console.log(pieces.count, pieces.has(9), pieces.full, [...pieces.indices()]); // 2 true false [0, 9]
 * console.log(pieces.bytes); // Uint8Array(2) [ 128, 64 ]: the wire form, first piece in the high bit
 * ```
 */
export class Bitfield {
  /** How many indices the set can hold. */
  readonly size: number;
  /** The bits, `ceil(size / 8)` bytes; spare bits at the end are always 0. */
  readonly bytes: Uint8Array;
  #count = 0;

  /**
   * Creates an empty set, or one holding the bits of `bytes` (copied).
   *
   * @param size Number of indices.
   * @param bytes Initial bits; must be exactly `ceil(size / 8)` bytes.
   */
  constructor(size: number, bytes?: Uint8Array) {
    this.size = size;
    this.bytes = new Uint8Array(Bitfield.byteLength(size));
    if (bytes) {
      if (bytes.length !== this.bytes.length) {
        throw new RangeError(`A bitfield of ${size} bits needs ${this.bytes.length} bytes`);
      }
      this.bytes.set(bytes);
      this.#count = countBits(this.bytes);
    }
  }

  /** Bytes needed for `size` bits. */
  static byteLength(size: number): number {
    return Math.ceil(size / 8);
  }

  /** True when any bit past `size` is set in `bytes` (a protocol error in a peer's bitfield). */
  static hasSpareBits(size: number, bytes: Uint8Array): boolean {
    const spare = bytes.length * 8 - size;
    if (spare <= 0) return false;
    return (bytes[bytes.length - 1] & ((1 << spare) - 1)) !== 0;
  }

  /** Number of set bits. */
  get count(): number {
    return this.#count;
  }

  /** True when every index is set. */
  get full(): boolean {
    return this.#count === this.size;
  }

  /** Whether `index` is set (false for indices out of range). */
  has(index: number): boolean {
    if (index < 0 || index >= this.size) return false;
    return (this.bytes[index >> 3] & (0x80 >> (index & 7))) !== 0;
  }

  /**
   * Sets `index`.
   *
   * @returns True when the bit was not set before.
   */
  set(index: number): boolean {
    if (index < 0 || index >= this.size) throw new RangeError(`Bit ${index} is out of range`);
    const mask = 0x80 >> (index & 7);
    if (this.bytes[index >> 3] & mask) return false;
    this.bytes[index >> 3] |= mask;
    this.#count++;
    return true;
  }

  /**
   * Clears `index`.
   *
   * @returns True when the bit was set before.
   */
  clear(index: number): boolean {
    if (index < 0 || index >= this.size) return false;
    const mask = 0x80 >> (index & 7);
    if (!(this.bytes[index >> 3] & mask)) return false;
    this.bytes[index >> 3] &= ~mask;
    this.#count--;
    return true;
  }

  /** Sets every index. */
  setAll(): void {
    this.bytes.fill(0xff);
    const spare = this.bytes.length * 8 - this.size;
    if (spare > 0) this.bytes[this.bytes.length - 1] &= 0xff << spare;
    this.#count = this.size;
  }

  /** The set indices, in ascending order. */
  *indices(): Generator<number> {
    for (let byte = 0; byte < this.bytes.length; byte++) {
      const value = this.bytes[byte];
      if (value === 0) continue;
      for (let bit = 0; bit < 8; bit++) {
        if (value & (0x80 >> bit)) yield byte * 8 + bit;
      }
    }
  }
}

function countBits(bytes: Uint8Array): number {
  let count = 0;
  for (const byte of bytes) {
    let v = byte;
    while (v) {
      v &= v - 1;
      count++;
    }
  }
  return count;
}
