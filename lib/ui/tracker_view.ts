/**
 * What `shoal tracker` prints: per tracker status, swarm numbers, interval
 * and peers, for people or as stable JSON.
 *
 * @module
 */

import { formatPeerAddress } from "../net/peer_address.ts";
import { formatQuantity } from "../util/size.ts";
import type { TrackerCheck } from "../tracker/check.ts";

/** JSON form of one tracker's result, as printed by `shoal tracker --json`. */
export interface TrackerCheckJson {
  url: string;
  tier: number;
  status: "working" | "failed";
  error: string | null;
  errorKind: string | null;
  elapsedMs: number;
  interval: number | null;
  minInterval: number | null;
  seeders: number | null;
  leechers: number | null;
  downloaded: number | null;
  warning: string | null;
  scrapeError: string | null;
  peers: string[];
}

/** The stable JSON form of one tracker's result. */
export function trackerCheckToJson(check: TrackerCheck): TrackerCheckJson {
  const reply = check.announce;
  return {
    url: check.url,
    tier: check.tier,
    status: reply ? "working" : "failed",
    error: check.error?.message ?? null,
    errorKind: check.error?.kind ?? null,
    elapsedMs: Math.round(check.elapsedMs),
    interval: reply?.interval ?? null,
    minInterval: reply?.minInterval ?? null,
    seeders: check.scrape?.complete ?? reply?.complete ?? null,
    leechers: check.scrape?.incomplete ?? reply?.incomplete ?? null,
    downloaded: check.scrape?.downloaded ?? null,
    warning: reply?.warning ?? null,
    scrapeError: reply ? check.scrapeError ?? null : null,
    peers: (reply?.peers ?? []).map(formatPeerAddress),
  };
}

/** The human view of every tracker's result. */
export function formatTrackerChecks(title: string, checks: readonly TrackerCheck[]): string {
  const out = [title, ""];
  for (const check of checks) {
    const json = trackerCheckToJson(check);
    out.push(`Tier ${json.tier}  ${json.url}`);
    if (json.status === "failed") {
      out.push(`  Status:    failed: ${json.error}`, "");
      continue;
    }
    out.push(`  Status:    working (${json.elapsedMs} ms)`);
    const swarm = [
      json.seeders === null ? undefined : formatQuantity(json.seeders, "seeder"),
      json.leechers === null ? undefined : formatQuantity(json.leechers, "leecher"),
      json.downloaded === null ? undefined : formatQuantity(json.downloaded, "download"),
    ].filter((part) => part !== undefined);
    out.push(`  Swarm:     ${swarm.length ? swarm.join(", ") : "not reported"}`);
    if (json.scrapeError) out.push(`  Scrape:    ${json.scrapeError}`);
    const minimum = json.minInterval === null ? "" : ` (min ${json.minInterval} s)`;
    out.push(`  Interval:  ${json.interval} s${minimum}`);
    if (json.warning) out.push(`  Warning:   ${json.warning}`);
    out.push(`  Peers:     ${json.peers.length}`);
    for (const peer of json.peers) out.push(`    ${peer}`);
    out.push("");
  }
  const working = checks.filter((c) => c.announce).length;
  out.push(
    `${working} of ${
      formatQuantity(checks.length, "tracker")
    } answered; each that answered was sent "stopped".`,
  );
  return out.join("\n");
}
