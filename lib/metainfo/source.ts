/**
 * What users hand shoal on the command line: a `.torrent` file path or URL,
 * a magnet link, or a bare info hash. One function decides which.
 *
 * @module
 */

import { isBareInfoHash, type MagnetLink, parseMagnet } from "./magnet.ts";
import { readTorrentFile, type Torrent } from "./torrent.ts";
import { fetchTorrent, isTorrentUrl } from "./fetch.ts";

/** A torrent file (from a path or a URL) or a magnet link. */
export type TorrentSource =
  | { kind: "torrent"; torrent: Torrent; path: string }
  | { kind: "magnet"; magnet: MagnetLink };

/** True when the text is a magnet link or a bare info hash rather than a path. */
export function looksLikeMagnet(text: string): boolean {
  return /^magnet:/i.test(text.trim()) || isBareInfoHash(text.trim());
}

/**
 * Loads a torrent file (a path, or an `http(s)://` URL it is downloaded
 * from), or parses a magnet link or bare info hash.
 *
 * @param input A path, a URL, `magnet:?…` or an info hash.
 * @throws {TorrentError | MagnetError | DiskError | NetworkError} When the input cannot be used.
 *
 * @example Taking whatever the user typed
 * ```ts
 * import { loadTorrentSource } from "./mod.ts";
 *
 * const source = await loadTorrentSource(`magnet:?xt=urn:btih:${"c1".repeat(20)}&dn=example`);
 * if (source.kind === "magnet") console.log(source.magnet.displayName); // example
 * else console.log(source.torrent.name);
 * ```
 */
export async function loadTorrentSource(input: string): Promise<TorrentSource> {
  if (looksLikeMagnet(input)) return { kind: "magnet", magnet: parseMagnet(input) };
  if (isTorrentUrl(input)) {
    return { kind: "torrent", torrent: await fetchTorrent(input.trim()), path: input.trim() };
  }
  return { kind: "torrent", torrent: await readTorrentFile(input), path: input };
}
