/**
 * Errors for malformed or unsafe torrent files and magnet links.
 *
 * @module
 */

import { ExitCode, ShoalError, type ShoalErrorOptions } from "../errors.ts";

/** A torrent file that cannot be used. Exit code 3. */
export class TorrentError extends ShoalError {
  /** Always {@linkcode ExitCode.BadTorrent}. */
  override readonly exitCode: ExitCode = ExitCode.BadTorrent;

  /**
   * Creates a torrent error.
   *
   * @param message What is wrong with the torrent, naming the field.
   * @param options The underlying error, if any.
   */
  constructor(message: string, options?: ShoalErrorOptions) {
    super(message, options);
    this.name = "TorrentError";
  }
}

/** A magnet link (or bare info hash) that cannot be used. Exit code 3. */
export class MagnetError extends ShoalError {
  /** Always {@linkcode ExitCode.BadTorrent}. */
  override readonly exitCode: ExitCode = ExitCode.BadTorrent;

  /**
   * Creates a magnet link error.
   *
   * @param message What is wrong with the link.
   * @param options The underlying error, if any.
   */
  constructor(message: string, options?: ShoalErrorOptions) {
    super(message, options);
    this.name = "MagnetError";
  }
}
