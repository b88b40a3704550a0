/**
 * Torrent metainfo: parsing `.torrent` files (BEP 3, with every path made
 * safe), magnet links (BEP 9, BEP 53), the piece ↔ file map, and making new
 * torrents.
 *
 * @example Making a torrent and reading it back
 * ```ts
 * import { createTorrent, magnetFromTorrent, parseTorrent } from "./mod.ts";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/hello.txt`, "hello, swarm\n");
 * const { bytes } = await createTorrent(`${dir}/hello.txt`, {
 *   trackers: [["udp://tracker.example:6969/announce"]],
 * });
 * const torrent = parseTorrent(bytes);
 * console.log(torrent.name, torrent.infoHashHex, torrent.totalLength); // hello.txt … 13
 * console.log(magnetFromTorrent(torrent));
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @module
 */

export { MagnetError, TorrentError } from "./errors.ts";
export * from "./limits.ts";
export {
  infoHashBase32,
  type NodeAddress,
  parseTorrent,
  type ParseTorrentOptions,
  pieceHash,
  readTorrentFile,
  readTorrentFileSync,
  type Torrent,
} from "./torrent.ts";
export type { TorrentFile } from "./_file_list.ts";
export type { PathPlatform } from "./_safe_path.ts";
export * from "./piece_map.ts";
export * from "./magnet.ts";
export * from "./piece_verifier.ts";
export {
  type CreatedTorrent,
  createTorrent,
  type CreateTorrentOptions,
  defaultPieceLength,
  MAX_DEFAULT_PIECE_LENGTH,
  MIN_PIECE_LENGTH,
  writeTorrentFile,
} from "./create.ts";
export * from "./source.ts";
export * from "./fetch.ts";
export { torrentFileFromMetadata, torrentFromMetadata } from "./from_metadata.ts";
export * from "./file_priority.ts";
export * from "./symlinks.ts";
