/**
 * Exit codes and the base error class every shoal error extends.
 *
 * Each error carries the exit code the CLI ends with when the error reaches
 * it, so every command maps failures to the same documented codes.
 *
 * @module
 */

/** Process exit codes that scripts can rely on; documented in the README. */
export const ExitCode = {
  /** The command did everything it was asked (download complete, file written). */
  Ok: 0,
  /** An error that fits no narrower code. */
  Error: 1,
  /** The command line was wrong: unknown command or flag, bad flag value. */
  Usage: 2,
  /** A torrent file or magnet link was malformed or unsafe. */
  BadTorrent: 3,
  /** Network failure: trackers unreachable, no peers. */
  Network: 4,
  /** Reading or writing local files failed (permissions, no space, missing path). */
  Disk: 5,
  /** Interrupted by the user (Ctrl-C) with work left unfinished. */
  Interrupted: 130,
} as const;

/** One of the values of {@linkcode ExitCode}. */
export type ExitCode = typeof ExitCode[keyof typeof ExitCode];

/** Options accepted by {@linkcode ShoalError}. */
export interface ShoalErrorOptions {
  /** The underlying error, kept for debugging. */
  cause?: unknown;
}

/**
 * Base class of every error shoal throws on purpose. Catch this to handle any
 * expected failure; anything else reaching the CLI is a bug.
 *
 * @example Telling expected failures from bugs
 * ```ts
 * import { readTorrentFile } from "./metainfo/mod.ts";
 * import { ExitCode, ShoalError } from "./errors.ts";
 *
 * try {
 *   await readTorrentFile("/no/such.torrent");
 * } catch (error) {
 *   if (!(error instanceof ShoalError)) throw error; // anything else is a bug
 *   console.log(error.name, error.exitCode === ExitCode.Disk, error.message);
 *   // DiskError true Cannot read /no/such.torrent: no such file or directory
 * }
 * ```
 */
export class ShoalError extends Error {
  /** The process exit code the CLI uses for this error. */
  readonly exitCode: ExitCode = ExitCode.Error;

  /**
   * Creates an error with a message meant for the user.
   *
   * @param message A sentence the user can act on, without a trailing period.
   * @param options The cause, if any.
   */
  constructor(message: string, options?: ShoalErrorOptions) {
    super(message, options);
    // Subclasses get their own name without repeating this constructor.
    this.name = new.target.name;
  }
}

/** The command line was wrong; the message says what and how to fix it. Exit code 2. */
export class UsageError extends ShoalError {
  /** Always {@linkcode ExitCode.Usage}. */
  override readonly exitCode: ExitCode = ExitCode.Usage;
}

/** Reading or writing a local file failed; the message names the path. Exit code 5. */
export class DiskError extends ShoalError {
  /** Always {@linkcode ExitCode.Disk}. */
  override readonly exitCode: ExitCode = ExitCode.Disk;
}

/** A network failure: no way to reach peers or trackers. Exit code 4. */
export class NetworkError extends ShoalError {
  /** Always {@linkcode ExitCode.Network}. */
  override readonly exitCode: ExitCode = ExitCode.Network;
}

/** The user interrupted the work before it finished (Ctrl-C). Exit code 130. */
export class InterruptedError extends ShoalError {
  /** Always {@linkcode ExitCode.Interrupted}. */
  override readonly exitCode: ExitCode = ExitCode.Interrupted;
}

/**
 * Wraps an error from `Deno` file APIs in a {@linkcode DiskError} whose
 * message names the path and the operation.
 *
 * @param error The thrown value.
 * @param action What was being done, e.g. "read" or "create".
 * @param path The path involved.
 * @returns A DiskError with the original as cause.
 */
export function diskError(
  error: unknown,
  action: string,
  path: string,
): DiskError {
  if (error instanceof ShoalError) return error as DiskError;
  let reason = error instanceof Error ? error.message : String(error);
  if (error instanceof Deno.errors.NotFound) reason = "no such file or directory";
  else if (error instanceof Deno.errors.PermissionDenied) {
    reason = "permission denied";
  } else if (error instanceof Deno.errors.AlreadyExists) {
    reason = "it already exists";
  } else if (error instanceof Deno.errors.IsADirectory) {
    reason = "it is a directory";
  }
  return new DiskError(`Cannot ${action} ${path}: ${reason}`, { cause: error });
}
