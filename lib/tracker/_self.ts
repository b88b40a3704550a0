/**
 * Telling ourselves apart among the peers a tracker names (trackers list
 * the announcer too).
 *
 * @module
 */

import { bytesEqual } from "../util/_bytes.ts";
import { isLocalHost } from "../util/_address.ts";
import type { TrackerPeer } from "./types.ts";

/** Who we are, as a tracker may show us. */
export interface OurselvesAsPeer {
  /** Our peer id (dictionary-model replies carry it). */
  peerId: Uint8Array;
  /** The port we announced. */
  port: number;
  /** Where trackers say they see us (BEP 24 `external ip`). */
  externalIps: ReadonlySet<string>;
}

/** Whether `peer` is us: our peer id, or our port on a local address or our external one. */
export function isOurselves(peer: TrackerPeer, us: OurselvesAsPeer): boolean {
  if (peer.peerId && bytesEqual(peer.peerId, us.peerId)) return true;
  return peer.port === us.port && (isLocalHost(peer.host) || us.externalIps.has(peer.host));
}
