/**
 * The parts of a torrent's swarm that stand on their own: one connection's
 * protocol ({@linkcode PeerSession}), the piece picker (rarest first, end
 * game, a cap on unverified data), the piece assembler (buffers, then the
 * verifier), the choker (a pure function) and the session-wide rate
 * limiter.
 *
 * @example Choosing whom to upload to
 * ```ts
 * import { choke } from "./mod.ts";
 *
 * const now = Date.now();
 * const peers = [1, 2, 3, 4, 5, 6].map((id) => ({
 *   id,
 *   interested: true,
 *   downloadRate: id * 1000, // what each sends us
 *   uploadRate: 0,
 *   snubbed: false,
 *   connectedAt: now - 60_000,
 *   unchoked: false,
 * }));
 * const decision = choke(peers, false, {}, now);
 * console.log([...decision.unchoke]); // the 4 best senders, and one optimistic unchoke
 * ```
 *
 * @module
 */

export * from "./picker.ts";
export * from "./choker.ts";
export { RateLimiter } from "./rate_limiter.ts";
export { RateMeter } from "./rate_meter.ts";
export {
  type ArrivedBlock,
  blockKey,
  type OutstandingRequest,
  PeerSession,
  type PeerSessionEvents,
  type PipelineOptions,
} from "./peer_session.ts";
export {
  type AssembledPiece,
  PieceAssembler,
  type PieceAssemblerOptions,
} from "./piece_assembler.ts";
export type { DhtPortLink, PeerSummary, SwarmStats } from "./swarm_types.ts";
export {
  PeerExchange,
  type PeerExchangeOptions,
  PEX_INTERVAL_MS,
  type PexVerdict,
} from "./peer_exchange.ts";
export {
  type MetadataProgress,
  MetadataSwarm,
  type MetadataSwarmOptions,
} from "./metadata_swarm.ts";
