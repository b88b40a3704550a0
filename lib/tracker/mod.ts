/**
 * Trackers: HTTP(S) (BEP 3, BEP 23, BEP 48) and UDP (BEP 15) announce and
 * scrape, one announce to any tracker URL, `checkTrackers` (what
 * `shoal tracker` runs), and the announcer that keeps a torrent announced
 * to its tiers (BEP 12, BEP 27).
 *
 * @example Asking a tracker for peers, and telling why it failed
 * ```ts
 * import { announceToTracker, TrackerError, UdpTrackerClient } from "./mod.ts";
 *
 * const udp = new UdpTrackerClient({ retransmitBaseMs: 100, maxRetransmits: 0 });
 * try {
 *   const reply = await announceToTracker("http://127.0.0.1:2/announce", {
 *     infoHash: new Uint8Array(20),
 *     peerId: new TextEncoder().encode("-SH0100-exampleexamp"),
 *     port: 6881,
 *     uploaded: 0,
 *     downloaded: 0,
 *     left: 1000,
 *     event: "started",
 *     key: 1,
 *   }, { udp });
 *   console.log(reply.peers);
 * } catch (error) {
 *   if (!(error instanceof TrackerError)) throw error;
 *   console.log(error.kind, error.message); // network Cannot reach the tracker: …
 * } finally {
 *   udp.close();
 * }
 * ```
 *
 * @module
 */

export { TrackerError, type TrackerErrorKind } from "./errors.ts";
export type {
  AnnounceEvent,
  AnnounceRequest,
  AnnounceResult,
  ScrapeResult,
  TrackerPeer,
} from "./types.ts";
export {
  DEFAULT_HTTP_TIMEOUT_MS,
  DEFAULT_MAX_REPLY_BYTES,
  httpAnnounce,
  httpScrape,
  type HttpTrackerOptions,
  scrapeUrl,
} from "./http.ts";
export * from "./announce.ts";
export * from "./udp.ts";
export * from "./announcer.ts";
export * from "./check.ts";
