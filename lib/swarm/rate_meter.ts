/**
 * Transfer rates over a sliding window of one-second slots.
 *
 * @module
 */

/** Measures bytes per second over the last few seconds. */
export class RateMeter {
  readonly #slots: Float64Array;
  #slotSecond = 0;
  #total = 0;
  readonly #startedAt: number;

  /**
   * Starts a meter with nothing counted.
   *
   * @param windowSeconds Seconds averaged. Default 5.
   * @param now The clock, in ms.
   */
  constructor(windowSeconds = 5, now: number = Date.now()) {
    this.#slots = new Float64Array(windowSeconds);
    this.#slotSecond = Math.floor(now / 1000);
    this.#startedAt = now;
  }

  /** Bytes counted since the meter was made. */
  get total(): number {
    return this.#total;
  }

  /** Counts `bytes` transferred now. */
  add(bytes: number, now: number = Date.now()): void {
    this.#advance(now);
    this.#slots[this.#slotSecond % this.#slots.length] += bytes;
    this.#total += bytes;
  }

  /** Bytes per second over the window (or since the start, when younger than the window). */
  rate(now: number = Date.now()): number {
    this.#advance(now);
    let sum = 0;
    for (const value of this.#slots) sum += value;
    // The window is the full slots before this one plus the part of this second gone by.
    const window = this.#slots.length - 1 + (now % 1000) / 1000;
    const elapsed = Math.min(window, (now - this.#startedAt) / 1000);
    return sum / Math.max(elapsed, 0.25);
  }

  #advance(now: number): void {
    const second = Math.floor(now / 1000);
    if (second === this.#slotSecond) return;
    const gap = Math.min(second - this.#slotSecond, this.#slots.length);
    for (let i = 1; i <= gap; i++) this.#slots[(this.#slotSecond + i) % this.#slots.length] = 0;
    this.#slotSecond = second;
  }
}
