/**
 * The DHT as a source of peers for a session's torrents: each torrent
 * that takes part looks up its peers when it starts, and again every 15
 * minutes (sooner, backing off from 30 s, while none are found, and when
 * it runs short of peers, 5 minutes after its last lookup); once it
 * may be announced (never a private torrent, and a magnet link's only
 * once its metadata says it is public) the lookup ends with an
 * `announce_peer` to the closest nodes. At most 4 lookups run at once
 * over all torrents.
 *
 * @module
 */

import type { AnnouncingPeerSource, DiscoveryService } from "../discovery/peer_source.ts";
import type { PeerAddress } from "../net/peer_address.ts";
import { toHex } from "../util/_bytes.ts";
import { type Logger, silentLogger } from "../util/log.ts";
import { OwnedTasks } from "../util/_owned_tasks.ts";
import type { DhtNode } from "./dht_node.ts";

/** Time between two lookups of a torrent that has peers (BEP 5 leaves it open; 15 minutes as libtorrent). */
export const DHT_ANNOUNCE_EVERY_MS = 15 * 60_000;
const FIRST_RETRY_MS = 30_000;
const LOOKUPS_AT_ONCE = 4;
/** A torrent short of peers looks again at once, but not sooner than this after its last lookup. */
export const DHT_SOONEST_AGAIN_MS = 5 * 60_000;

/** Options of {@linkcode DhtDiscovery}. */
export interface DhtDiscoveryOptions {
  /** Our peer port, announced; 0 when we do not listen (then we only look). */
  port: number;
  /** Where to log. */
  log?: Logger;
  /** Time between two lookups of a torrent, in ms. Default 15 minutes. */
  intervalMs?: number;
  /** A torrent short of peers looks again once this long has passed since its last lookup, in ms. Default 5 minutes. */
  soonestAgainMs?: number;
}

interface Entry {
  infoHash: Uint8Array;
  found: (peers: readonly PeerAddress[], name: string) => void;
  announcing: boolean;
  /** When its next lookup is due. */
  nextAt: number;
  retryMs: number;
  /** When its last lookup started. */
  startedAt: number;
  running?: AbortController;
}

/**
 * Peers from the DHT for many torrents.
 *
 * @example A torrent's source of DHT peers
 * ```ts ignore
 * import { DhtDiscovery, DhtNode } from "./mod.ts";
 *
 * const node = new DhtNode({ port: 6881 });
 * const dht = new DhtDiscovery(node, { port: 6881 });
 * const source = dht.source(new Uint8Array(20));
 * source.start((peers) => console.log("from the DHT:", peers));
 * source.announce(true); // not for a private torrent
 * const clock = setInterval(() => dht.tick(), 1000);
 * // …
 * clearInterval(clock);
 * await source.stop();
 * await dht.close();
 * await node.close();
 * ```
 */
export class DhtDiscovery implements DiscoveryService {
  /** The kind of the peers it finds. */
  readonly kind = "dht" as const;
  /** The node the lookups go through. */
  readonly node: DhtNode;
  readonly #options: DhtDiscoveryOptions;
  readonly #log: Logger;
  readonly #entries = new Map<string, Entry>();
  readonly #tasks: OwnedTasks;
  #closed = false;

  /**
   * Makes the service; lookups start as torrents take sources from it.
   *
   * @param node The session's DHT node.
   * @param options Our port, the log.
   */
  constructor(node: DhtNode, options: DhtDiscoveryOptions) {
    this.node = node;
    this.#options = options;
    this.#log = options.log ?? silentLogger;
    this.#tasks = new OwnedTasks(this.#log);
  }

  /** The source of DHT peers for one torrent. */
  source(infoHash: Uint8Array): AnnouncingPeerSource {
    const hex = toHex(infoHash);
    const entries = this.#entries;
    const tick = () => this.tick();
    const soonest = this.#options.soonestAgainMs ?? DHT_SOONEST_AGAIN_MS;
    let mine: Entry | undefined;
    return {
      kind: "dht",
      start(found) {
        mine = {
          infoHash,
          found,
          announcing: false,
          nextAt: 0,
          retryMs: FIRST_RETRY_MS,
          startedAt: 0,
        };
        entries.set(hex, mine);
        tick();
      },
      announce(on) {
        if (!mine || mine.announcing === on) return;
        mine.announcing = on;
        // Announced as soon as it may be; a lookup running just looked.
        if (on) mine.nextAt = 0;
        tick();
      },
      wantMore() {
        if (!mine || mine.running || Date.now() - mine.startedAt < soonest) return;
        mine.nextAt = 0;
        tick();
      },
      stop() {
        if (mine && entries.get(hex) === mine) entries.delete(hex);
        mine?.running?.abort();
        mine = undefined;
        return Promise.resolve();
      },
    };
  }

  /** Starts the lookups that are due. */
  tick(now: number = Date.now()): void {
    if (this.#closed) return;
    let running = 0;
    for (const entry of this.#entries.values()) if (entry.running) running++;
    const due = [...this.#entries.values()]
      .filter((entry) => !entry.running && entry.nextAt <= now)
      .sort((a, b) => a.nextAt - b.nextAt);
    for (const entry of due.slice(0, Math.max(0, LOOKUPS_AT_ONCE - running))) {
      this.#tasks.spawn(this.#lookUp(entry), "DHT lookup");
    }
  }

  async #lookUp(entry: Entry): Promise<void> {
    const running = entry.running = new AbortController();
    entry.startedAt = Date.now();
    const announce = entry.announcing && this.#options.port > 0;
    const hex = toHex(entry.infoHash);
    const onPeers = (peers: PeerAddress[]) => {
      if (!running.signal.aborted) entry.found(peers, "dht");
    };
    try {
      const result = announce
        ? await this.node.announce(entry.infoHash, this.#options.port, {
          onPeers,
          signal: running.signal,
        })
        : await this.node.getPeers(entry.infoHash, { onPeers, signal: running.signal });
      this.#log.debug(
        `DHT: ${hex}: ${result.peers.length} peers after ${result.queries} queries in ${
          Math.round(result.ms)
        } ms${announce ? `, announced to ${result.announced} nodes` : ""}`,
      );
      const now = Date.now();
      if (result.peers.length > 0) {
        entry.retryMs = FIRST_RETRY_MS;
        entry.nextAt = now + (this.#options.intervalMs ?? DHT_ANNOUNCE_EVERY_MS);
      } else {
        entry.nextAt = now + entry.retryMs;
        entry.retryMs = Math.min(
          entry.retryMs * 2,
          this.#options.intervalMs ?? DHT_ANNOUNCE_EVERY_MS,
        );
      }
      // Turned on while looking: it announces now.
      if (entry.announcing && !announce && this.#options.port > 0) entry.nextAt = now;
    } finally {
      if (entry.running === running) entry.running = undefined;
    }
  }

  /** Stops every lookup and waits for them to end (the node stays open). */
  async close(): Promise<void> {
    this.#closed = true;
    for (const entry of this.#entries.values()) entry.running?.abort();
    this.#entries.clear();
    await this.#tasks.settle();
  }
}
