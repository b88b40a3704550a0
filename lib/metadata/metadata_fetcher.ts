/**
 * Which metadata pieces to ask which peer for, and what their answers
 * mean (BEP 9): the bookkeeping of a torrent that has only its info hash.
 * No I/O: the caller sends the requests and hands in what arrives.
 *
 * - The size comes from the peers' handshakes (`metadata_size`). A size
 *   over the cap is ignored. Peers that announce another size than the one
 *   being fetched are not asked (one of the two is wrong); when no peer of
 *   that size is left (gone, or found lying), another peer's size is tried.
 * - Pieces are spread over peers, a few outstanding per peer; a request
 *   unanswered for `timeoutMs` goes to another peer, and a peer that
 *   rejects, or lets a request time out, is not asked again for
 *   `rejectBackoffMs`.
 * - The buffer is allocated when the first piece arrives, at the announced
 *   size (at most the cap); pieces of the wrong length, pieces not asked
 *   for and pieces out of range are refused.
 * - The whole is checked against the info hash (SHA-1). On a mismatch
 *   every piece is fetched again, from another peer than before where
 *   there is one, and each piece's sender and SHA-1 is kept: a peer that
 *   sent every piece of a failed attempt lied, and once the metadata
 *   checks out, a peer whose piece differed from the right one lied too.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { bytesEqual } from "../util/_bytes.ts";
import {
  METADATA_PIECE_SIZE,
  metadataPieceCount,
  metadataPieceLength,
} from "../extensions/ut_metadata.ts";

/** Failed attempts remembered for blame (each holds a SHA-1 per piece). */
const MAX_ATTEMPTS_KEPT = 8;

/** Default cap on an announced `metadata_size`: 16 MiB (a torrent of about a million pieces or 100,000 files). */
export const DEFAULT_MAX_METADATA_SIZE = 16 * 1024 * 1024;

/** Options of {@linkcode MetadataFetcher}. */
export interface MetadataFetcherOptions {
  /** The torrent's v1 info hash (SHA-1 of the info dictionary). */
  infoHash: Uint8Array;
  /** Largest `metadata_size` believed. Default {@linkcode DEFAULT_MAX_METADATA_SIZE}. */
  maxSize?: number;
  /** Requests outstanding per peer. Default 8 (libtorrent drops requests past a few dozen outstanding). */
  perPeer?: number;
  /** A request unanswered this long is asked of another peer (ms). Default 5 s. */
  timeoutMs?: number;
  /** A peer that rejects is not asked again for this long (ms). Default 30 s. */
  rejectBackoffMs?: number;
}

/** What an arriving piece meant. */
export type MetadataReceipt =
  /** Kept; more pieces are to come. */
  | { kind: "stored" }
  /** Not asked of this peer (or no longer wanted): ignored, and counted against the peer by the caller. */
  | { kind: "unasked" }
  /** The wrong length or total size for the piece: the peer breaks the protocol. */
  | { kind: "invalid"; reason: string }
  /** The last piece: the metadata checks out. `liars` sent pieces of earlier attempts that were wrong. */
  | { kind: "done"; metadata: Uint8Array; liars: string[] }
  /** The last piece, but the whole does not match the info hash: started again. `liars` are proven. */
  | { kind: "failed"; liars: string[] };

interface PeerState {
  size: number;
  inFlight: Set<number>;
  /** Not asked before this time (ms), after a reject. */
  backoffUntil: number;
}

/** The metadata pieces of one torrent being fetched. */
export class MetadataFetcher {
  readonly #infoHash: Uint8Array;
  readonly #maxSize: number;
  readonly #perPeer: number;
  readonly #timeoutMs: number;
  readonly #rejectBackoffMs: number;
  readonly #peers = new Map<string, PeerState>();
  #size?: number;
  #buffer?: Uint8Array;
  /** Per piece: who it was asked of and when, while outstanding. */
  #asked = new Map<number, { peer: string; at: number }>();
  /** Per piece, once received: its sender. */
  #senders: (string | undefined)[] = [];
  #received = 0;
  /** Each earlier, failed attempt: its size, and per piece its sender and SHA-1. */
  #history: { size: number; pieces: { peer: string; hash: Uint8Array }[] }[] = [];
  #done = false;

  /**
   * Starts with no peer and no size known.
   *
   * @param options The info hash and limits.
   */
  constructor(options: MetadataFetcherOptions) {
    this.#infoHash = options.infoHash;
    this.#maxSize = options.maxSize ?? DEFAULT_MAX_METADATA_SIZE;
    this.#perPeer = options.perPeer ?? 8;
    this.#timeoutMs = options.timeoutMs ?? 5_000;
    this.#rejectBackoffMs = options.rejectBackoffMs ?? 30_000;
  }

  /** The size being fetched, once a peer has announced one that is believed. */
  get size(): number | undefined {
    return this.#currentSize();
  }

  /** Pieces received, and pieces in all (0 before the size is known). */
  get progress(): { received: number; total: number } {
    return {
      received: this.#received,
      total: this.#size === undefined ? 0 : metadataPieceCount(this.#size),
    };
  }

  /** Peers that can be asked (they announced a size that is believed). */
  get sources(): number {
    return this.#peers.size;
  }

  /** Whether the metadata is complete and checked. */
  get done(): boolean {
    return this.#done;
  }

  /**
   * A peer announced `ut_metadata` with this `metadata_size`.
   *
   * @returns False when the size is not believed (0, or over the cap).
   */
  offer(peer: string, size: number): boolean {
    if (!Number.isSafeInteger(size) || size <= 0 || size > this.#maxSize) return false;
    const existing = this.#peers.get(peer);
    if (existing) {
      if (existing.size === size) return true;
      this.gone(peer);
    }
    this.#peers.set(peer, { size, inFlight: new Set(), backoffUntil: 0 });
    return true;
  }

  /**
   * The size being fetched: kept while a peer announcing it is left, else
   * another peer's (what was received of the old size is dropped).
   */
  #currentSize(): number | undefined {
    const peers = [...this.#peers.values()];
    if (this.#size !== undefined && peers.some((state) => state.size === this.#size)) {
      return this.#size;
    }
    const next = peers[0]?.size;
    if (next !== this.#size) {
      this.#size = next;
      this.#buffer = undefined;
      this.#senders = [];
      this.#received = 0;
      this.#asked.clear();
      for (const state of peers) state.inFlight.clear();
    }
    return next;
  }

  /** A peer disconnected: its outstanding pieces go to others. */
  gone(peer: string): void {
    const state = this.#peers.get(peer);
    if (!state) return;
    for (const piece of state.inFlight) this.#asked.delete(piece);
    this.#peers.delete(peer);
  }

  /**
   * The pieces to ask `peer` for now (marked as asked of it): none when it
   * has another size, is backing off, has enough outstanding, or every
   * piece is asked of someone.
   */
  next(peer: string, now: number = Date.now()): number[] {
    const state = this.#peers.get(peer);
    const size = this.#currentSize();
    if (this.#done || !state || size === undefined || state.size !== size) return [];
    if (now < state.backoffUntil) return [];
    const pieces: number[] = [];
    const count = metadataPieceCount(size);
    const room = this.#perPeer - state.inFlight.size;
    // First pieces it did not send in a failed attempt; then, with no one else to ask, any.
    for (const avoidOwn of [true, false]) {
      for (let piece = 0; piece < count && pieces.length < room; piece++) {
        if (this.#senders[piece] !== undefined || this.#asked.has(piece)) continue;
        if (avoidOwn && this.#sentBefore(piece, peer) && this.#othersCanSend(peer)) continue;
        this.#asked.set(piece, { peer, at: now });
        state.inFlight.add(piece);
        pieces.push(piece);
      }
    }
    return pieces;
  }

  /** The peer refused a piece: it is asked of another, and the peer is not asked again for a while. */
  rejected(peer: string, piece: number, now: number = Date.now()): void {
    const state = this.#peers.get(peer);
    if (!state) return;
    state.backoffUntil = now + this.#rejectBackoffMs;
    if (state.inFlight.delete(piece)) this.#asked.delete(piece);
  }

  /**
   * Requests outstanding for longer than the timeout are freed for other
   * peers, and a peer that let one time out is not asked again for a while
   * (as after a reject).
   *
   * @returns The peers whose requests timed out.
   */
  expire(now: number = Date.now()): string[] {
    const late = new Set<string>();
    for (const [piece, { peer, at }] of this.#asked) {
      if (now - at < this.#timeoutMs) continue;
      this.#asked.delete(piece);
      const state = this.#peers.get(peer);
      state?.inFlight.delete(piece);
      if (state) state.backoffUntil = now + this.#rejectBackoffMs;
      late.add(peer);
    }
    return [...late];
  }

  /** A piece arrived from `peer`. */
  received(peer: string, piece: number, totalSize: number, data: Uint8Array): MetadataReceipt {
    const state = this.#peers.get(peer);
    const size = this.#size;
    if (this.#done || !state || size === undefined || !state.inFlight.has(piece)) {
      return { kind: "unasked" };
    }
    state.inFlight.delete(piece);
    this.#asked.delete(piece);
    if (totalSize !== size) {
      return { kind: "invalid", reason: `said total_size ${totalSize} after announcing ${size}` };
    }
    const length = metadataPieceLength(size, piece);
    if (data.length !== length) {
      return {
        kind: "invalid",
        reason: `sent metadata piece ${piece} of ${data.length} bytes (${length} expected)`,
      };
    }
    this.#buffer ??= new Uint8Array(size);
    this.#buffer.set(data, piece * METADATA_PIECE_SIZE);
    this.#senders[piece] = peer;
    this.#received++;
    if (this.#received < metadataPieceCount(size)) return { kind: "stored" };
    return this.#check(this.#buffer, size);
  }

  #check(buffer: Uint8Array, size: number): MetadataReceipt {
    const senders = this.#senders as string[];
    const hash = createHash("sha1").update(buffer).digest();
    if (bytesEqual(new Uint8Array(hash), this.#infoHash)) {
      this.#done = true;
      this.#buffer = undefined;
      return { kind: "done", metadata: buffer, liars: this.#liarsAgainst(buffer) };
    }
    // Wrong: remember who sent what, and start again.
    const pieces = senders.map((peer, piece) => ({ peer, hash: pieceHash(buffer, size, piece) }));
    if (this.#history.length < MAX_ATTEMPTS_KEPT) this.#history.push({ size, pieces });
    const distinct = new Set(senders);
    // One sender of every piece is a liar for sure; with several, the next attempt tells.
    const liars = distinct.size === 1 ? [...distinct] : [];
    this.#senders = [];
    this.#received = 0;
    for (const liar of liars) this.gone(liar);
    return { kind: "failed", liars };
  }

  /**
   * Peers whose pieces in failed attempts differ from the right metadata
   * (every sender of an attempt of another size: it was not the metadata).
   */
  #liarsAgainst(buffer: Uint8Array): string[] {
    const liars = new Set<string>();
    for (const attempt of this.#history) {
      attempt.pieces.forEach(({ peer, hash }, piece) => {
        if (attempt.size !== buffer.length) return void liars.add(peer);
        const right = pieceHash(buffer, buffer.length, piece);
        if (!bytesEqual(hash, right)) liars.add(peer);
      });
    }
    this.#history = [];
    return [...liars];
  }

  #sentBefore(piece: number, peer: string): boolean {
    return this.#history.some((attempt) => attempt.pieces[piece]?.peer === peer);
  }

  #othersCanSend(peer: string): boolean {
    for (const [other, state] of this.#peers) {
      if (other !== peer && state.size === this.#size) return true;
    }
    return false;
  }
}

function pieceHash(buffer: Uint8Array, size: number, piece: number): Uint8Array {
  const start = piece * METADATA_PIECE_SIZE;
  const bytes = buffer.subarray(start, start + metadataPieceLength(size, piece));
  return new Uint8Array(createHash("sha1").update(bytes).digest());
}
