/**
 * The dialling side of a swarm: how many connection attempts run, which
 * addresses the pool gives next, and what a failed attempt does to the
 * address (retried later by the pool, or never again if it was ourselves).
 * Opening a connection (transport, handshake, timeouts) is `connectToPeer`;
 * what happens to an open one is the swarm's.
 *
 * @module
 */

import type { DhtPortLink } from "./swarm_types.ts";
import { connectToPeer, type PeerConnection, type PeerTimeouts } from "../wire/connection.ts";
import { PeerError } from "../wire/errors.ts";
import type { Transport } from "../wire/transport.ts";
import { formatPeerAddress, type PeerAddress } from "../net/peer_address.ts";
import type { Logger } from "../util/log.ts";
import type { PeerPool } from "../discovery/peer_pool.ts";

/** Most distinct addresses counted as tried. */
const MAX_COUNTED = 10_000;

/** What the connector needs of its swarm. */
export interface ConnectorOptions {
  /** The addresses to dial. */
  pool: PeerPool;
  /** The torrent's info hash. */
  infoHash: Uint8Array;
  /** Our peer id. */
  peerId: Uint8Array;
  /** Connection timeouts. */
  timeouts?: PeerTimeouts;
  /** How to open connections. Default: TCP. */
  transport?: Transport;
  /** The session's DHT node, for a torrent that uses it: the handshake says so. */
  dht?: DhtPortLink;
  /** Most attempts in flight. */
  maxConnecting: number;
  /** How many more connections the swarm takes now (0 when it wants none). */
  room: () => number;
  /** Aborts attempts in flight (the swarm stops). */
  signal: AbortSignal;
  /** Runs a task the swarm owns (awaited when it stops). */
  spawn: (task: Promise<void>, what: string) => void;
  /** Takes over an open connection until it ends; `epoch` is the pool's when it was dialled. */
  run: (connection: PeerConnection, epoch: number) => Promise<void>;
  /** Where events are logged. */
  log: Logger;
}

/** Dials peers from the pool while the swarm has room. */
export class Connector {
  /** Distinct addresses dialled so far. */
  readonly tried = new Set<string>();
  /** Why the last attempt failed, if it did. */
  lastError?: string;
  #connecting = 0;
  readonly #options: ConnectorOptions;

  /** @param options The pool, our identity and limits. */
  constructor(options: ConnectorOptions) {
    this.#options = options;
  }

  /** Attempts in flight. */
  get connecting(): number {
    return this.#connecting;
  }

  /** Dials as many addresses as there is room for. */
  fill(): void {
    const room = Math.min(
      this.#options.room() - this.#connecting,
      this.#options.maxConnecting - this.#connecting,
    );
    if (room <= 0 || this.#options.signal.aborted) return;
    for (const address of this.#options.pool.take(room)) {
      this.#options.spawn(this.#dial(address), `dialling ${formatPeerAddress(address)}`);
    }
  }

  async #dial(address: PeerAddress): Promise<void> {
    const { pool, signal, log } = this.#options;
    const key = formatPeerAddress(address);
    const epoch = pool.epoch;
    this.#connecting++;
    if (this.tried.size < MAX_COUNTED) this.tried.add(key);
    let connection: PeerConnection;
    try {
      connection = await connectToPeer(address, {
        infoHash: this.#options.infoHash,
        peerId: this.#options.peerId,
        timeouts: this.#options.timeouts,
        signal,
        transport: this.#options.transport,
        dht: this.#options.dht !== undefined,
      });
    } catch (error) {
      this.#connecting--;
      if (error instanceof PeerError && error.kind === "self") pool.ignoreKey(key);
      else {
        pool.failed(key, Date.now(), epoch);
        if (!signal.aborted) this.lastError = (error as Error).message;
      }
      log.debug(`peer ${key}: ${(error as Error).message}`);
      this.fill();
      return;
    }
    this.#connecting--;
    this.lastError = undefined;
    if (signal.aborted) {
      connection.close();
      return;
    }
    await this.#options.run(connection, epoch);
  }
}
