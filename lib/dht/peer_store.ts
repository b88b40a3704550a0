/**
 * The peers other nodes announced to us (`announce_peer`), kept for 30
 * minutes and given to `get_peers` queries. Bounded: at most 200 peers per
 * info hash and 2,000 info hashes (the oldest go first), and a reply
 * carries at most 100 IPv4 or 50 IPv6 peers (a random pick when there are
 * more), so it fits one datagram.
 *
 * @module
 */

import { toHex } from "../util/_bytes.ts";

/** How long an announced peer is kept (BEP 5 leaves it open; libtorrent keeps 30 minutes). */
export const PEER_TTL_MS = 30 * 60_000;

/** Options of {@linkcode PeerStore}. */
export interface PeerStoreOptions {
  /** Most peers kept per info hash. Default 200. */
  perInfoHash?: number;
  /** Most info hashes kept. Default 2,000. */
  infoHashes?: number;
}

/**
 * Announced peers by info hash.
 *
 * @example
 * ```ts
 * import { PeerStore } from "./peer_store.ts";
 *
 * const store = new PeerStore();
 * const infoHash = new Uint8Array(20);
 * store.add(infoHash, new Uint8Array([10, 0, 0, 2, 0x1a, 0xe1]), Date.now());
 * console.log(store.values(infoHash, 4, Date.now()).length); // 1
 * ```
 */
export class PeerStore {
  readonly #perInfoHash: number;
  readonly #infoHashes: number;
  /**
   * By info hash (hex): compact address (its bytes as a string of char codes 0–255, the only copy
   * kept: about a third of the memory of a byte array and an object) → when it expires.
   */
  readonly #peers = new Map<string, Map<string, number>>();

  /**
   * Makes an empty store.
   *
   * @param options The bounds.
   */
  constructor(options: PeerStoreOptions = {}) {
    this.#perInfoHash = options.perInfoHash ?? 200;
    this.#infoHashes = options.infoHashes ?? 2_000;
  }

  /** Peers kept, over all info hashes. */
  get size(): number {
    let size = 0;
    for (const peers of this.#peers.values()) size += peers.size;
    return size;
  }

  /** Info hashes with peers. */
  get infoHashes(): number {
    return this.#peers.size;
  }

  /** Keeps `peer` (a compact address, 6 or 18 bytes) for `infoHash`, for 30 minutes from `now`. */
  add(infoHash: Uint8Array, peer: Uint8Array, now: number): void {
    const hex = toHex(infoHash);
    let peers = this.#peers.get(hex);
    if (peers) this.#peers.delete(hex); // Re-inserted below: the freshest torrent last.
    else peers = new Map();
    this.#peers.set(hex, peers);
    while (this.#peers.size > this.#infoHashes) {
      this.#peers.delete(this.#peers.keys().next().value!);
    }
    const key = String.fromCharCode(...peer);
    peers.delete(key);
    peers.set(key, now + PEER_TTL_MS);
    while (peers.size > this.#perInfoHash) peers.delete(peers.keys().next().value!);
  }

  /** Up to 100 IPv4 (or 50 IPv6) peers for `infoHash`, a random pick when there are more. */
  values(infoHash: Uint8Array, family: 4 | 6, now: number): Uint8Array[] {
    const peers = this.#peers.get(toHex(infoHash));
    if (!peers) return [];
    const length = family === 4 ? 6 : 18;
    const live: string[] = [];
    for (const [key, expires] of peers) if (expires > now && key.length === length) live.push(key);
    const most = family === 4 ? 100 : 50;
    for (let i = live.length - 1; i > 0 && live.length > most; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [live[i], live[j]] = [live[j], live[i]];
    }
    return live.slice(0, most).map((key) => Uint8Array.from(key, (c) => c.charCodeAt(0)));
  }

  /** Forgets expired peers, and info hashes left with none. */
  expire(now: number): void {
    for (const [hex, peers] of this.#peers) {
      for (const [key, expires] of peers) if (expires <= now) peers.delete(key);
      if (peers.size === 0) this.#peers.delete(hex);
    }
  }
}
