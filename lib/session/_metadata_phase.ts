/**
 * The start of a torrent added by magnet link: its `.torrent` saved by an
 * earlier start, or its metadata fetched from the swarm (BEP 9) and saved
 * for the next one. The peers it was fetched from stay connected: the run
 * hands their sessions to the swarm that downloads.
 *
 * @module
 */

import type { MagnetLink } from "../metainfo/magnet.ts";
import { torrentFromMetadata } from "../metainfo/from_metadata.ts";
import { readTorrentFile, type Torrent } from "../metainfo/torrent.ts";
import { bytesEqual } from "../util/_bytes.ts";
import { writeAtomically } from "../storage/_atomic_write.ts";
import { MetadataSwarm, type MetadataSwarmOptions } from "../swarm/metadata_swarm.ts";

/** Where a magnet link's `.torrent` is kept in a state directory. */
export function savedTorrentPath(
  stateDir: string,
  magnet: Pick<MagnetLink, "infoHashHex">,
): string {
  return `${stateDir}/${magnet.infoHashHex}.torrent`;
}

/** The torrent an earlier start saved, if it is there, valid and the right one. */
export async function loadSavedTorrent(
  path: string,
  magnet: Pick<MagnetLink, "infoHash">,
): Promise<Torrent | undefined> {
  try {
    const torrent = await readTorrentFile(path);
    return bytesEqual(torrent.infoHash, magnet.infoHash) ? torrent : undefined;
  } catch {
    return undefined; // Missing or damaged: fetched again.
  }
}

/**
 * Writes a `.torrent` atomically.
 *
 * @throws {DiskError} When it cannot be written.
 */
export function saveTorrentFile(path: string, bytes: Uint8Array): Promise<void> {
  return writeAtomically(path, bytes, "save the torrent file to");
}

/** What the metadata phase ends with. */
export interface FetchedMetadata {
  /** The torrent, checked like a `.torrent` file. */
  torrent: Torrent;
  /** The bytes of its `.torrent` file (the info dictionary, with the magnet's trackers and web seeds). */
  file: Uint8Array;
}

/**
 * A running metadata phase: a {@linkcode MetadataSwarm} and the torrent it
 * ends with.
 */
export class MetadataPhase {
  /** The swarm fetching the metadata. */
  readonly swarm: MetadataSwarm;
  /** Settles with the torrent once fetched and checked; rejects when the metadata is not a torrent shoal can download. */
  readonly fetched: Promise<FetchedMetadata>;

  /**
   * Starts nothing: the owner starts `swarm` and ticks it.
   *
   * @param magnet The magnet link.
   * @param options The swarm's options, without `onMetadata`.
   */
  constructor(magnet: MagnetLink, options: Omit<MetadataSwarmOptions, "onMetadata">) {
    const result = Promise.withResolvers<FetchedMetadata>();
    this.fetched = result.promise;
    this.fetched.catch(() => {}); // The owner awaits it; a stop before then leaves it pending.
    this.swarm = new MetadataSwarm({
      ...options,
      onMetadata: (metadata) => {
        try {
          result.resolve(torrentFromMetadata(metadata, magnet));
        } catch (error) {
          result.reject(error);
        }
      },
    });
  }
}
