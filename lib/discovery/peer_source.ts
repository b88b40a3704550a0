/**
 * Where peers come from. Every source hands its addresses to the torrent's
 * peer pool (`peer_pool.ts`), the one place they are deduplicated, with its
 * kind and its name: trackers (their URL), the user (`--peer`, a magnet
 * link's `x.pe`), peers that dial in, and later peer exchange, the DHT and
 * local service discovery. A private torrent (BEP 27) takes peers from
 * trackers only, besides those the user names and those that dial in.
 *
 * @module
 */

import type { PeerAddress } from "../net/peer_address.ts";

/** The kinds of peer sources. */
export type PeerSourceKind = "tracker" | "user" | "incoming" | "pex" | "dht" | "lsd";

/** The kinds a private torrent (BEP 27) takes peers from. */
export const PRIVATE_TORRENT_SOURCES: ReadonlySet<PeerSourceKind> = new Set<PeerSourceKind>([
  "tracker",
  "user",
  "incoming",
]);

/**
 * A source of peers for one torrent, started when the torrent starts and
 * stopped when it stops (and started again when it resumes).
 *
 * @example A source that names a fixed list once
 * ```ts
 * import { staticPeerSource } from "./peer_source.ts";
 *
 * const source = staticPeerSource("user", "user", [{ host: "127.0.0.1", port: 6881 }]);
 * source.start((peers, name) => console.log(name, peers.length)); // user 1
 * await source.stop();
 * ```
 */
export interface PeerSource {
  /** What kind of source it is (a private torrent takes only some kinds). */
  readonly kind: PeerSourceKind;
  /**
   * Starts finding peers.
   *
   * @param found Called with each batch and the name of where it came from (a tracker's URL).
   */
  start(found: (peers: readonly PeerAddress[], name: string) => void): void;
  /** Stops finding peers. */
  stop(): Promise<void>;
  /**
   * The torrent runs short of peers (few connected, none left to dial):
   * look again soon, within the source's own limits. Optional.
   */
  wantMore?(): void;
}

/**
 * A source that names `peers` once each time it starts.
 *
 * @param kind Its kind.
 * @param name Its name, remembered as where the peers were heard of.
 * @param peers The addresses.
 */
export function staticPeerSource(
  kind: PeerSourceKind,
  name: string,
  peers: readonly PeerAddress[],
): PeerSource {
  return {
    kind,
    start(found) {
      if (peers.length > 0) found(peers, name);
    },
    stop: () => Promise.resolve(),
  };
}

/**
 * A source for one torrent from a session-wide service (local service
 * discovery; later the DHT) that can also tell others we take part.
 */
export interface AnnouncingPeerSource extends PeerSource {
  /**
   * Whether others may hear we take part in the torrent (off for a private
   * one, and until a magnet link's metadata says it is not private). After
   * `start` it only listens until told `true`.
   */
  announce(on: boolean): void;
}

/**
 * A session-wide service that finds peers for many torrents at once
 * (local service discovery; later the DHT): each torrent takes a source
 * from it.
 */
export interface DiscoveryService {
  /** The kind of the peers it finds. */
  readonly kind: PeerSourceKind;
  /** The source of peers for the torrent `infoHash`. */
  source(infoHash: Uint8Array): AnnouncingPeerSource;
}
