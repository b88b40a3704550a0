/**
 * Transmission's torrent states (`status` in `torrent-get`,
 * `tr_torrent_activity`) and the words shoal shows for them: the same in
 * `shoal remote`, the web interface and the daemon's answers.
 *
 * @module
 */

/** The numbers of `status`. */
export const TORRENT_STATUS = {
  stopped: 0,
  checkWait: 1,
  check: 2,
  downloadWait: 3,
  download: 4,
  seedWait: 5,
  seed: 6,
} as const;

/** What a state's words depend on: `torrent-get` fields. */
export interface StatusFields {
  /** `status`: one of {@linkcode TORRENT_STATUS}. */
  status: number;
  /** `error`: 0 when there is none. */
  error: number;
  /** `isFinished`: stopped after reaching a seed limit. */
  isFinished: boolean;
  /** `metadataPercentComplete`: below 1 while a magnet link's metadata comes. */
  metadataPercentComplete: number;
}

/**
 * What a torrent is doing, in a word or three.
 *
 * @example
 * ```ts
 * import { statusLabel, TORRENT_STATUS } from "./torrent_status.ts";
 * const fields = { status: TORRENT_STATUS.seed, error: 0, isFinished: false, metadataPercentComplete: 1 };
 * console.assert(statusLabel(fields) === "Seeding");
 * ```
 */
export function statusLabel(torrent: StatusFields): string {
  if (torrent.error !== 0) return "Error";
  switch (torrent.status) {
    case TORRENT_STATUS.stopped:
      return torrent.isFinished ? "Finished" : "Paused";
    case TORRENT_STATUS.checkWait:
      return "Waiting to verify";
    case TORRENT_STATUS.check:
      return "Verifying";
    case TORRENT_STATUS.downloadWait:
      return "Queued";
    case TORRENT_STATUS.download:
      return torrent.metadataPercentComplete < 1 ? "Getting metadata" : "Downloading";
    case TORRENT_STATUS.seedWait:
      return "Queued to seed";
    case TORRENT_STATUS.seed:
      return "Seeding";
    default:
      return "Unknown";
  }
}
