/**
 * A token bucket shared by every peer of a session, for `--max-down` and
 * `--max-up`. Each transfer takes its bytes from the bucket; when the bucket
 * is empty the caller waits until the bytes have been earned. Callers are
 * served in the order they asked, so peers share the rate fairly.
 *
 * A limiter may have a parent (a torrent's limit inside the session's):
 * bytes then wait for both, and the rate of either can change at any time.
 *
 * @module
 */

/** Limits a flow of bytes to a rate. */
export class RateLimiter {
  #rate = Infinity;
  readonly #burstGiven?: number;
  #burst = 0;
  #tokens = 0;
  #updatedAt: number;
  readonly #now: () => number;
  readonly #parent?: RateLimiter;

  /**
   * Creates a limiter with a full bucket.
   *
   * @param bytesPerSecond The rate; `Infinity` for none (then only the parent limits).
   * @param burstBytes Most bytes that may pass at once after a quiet spell. Default: a tenth of a second's worth, at least 16 KiB.
   * @param now The clock in ms (for tests).
   * @param parent A limiter the same bytes also wait for.
   */
  constructor(
    bytesPerSecond: number,
    burstBytes?: number,
    now: () => number = () => performance.now(),
    parent?: RateLimiter,
  ) {
    this.#burstGiven = burstBytes;
    this.#now = now;
    this.#parent = parent;
    this.#updatedAt = now();
    this.rate = bytesPerSecond;
  }

  /** Bytes per second allowed (`Infinity`: no limit of its own). */
  get rate(): number {
    return this.#rate;
  }

  /**
   * Changes the rate; the bucket starts full at a new rate (the same rate changes nothing).
   *
   * @throws {RangeError} When it is not above 0.
   */
  set rate(bytesPerSecond: number) {
    if (!(bytesPerSecond > 0)) {
      throw new RangeError("A rate limit must be above 0 bytes per second");
    }
    if (bytesPerSecond === this.#rate && this.#burst > 0) return; // Unchanged: the bucket stays.
    this.#rate = bytesPerSecond;
    this.#burst = this.#burstGiven ?? Math.max(16 * 1024, bytesPerSecond / 10);
    this.#tokens = this.#burst;
    this.#updatedAt = this.#now();
  }

  /**
   * Takes `bytes` from the bucket (and the parent's) and says how long the
   * caller must wait, in ms: 0 while there are tokens, else the time the
   * debt takes to repay. Later callers queue behind earlier ones, since each
   * adds to the same debt.
   */
  reserve(bytes: number): number {
    const parentWait = this.#parent?.reserve(bytes) ?? 0;
    if (this.#rate === Infinity) return parentWait;
    const now = this.#now();
    this.#tokens = Math.min(
      this.#burst,
      this.#tokens + ((now - this.#updatedAt) / 1000) * this.#rate,
    );
    this.#updatedAt = now;
    this.#tokens -= bytes;
    const wait = this.#tokens >= 0 ? 0 : (-this.#tokens / this.#rate) * 1000;
    return Math.max(wait, parentWait);
  }

  /** Takes `bytes` from the bucket; resolves once they may pass (see {@linkcode reserve}). */
  acquire(bytes: number): Promise<void> {
    const waitMs = this.reserve(bytes);
    return waitMs === 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, waitMs));
  }
}
