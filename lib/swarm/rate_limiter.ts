/**
 * A token bucket shared by every peer of a session, for `--max-down` and
 * `--max-up`. Each transfer takes its bytes from the bucket; when the bucket
 * is empty the caller waits until the bytes have been earned. Callers are
 * served in the order they asked, so peers share the rate fairly.
 *
 * @module
 */

/** Limits a flow of bytes to a rate. */
export class RateLimiter {
  /** Bytes per second allowed. */
  readonly rate: number;
  readonly #burst: number;
  #tokens: number;
  #updatedAt: number;
  readonly #now: () => number;

  /**
   * Creates a limiter with a full bucket.
   *
   * @param bytesPerSecond The rate.
   * @param burstBytes Most bytes that may pass at once after a quiet spell. Default: a tenth of a second's worth, at least 16 KiB.
   * @param now The clock in ms (for tests).
   */
  constructor(
    bytesPerSecond: number,
    burstBytes?: number,
    now: () => number = () => performance.now(),
  ) {
    if (!(bytesPerSecond > 0)) {
      throw new RangeError("A rate limit must be above 0 bytes per second");
    }
    this.rate = bytesPerSecond;
    this.#burst = burstBytes ?? Math.max(16 * 1024, bytesPerSecond / 10);
    this.#tokens = this.#burst;
    this.#now = now;
    this.#updatedAt = now();
  }

  /**
   * Takes `bytes` from the bucket and says how long the caller must wait,
   * in ms: 0 while there are tokens, else the time the debt takes to repay.
   * Later callers queue behind earlier ones, since each adds to the same debt.
   */
  reserve(bytes: number): number {
    const now = this.#now();
    this.#tokens = Math.min(
      this.#burst,
      this.#tokens + ((now - this.#updatedAt) / 1000) * this.rate,
    );
    this.#updatedAt = now;
    this.#tokens -= bytes;
    return this.#tokens >= 0 ? 0 : (-this.#tokens / this.rate) * 1000;
  }

  /** Takes `bytes` from the bucket; resolves once they may pass (see {@linkcode reserve}). */
  acquire(bytes: number): Promise<void> {
    const waitMs = this.reserve(bytes);
    return waitMs === 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, waitMs));
  }
}
