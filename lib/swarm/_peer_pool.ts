/**
 * The addresses of peers a torrent could talk to, from trackers and the
 * command line, and which to dial next. Peers are keyed by `host:port`
 * (several peers may share one IP, as on loopback). A failed address is
 * retried later with a growing delay and given up after a few failures;
 * banned peers are never dialled again.
 *
 * @module
 */

import { formatPeerAddress, type PeerAddress } from "../metainfo/magnet.ts";

/** What the pool knows about one address. */
interface Candidate {
  address: PeerAddress;
  key: string;
  connected: boolean;
  failures: number;
  retryAt: number;
  banned: boolean;
}

/** Options of {@linkcode PeerPool}. */
export interface PeerPoolOptions {
  /** Most addresses remembered. Default 2000. */
  maxAddresses?: number;
  /** Failures after which an address is forgotten. Default 5. */
  maxFailures?: number;
  /** First retry delay in ms; doubles per failure. Default 15 s. */
  retryBaseMs?: number;
}

/** Known peer addresses and their dialling state. */
export class PeerPool {
  readonly #candidates = new Map<string, Candidate>();
  readonly #maxAddresses: number;
  readonly #maxFailures: number;
  readonly #retryBaseMs: number;
  readonly #banned = new Set<string>();
  readonly #ignored = new Set<string>();

  /** @param options Limits. */
  constructor(options: PeerPoolOptions = {}) {
    this.#maxAddresses = options.maxAddresses ?? 2000;
    this.#maxFailures = options.maxFailures ?? 5;
    this.#retryBaseMs = options.retryBaseMs ?? 15_000;
  }

  /** Number of distinct addresses known (seen). */
  get size(): number {
    return this.#candidates.size;
  }

  /** Never dial `address` (our own listening address). */
  ignore(address: PeerAddress): void {
    this.#ignored.add(formatPeerAddress(address));
  }

  /**
   * Adds addresses; known and ignored ones are skipped.
   *
   * @returns How many were new.
   */
  add(addresses: readonly PeerAddress[]): number {
    let added = 0;
    for (const address of addresses) {
      const key = formatPeerAddress(address);
      if (this.#candidates.has(key) || this.#ignored.has(key) || this.#banned.has(key)) continue;
      if (this.#candidates.size >= this.#maxAddresses) break;
      this.#candidates.set(key, {
        address,
        key,
        connected: false,
        failures: 0,
        retryAt: 0,
        banned: false,
      });
      added++;
    }
    return added;
  }

  /**
   * Addresses to dial now, at most `count`: not connected, not banned, not
   * waiting for a retry. They are marked connected until {@linkcode failed}
   * or {@linkcode disconnected} is called.
   */
  take(count: number, now: number = Date.now()): PeerAddress[] {
    const out: PeerAddress[] = [];
    for (const candidate of this.#candidates.values()) {
      if (out.length >= count) break;
      if (candidate.connected || candidate.banned || candidate.retryAt > now) continue;
      candidate.connected = true;
      out.push(candidate.address);
    }
    return out;
  }

  /** Marks an address connected by the peer (incoming); false if it is banned. */
  markConnected(key: string, address: PeerAddress): boolean {
    if (this.#banned.has(key)) return false;
    this.add([address]);
    const candidate = this.#candidates.get(key);
    if (candidate) candidate.connected = true;
    return true;
  }

  /** Whether we hold a connection to `key` (or are dialling it). */
  isConnected(key: string): boolean {
    return this.#candidates.get(key)?.connected ?? false;
  }

  /** The dial failed: retry later, or forget the address after too many failures. */
  failed(key: string, now: number = Date.now()): void {
    const candidate = this.#candidates.get(key);
    if (!candidate) return;
    candidate.connected = false;
    candidate.failures++;
    if (candidate.failures >= this.#maxFailures) {
      this.#candidates.delete(key);
      return;
    }
    candidate.retryAt = now + this.#retryBaseMs * 2 ** (candidate.failures - 1);
  }

  /** A connection that worked ended; the address may be dialled again after a pause. */
  disconnected(key: string, now: number = Date.now()): void {
    const candidate = this.#candidates.get(key);
    if (!candidate) return;
    candidate.connected = false;
    candidate.failures = 0;
    candidate.retryAt = now + this.#retryBaseMs;
  }

  /** Forgets every address (bans stay). */
  clear(): void {
    this.#candidates.clear();
  }

  /** Never connect to `key` again in this session. */
  ban(key: string): void {
    this.#banned.add(key);
    const candidate = this.#candidates.get(key);
    if (candidate) candidate.banned = true;
  }

  /** Whether `key` is banned. */
  isBanned(key: string): boolean {
    return this.#banned.has(key);
  }
}
