/**
 * A `.torrent` file made from an info dictionary fetched from peers (BEP 9)
 * and what the magnet link said besides (trackers, web seeds), so that the
 * torrent is checked like any other and can be saved for the next start.
 *
 * @module
 */

import { encode } from "../bencode/encode.ts";
import type { BencodeInput } from "../bencode/types.ts";
import { bytesEqual, concatBytes } from "../util/_bytes.ts";
import { TorrentError } from "./errors.ts";
import type { MagnetLink } from "./magnet.ts";
import { parseTorrent, type ParseTorrentOptions, type Torrent } from "./torrent.ts";

/**
 * The bytes of a `.torrent` file holding `info` (byte for byte, so its
 * info hash is kept) with the magnet link's trackers (one tier each, as
 * BEP 12 reads a magnet's `tr`) and web seeds.
 */
export function torrentFileFromMetadata(
  info: Uint8Array,
  magnet: Pick<MagnetLink, "trackers" | "webSeeds">,
): Uint8Array {
  const field = (key: string, value: BencodeInput) => concatBytes([encode(key), encode(value)]);
  const parts: Uint8Array[] = [new TextEncoder().encode("d")];
  // Keys in sorted order: announce, announce-list, info, url-list.
  if (magnet.trackers.length > 0) {
    parts.push(field("announce", magnet.trackers[0]));
    parts.push(field("announce-list", magnet.trackers.map((url) => [url])));
  }
  parts.push(encode("info"), info);
  if (magnet.webSeeds.length > 0) parts.push(field("url-list", magnet.webSeeds));
  parts.push(new TextEncoder().encode("e"));
  return concatBytes(parts);
}

/**
 * Makes the torrent of a magnet link from its fetched info dictionary,
 * with every check a `.torrent` file gets (paths, sizes, limits).
 *
 * @returns The torrent, and the bytes of its `.torrent` file.
 * @throws {TorrentError} When the info dictionary is not a valid, safe
 *   torrent, or is not the one the magnet link names.
 *
 * @example A magnet link's torrent from its info dictionary
 * ```ts
 * import { encode } from "../bencode/mod.ts";
 * import { parseMagnet } from "./magnet.ts";
 * import { parseTorrent } from "./torrent.ts";
 * import { torrentFromMetadata } from "./from_metadata.ts";
 *
 * const original = parseTorrent(encode({
 *   info: { length: 3, name: "a.txt", "piece length": 16384, pieces: new Uint8Array(20) },
 * }));
 * const magnet = parseMagnet(`magnet:?xt=urn:btih:${original.infoHashHex}&tr=http://t.example/announce`);
 * const { torrent } = torrentFromMetadata(original.infoBytes, magnet);
 * console.log(torrent.name, torrent.trackers); // a.txt [ [ "http://t.example/announce" ] ]
 * ```
 */
export function torrentFromMetadata(
  info: Uint8Array,
  magnet: Pick<MagnetLink, "infoHash" | "infoHashHex" | "trackers" | "webSeeds">,
  options?: ParseTorrentOptions,
): { torrent: Torrent; file: Uint8Array } {
  const file = torrentFileFromMetadata(info, magnet);
  let torrent: Torrent;
  try {
    torrent = parseTorrent(file, options);
  } catch (error) {
    if (!(error instanceof TorrentError)) throw error;
    throw new TorrentError(
      `The metadata peers sent for ${magnet.infoHashHex} is not a torrent shoal can download: ${error.message}`,
      { cause: error },
    );
  }
  if (!bytesEqual(torrent.infoHash, magnet.infoHash)) {
    throw new TorrentError(`The metadata is for ${torrent.infoHashHex}, not ${magnet.infoHashHex}`);
  }
  return { torrent, file };
}
