/**
 * The types a swarm is configured with and reports: its options, its
 * counters and its connected peers as displays show them.
 *
 * @module
 */

import type { PeerEncryption, PeerTimeouts } from "../wire/connection.ts";
import type { Transport } from "../wire/transport.ts";
import type { Torrent } from "../metainfo/torrent.ts";
import type { PieceVerifier } from "../metainfo/piece_verifier.ts";
import type { Logger } from "../util/log.ts";
import type { PipelineOptions } from "./peer_session.ts";
import type { PiecePicker } from "./picker.ts";
import type { PeerPool } from "../discovery/peer_pool.ts";
import type { ChokerOptions } from "./choker.ts";
import type { RateLimiter } from "./rate_limiter.ts";
import type { PeerExchange } from "./peer_exchange.ts";

/** What a swarm needs of the session's DHT node (`DhtNode` is one): PORT messages (BEP 5). */
export interface DhtPortLink {
  /** Our DHT node's UDP port. */
  readonly port: number;
  /** Pings a node a peer named; it joins the routing table if it answers. */
  addNode(host: string, port: number): void;
}

/** Options of a swarm (`Swarm` in `swarm.ts`). */
export interface SwarmOptions {
  /** The torrent. */
  torrent: Torrent;
  /** Our peer id. */
  peerId: Uint8Array;
  /** The port we listen on (sent in the extension handshake; never dialled). */
  listenPort: number;
  /**
   * The torrent's peer pool, when it outlives the swarm (a torrent paused
   * and resumed keeps its bans and addresses). Default: a new one.
   */
  pool?: PeerPool;
  /**
   * The torrent's peer exchange (ut_pex), when the metadata phase used it
   * before (its peers keep their minute between messages). Default: a new
   * one, off for a private torrent.
   */
  exchange?: PeerExchange;
  /** The picker, holding what we have. */
  picker: PiecePicker;
  /** BEP 19 web seeds to download from beside the peers (http and https URLs; others are ignored). */
  webSeeds?: readonly string[];
  /** Most web seeds used at once (0: none). Default 3. */
  maxWebSeeds?: number;
  /** Stores a verified piece; a rejection stops the swarm (see `onFatal`). */
  writePiece: (index: number, data: Uint8Array) => Promise<void>;
  /** How a finished piece is checked, without `verifyAndWrite`. Default: v1 SHA-1. */
  verifier?: PieceVerifier;
  /**
   * Checks a finished piece and stores it when it is right, instead of
   * hashing here and calling `writePiece` (a worker does it, beside the
   * thread that reads the peers). It may move `data`: the bytes returned are
   * the piece's from then on. A rejection stops the swarm (see `onFatal`).
   */
  verifyAndWrite?: (
    index: number,
    data: Uint8Array,
  ) => Promise<{ valid: boolean; data: Uint8Array }>;
  /** Where events are logged. */
  log: Logger;
  /** Most connections. Default 50. */
  maxPeers?: number;
  /** Most connection attempts in flight. Default 10. */
  maxConnecting?: number;
  /** A peer that delivers no requested block for this long is snubbed. Default 20 s. */
  requestTimeoutMs?: number;
  /** Connection timeouts. */
  timeouts?: PeerTimeouts;
  /** How to open connections to peers. Default: TCP. */
  transport?: Transport;
  /** The session's DHT node (BEP 5 PORT messages both ways); none for a private torrent. */
  dht?: DhtPortLink;
  /** Request pipeline sizing. */
  pipeline?: PipelineOptions;
  /** A piece was verified and written. */
  onPieceVerified?: (index: number) => void;
  /** Every wanted piece is verified and written. */
  onComplete?: () => void;
  /**
   * Reads a verified piece for uploading. Without it no request is served
   * (every request is rejected or ignored).
   */
  readPiece?: (index: number) => Promise<Uint8Array>;
  /** Keep dialling peers once complete, to seed. Default false. */
  seed?: boolean;
  /** The choker's settings. */
  choker?: ChokerOptions;
  /** Shared download limit (`--max-down`). */
  downloadLimiter?: RateLimiter;
  /** Shared upload limit (`--max-up`). */
  uploadLimiter?: RateLimiter;
  /** Storage failed: the swarm has stopped. */
  onFatal?: (error: unknown) => void;
  /** A verified piece could not be read for a peer (its request was refused). */
  onReadError?: (index: number, error: unknown) => void;
}

/** A connected peer, for displays. */
export interface PeerSummary {
  /** `host:port`. */
  address: string;
  /** Client name from the extension handshake. */
  client?: string;
  /** Who dialled. */
  direction: "outgoing" | "incoming";
  /**
   * Where its address was heard of, first first: a tracker's URL, `user`,
   * `incoming`, `pex <peer>` (the peer that named it), … Empty when unknown.
   */
  sources: readonly string[];
  /** Plain, an encrypted handshake with plaintext payload, or RC4 throughout. */
  encryption: PeerEncryption;
  /** Share of the torrent's pieces the peer has, 0–1. */
  progress: number;
  /** Bytes per second from the peer. */
  downloadRate: number;
  /** Payload bytes received from the peer. */
  downloaded: number;
  /** The round trip to the peer in ms (its fastest recent answer to a request), once known. */
  roundTripMs?: number;
  /** Bytes per second to the peer. */
  uploadRate: number;
  /** The peer chokes us. */
  choked: boolean;
  /** We are interested in the peer. */
  interested: boolean;
  /** Requests outstanding. */
  requests: number;
  /** Snubbed for not answering requests. */
  snubbed: boolean;
  /** We upload to the peer (it is unchoked). */
  unchoked: boolean;
  /** Its requests queued with us. */
  queuedRequests: number;
  /** Bytes waiting to be sent to it. */
  sendQueueBytes: number;
}

/** Counters of a swarm, for displays and tracker announces. */
export interface SwarmStats {
  /** Peers connected now. */
  connected: number;
  /** Distinct peer addresses known. */
  seen: number;
  /** Payload bytes per second received (5 s average). */
  downloadRate: number;
  /** Payload bytes per second sent. */
  uploadRate: number;
  /** Payload bytes received this session. */
  downloaded: number;
  /** Payload bytes sent this session. */
  uploaded: number;
  /** Bytes received that were of no use (duplicates, unrequested, failed pieces). */
  wasted: number;
  /** Pieces that failed the hash check. */
  hashFailures: number;
  /** Peers banned this session. */
  banned: number;
  /** Peers that sent at least one useful block. */
  peersUsed: number;
  /** Distinct addresses dialled so far. */
  peersTried: number;
  /** Peers we sent at least one block to. */
  peersServed: number;
  /** Why the last dial failed, if the last one did. */
  lastDialError?: string;
}
