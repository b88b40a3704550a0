/**
 * One announce to any tracker: picks the HTTP or UDP client from the URL.
 *
 * @module
 */

import { TrackerError } from "./errors.ts";
import { httpAnnounce, type HttpTrackerOptions } from "./http.ts";
import type { AnnounceRequest, AnnounceResult } from "./types.ts";
import type { UdpRequestOptions, UdpTrackerClient } from "./udp.ts";

/** How to reach trackers, for {@linkcode announceToTracker}. */
export interface TrackerClients {
  /** The UDP client, for `udp://` trackers. */
  udp: UdpTrackerClient;
  /** Options for `udp://` trackers: retransmissions and retry reports. */
  udpRequest?: Omit<UdpRequestOptions, "signal">;
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
 *
 * @example One announce, whatever the tracker's kind
 * ```ts
 * import { announceToTracker, TrackerError, UdpTrackerClient } from "./mod.ts";
 *
 * const udp = new UdpTrackerClient({ retransmitBaseMs: 200, maxRetransmits: 0 });
 * for (const url of ["udp://127.0.0.1:2/announce", "wss://tracker.example/announce"]) {
 *   try {
 *     await announceToTracker(url, {
 *       infoHash: new Uint8Array(20),
 *       peerId: new TextEncoder().encode("-SH0100-exampleexamp"),
 *       port: 6881,
 *       uploaded: 0,
 *       downloaded: 0,
 *       left: 100,
 *       event: "started",
 *       key: 1,
 *     }, { udp });
 *   } catch (error) {
 *     if (!(error instanceof TrackerError)) throw error;
 *     console.log(url, error.kind); // udp://… timeout, then wss://… network (not supported)
 *   }
 * }
 * udp.close();
 * ```
 */
export function announceToTracker(
  url: string,
  request: AnnounceRequest,
  clients: TrackerClients,
  signal?: AbortSignal,
): Promise<AnnounceResult> {
  const scheme = url.slice(0, Math.max(url.indexOf(":"), 0)).toLowerCase();
  if (scheme === "udp") {
    return clients.udp.announce(url, request, { ...clients.udpRequest, signal });
  }
  if (scheme === "http" || scheme === "https") {
    return httpAnnounce(url, request, { ...clients.http, signal: signal ?? clients.http?.signal });
  }
  return Promise.reject(
    new TrackerError("network", `Trackers of the kind "${scheme}:" are not supported`),
  );
}
