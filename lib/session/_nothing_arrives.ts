/**
 * Saying why a download gets nothing, from what the torrent knows: its
 * trackers' states and errors, the peers it has found, tried and connected.
 * Shown while it waits and given as the reason when `--stall-timeout` ends
 * it.
 *
 * @module
 */

import type { TrackerStatus } from "../tracker/announcer.ts";
import { formatQuantity } from "../util/size.ts";

/** What the explanation is drawn from. */
export interface ReachInput {
  /** Every tracker's state (empty when the torrent lists none or announcing is off). */
  trackers: readonly TrackerStatus[];
  /** Peers connected now. */
  connected: number;
  /** Peer addresses known (from trackers and `--peer`). */
  seen: number;
  /** Addresses dialled so far. */
  tried: number;
  /** Why the last dial failed, if it did. */
  lastDialError?: string;
  /** While a magnet link's metadata is fetched: the connected peers that offer it. */
  metadataSources?: number;
  /** Local service discovery is looking for peers too. */
  lsd?: boolean;
}

/**
 * One sentence on why nothing arrives, such as `the tracker
 * udp://t.example:6969 failed (no answer after 15 s…); no peer to try`.
 */
export function whyNothingArrives(input: ReachInput): string {
  return `${trackerPart(input.trackers)}; ${peerPart(input)}`;
}

function trackerPart(trackers: readonly TrackerStatus[]): string {
  if (trackers.length === 0) return "no tracker";
  const working = trackers.filter((t) => t.state === "working");
  const failed = trackers.filter((t) => t.state === "failed");
  if (working.length > 0) {
    const peers = working.reduce((sum, t) => sum + (t.peersReturned ?? 0), 0);
    return `${formatQuantity(working.length, "tracker")} answered with ${
      formatQuantity(peers, "peer")
    }`;
  }
  if (failed.length === 0) return "the trackers have not answered yet";
  const first = failed[0];
  const reason = first.lastError ?? "no reason given";
  if (trackers.length === 1) return `the tracker ${first.url} failed (${reason})`;
  const waiting = trackers.length - failed.length;
  const what = failed.length === trackers.length
    ? `all ${trackers.length} trackers failed`
    : `${failed.length} of ${trackers.length} trackers failed`;
  const rest = waiting > 0 ? `, ${waiting} ${waiting === 1 ? "has" : "have"} not answered yet` : "";
  return `${what} (${first.url}: ${reason})${rest}`;
}

function peerPart(input: ReachInput): string {
  if (input.connected > 0 && input.metadataSources === 0) {
    return `${
      formatQuantity(input.connected, "peer")
    } connected, none offering the metadata (ut_metadata)`;
  }
  if (input.connected > 0) {
    return `${formatQuantity(input.connected, "peer")} connected, none sending data`;
  }
  if (input.seen === 0) {
    return input.lsd ? "no peer to try, none found on the local network (LSD)" : "no peer to try";
  }
  if (input.tried === 0) return `${formatQuantity(input.seen, "peer")} known, not tried yet`;
  const last = input.lastDialError ? ` (last: ${input.lastDialError})` : "";
  return `${formatQuantity(input.tried, "peer")} tried, none reachable${last}`;
}
