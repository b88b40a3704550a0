/**
 * Where a web seed (BEP 19) keeps each file of a torrent.
 *
 * - Single-file torrent: the URL is the file's, unless it ends in `/`:
 *   then the torrent's name is added.
 * - Multi-file torrent: the URL is a folder (a `/` is added when missing,
 *   as libtorrent does); the torrent's name and the file's path follow.
 *
 * Each path component is percent-encoded.
 *
 * @module
 */

import type { Torrent, TorrentFile } from "../metainfo/torrent.ts";

/**
 * The URL of `file` on the web seed `base`.
 *
 * @example
 * ```ts
 * import { webSeedFileUrl } from "./url.ts";
 *
 * const file = { path: ["album", "01 intro.flac"] };
 * console.log(webSeedFileUrl("http://mirror.example/pub", { multiFile: true }, file));
 * // http://mirror.example/pub/album/01%20intro.flac
 * ```
 */
export function webSeedFileUrl(
  base: string,
  torrent: Pick<Torrent, "multiFile">,
  file: Pick<TorrentFile, "path">,
): string {
  const encoded = file.path.map(encodeURIComponent).join("/");
  if (!torrent.multiFile) return base.endsWith("/") ? base + encoded : base;
  return (base.endsWith("/") ? base : base + "/") + encoded;
}

/** The web seeds shoal can use: `http:` and `https:` URLs (FTP and others are ignored, as BEP 19 allows). */
export function usableWebSeeds(urls: readonly string[]): string[] {
  const usable: string[] = [];
  for (const url of urls) {
    try {
      const { protocol } = new URL(url);
      if ((protocol === "http:" || protocol === "https:") && !usable.includes(url)) {
        usable.push(url);
      }
    } catch {
      // Not a URL: ignored.
    }
  }
  return usable;
}
