/**
 * How the web interface says sizes, rates, times and states, with the
 * same words as the command line.
 *
 * @module
 */

import { formatBytes, formatDuration } from "../../lib/util/size.ts";
import { statusLabel } from "../../lib/rpc/torrent_status.ts";
import { Status, type Torrent } from "./types.ts";

export { formatBytes };

/** What a torrent is doing, in a word or three (as `shoal remote list` says it). */
export const stateLabel: (torrent: Torrent) => string = statusLabel;

/** A rate in bytes per second: `1.5 MiB/s`, or `–` for none. */
export function formatRate(bytesPerSecond: number): string {
  return bytesPerSecond > 0 ? `${formatBytes(bytesPerSecond)}/s` : "–";
}

/** A fraction as a percentage with one decimal: `42.5 %`. */
export function formatPercent(fraction: number): string {
  return `${(Math.floor(Math.max(0, Math.min(1, fraction)) * 1000) / 10).toFixed(1)} %`;
}

/** Transmission's `eta` (seconds; -1 unknown, -2 infinite) for people. */
export function formatEta(eta: number): string {
  return eta >= 0 ? formatDuration(eta) : "";
}

/** The filter a torrent passes. */
export function matchesFilter(torrent: Torrent, filter: string): boolean {
  switch (filter) {
    case "active":
      return torrent.rateDownload > 0 || torrent.rateUpload > 0 ||
        torrent.status === Status.check;
    case "downloading":
      return torrent.status === Status.download || torrent.status === Status.downloadWait;
    case "seeding":
      return torrent.status === Status.seed || torrent.status === Status.seedWait;
    case "paused":
      return torrent.status === Status.stopped;
    case "error":
      return torrent.error !== 0;
    default:
      return true;
  }
}
