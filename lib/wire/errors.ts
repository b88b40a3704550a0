/**
 * Errors of the peer wire protocol. A peer that breaks the protocol is
 * disconnected; these errors say why, for the log.
 *
 * @module
 */

import { ExitCode, type ExitCode as ExitCodeValue, ShoalError } from "../errors.ts";

/** Why a peer connection ended badly. */
export type PeerErrorKind =
  | "connect"
  | "timeout"
  | "handshake"
  | "protocol"
  | "closed"
  | "self";

/** A peer connection failed or the peer broke the protocol. */
export class PeerError extends ShoalError {
  /** Network errors map to exit code 4 if they ever reach the CLI. */
  override readonly exitCode: ExitCodeValue = ExitCode.Network;
  /** What went wrong. */
  readonly kind: PeerErrorKind;

  /**
   * Creates the error.
   *
   * @param kind What went wrong.
   * @param message What the peer did, for the log.
   * @param options The cause, if any.
   */
  constructor(kind: PeerErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.kind = kind;
  }
}
