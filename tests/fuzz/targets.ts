/**
 * The fuzz targets: every parser of untrusted bytes, each with its real
 * seeds, the errors it may throw for bad input, and cheap invariants on what
 * it returns (target.ts says how an input is judged).
 *
 * @module
 */

import type { FuzzTarget } from "./target.ts";
import { metainfoTargets } from "./targets_metainfo.ts";
import { peerTargets } from "./targets_peer.ts";
import { trackerTargets } from "./targets_tracker.ts";

export { type FuzzTarget, type Outcome, runInput } from "./target.ts";

/** Every fuzz target, in a fixed order (the seeds are read from tests/fixtures). */
export function fuzzTargets(): FuzzTarget[] {
  return [...metainfoTargets(), ...peerTargets(), ...trackerTargets()];
}
