/**
 * What a fuzz target is, how one input is judged, and the checks the
 * targets share. A target fails on anything but a value or the parser's own
 * typed error: a `TypeError`, a `RangeError`, a stack overflow, a plain
 * `Error`, or a broken invariant.
 *
 * @module
 */

import type { PeerAddress } from "../../lib/net/peer_address.ts";
import { PeerError, type PeerErrorKind } from "../../lib/wire/errors.ts";
import { assert } from "../helpers/assert.ts";

/** One parser under fuzzing. */
export interface FuzzTarget {
  /** Short name, used on the command line and as the corpus folder. */
  name: string;
  /** The entry points it calls. */
  entry: string;
  /** Real inputs the mutations start from. */
  seeds: Uint8Array[];
  /** True for the errors the parser may throw for bad input: its own typed errors. */
  expected(error: unknown): boolean;
  /**
   * Feeds the input to the parser and checks what it returns.
   *
   * @returns True when the parser accepted the input (a value, not an error).
   */
  run(input: Uint8Array): boolean | Promise<boolean>;
}

/** What one input did. */
export type Outcome =
  | { kind: "accepted" }
  | { kind: "rejected" }
  | { kind: "failed"; error: unknown };

/** Runs one input; anything but a value or an expected error is a failure. */
export async function runInput(target: FuzzTarget, input: Uint8Array): Promise<Outcome> {
  try {
    return { kind: (await target.run(input)) ? "accepted" : "rejected" };
  } catch (error) {
    return target.expected(error) ? { kind: "rejected" } : { kind: "failed", error };
  }
}

/** `fn()`, or `undefined` when it throws an expected error. */
export function attempt<T>(fn: () => T, expected: (error: unknown) => boolean): T | undefined {
  try {
    return fn();
  } catch (error) {
    if (expected(error)) return undefined;
    throw error;
  }
}

/** A predicate for `PeerError`s of these kinds. */
export function peerError(...kinds: PeerErrorKind[]): (error: unknown) => boolean {
  return (error) => error instanceof PeerError && kinds.includes(error.kind);
}

// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** Asserts the text holds no control character (it could reach the terminal). */
export function assertPrintable(text: string, what: string): void {
  assert(!CONTROL.test(text), `${what} holds control characters: ${JSON.stringify(text)}`);
}

/** True for a count: absent, or a safe integer of at least 0. */
export function isCount(value: number | undefined): boolean {
  return value === undefined || (Number.isSafeInteger(value) && value >= 0);
}

/** Asserts the peers have text hosts, ports 1–65535, and no duplicates. */
export function checkPeers(peers: readonly PeerAddress[], what: string): void {
  const seen = new Set<string>();
  for (const peer of peers) {
    assert(typeof peer.host === "string", `${what}: a host that is not text`);
    assert(
      Number.isInteger(peer.port) && peer.port >= 1 && peer.port <= 65535,
      `${what}: port ${peer.port}`,
    );
    seen.add(`${peer.host}|${peer.port}`);
  }
  assert(seen.size === peers.length, `${what}: duplicate peers`);
}
