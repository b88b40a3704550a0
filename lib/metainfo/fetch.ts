/**
 * Torrent files from the web: `shoal download https://host/x.torrent`, as
 * aria2c, Transmission and WebTorrent take them. The download is capped in
 * size and time, and every failure says what to do.
 *
 * @module
 */

import { NetworkError, permissionError, permissionRefusal } from "../errors.ts";
import { VERSION } from "../version.ts";
import { printable } from "../util/_printable.ts";
import { readCapped } from "../util/_http.ts";
import { TorrentError } from "./errors.ts";
import { MAX_TORRENT_FILE_BYTES } from "./limits.ts";
import { parseTorrent, type ParseTorrentOptions, type Torrent } from "./torrent.ts";

/** Options of {@linkcode fetchTorrent}. */
export interface FetchTorrentOptions extends ParseTorrentOptions {
  /** Time allowed for the whole download, in ms. Default 30 s. */
  timeoutMs?: number;
  /** Largest file accepted, in bytes. Default {@linkcode MAX_TORRENT_FILE_BYTES} (64 MiB). */
  maxBytes?: number;
  /** Cancels the download. */
  signal?: AbortSignal;
}

/** True when the text is an `http://` or `https://` URL rather than a path. */
export function isTorrentUrl(text: string): boolean {
  return /^https?:\/\//i.test(text.trim());
}

/**
 * Downloads and parses a `.torrent` file from an HTTP(S) URL (redirects
 * followed, gzip decoded).
 *
 * @param url `http://` or `https://`.
 * @param options Time and size limits, path rules.
 * @throws {NetworkError} When the server cannot be reached, answers with an
 *   error status or is too slow (exit 4).
 * @throws {TorrentError} When what it sends is too large or not a torrent (exit 3).
 *
 * @example Downloading a torrent file
 * ```ts
 * import { createTorrent, fetchTorrent } from "./mod.ts";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/a.txt`, "shared over the web");
 * const { bytes } = await createTorrent(`${dir}/a.txt`);
 * const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () =>
 *   new Response(bytes.slice(), { headers: { "content-type": "application/x-bittorrent" } }));
 * const torrent = await fetchTorrent(`http://127.0.0.1:${server.addr.port}/a.torrent`);
 * console.log(torrent.name); // a.txt
 * await server.shutdown();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function fetchTorrent(
  url: string,
  options: FetchTorrentOptions = {},
): Promise<Torrent> {
  return (await fetchTorrentFile(url, options)).torrent;
}

/**
 * Like {@linkcode fetchTorrent}, with the bytes of the file as they came
 * (to keep a copy).
 *
 * @throws {NetworkError} When it cannot be downloaded.
 * @throws {TorrentError} When it is too large or not a usable torrent.
 */
export async function fetchTorrentFile(
  url: string,
  options: FetchTorrentOptions = {},
): Promise<{ torrent: Torrent; bytes: Uint8Array }> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const maxBytes = options.maxBytes ?? MAX_TORRENT_FILE_BYTES;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  let response: Response;
  let bytes: Uint8Array;
  try {
    response = await fetch(url, {
      signal,
      redirect: "follow",
      headers: { "user-agent": `shoal/${VERSION}`, accept: "application/x-bittorrent, */*" },
    });
    if (!response.ok) {
      await response.body?.cancel().catch(() => {});
      throw new NetworkError(
        `Cannot download the torrent from ${url}: the server answered HTTP ${response.status} ${
          printable(response.statusText, 100)
        }`,
      );
    }
    const length = Number(response.headers.get("content-length"));
    if (length > maxBytes) {
      await response.body?.cancel().catch(() => {});
      throw tooLarge(url, maxBytes);
    }
    bytes = await readCapped(response, maxBytes, () => tooLarge(url, maxBytes));
  } catch (error) {
    if (error instanceof NetworkError || error instanceof TorrentError) throw error;
    if (timeout.aborted) {
      throw new NetworkError(
        `Cannot download the torrent from ${url}: no complete answer within ${timeoutMs / 1000} s`,
        { cause: error },
      );
    }
    if (options.signal?.aborted) throw error;
    const refusal = permissionRefusal(error);
    if (refusal) throw permissionError(refusal, `Cannot download the torrent from ${url}`, error);
    const cause = error instanceof Error && error.cause instanceof Error
      ? ` (${error.cause.message})`
      : "";
    throw new NetworkError(
      `Cannot download the torrent from ${url}: ${(error as Error).message}${cause}`,
      { cause: error },
    );
  }
  try {
    return { torrent: parseTorrent(bytes, options), bytes };
  } catch (error) {
    if (!(error instanceof TorrentError)) throw error;
    const type = response.headers.get("content-type") ?? "";
    const hint = /html/i.test(type) ? " (the server sent a web page, not a .torrent file)" : "";
    throw new TorrentError(`${url} is not a usable torrent${hint}: ${error.message}`, {
      cause: error,
    });
  }
}

function tooLarge(url: string, maxBytes: number): TorrentError {
  return new TorrentError(`${url} is over ${maxBytes} bytes; torrent files that large are refused`);
}
