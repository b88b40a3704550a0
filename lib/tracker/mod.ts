/**
 * Trackers: HTTP(S) and UDP announce and scrape, and the announcer that
 * walks a torrent's tracker tiers on schedule.
 *
 * ```ts ignore
 * import { httpAnnounce } from "./mod.ts";
 * const reply = await httpAnnounce("http://tracker.example/announce", request);
 * console.log(reply.peers);
 * ```
 *
 * @module
 */

export * from "./errors.ts";
export * from "./types.ts";
export * from "./compact_peers.ts";
export * from "./http.ts";
export * from "./announce.ts";
export * from "./udp.ts";
export * from "./announcer.ts";
export * from "./check.ts";
