/**
 * Which incoming connections may be in their handshake at once. Slow
 * handshakes must not lock everyone out: each IP may hold only a few of the
 * places, and when every place is taken a newcomer takes the place of the
 * oldest pending handshake (an honest handshake takes one round trip; one
 * that is still pending after the others is the likeliest to be slow on
 * purpose) instead of being refused.
 *
 * @module
 */

/** Options of {@linkcode HandshakeGate}. */
export interface HandshakeGateOptions {
  /** Most handshakes pending in the session. Default 32. */
  max?: number;
  /** Most handshakes pending from one IP. Default 8. */
  perHost?: number;
}

/** A connection being admitted: closing it ends its handshake. */
export interface Closable {
  close(): void;
}

/** The pending incoming handshakes, oldest first. */
export class HandshakeGate<C extends Closable = Closable> {
  readonly #max: number;
  readonly #perHost: number;
  readonly #pending = new Map<C, string>();
  readonly #perHostCount = new Map<string, number>();

  /** @param options Limits. */
  constructor(options: HandshakeGateOptions = {}) {
    this.#max = options.max ?? 32;
    this.#perHost = options.perHost ?? 8;
  }

  /** Handshakes pending now. */
  get size(): number {
    return this.#pending.size;
  }

  /** The pending connections, oldest first. */
  connections(): IterableIterator<C> {
    return this.#pending.keys();
  }

  /**
   * Admits `conn` from `host`, closing (and forgetting) an older pending
   * handshake to make room: the oldest of the same IP when that IP holds its
   * share, else the oldest of all when every place is taken.
   */
  admit(conn: C, host: string): void {
    if ((this.#perHostCount.get(host) ?? 0) >= this.#perHost) {
      for (const [other, otherHost] of this.#pending) {
        if (otherHost === host) {
          this.#evict(other);
          break;
        }
      }
    } else if (this.#pending.size >= this.#max) {
      this.#evict(this.#pending.keys().next().value!);
    }
    this.#pending.set(conn, host);
    this.#perHostCount.set(host, (this.#perHostCount.get(host) ?? 0) + 1);
  }

  /** The handshake of `conn` ended (done or failed); safe to call twice. */
  release(conn: C): void {
    const host = this.#pending.get(conn);
    if (host === undefined) return;
    this.#pending.delete(conn);
    const count = (this.#perHostCount.get(host) ?? 1) - 1;
    if (count > 0) this.#perHostCount.set(host, count);
    else this.#perHostCount.delete(host);
  }

  #evict(conn: C): void {
    this.release(conn);
    try {
      conn.close();
    } catch {
      // Closed already.
    }
  }
}
