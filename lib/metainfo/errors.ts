/**
 * Errors for malformed or unsafe torrent files and magnet links.
 *
 * @module
 */

import { ExitCode, ShoalError } from "../errors.ts";

/** A torrent file that cannot be used; the message names the field. Exit code 3. */
export class TorrentError extends ShoalError {
  /** Always {@linkcode ExitCode.BadTorrent}. */
  override readonly exitCode: ExitCode = ExitCode.BadTorrent;
}

/** A magnet link (or bare info hash) that cannot be used; the message says which part. Exit code 3. */
export class MagnetError extends ShoalError {
  /** Always {@linkcode ExitCode.BadTorrent}. */
  override readonly exitCode: ExitCode = ExitCode.BadTorrent;
}
