/**
 * The session: owns our peer id, the listening port (incoming peers are
 * routed to their torrent by info hash), the UDP tracker client and the
 * torrents added to it.
 *
 * @module
 */

import { permissionError, permissionRefusal, ShoalError } from "../errors.ts";
import type { Torrent } from "../metainfo/torrent.ts";
import type { MagnetLink } from "../metainfo/magnet.ts";
import { acceptPeer, type PeerTimeouts } from "../wire/connection.ts";
import {
  dialFrom,
  type IncomingStream,
  listenTcp,
  type PeerListener,
  type Transport,
} from "../wire/transport.ts";
import { randomPeerId } from "../peer_id.ts";
import { UdpTrackerClient } from "../tracker/udp.ts";
import { RateLimiter } from "../swarm/rate_limiter.ts";
import { toHex } from "../util/_bytes.ts";
import { type Logger, silentLogger } from "../util/log.ts";
import { type AddTorrentOptions, type SessionClock, TorrentHandle } from "./torrent_handle.ts";
import { HandshakeGate } from "./_handshake_gate.ts";
import { LocalDiscovery } from "../discovery/local_discovery.ts";
import type { DiscoveryService } from "../discovery/peer_source.ts";
import { DhtNode } from "../dht/dht_node.ts";
import { DhtDiscovery } from "../dht/dht_discovery.ts";

/** Options of {@linkcode Session}. */
export interface SessionOptions {
  /** Port to listen on and announce. Default 6881; the next free one of the 10 from there is used if it is taken. 0 picks any free port. */
  port?: number;
  /**
   * The addresses of this machine to listen on and to connect from, for
   * peers and trackers alike (`--bind`). Default: every IPv6 and IPv4
   * address (`::` and `0.0.0.0`), connecting from whatever the system picks.
   */
  bind?: readonly string[];
  /** One address to listen on and connect from: short for `bind: [host]`. */
  host?: string;
  /** Accept incoming connections. Default true. */
  listen?: boolean;
  /** Our peer id. Default: a fresh random one. */
  peerId?: Uint8Array;
  /** Where to log. Default: nowhere. */
  log?: Logger;
  /** Timeouts for incoming handshakes. */
  timeouts?: PeerTimeouts;
  /** Most bytes per second received, over all peers and torrents. Default: unlimited. */
  maxDownloadRate?: number;
  /** Most bytes per second sent, over all peers and torrents. Default: unlimited. */
  maxUploadRate?: number;
  /**
   * Local service discovery (BEP 14): announce our torrents to the local
   * network by multicast (239.192.152.143 and ff15::efc0:988f, port 6771)
   * and dial the peers that announce them, from the `bind` addresses.
   * Never for a private torrent. Needs Deno's `net` unstable flag. Default
   * false (the CLI turns it on unless `--no-lsd`).
   */
  lsd?: boolean;
  /**
   * The DHT (BEP 5): a node on UDP that finds peers for public torrents
   * (a magnet link with no tracker at all) and announces them, and answers
   * other nodes. `true` for the defaults, or its options. Never for a
   * private torrent. Needs Deno's `net` unstable flag. Default false (the
   * CLI turns it on unless `--no-dht`).
   */
  dht?: boolean | SessionDhtOptions;
}

/** Options of the session's DHT node. */
export interface SessionDhtOptions {
  /** Its UDP port. Default: the session's port (any free one when taken). */
  port?: number;
  /** Bootstrap nodes, `host:port`. Default: the built-in list (`DEFAULT_BOOTSTRAP`). */
  bootstrap?: readonly string[];
  /** Where its routing table is saved and read back at start. Default: nowhere. */
  stateFile?: string;
  /** Many nodes per IP in its routing table (tests and closed networks). Default false. */
  manyPerIp?: boolean;
}

/** Rate limits in bytes per second: `undefined` for none. */
export interface RateLimits {
  /** Most bytes per second received. */
  maxDownloadRate?: number;
  /** Most bytes per second sent. */
  maxUploadRate?: number;
}

/** The port could not be opened. */
export class ListenError extends ShoalError {}

const PORT_ATTEMPTS = 10;

/**
 * Runs torrents: one listening port, one peer id, many torrents.
 *
 * @example A session that downloads one torrent, stopped cleanly on Ctrl-C
 * ```ts
 * import { createTorrent } from "../metainfo/mod.ts";
 * import { Session } from "./mod.ts";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.writeFile(`${dir}/file.bin`, new Uint8Array(20_000));
 * const { torrent } = await createTorrent(`${dir}/file.bin`);
 *
 * const session = new Session({ port: 0, host: "127.0.0.1", maxDownloadRate: 1024 * 1024 });
 * console.log(`listening on port ${session.port}`);
 * const handle = session.add(torrent, { downloadDir: `${dir}/downloads` });
 * const stop = () => handle.stop();
 * Deno.addSignalListener("SIGINT", stop);
 * setTimeout(stop, 100); // nobody seeds it here
 * console.log(await handle.done); // "stopped"
 * Deno.removeSignalListener("SIGINT", stop);
 * await session.close(); // "stopped" to the trackers, resume data saved, port closed
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class Session {
  /** Our peer id. */
  readonly peerId: Uint8Array;
  /** The port we listen on and announce (0 when not listening). */
  readonly port: number;
  readonly #log: Logger;
  readonly #udp: UdpTrackerClient;
  /** Sends HTTP tracker requests from the first bound address, when there are any. */
  readonly #http?: Deno.HttpClient;
  readonly #transport?: Transport;
  readonly #torrents = new Map<string, TorrentHandle>();
  /**
   * The addresses we listen on: by default `::` (which also takes IPv4 where
   * the system allows dual-stack sockets) and `0.0.0.0` when it does not.
   * Empty when not listening.
   */
  readonly addresses: readonly string[] = [];
  /** The port asked for, when it was taken and {@linkcode port} is another. */
  readonly portTaken?: number;
  readonly #listeners: readonly PeerListener[] = [];
  readonly #timeouts?: PeerTimeouts;
  /** The session's rate limits (`Infinity` when there is none), which each torrent's limits are inside. */
  readonly #downloadLimiter: RateLimiter;
  readonly #uploadLimiter: RateLimiter;
  /** Incoming connections still in their handshake, with the task answering each. */
  readonly #handshakes = new Map<IncomingStream, Promise<void>>();
  /** Which of them may stay: a few per IP, the oldest giving way to a newcomer. */
  readonly #gate = new HandshakeGate<IncomingStream>();
  #accepting: Promise<void>[] = [];
  #closed = false;
  /** One tick a second for every running torrent. */
  readonly #clock = new Clock();
  /** Torrents being removed: close() waits for their stop. */
  readonly #removing = new Set<Promise<void>>();
  /** Local service discovery, when on. */
  readonly #lsd?: LocalDiscovery;
  /** The DHT, when on. */
  readonly #dht?: DhtDiscovery;
  /** The session-wide peer sources' clocks. */
  readonly #unsubscribe: (() => void)[] = [];

  /**
   * Opens the listening port.
   *
   * @throws {ListenError} When no port could be opened.
   */
  constructor(options: SessionOptions = {}) {
    this.peerId = options.peerId ?? randomPeerId();
    this.#log = options.log ?? silentLogger;
    const bind = options.bind ?? (options.host === undefined ? undefined : [options.host]);
    // UDP trackers are asked from the DHT's socket when the DHT is on (one UDP port for both).
    this.#udp = new UdpTrackerClient({ bind, shared: () => this.#dht?.node.sharedUdp() });
    if (bind && bind.length > 0) {
      this.#transport = dialFrom(bind);
      this.#http = Deno.createHttpClient({ localAddress: bind[0] });
    }
    this.#timeouts = options.timeouts;
    this.#downloadLimiter = new RateLimiter(options.maxDownloadRate || Infinity);
    this.#uploadLimiter = new RateLimiter(options.maxUploadRate || Infinity);
    if (options.listen === false) {
      this.port = options.port ?? 0;
      // Peers announcing on the LAN are still dialled; we announce nothing without a port.
      if (options.lsd) this.#lsd = this.#startLsd(bind, 0);
      if (options.dht) this.#dht = this.#startDht(options.dht, bind, 0);
      return;
    }
    const first = options.port ?? 6881;
    let opened: PeerListener[];
    try {
      opened = openListeners(bind, first);
    } catch (error) {
      this.#udp.close();
      this.#http?.close();
      throw error;
    }
    this.#listeners = opened;
    this.port = opened[0].local.port;
    this.addresses = opened.map((listener) => listener.local.host);
    if (this.port !== first && first !== 0) {
      this.portTaken = first;
      this.#log.warn(`port ${first} is taken; listening on ${this.port}`);
    }
    this.#accepting = opened.map((listener) => this.#accept(listener));
    if (options.lsd) this.#lsd = this.#startLsd(bind, this.port);
    if (options.dht) this.#dht = this.#startDht(options.dht, bind, this.port);
  }

  /** Local service discovery on the bound addresses, ticked by the session's clock. */
  #startLsd(bind: readonly string[] | undefined, port: number): LocalDiscovery {
    const lsd = new LocalDiscovery({ port, bind, log: this.#log });
    this.#unsubscribe.push(this.#clock.subscribe((now) => lsd.tick(now)));
    return lsd;
  }

  /** The DHT node on the bound addresses, its lookups ticked by the session's clock. */
  #startDht(
    options: true | SessionDhtOptions,
    bind: readonly string[] | undefined,
    port: number,
  ): DhtDiscovery | undefined {
    const settings = options === true ? {} : options;
    let node: DhtNode;
    try {
      node = new DhtNode({
        port: settings.port ?? (port || 6881),
        bind,
        bootstrap: settings.bootstrap,
        stateFile: settings.stateFile,
        manyPerIp: settings.manyPerIp,
        log: this.#log,
      });
    } catch (error) {
      this.#log.warn(`the DHT is off: ${(error as Error).message}`);
      return undefined;
    }
    const dht = new DhtDiscovery(node, { port, log: this.#log });
    this.#unsubscribe.push(this.#clock.subscribe((now) => dht.tick(now)));
    return dht;
  }

  /** The session-wide sources of peers that are on. */
  #services(): DiscoveryService[] {
    const services: DiscoveryService[] = [];
    if (this.#lsd) services.push(this.#lsd);
    if (this.#dht) services.push(this.#dht);
    return services;
  }

  /**
   * Changes the session-wide rate limits, at once for every torrent.
   *
   * @param limits Bytes per second; `undefined` (or 0) for no limit.
   */
  setRateLimits(limits: RateLimits): void {
    this.#downloadLimiter.rate = limits.maxDownloadRate || Infinity;
    this.#uploadLimiter.rate = limits.maxUploadRate || Infinity;
  }

  /** The session's DHT node, when the DHT is on. */
  get dht(): DhtNode | undefined {
    return this.#dht?.node;
  }

  /**
   * Adds a torrent and starts it, unless `options.paused` (then
   * `handle.resume()` starts it). A torrent added by magnet link is in the
   * `metadata` state (once resumed, when added paused) until its metadata
   * is fetched from peers (BEP 9), read from the `.torrent` an earlier start
   * saved in the state directory, or given by `handle.setMetadata()`.
   *
   * @param source A torrent, or a magnet link (`parseMagnet`).
   * @throws {ShoalError} When the torrent is already in the session.
   */
  add(source: Torrent | MagnetLink, options: AddTorrentOptions): TorrentHandle {
    if (this.#closed) throw new ShoalError("The session is closed");
    if (this.#torrents.has(source.infoHashHex)) {
      throw new ShoalError(`The torrent ${source.infoHashHex} is already in this session`);
    }
    const handle = new TorrentHandle(source, options, {
      peerId: this.peerId,
      port: this.port,
      udp: this.#udp,
      http: this.#http,
      transport: this.#transport,
      log: this.#log,
      downloadLimiter: this.#downloadLimiter,
      uploadLimiter: this.#uploadLimiter,
      clock: this.#clock,
      discovery: this.#services(),
      dht: this.#dht?.node,
    });
    this.#torrents.set(source.infoHashHex, handle);
    // A torrent file's DHT nodes (BEP 5), for a trackerless torrent's first contacts.
    if ("dhtNodes" in source && !source.private) this.#dht?.node.addNodes(source.dhtNodes);
    if (!options.paused) handle.resume();
    return handle;
  }

  /**
   * Stops a torrent and takes it out of the session: no peer reaches it any
   * more. With `deleteData`, what it downloaded goes too (its files and
   * the folders they leave empty, and its resume data).
   *
   * @param infoHash The torrent's info hash, as hex or bytes.
   * @throws {ShoalError} When no such torrent is in the session.
   * @throws {DiskError} When a file cannot be deleted.
   */
  async remove(
    infoHash: string | Uint8Array,
    options: { deleteData?: boolean } = {},
  ): Promise<void> {
    const hex = typeof infoHash === "string" ? infoHash.toLowerCase() : toHex(infoHash);
    const handle = this.#torrents.get(hex);
    if (!handle) throw new ShoalError(`The torrent ${hex} is not in this session`);
    this.#torrents.delete(hex);
    // close() waits for it: nothing of the session runs once close() resolves.
    const removing = handle.stop();
    this.#removing.add(removing);
    try {
      await removing;
    } finally {
      this.#removing.delete(removing);
    }
    if (options.deleteData) await handle.deleteData();
  }

  /** The torrents in the session. */
  torrents(): TorrentHandle[] {
    return [...this.#torrents.values()];
  }

  /**
   * Closes the session, in this order: the listening sockets and every
   * handshake still in progress (no new peer can arrive), then every torrent
   * (its peers, `stopped` to its trackers, pieces being written, resume
   * data, files), then local service discovery and the DHT (its table
   * saved), and last the UDP tracker
   * socket the torrents announced through. Resolves when nothing of the session runs any more; never
   * rejects.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const listener of this.#listeners) {
      try {
        listener.close();
      } catch {
        // Already closed.
      }
    }
    for (const conn of this.#handshakes.keys()) {
      try {
        conn.close();
      } catch {
        // The handshake task closed it already.
      }
    }
    await Promise.all([...this.#accepting, ...this.#handshakes.values()]);
    await Promise.all([...this.#torrents.values()].map((handle) => handle.stop()));
    await Promise.all(this.#removing);
    for (const unsubscribe of this.#unsubscribe) unsubscribe();
    await this.#lsd?.close();
    await this.#dht?.close();
    await this.#dht?.node.close();
    this.#clock.stop();
    this.#udp.close();
    this.#http?.close();
  }

  /** Info hashes of the torrents that take peers now. */
  *#servedInfoHashes(): Iterable<Uint8Array> {
    for (const handle of this.#torrents.values()) {
      const state = handle.state;
      if (state === "downloading" || state === "seeding" || state === "metadata") {
        yield handle.infoHash;
      }
    }
  }

  async #accept(listener: PeerListener): Promise<void> {
    try {
      for await (const conn of listener) {
        if (this.#closed) {
          conn.close();
          continue;
        }
        this.#gate.admit(conn, conn.remote.host);
        this.#handshakes.set(
          conn,
          this.#answer(conn).finally(() => {
            this.#gate.release(conn);
            this.#handshakes.delete(conn);
          }),
        );
      }
    } catch (error) {
      if (!this.#closed) {
        this.#log.warn(`stopped accepting connections: ${(error as Error).message}`);
      }
    }
  }

  /** Answers one incoming connection's handshake and hands it to its torrent; never rejects. */
  async #answer(conn: IncomingStream): Promise<void> {
    let connection;
    try {
      connection = await acceptPeer(conn, (infoHash) => {
        const handle = this.#torrents.get(toHex(infoHash));
        if (!handle || (handle.state !== "downloading" && handle.state !== "seeding")) {
          return undefined;
        }
        const dht = this.#dht !== undefined && handle.torrent?.private !== true;
        return { infoHash, peerId: this.peerId, timeouts: this.#timeouts, dht };
      }, {
        timeouts: this.#timeouts,
        infoHashes: () => this.#servedInfoHashes(),
      });
    } catch (error) {
      this.#log.debug(`incoming connection: ${(error as Error).message}`);
      return;
    }
    const handle = this.#torrents.get(toHex(connection.handshake.infoHash));
    if (this.#closed || !handle) return connection.close();
    try {
      handle.adopt(connection);
    } catch (error) {
      connection.close();
      this.#log.error(`incoming connection: ${(error as Error).stack} (a bug; please report it)`);
    }
  }
}

/** Calls its subscribers once a second, while it has any. */
class Clock implements SessionClock {
  readonly #ticks = new Set<(now: number) => void>();
  #timer?: ReturnType<typeof setInterval>;

  subscribe(tick: (now: number) => void): () => void {
    // Each subscription is its own entry, even when the same function subscribes twice.
    const entry = (now: number) => tick(now);
    this.#ticks.add(entry);
    this.#timer ??= setInterval(() => {
      const now = Date.now();
      for (const each of [...this.#ticks]) each(now);
    }, 1000);
    return () => {
      this.#ticks.delete(entry);
      if (this.#ticks.size === 0) this.stop();
    };
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}

/**
 * Opens the listening sockets on `first` or the next free port of
 * {@linkcode PORT_ATTEMPTS}, the same port on every address. Without bound
 * addresses: `::` and `0.0.0.0`. Where `::` is dual-stack (Linux by
 * default) it takes IPv4 too and the second bind reports the port in use,
 * which is expected; where the system has no IPv6, `0.0.0.0` alone.
 *
 * @throws {ListenError} When no port is free.
 * @throws {NetworkError} When Deno's permissions do not allow listening there.
 */
function openListeners(bind: readonly string[] | undefined, first: number): PeerListener[] {
  let lastError: unknown;
  for (let attempt = 0; attempt < (first === 0 ? 1 : PORT_ATTEMPTS); attempt++) {
    const port = first === 0 ? 0 : first + attempt;
    if (port > 65535) break;
    try {
      if (bind && bind.length > 0) return listenOn(bind, port);
      return listenEverywhere(port);
    } catch (error) {
      const refusal = permissionRefusal(error);
      if (refusal) {
        throw permissionError(
          refusal,
          `Cannot listen for peers on ${refusal.target ?? `port ${port}`}${
            bind ? "" : " (every address; --bind <address> listens on one)"
          }`,
          error,
        );
      }
      if (!(error instanceof Deno.errors.AddrInUse)) {
        throw new ListenError(`Cannot listen on port ${port}: ${(error as Error).message}`, {
          cause: error,
        });
      }
      lastError = error;
    }
  }
  throw new ListenError(
    `Cannot listen on ${bind?.join(", ") ?? "any address"} port ${first}${
      first ? `–${Math.min(65535, first + PORT_ATTEMPTS - 1)}` : ""
    }: ${(lastError as Error)?.message}; choose another port with -p`,
    { cause: lastError },
  );
}

/** Listens on each address at `port`, or on none (closing those opened) when one fails. */
function listenOn(addresses: readonly string[], port: number): PeerListener[] {
  const opened: PeerListener[] = [];
  try {
    for (const hostname of addresses) {
      opened.push(listenTcp(hostname, opened[0]?.local.port ?? port));
    }
    return opened;
  } catch (error) {
    for (const listener of opened) listener.close();
    throw error;
  }
}

function listenEverywhere(port: number): PeerListener[] {
  let v6: PeerListener;
  try {
    v6 = listenTcp("::", port);
  } catch (error) {
    if (error instanceof Deno.errors.AddrInUse || permissionRefusal(error)) throw error;
    return [listenTcp("0.0.0.0", port)]; // No IPv6 on this machine.
  }
  try {
    return [v6, listenTcp("0.0.0.0", v6.local.port)];
  } catch (error) {
    if (error instanceof Deno.errors.AddrInUse) return [v6]; // `::` is dual-stack.
    v6.close();
    throw error;
  }
}
