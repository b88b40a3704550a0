/**
 * The last step of the block path: what a piece we gain or lose means to
 * every peer. A verified piece is announced with `have` to every peer (even
 * one that has it, as libtorrent's `send_redundant_have`: peers gauge our
 * progress from haves), peers that have it have one piece fewer we want,
 * and the torrent is complete when no wanted piece is missing. A piece lost
 * from disk is taken back: its queued requests are refused, peers that
 * speak lt_donthave (BEP 54) hear so, and it is wanted again.
 *
 * @module
 */

import { ExtensionRegistry } from "../wire/extension_registry.ts";
import { encodeDontHave, LT_DONTHAVE } from "../extensions/lt_donthave.ts";
import type { Downloads } from "./_downloads.ts";
import type { PeerSession } from "./peer_session.ts";
import type { PiecePicker } from "./picker.ts";
import type { Uploads } from "./_uploads.ts";

/** What announcing our pieces needs of its swarm. */
export interface OurPiecesOptions {
  /** What we have. */
  picker: PiecePicker;
  /** The connected peers. */
  peers: () => Iterable<PeerSession>;
  /** The download side (interest). */
  downloads: Downloads;
  /** The upload side (queued requests). */
  uploads: Uploads;
  /** A piece is ours (verified and written, or found good again). */
  onPieceVerified?: (index: number) => void;
  /** Every wanted piece is ours. */
  onComplete?: () => void;
  /** Pieces are wanted again after the torrent was complete: peers left then are worth dialling. */
  onWantAgain: () => void;
}

/** Our pieces, as every peer hears of them. */
export class OurPieces {
  readonly #options: OurPiecesOptions;
  #completeReported = false;

  /** @param options The picker, the peers and both sides of the swarm. */
  constructor(options: OurPiecesOptions) {
    this.#options = options;
  }

  /** We have piece `index` now (downloaded, or found good on disk again). */
  gained(index: number): void {
    const { picker, downloads } = this.#options;
    // A piece finished after its file was skipped was not counted among those wanted from peers.
    const wanted = picker.wants(index);
    picker.pieceVerified(index);
    // Its buffer is free: peers waiting for piece memory may ask again now, not at the next tick.
    downloads.requestAllSoon();
    for (const peer of this.#options.peers()) {
      peer.send({ type: "have", index });
      if (wanted) downloads.gained(peer, index);
    }
    this.#options.onPieceVerified?.(index);
    if (picker.missing === 0 && !this.#completeReported) {
      this.#completeReported = true;
      downloads.completed();
      this.#options.onComplete?.();
    }
  }

  /** Pieces found good on disk again; those we have or are downloading are left alone. */
  regain(indices: Iterable<number>): void {
    const picker = this.#options.picker;
    for (const index of indices) {
      if (!picker.have.has(index) && !picker.active(index)) this.gained(index);
    }
  }

  /**
   * Which pieces are wanted changed: peers' interest follows, and the
   * torrent is complete, or wanted again, by the new set.
   */
  wantedChanged(): void {
    const { picker, downloads } = this.#options;
    downloads.recountWanted();
    if (picker.missing === 0 && !this.#completeReported) {
      this.#completeReported = true;
      downloads.completed();
      this.#options.onComplete?.();
    } else if (picker.missing > 0 && this.#completeReported) {
      this.#completeReported = false;
      this.#options.onWantAgain();
    }
  }

  /**
   * Pieces we had are gone (their data changed on disk).
   *
   * @returns The pieces we had among them.
   */
  lose(indices: Iterable<number>): number[] {
    const { picker, downloads, uploads } = this.#options;
    const lost: number[] = [];
    for (const index of indices) if (picker.pieceLost(index)) lost.push(index);
    if (lost.length === 0) return lost;
    uploads.dropRequestsFor(new Set(lost));
    const payloads = lost.map(encodeDontHave);
    for (const peer of this.#options.peers()) {
      for (const payload of payloads) {
        const donthave = ExtensionRegistry.message(peer.extensions, LT_DONTHAVE, payload);
        if (!donthave) break; // The peer does not speak lt_donthave.
        peer.send(donthave);
      }
    }
    downloads.wantAgain(lost.filter((index) => picker.wants(index)));
    if (picker.missing > 0) {
      this.#completeReported = false;
      this.#options.onWantAgain();
    }
    return lost;
  }
}
