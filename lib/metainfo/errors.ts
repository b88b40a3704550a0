/**
 * Errors for malformed or unsafe torrent files and magnet links.
 *
 * @module
 */

import { ExitCode, ShoalError } from "../errors.ts";

/**
 * A torrent file that cannot be used; the message names the field. Exit code 3.
 *
 * @example A torrent file that is not one
 * ```ts
 * import { parseTorrent, TorrentError } from "./mod.ts";
 *
 * try {
 *   parseTorrent(new TextEncoder().encode("d4:infod4:name1:aee"));
 * } catch (error) {
 *   if (!(error instanceof TorrentError)) throw error;
 *   console.log(error.exitCode, error.message); // 3 The torrent has no piece length …
 * }
 * ```
 */
export class TorrentError extends ShoalError {
  /** Always {@linkcode ExitCode.BadTorrent}. */
  override readonly exitCode: ExitCode = ExitCode.BadTorrent;
}

/**
 * A magnet link (or bare info hash) that cannot be used; the message says which part. Exit code 3.
 *
 * @example A magnet link without an info hash
 * ```ts
 * import { MagnetError, parseMagnet } from "./mod.ts";
 *
 * try {
 *   parseMagnet("magnet:?dn=no+hash");
 * } catch (error) {
 *   if (!(error instanceof MagnetError)) throw error;
 *   console.log(error.message); // The magnet link has no xt=urn:btih: info hash …
 * }
 * ```
 */
export class MagnetError extends ShoalError {
  /** Always {@linkcode ExitCode.BadTorrent}. */
  override readonly exitCode: ExitCode = ExitCode.BadTorrent;
}
