/**
 * Checking every tracker of a torrent once: announce, scrape where the
 * tracker allows it, then `stopped`. What `shoal tracker` reports.
 *
 * @module
 */

import { toHex } from "../util/_bytes.ts";
import { announceToTracker } from "./announce.ts";
import { httpScrape, scrapeUrl } from "./http.ts";
import { TrackerError } from "./errors.ts";
import type { AnnounceRequest, AnnounceResult, ScrapeResult, TrackerPeer } from "./types.ts";
import { isOurselves } from "./_self.ts";
import { UdpTrackerClient } from "./udp.ts";

/** Options of {@linkcode checkTrackers}. */
export interface CheckTrackersOptions {
  /** The torrent's info hash. */
  infoHash: Uint8Array;
  /** Our peer id. */
  peerId: Uint8Array;
  /** Tracker tiers. */
  trackers: readonly (readonly string[])[];
  /** The port to announce. */
  port: number;
  /** Bytes left to announce (the torrent's size for a fresh download). */
  left: number;
  /** Time allowed per tracker request, in ms. Default 15 s. */
  timeoutMs?: number;
  /** Peers to ask for. Default 50. */
  numWant?: number;
  /** Local addresses to send from (`--bind`); the first is used for HTTP. Default: any. */
  bind?: readonly string[];
}

/** What one tracker answered. */
export interface TrackerCheck {
  /** Announce URL. */
  url: string;
  /** Tier number, from 1. */
  tier: number;
  /** The announce reply, when it answered. */
  announce?: AnnounceResult;
  /** Why the announce failed. */
  error?: TrackerError;
  /** Milliseconds the announce took. */
  elapsedMs: number;
  /** Scrape numbers, when the tracker allows scraping and answered. */
  scrape?: ScrapeResult;
  /** Why the scrape failed or was not possible. */
  scrapeError?: string;
}

function asTrackerError(error: unknown): TrackerError {
  if (error instanceof TrackerError) return error;
  return new TrackerError("network", error instanceof Error ? error.message : String(error), {
    cause: error,
  });
}

/**
 * Announces to every tracker at once, scrapes those that allow it, and sends
 * `stopped` to each that answered, so the check leaves no trace in the swarm.
 *
 * @param options The torrent and trackers.
 * @returns One result per tracker, in tier order.
 *
 * @example Asking every tracker of a torrent once
 * ```ts
 * import { checkTrackers } from "./mod.ts";
 *
 * const checks = await checkTrackers({
 *   infoHash: new Uint8Array(20),
 *   peerId: new TextEncoder().encode("-SH0100-exampleexamp"),
 *   trackers: [["http://127.0.0.1:2/announce"], ["udp://127.0.0.1:2"]],
 *   port: 6881,
 *   left: 1000,
 *   timeoutMs: 500,
 * });
 * for (const check of checks) {
 *   console.log(check.url, check.announce ? "working" : `failed: ${check.error?.message}`);
 * }
 * ```
 */
export async function checkTrackers(options: CheckTrackersOptions): Promise<TrackerCheck[]> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  // Three UDP tries (n = 0, 1, 2) fit in the time allowed.
  const udp = new UdpTrackerClient({
    retransmitBaseMs: timeoutMs / 7,
    maxRetransmits: 2,
    bind: options.bind,
  });
  const client = options.bind?.length
    ? Deno.createHttpClient({ localAddress: options.bind[0] })
    : undefined;
  const key = crypto.getRandomValues(new Uint32Array(1))[0];
  const base: Omit<AnnounceRequest, "event"> = {
    infoHash: options.infoHash,
    peerId: options.peerId,
    port: options.port,
    uploaded: 0,
    downloaded: 0,
    left: options.left,
    numWant: options.numWant ?? 50,
    key,
  };
  /** Trackers list the announcer too. */
  const isSelf = (peer: TrackerPeer, reply: AnnounceResult) =>
    isOurselves(peer, {
      peerId: options.peerId,
      port: options.port,
      externalIps: new Set(reply.externalIp ? [reply.externalIp] : []),
    });
  const announce = (url: string, event: AnnounceRequest["event"]) =>
    announceToTracker(url, { ...base, event }, { udp, http: { timeoutMs, client } });
  const scrape = async (url: string): Promise<ScrapeResult | undefined> => {
    if (url.startsWith("udp:")) {
      return (await udp.scrape(url, [options.infoHash]))[0];
    }
    if (scrapeUrl(url) === undefined) {
      throw new TrackerError("invalid-reply", "this tracker does not allow scraping");
    }
    return (await httpScrape(url, [options.infoHash], { timeoutMs, client })).get(
      toHex(options.infoHash),
    );
  };
  try {
    const entries = options.trackers.flatMap((urls, t) =>
      urls.map((url) => ({ url, tier: t + 1 }))
    );
    return await Promise.all(entries.map(async ({ url, tier }): Promise<TrackerCheck> => {
      const started = performance.now();
      const check: TrackerCheck = { url, tier, elapsedMs: 0 };
      try {
        const reply = await announce(url, "started");
        check.announce = { ...reply, peers: reply.peers.filter((peer) => !isSelf(peer, reply)) };
      } catch (error) {
        check.error = asTrackerError(error);
      }
      check.elapsedMs = performance.now() - started;
      if (check.announce) {
        try {
          check.scrape = await scrape(url);
          if (!check.scrape) check.scrapeError = "the tracker does not know this torrent";
        } catch (error) {
          check.scrapeError = asTrackerError(error).message;
        }
        await announce(url, "stopped").catch(() => {});
      }
      return check;
    }));
  } finally {
    udp.close();
    client?.close();
  }
}
