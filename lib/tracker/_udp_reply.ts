/**
 * What a UDP tracker's reply packets say (BEP 15): their header, whether a
 * reply answers the request it matched, and the connect, announce, scrape
 * and error bodies. Pure functions of the bytes, so they are tested (and
 * fuzzed) without a socket.
 *
 * @module
 */

import { parseCompactPeers } from "../net/compact.ts";
import { uniquePeers } from "./_compact_peers.ts";
import { TrackerError } from "./errors.ts";
import type { AnnounceResult, ScrapeResult } from "./types.ts";
import { printable } from "../util/_printable.ts";

/** The `action` of a connect request and its reply. */
export const ACTION_CONNECT = 0;
/** The `action` of an announce. */
export const ACTION_ANNOUNCE = 1;
/** The `action` of a scrape. */
export const ACTION_SCRAPE = 2;
/** The `action` of an error reply. */
export const ACTION_ERROR = 3;

/** The first 8 bytes of every reply. */
export interface UdpReplyHeader {
  /** What the reply is (`ACTION_…`). */
  action: number;
  /** The transaction id of the request it answers. */
  transaction: number;
}

/** What a reply means for the request whose transaction id it carries. */
export type UdpReplyVerdict =
  /** The reply to the request: hand the packet to its parser. */
  | { kind: "reply" }
  /** The tracker refused the request (an error packet), in its own words. */
  | { kind: "error"; error: TrackerError }
  /** Not an answer (wrong action, too short): ignored, with the reason. */
  | { kind: "ignore"; reason: string };

function viewOf(packet: Uint8Array): DataView {
  return new DataView(packet.buffer, packet.byteOffset, packet.byteLength);
}

/**
 * Reads the action and transaction id of a reply.
 *
 * @returns The header, or `undefined` for a packet shorter than 8 bytes.
 */
export function udpReplyHeader(packet: Uint8Array): UdpReplyHeader | undefined {
  if (packet.length < 8) return undefined;
  const view = viewOf(packet);
  return { action: view.getUint32(0), transaction: view.getUint32(4) };
}

/**
 * Judges a reply whose transaction id matched a request of `expected`
 * action: an error packet refuses it, a packet of another action or too
 * short for its action is ignored.
 *
 * @param packet The reply, at least 8 bytes (see {@linkcode udpReplyHeader}).
 * @param expected The action of the request.
 */
export function judgeUdpReply(packet: Uint8Array, expected: number): UdpReplyVerdict {
  const action = viewOf(packet).getUint32(0);
  if (action === ACTION_ERROR) {
    const message = printable(new TextDecoder().decode(packet.subarray(8)).replace(/\0+$/, ""));
    return {
      kind: "error",
      error: new TrackerError("failure", message || "The tracker sent an error"),
    };
  }
  if (action !== expected) {
    return { kind: "ignore", reason: `action ${action} where ${expected} was expected` };
  }
  const minimum = action === ACTION_CONNECT ? 16 : action === ACTION_ANNOUNCE ? 20 : 8;
  if (packet.length < minimum) {
    return { kind: "ignore", reason: `a ${packet.length}-byte reply is too short` };
  }
  return { kind: "reply" };
}

/** The connection id of a connect reply that {@linkcode judgeUdpReply} accepted. */
export function parseUdpConnectReply(packet: Uint8Array): bigint {
  return viewOf(packet).getBigUint64(8);
}

/**
 * An announce reply that {@linkcode judgeUdpReply} accepted. A peer named
 * twice is given once, as for HTTP trackers.
 *
 * @param packet The reply.
 * @param family The address family of the tracker, which is that of the peers.
 */
export function parseUdpAnnounceReply(packet: Uint8Array, family: 4 | 6): AnnounceResult {
  const view = viewOf(packet);
  const compact = parseCompactPeers(packet.subarray(20), family);
  return {
    interval: view.getUint32(8) || 1800,
    incomplete: view.getUint32(12),
    complete: view.getUint32(16),
    peers: uniquePeers(compact.peers),
    problems: compact.leftover ? [`The peer list ends with ${compact.leftover} stray bytes`] : [],
  };
}

/**
 * A scrape reply that {@linkcode judgeUdpReply} accepted: the numbers of
 * the first `count` torrents asked about, as far as the packet holds them.
 *
 * @param packet The reply.
 * @param count How many info hashes the request named.
 */
export function parseUdpScrapeReply(packet: Uint8Array, count: number): ScrapeResult[] {
  const view = viewOf(packet);
  const results: ScrapeResult[] = [];
  for (let i = 0; i < count && 8 + 12 * (i + 1) <= packet.length; i++) {
    const offset = 8 + 12 * i;
    results.push({
      complete: view.getUint32(offset),
      downloaded: view.getUint32(offset + 4),
      incomplete: view.getUint32(offset + 8),
    });
  }
  return results;
}
