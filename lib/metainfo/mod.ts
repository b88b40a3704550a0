/**
 * Torrent metainfo: parsing `.torrent` files, magnet links, safe paths, the
 * piece ↔ file map, and making new torrents.
 *
 * ```ts ignore
 * import { readTorrentFile } from "./mod.ts";
 * const torrent = await readTorrentFile("example.torrent");
 * console.log(torrent.name, torrent.infoHashHex, torrent.totalLength);
 * ```
 *
 * @module
 */

export * from "./errors.ts";
export * from "./limits.ts";
export * from "./torrent.ts";
export * from "./file_list.ts";
export * from "./piece_map.ts";
export * from "./safe_path.ts";
export * from "./magnet.ts";
export * from "./create.ts";
export * from "./content_scan.ts";
export * from "./piece_hasher.ts";
export * from "./source.ts";
