/**
 * Which torrents run: those the user wants running, in queue order, as
 * many downloading as the download queue allows and as many seeding as
 * the seed queue allows; the others wait (`queued`). A torrent still
 * checking or fetching its metadata counts as downloading.
 *
 * @module
 */

/** What the queue knows of a torrent. */
export interface Queued {
  /** The user wants it running. */
  wanted: boolean;
  /** Every wanted piece is in. */
  complete: boolean;
  /** It stopped on an error it cannot go on from by itself. */
  failed: boolean;
}

/**
 * The torrents (given in queue order) that run now.
 *
 * @param downloads Most downloading at once; `undefined` for no limit.
 * @param seeds Most seeding at once; `undefined` for no limit.
 */
export function chooseRunning<T extends Queued>(
  torrents: readonly T[],
  downloads: number | undefined,
  seeds: number | undefined,
): Set<T> {
  const running = new Set<T>();
  let downloading = 0;
  let seeding = 0;
  for (const torrent of torrents) {
    if (!torrent.wanted || torrent.failed) continue;
    if (torrent.complete) {
      if (seeds === undefined || seeding < seeds) {
        running.add(torrent);
        seeding++;
      }
    } else if (downloads === undefined || downloading < downloads) {
      running.add(torrent);
      downloading++;
    }
  }
  return running;
}
