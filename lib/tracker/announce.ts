/**
 * One announce to any tracker: picks the HTTP or UDP client from the URL.
 *
 * @module
 */

import { TrackerError } from "./errors.ts";
import { httpAnnounce, type HttpTrackerOptions } from "./http.ts";
import type { AnnounceRequest, AnnounceResult } from "./types.ts";
import type { UdpTrackerClient } from "./udp.ts";

/** How to reach trackers, for {@linkcode announceToTracker}. */
export interface TrackerClients {
  /** The UDP client, for `udp://` trackers. */
  udp: UdpTrackerClient;
  /** Options for `http://` and `https://` trackers. */
  http?: HttpTrackerOptions;
}

/**
 * Announces to a tracker over HTTP(S) or UDP, according to its URL.
 *
 * @param url The announce URL.
 * @param request What to announce.
 * @param clients The UDP client and HTTP options.
 * @param signal Cancels the request.
 * @throws {TrackerError} On failure, including URLs of kinds shoal does not speak (`wss:`).
 */
export function announceToTracker(
  url: string,
  request: AnnounceRequest,
  clients: TrackerClients,
  signal?: AbortSignal,
): Promise<AnnounceResult> {
  const scheme = url.slice(0, Math.max(url.indexOf(":"), 0)).toLowerCase();
  if (scheme === "udp") return clients.udp.announce(url, request, signal);
  if (scheme === "http" || scheme === "https") {
    return httpAnnounce(url, request, { ...clients.http, signal: signal ?? clients.http?.signal });
  }
  return Promise.reject(
    new TrackerError("network", `Trackers of the kind "${scheme}:" are not supported`),
  );
}
