/**
 * shoal: a BitTorrent client library for Deno.
 *
 * Everything the `shoal` command does is available here: bencode, torrent
 * metainfo and magnet links, making torrents, HTTP and UDP trackers and the
 * announcer, and (as they land) the peer wire protocol and the download
 * engine.
 *
 * ```ts ignore
 * import { createTorrent, magnetFromTorrent, readTorrentFile } from "jsr:@shoal/shoal";
 *
 * const torrent = await readTorrentFile("example.torrent");
 * console.log(torrent.name, torrent.infoHashHex, torrent.files.length);
 * console.log(magnetFromTorrent(torrent));
 *
 * const { bytes } = await createTorrent("./photos", { trackers: [["udp://tracker.example:6969"]] });
 * await Deno.writeFile("photos.torrent", bytes);
 * ```
 *
 * @module
 */

export * from "./lib/bencode/mod.ts";
export * from "./lib/metainfo/mod.ts";
export * from "./lib/tracker/mod.ts";
export { randomPeerId } from "./lib/peer_id.ts";
export {
  DiskError,
  diskError,
  ExitCode,
  ShoalError,
  type ShoalErrorOptions,
  UsageError,
} from "./lib/errors.ts";
export { CREATED_BY, PEER_ID_PREFIX, VERSION } from "./lib/version.ts";
export {
  binaryToBytes,
  bytesToBinary,
  fromBase32,
  fromHex,
  toBase32,
  toHex,
} from "./lib/util/bytes.ts";
export { formatBytes, parseSize } from "./lib/util/size.ts";
export { runCli } from "./lib/cli/program.ts";
