/**
 * The metadata exchange (BEP 9) without I/O: which metadata pieces to ask
 * which peer for, what their answers mean, and who lied. The wire messages
 * are `ut_metadata` in `lib/extensions`; the swarm that runs it is
 * `MetadataSwarm` in `lib/swarm`.
 *
 * @example Fetching a one-piece info dictionary from one peer
 * ```ts
 * import { createHash } from "node:crypto";
 * import { MetadataFetcher } from "./mod.ts";
 *
 * const info = new TextEncoder().encode("d4:name1:ae");
 * const infoHash = new Uint8Array(createHash("sha1").update(info).digest());
 * const fetcher = new MetadataFetcher({ infoHash });
 * fetcher.offer("peer A", info.length); // its handshake said metadata_size
 * console.log(fetcher.next("peer A")); // [ 0 ]: ask it for piece 0
 * console.log(fetcher.received("peer A", 0, info.length, info).kind); // done
 * ```
 *
 * @module
 */

export {
  DEFAULT_MAX_METADATA_SIZE,
  MetadataFetcher,
  type MetadataFetcherOptions,
  type MetadataReceipt,
} from "./metadata_fetcher.ts";
