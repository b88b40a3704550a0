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

/** A permission Deno refused, and what it was for. */
export interface PermissionRefusal {
  /** The permission: `read`, `write`, `net`, `env`, `sys`, `run`, … (the flag is `--allow-<name>`). */
  permission: string;
  /** The path, host or variable it was for, when Deno says. */
  target?: string;
}

/**
 * Tells whether an error is Deno refusing a permission, and which.
 * `node:dns` reports a refused lookup as a Node-style `EPERM` error.
 *
 * @returns The refusal, or `undefined` for any other error.
 *
 * @example Telling a refused permission from another failure
 * ```ts
 * import { permissionRefusal } from "./errors.ts";
 *
 * try {
 *   Deno.listen({ hostname: "127.0.0.1", port: 0 }).close();
 * } catch (error) {
 *   console.log(permissionRefusal(error)); // { permission: "net", target: "127.0.0.1:0" } without --allow-net
 * }
 * ```
 */
export function permissionRefusal(error: unknown): PermissionRefusal | undefined {
  if (error instanceof Deno.errors.NotCapable) {
    const match = /Requires (\w+) access(?: to "([^"]*)")?/.exec(error.message);
    return { permission: match?.[1] ?? "all", target: match?.[2] };
  }
  if (error instanceof Error && (error as { code?: unknown }).code === "EPERM") {
    const host = /getaddrinfo EPERM (\S+)/.exec(error.message)?.[1];
    return { permission: "net", target: host };
  }
  return undefined;
}

/**
 * The error for a permission Deno refused: it says what shoal was doing,
 * what was refused and which flag to add. Refused network access is a
 * {@linkcode NetworkError} (exit 4), refused file access a
 * {@linkcode DiskError} (exit 5), anything else exit 1.
 *
 * @param refusal What was refused (from {@linkcode permissionRefusal}).
 * @param doing What shoal was doing, such as "Cannot listen on [::]:6881".
 * @param cause The original error.
 */
export function permissionError(
  refusal: PermissionRefusal,
  doing: string,
  cause?: unknown,
): ShoalError {
  const flag = `--allow-${refusal.permission}`;
  const what = refusal.target === undefined ? "" : ` to ${refusal.target}`;
  const scoped = refusal.target === undefined ? "" : ` (or ${flag}=${scopeOf(refusal)})`;
  const message =
    `${doing}: Deno's permissions do not allow ${refusal.permission} access${what}; run shoal with ${flag}${scoped}`;
  if (refusal.permission === "net") return new NetworkError(message, { cause });
  if (refusal.permission === "read" || refusal.permission === "write") {
    return new DiskError(message, { cause });
  }
  return new ShoalError(message, { cause });
}

/** What to put after `--allow-net=`: the host of `host:port` (IPv6 without brackets is kept whole). */
function scopeOf(refusal: PermissionRefusal): string {
  const target = refusal.target!;
  if (refusal.permission !== "net") return target;
  const bracketed = /^\[([^\]]+)\]:\d+$/.exec(target);
  if (bracketed) return `[${bracketed[1]}]`;
  const hostPort = /^([^:]+):\d+$/.exec(target);
  return hostPort ? hostPort[1] : target;
}

/**
 * Wraps an error from `Deno` file APIs in a {@linkcode DiskError} whose
 * message names the path and the operation.
 *
 * @param error The thrown value.
 * @param action What was being done, e.g. "read" or "create".
 * @param path The path involved.
 * @returns A DiskError with the original as cause (or the permission error, for a refused permission).
 */
export function diskError(
  error: unknown,
  action: string,
  path: string,
): ShoalError {
  if (error instanceof ShoalError) return error;
  const refusal = permissionRefusal(error);
  if (refusal) return permissionError(refusal, `Cannot ${action} ${path}`, error);
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
