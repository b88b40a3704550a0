/**
 * Who is banned, and why: a peer that sent corrupt data (found by
 * {@linkcode SmartBan}) or misbehaved twice. A ban is for the peer's IP,
 * kept in the torrent's peer pool (so it outlasts a pause): every
 * connection from it is closed, its requests go back to the picker, and the
 * blocks it put into pieces not yet being checked are taken out, to be
 * fetched elsewhere.
 *
 * @module
 */

import { PeerError } from "../wire/errors.ts";
import type { Logger } from "../util/log.ts";
import type { Downloads } from "./_downloads.ts";
import type { PeerPool } from "../discovery/peer_pool.ts";
import type { PeerSession } from "./peer_session.ts";
import type { AssembledPiece, PieceAssembler } from "./piece_assembler.ts";
import type { PiecePicker } from "./picker.ts";
import { SmartBan } from "./_smart_ban.ts";

/** What bans need of their swarm. */
export interface BansOptions {
  /** Where bans are kept (by IP). */
  pool: PeerPool;
  /** The connected peers, by id. */
  peers: ReadonlyMap<number, PeerSession>;
  /** Where a liar's blocks are marked missing again. */
  picker: PiecePicker;
  /** Where a liar's blocks are taken out. */
  assembler: PieceAssembler;
  /** Where a banned peer's requests go back. */
  downloads: Downloads;
  /** Where bans are logged. */
  log: Logger;
}

/** Smart ban and the session's bans of one swarm. */
export class Bans {
  /** Peers banned this session. */
  banned = 0;
  readonly #options: BansOptions;
  readonly #smartBan = new SmartBan();

  /** @param options The pool, the peers and the download side. */
  constructor(options: BansOptions) {
    this.#options = options;
  }

  /** A piece failed its check: a peer that sent two bad pieces alone is banned. */
  pieceFailed(piece: AssembledPiece): void {
    const { peers, log } = this.#options;
    const senders = [...piece.contributors];
    log.warn(
      `piece ${piece.index} failed its hash check (sent by ${
        senders.map((id) => peers.get(id)?.key ?? "a gone peer").join(", ")
      }); downloading it again`,
    );
    // A piece sent alone by a peer already gone says nothing more of anyone.
    if (senders.length === 1 && !peers.has(senders[0])) return;
    // The buffer is never reused after a failure, so smart ban may keep it.
    const guilty = this.#smartBan.failed(
      piece.index,
      piece.data,
      piece.senders,
      piece.contributors,
    );
    const liar = guilty === undefined ? undefined : peers.get(guilty);
    if (!liar) return;
    this.ban(
      liar,
      `sent ${this.#smartBan.soleFailures(liar.id)} pieces that failed their hash check`,
    );
  }

  /** A piece that once failed with several senders is now good: whoever sent the bad blocks is banned. */
  pieceVerified(piece: AssembledPiece): void {
    for (const id of this.#smartBan.verified(piece.index, piece.data)) {
      const liar = this.#options.peers.get(id);
      if (liar) this.ban(liar, `sent a corrupt block of piece ${piece.index}`);
    }
  }

  /** Misbehaviour that is a strike against the peer's IP: dropped now, banned the second time. */
  misbehaved(peer: PeerSession, why: string): void {
    if (this.#options.pool.strike(peer.key)) this.ban(peer, `${why}, again after a reconnect`);
    else peer.protocolError(why);
  }

  /** The peer is gone: what smart ban counted of it alone is forgotten. */
  forget(peer: PeerSession): void {
    this.#smartBan.forget(peer.id);
  }

  /** Bans the peer's IP for the session. */
  ban(peer: PeerSession, why: string): void {
    const { pool, picker, assembler, downloads, log } = this.#options;
    if (!pool.isBanned(peer.key)) {
      this.banned++;
      log.warn(`peer ${peer.key} banned for this session: it ${why}`);
      pool.ban(peer.key);
    }
    const dropped = assembler.forgetSender(
      peer.id,
      (index, block) => picker.forgetBlock(index, block),
    );
    if (dropped > 0) log.debug(`peer ${peer.key}: its ${dropped} blocks will come from others`);
    for (const other of this.#options.peers.values()) {
      if (!pool.isBanned(other.key)) continue;
      downloads.releaseAll(other, false);
      other.connection.close(new PeerError("protocol", `${peer.key} ${why}`));
    }
  }
}
