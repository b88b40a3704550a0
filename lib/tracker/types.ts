/**
 * What an announce sends and what trackers answer, shared by the HTTP and
 * UDP clients.
 *
 * @module
 */

import type { PeerAddress } from "../net/peer_address.ts";

/** The `event` of an announce. */
export type AnnounceEvent = "started" | "completed" | "stopped" | "none";

/** One announce. */
export interface AnnounceRequest {
  /** The torrent's 20-byte info hash. */
  infoHash: Uint8Array;
  /** Our 20-byte peer id. */
  peerId: Uint8Array;
  /** The TCP port we accept peers on. */
  port: number;
  /** Bytes uploaded this session. */
  uploaded: number;
  /** Bytes downloaded this session. */
  downloaded: number;
  /** Bytes still needed. */
  left: number;
  /** What happened. */
  event: AnnounceEvent;
  /** How many peers we want; the tracker's default when absent. */
  numWant?: number;
  /** A random 32-bit value that stays the same for the session (BEP 7, BEP 15). */
  key: number;
  /** The `tracker id` the tracker gave in an earlier reply. */
  trackerId?: string;
}

/** A peer a tracker named; dictionary-model replies also give its peer id. */
export interface TrackerPeer extends PeerAddress {
  /** The peer id, when the tracker sent it (not in compact replies). */
  peerId?: Uint8Array;
}

/** A tracker's answer to an announce. */
export interface AnnounceResult {
  /** Seconds to wait before the next regular announce. */
  interval: number;
  /** Seconds the tracker wants at least between announces. */
  minInterval?: number;
  /** Seeders in the swarm. */
  complete?: number;
  /** Leechers in the swarm. */
  incomplete?: number;
  /** Peers, IPv4 and IPv6, without duplicates. */
  peers: TrackerPeer[];
  /** Our address as the tracker sees it (BEP 24 `external ip`), when it says. */
  externalIp?: string;
  /** Send this back as `trackerid` on later announces. */
  trackerId?: string;
  /** The tracker's `warning message`, verbatim. */
  warning?: string;
  /** Oddities in the reply that were tolerated (a truncated peer list). */
  problems: string[];
}

/** A tracker's scrape numbers for one torrent (BEP 48, BEP 15). */
export interface ScrapeResult {
  /** Seeders. */
  complete: number;
  /** Leechers. */
  incomplete: number;
  /** Completed downloads ever. */
  downloaded: number;
}

/** UDP event codes (BEP 15). */
export const UDP_EVENT_CODES: Record<AnnounceEvent, number> = {
  none: 0,
  completed: 1,
  started: 2,
  stopped: 3,
};
