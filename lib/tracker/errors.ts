/**
 * The error trackers produce: unreachable, too slow, refusing, or answering
 * nonsense. The tracker's own `failure reason` is kept verbatim.
 *
 * @module
 */

import {
  ExitCode,
  permissionError,
  permissionRefusal,
  ShoalError,
  type ShoalErrorOptions,
} from "../errors.ts";

/** Why a tracker request failed. */
export type TrackerErrorKind =
  /** The tracker answered with a `failure reason` (or a UDP error packet). */
  | "failure"
  /** No answer in time. */
  | "timeout"
  /** The connection failed (refused, DNS, reset). */
  | "network"
  /** An HTTP status other than 200 without a failure reason. */
  | "http-status"
  /** The reply was not a valid tracker reply. */
  | "invalid-reply"
  /** The reply was larger than the limit. */
  | "too-large";

/** True when the error is Deno refusing a permission (see {@linkcode permissionRefusal}). */
export function isPermissionError(error: unknown): boolean {
  return permissionRefusal(error) !== undefined;
}

/** The error for a tracker request Deno's permissions refused: it names what and the flag to add. */
export function networkPermissionError(cause: unknown): TrackerError {
  const refusal = permissionRefusal(cause) ?? { permission: "net" };
  return new TrackerError(
    "network",
    permissionError(refusal, "Cannot reach the tracker", cause).message,
    { cause },
  );
}

/**
 * A tracker request failed. Exit code 4.
 *
 * @example Why a tracker failed
 * ```ts
 * import { httpAnnounce, TrackerError } from "./mod.ts";
 *
 * try {
 *   await httpAnnounce("http://127.0.0.1:2/announce", {
 *     infoHash: new Uint8Array(20),
 *     peerId: new Uint8Array(20),
 *     port: 6881,
 *     uploaded: 0,
 *     downloaded: 0,
 *     left: 1,
 *     event: "started",
 *     key: 0,
 *   }, { timeoutMs: 2000 });
 * } catch (error) {
 *   if (!(error instanceof TrackerError)) throw error;
 *   // "failure" (the tracker's own words), "timeout", "network", "http-status", …
 *   console.log(error.kind, error.message);
 * }
 * ```
 */
export class TrackerError extends ShoalError {
  /** Always {@linkcode ExitCode.Network}. */
  override readonly exitCode: ExitCode = ExitCode.Network;
  /** Why it failed. */
  readonly kind: TrackerErrorKind;

  /**
   * Creates a tracker error.
   *
   * @param kind Why it failed.
   * @param message What happened, for the user (for `failure`, the tracker's own words).
   * @param options The underlying error, if any.
   */
  constructor(kind: TrackerErrorKind, message: string, options?: ShoalErrorOptions) {
    super(message, options);
    this.kind = kind;
  }
}
