/**
 * A DHT node (BEP 5, with BEP 32 for IPv6 and BEP 42 node ids): one UDP
 * socket per address family shared by every torrent of a session, a
 * routing table, the peers others announce to it, and lookups.
 *
 * It answers `ping`, `find_node`, `get_peers` and `announce_peer` from
 * anyone, within limits: at most 25 queries a second from one source and
 * 500 in all, replies that fit a datagram, tokens tied to the querier's
 * IP, and a bounded store of announced peers. It bootstraps from the
 * nodes it saved last time and from bootstrap nodes (the built-in ones are
 * "routers", asked but never put in the table), again while the table is
 * short of nodes, keeps its table fresh (pings questionable nodes, refreshes
 * stale buckets) and saves it every 5 minutes and at close.
 *
 * @module
 */

import type { SharedUdp } from "../net/shared_udp.ts";
import { lookup as lookupHost } from "node:dns/promises";
import { addressScope, ipv4Bytes, ipv6Bytes } from "../net/_ip.ts";
import { compactPeer, parseCompactPeers } from "../net/compact.ts";
import { parsePeerAddress, type PeerAddress } from "../net/peer_address.ts";
import { writeAtomically } from "../storage/_atomic_write.ts";
import { setNewest } from "../util/_bounded.ts";
import { fromHex, toHex } from "../util/_bytes.ts";
import { type Logger, silentLogger } from "../util/log.ts";
import { OwnedTasks } from "../util/_owned_tasks.ts";
import { ExternalAddressVotes } from "./_external_address.ts";
import { lookup, type LookupAnswer, type LookupResult } from "./_lookup.ts";
import { type DatagramSource, UdpSockets } from "./_udp_sockets.ts";
import { encodeCompactNodes, type NodeContact, parseCompactNodes } from "./compact_nodes.ts";
import {
  decodeKrpc,
  encodeKrpc,
  type KrpcArguments,
  KrpcDecodeError,
  KrpcErrorCode,
  type KrpcMessage,
  type KrpcQuery,
  type KrpcResponse,
  type KrpcResult,
} from "./krpc.ts";
import { bep42NodeId, isBep42Valid } from "./node_id.ts";
import { PeerStore } from "./peer_store.ts";
import { type BucketSummary, RoutingTable } from "./routing_table.ts";
import { TokenSecrets } from "./tokens.ts";

/**
 * Bootstrap nodes that answer today. `router.utorrent.com` and
 * `router.bittorrent.com` stopped answering in 2024 (qBittorrent #21296,
 * Transmission #7176).
 */
export const DEFAULT_BOOTSTRAP: readonly string[] = [
  "dht.libtorrent.org:25401",
  "dht.transmissionbt.com:6881",
  "router.bittorrent.cloud:42069",
  "dht.anacrolix.link:42069",
];

/** Options of {@linkcode DhtNode}. */
export interface DhtNodeOptions {
  /** The UDP port. Default 6881; when taken, any free port. 0 picks any. */
  port?: number;
  /** Addresses to bind to (the first of each family). Default: every interface. */
  bind?: readonly string[];
  /**
   * Bootstrap nodes, `host:port`: they enter the table when they answer, as any node. Default
   * {@linkcode DEFAULT_BOOTSTRAP}, which are only asked (never in the table); `[]` for none.
   */
  bootstrap?: readonly string[];
  /** Where the routing table is saved (JSON) and read from at start. Default: nowhere. */
  stateFile?: string;
  /** Our node id. Default: the saved one, else a random one (made to follow BEP 42 once our external address is known). */
  id?: Uint8Array;
  /** Many routing-table entries per IP (tests, closed networks: every node is 127.0.0.1). Default false. */
  manyPerIp?: boolean;
  /** Where to log. */
  log?: Logger;
  /** Hard timeout of one query, in ms. Default 4 s. */
  queryTimeoutMs?: number;
  /** Soft timeout of one lookup query (its slot goes to another), in ms. Default 1 s. */
  softTimeoutMs?: number;
}

/** What {@linkcode DhtNode.stats} reports. */
export interface DhtStats {
  /** Our node id, hex. */
  id: string;
  /** The UDP port. */
  port: number;
  /** Nodes in the routing table. */
  nodes: number;
  /** The buckets. */
  buckets: BucketSummary[];
  /** Peers others announced to us. */
  storedPeers: number;
  /** The torrents they announced. */
  storedInfoHashes: number;
  /** Queries sent since start. */
  queriesSent: number;
  /** Queries received since start. */
  queriesReceived: number;
  /** Datagrams dropped: malformed, over a rate limit, unexpected replies. */
  dropped: number;
}

/** What a peer lookup found. */
export interface PeerLookup extends LookupResult {
  /** How long it took, in ms. */
  ms: number;
  /** Nodes an `announce_peer` reached (0 when not announcing). */
  announced: number;
}

interface Pending {
  host: string;
  port: number;
  resolve: (reply: KrpcResponse | undefined) => void;
  timer: ReturnType<typeof setTimeout>;
}

const MAX_PENDING = 512;
/** Pings (of nodes that queried us, that peers named, questionable ones) unanswered at once. */
const MAX_PINGS_IN_FLIGHT = 64;
const PER_SOURCE_PER_SECOND = 25;
const QUERIES_PER_SECOND = 500;
const REMEMBERED = 4096;
const SAVE_EVERY_MS = 5 * 60_000;
const SAVED_NODES = 200;
const MAX_BOOTSTRAP_WAIT_MS = 5 * 60_000;

/** The bytes of an IP address, or undefined. */
function ipBytes(host: string): Uint8Array | undefined {
  return ipv4Bytes(host) ?? ipv6Bytes(host);
}

/**
 * One DHT node.
 *
 * @example Two nodes on loopback: one announces, the other finds it
 * ```ts
 * import { DhtNode } from "./dht_node.ts";
 *
 * const first = new DhtNode({ port: 0, bind: ["127.0.0.1"], bootstrap: [], manyPerIp: true });
 * const second = new DhtNode({
 *   port: 0,
 *   bind: ["127.0.0.1"],
 *   bootstrap: [`127.0.0.1:${first.port}`],
 *   manyPerIp: true,
 * });
 * const infoHash = new Uint8Array(20).fill(7);
 * await first.announce(infoHash, 6881); // too few nodes to store it anywhere but…
 * const found = await second.announce(infoHash, 6882); // …second asks first, which stores second
 * console.log(found.announced); // 1
 * await second.close();
 * await first.close();
 * ```
 */
export class DhtNode {
  readonly #sockets: UdpSockets;
  readonly #log: Logger;
  readonly #options: DhtNodeOptions;
  #table: RoutingTable;
  readonly #tokens = new TokenSecrets();
  readonly #store = new PeerStore();
  readonly #pending = new Map<number, Pending>();
  readonly #tasks: OwnedTasks;
  readonly #closing = new AbortController();
  readonly #votes = new ExternalAddressVotes();
  /** Bootstrap nodes, resolved: asked first while the table is short of nodes. */
  #routers: PeerAddress[] = [];
  readonly #routerKeys = new Set<string>();
  /** Nodes saved last time, tried at bootstrap. */
  #saved: NodeContact[] = [];
  readonly #sources = new Map<string, { second: number; count: number }>();
  #second = { at: 0, count: 0 };
  readonly #pinged = new Map<string, number>();
  #nextTransaction = Math.floor(Math.random() * 0x10000);
  readonly #listening: Promise<void>;
  readonly #ready: Promise<void>;
  readonly #clock: ReturnType<typeof setInterval>;
  #bootstrapping = false;
  #nextBootstrapAt = 0;
  #bootstrapWaitMs = 5_000;
  /** Whether the table held nodes since the last bootstrap. */
  #wasFull = false;
  #savedAt = Date.now();
  #expiredAt = Date.now();
  #closed = false;
  #pingsInFlight = 0;
  #lent?: SharedUdp;
  /** Who gets the datagrams that are not KRPC (see {@linkcode sharedUdp}). */
  #foreign?: (datagram: Uint8Array, from: PeerAddress) => void;
  /** Whether the first bootstrap has ended (the tick's bootstraps wait for it). */
  #started = false;
  #stats = { queriesSent: 0, queriesReceived: 0, dropped: 0 };

  /**
   * Opens the node's sockets and reads its saved table, then listens and
   * bootstraps in the background.
   *
   * @throws {Error} When no UDP socket could be opened (Deno's `net` flag, permissions).
   */
  constructor(options: DhtNodeOptions = {}) {
    this.#options = options;
    this.#log = options.log ?? silentLogger;
    this.#tasks = new OwnedTasks(this.#log);
    const saved = options.stateFile ? readState(options.stateFile, this.#log) : undefined;
    this.#sockets = UdpSockets.open(options.port ?? 6881, options.bind, this.#log);
    const id = options.id ?? saved?.id ?? crypto.getRandomValues(new Uint8Array(20));
    this.#table = new RoutingTable(id, { manyPerIp: options.manyPerIp });
    this.#saved = saved?.nodes ?? [];
    this.#listening = this.#sockets.run((datagram, from) => this.#heard(datagram, from));
    this.#clock = setInterval(() => this.#tick(Date.now()), 1000);
    this.#ready = this.#start().finally(() => void (this.#started = true));
    this.#tasks.spawn(this.#ready, "DHT bootstrap");
    this.#log.info(`DHT: node ${toHex(id).slice(0, 8)}… on UDP port ${this.#sockets.port}`);
  }

  /** Resolves when the first bootstrap has ended (whatever it found); never rejects. */
  ready(): Promise<void> {
    return this.#ready.catch(() => {});
  }

  /** Our node id. */
  get id(): Uint8Array {
    return this.#table.id;
  }

  /** The UDP port. */
  get port(): number {
    return this.#sockets.port;
  }

  /** Nodes in the routing table. */
  get size(): number {
    return this.#table.size;
  }

  /** The routing table's state and the node's counters. */
  stats(now: number = Date.now()): DhtStats {
    return {
      id: toHex(this.id),
      port: this.port,
      nodes: this.#table.size,
      buckets: this.#table.buckets(now),
      storedPeers: this.#store.size,
      storedInfoHashes: this.#store.infoHashes,
      ...this.#stats,
    };
  }

  async #start(): Promise<void> {
    const names = this.#options.bootstrap ?? DEFAULT_BOOTSTRAP;
    const resolved = await Promise.all(names.map((name) => this.#resolve(name)));
    this.#routers = resolved.flat();
    // The built-in routers answer bootstrap queries for everybody: asked, never put in the
    // table (it would send them everyone's queries). Nodes the user names are nodes like any.
    if (!this.#options.bootstrap) {
      for (const router of this.#routers) this.#routerKeys.add(`${router.host}:${router.port}`);
    }
    await this.#bootstrap();
  }

  /** The addresses of one bootstrap node; none when the name does not resolve. */
  async #resolve(name: string): Promise<PeerAddress[]> {
    const address = parsePeerAddress(name);
    if (!address) {
      this.#log.warn(`DHT: bootstrap node "${name}" is not host:port; skipped`);
      return [];
    }
    if (ipBytes(address.host)) return [address];
    if (this.#closed) return [];
    try {
      // Closing does not wait for a slow resolver.
      const closing = this.#closing.signal;
      const closed = new Promise<never>((_, reject) =>
        closing.addEventListener("abort", () => reject(new Error("the node closed")), {
          once: true,
        })
      );
      const found = await Promise.race([lookupHost(address.host, { all: true }), closed]);
      return found
        .filter((entry) => this.#sockets.reaches(entry.family === 6 ? 6 : 4))
        .map((entry) => ({ host: entry.address, port: address.port }));
    } catch (error) {
      if (this.#closed) return [];
      this.#log.warn(`DHT: cannot resolve the bootstrap node ${name}: ${(error as Error).message}`);
      return [];
    }
  }

  /** Looks for the nodes closest to our own id, from the saved nodes and the routers. */
  async #bootstrap(): Promise<void> {
    if (this.#bootstrapping || this.#closed) return;
    this.#bootstrapping = true;
    try {
      const seeds: NodeContact[] = [
        ...this.#table.closest(this.id),
        ...this.#saved,
        ...this.#routers.map((router) => ({ ...router, id: this.id })),
      ];
      if (seeds.length === 0) {
        this.#log.debug("DHT: no node to bootstrap from");
        return;
      }
      const result = await this.#lookup(this.id, "find_node", seeds);
      // Our own neighbourhood is known now; then each bucket short of nodes is filled from
      // what the table and the routers know of its part of the space.
      const routers = (target: Uint8Array) =>
        this.#routers.map((router) => ({ ...router, id: target }));
      const sparse = this.#table.buckets(Date.now()).slice(0, -1)
        .filter((bucket) => bucket.nodes < 8).slice(0, 16)
        .map((bucket) => this.#table.randomIdAt(bucket.depth));
      const refreshed = await Promise.all(
        sparse.map((target) =>
          this.#lookup(target, "find_node", [...this.#table.closest(target), ...routers(target)])
        ),
      );
      const queries = refreshed.reduce((sum, lookup) => sum + lookup.queries, result.queries);
      this.#log.debug(`DHT: bootstrap: ${this.#table.size} nodes after ${queries} queries`);
    } finally {
      this.#bootstrapping = false;
      this.#nextBootstrapAt = Date.now() + this.#bootstrapWaitMs;
      this.#bootstrapWaitMs = Math.min(this.#bootstrapWaitMs * 2, MAX_BOOTSTRAP_WAIT_MS);
    }
  }

  /** Once a second: keeps the table alive, expires stored peers, saves. */
  #tick(now: number): void {
    if (this.#closed) return;
    // Again while the table is short of a bucket's worth, backing off from 5 s to 5 minutes;
    // from 5 s again once it has emptied.
    if (this.#started && this.#table.size < 8 && now >= this.#nextBootstrapAt) {
      if (this.#table.size === 0 && this.#wasFull) this.#bootstrapWaitMs = 5_000;
      this.#wasFull = this.#table.size > 0;
      this.#tasks.spawn(this.#bootstrap(), "DHT bootstrap");
    } else if (this.#table.size > 0) this.#wasFull = true;
    for (const node of this.#table.questionable(now).slice(0, 2)) this.#ping(node, now, 30_000);
    const stale = this.#table.size > 0 ? this.#table.staleTarget(now) : undefined;
    if (stale) this.#tasks.spawn(this.#lookup(stale, "find_node").then(() => {}), "DHT refresh");
    if (now - this.#expiredAt >= 60_000) {
      this.#expiredAt = now;
      this.#store.expire(now);
    }
    if (this.#options.stateFile && now - this.#savedAt >= SAVE_EVERY_MS) {
      this.#savedAt = now;
      this.#tasks.spawn(this.save(), "DHT save");
    }
  }

  /**
   * Pings a node, unless it was pinged less than `notWithinMs` ago or too
   * many pings are unanswered already (lookups keep their room).
   */
  #ping(node: PeerAddress, now: number, notWithinMs: number): void {
    const key = `${node.host}:${node.port}`;
    if (now - (this.#pinged.get(key) ?? 0) < notWithinMs) return;
    if (this.#pingsInFlight >= MAX_PINGS_IN_FLIGHT) return;
    setNewest(this.#pinged, key, now, REMEMBERED);
    this.#pingsInFlight++;
    const done = () => void this.#pingsInFlight--;
    this.#tasks.spawn(this.#query(node, "ping", {}).then(done, done), "DHT ping");
  }

  /**
   * Pings a node another peer named (the PORT message of BEP 5): it
   * enters the table if it answers.
   */
  addNode(host: string, port: number): void {
    if (this.#closed || !ipBytes(host) || port < 1 || port > 0xffff) return;
    if (!this.#table.get(`${host}:${port}`)) this.#ping({ host, port }, Date.now(), 60_000);
  }

  /**
   * Pings nodes a torrent file names (its `nodes` list, BEP 5): host names
   * are resolved first; at most 16 are taken.
   */
  addNodes(nodes: readonly { host: string; port: number }[]): void {
    for (const { host, port } of nodes.slice(0, 16)) {
      if (this.#closed) return;
      if (ipBytes(host)) {
        this.addNode(host, port);
        continue;
      }
      const resolving = this.ready()
        .then(() => this.#resolve(`${host}:${port}`))
        .then((found) => found.forEach((node) => this.addNode(node.host, node.port)));
      this.#tasks.spawn(resolving, `resolving the DHT node ${host}`);
    }
  }

  /**
   * Finds peers for a torrent: a `get_peers` lookup towards its info hash.
   *
   * @param onPeers Called with peers as they arrive.
   */
  async getPeers(
    infoHash: Uint8Array,
    options: { onPeers?: (peers: PeerAddress[]) => void; signal?: AbortSignal } = {},
  ): Promise<PeerLookup> {
    const start = performance.now();
    const result = await this.#lookup(infoHash, "get_peers", undefined, options);
    return { ...result, ms: performance.now() - start, announced: 0 };
  }

  /**
   * Finds peers for a torrent and announces us on `port` to the closest
   * nodes that answered (with `implied_port` when our DHT port is our
   * peer port: a NAT maps both alike).
   */
  async announce(
    infoHash: Uint8Array,
    port: number,
    options: { onPeers?: (peers: PeerAddress[]) => void; signal?: AbortSignal } = {},
  ): Promise<PeerLookup> {
    const start = performance.now();
    const result = await this.#lookup(infoHash, "get_peers", undefined, options);
    // Stopped meanwhile (the torrent went away, the node closes): nobody is told of it.
    if (options.signal?.aborted || this.#closed) {
      return { ...result, ms: performance.now() - start, announced: 0 };
    }
    const replies = await Promise.all(
      result.closest.filter((responder) => responder.token).map(({ node, token }) =>
        this.#query(node, "announce_peer", {
          infoHash,
          port,
          token,
          impliedPort: port === this.port,
        })
      ),
    );
    const announced = replies.filter((reply) => reply !== undefined).length;
    return { ...result, ms: performance.now() - start, announced };
  }

  /** Looks for the nodes closest to `target` (`find_node`). */
  findNode(target: Uint8Array): Promise<LookupResult> {
    return this.#lookup(target, "find_node");
  }

  #lookup(
    target: Uint8Array,
    method: "find_node" | "get_peers",
    seeds?: NodeContact[],
    options: { onPeers?: (peers: PeerAddress[]) => void; signal?: AbortSignal } = {},
  ): Promise<LookupResult> {
    const start = seeds ?? this.#seeds(target);
    const signal = options.signal
      ? AbortSignal.any([options.signal, this.#closing.signal])
      : this.#closing.signal;
    return lookup({
      target,
      seeds: start,
      softTimeoutMs: this.#options.softTimeoutMs,
      signal,
      onPeers: options.onPeers,
      ask: (node) => this.#ask(node, method, target),
    });
  }

  /** The table's closest nodes, and the routers too while the table is small. */
  #seeds(target: Uint8Array): NodeContact[] {
    const closest: NodeContact[] = this.#table.closest(target);
    if (closest.length >= 8) return closest;
    return [...closest, ...this.#routers.map((router) => ({ ...router, id: target }))];
  }

  /** One lookup query, its answer read as nodes and peers. */
  async #ask(
    node: NodeContact,
    method: "find_node" | "get_peers",
    target: Uint8Array,
  ): Promise<LookupAnswer | undefined> {
    const args: Partial<KrpcArguments> = method === "find_node" ? { target } : { infoHash: target };
    const reply = await this.#query(node, method, args);
    if (!reply) return undefined;
    const { result } = reply;
    const nodes = [
      ...(result.nodes ? parseCompactNodes(result.nodes, 4) : []),
      ...(result.nodes6 ? parseCompactNodes(result.nodes6, 6) : []),
    ].filter((named) => this.#usable(named, node.host));
    const peers: PeerAddress[] = [];
    for (const value of result.values ?? []) {
      const [peer] = parseCompactPeers(value, value.length === 6 ? 4 : 6).peers;
      if (peer && this.#reachableFrom(peer.host, node.host)) peers.push(peer);
    }
    return { id: result.id, nodes, peers, token: result.token };
  }

  /** Whether a node named by `by` is worth asking: not us, reachable, in scope. */
  #usable(named: NodeContact, by: string): boolean {
    if (toHex(named.id) === toHex(this.id)) return false;
    if (!this.#sockets.reaches(named.host.includes(":") ? 6 : 4)) return false;
    return this.#reachableFrom(named.host, by);
  }

  /**
   * Loopback addresses only from a node on this machine, local-network
   * ones only from a node on a local network, never unusable ones.
   */
  #reachableFrom(host: string, by: string): boolean {
    const scope = addressScope(host);
    if (scope === "unusable") return false;
    const from = addressScope(by);
    if (scope === "loopback") return from === "loopback";
    if (scope === "private") return from !== "public";
    return true;
  }

  /** Sends a query; resolves with the response, or undefined (error, timeout, closed). */
  #query(
    to: PeerAddress,
    method: string,
    args: Partial<KrpcArguments>,
  ): Promise<KrpcResponse | undefined> {
    if (this.#closed || this.#pending.size >= MAX_PENDING) return Promise.resolve(undefined);
    let transaction = this.#nextTransaction;
    while (this.#pending.has(transaction)) transaction = (transaction + 1) & 0xffff;
    this.#nextTransaction = (transaction + 1) & 0xffff;
    const datagram = encodeKrpc({
      kind: "query",
      transaction: new Uint8Array([transaction >> 8, transaction & 0xff]),
      method,
      args: { id: this.id, ...args, want: this.#want() },
    });
    this.#stats.queriesSent++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#pending.delete(transaction);
        this.#table.failed(`${to.host}:${to.port}`);
        resolve(undefined);
      }, this.#options.queryTimeoutMs ?? 4000);
      this.#pending.set(transaction, { host: to.host, port: to.port, resolve, timer });
      this.#sockets.send(datagram, to.host, to.port);
    });
  }

  /** BEP 32: the families of nodes we can use. */
  #want(): ("n4" | "n6")[] | undefined {
    const both = this.#sockets.reaches(4) && this.#sockets.reaches(6);
    return both ? ["n4", "n6"] : undefined;
  }

  /**
   * The node's socket, lent to the session's UDP tracker client: it sends
   * from the DHT's port and gets the datagrams that are not KRPC.
   */
  sharedUdp(): SharedUdp {
    return this.#lent ??= {
      reaches: (family) => !this.#closed && this.#sockets.reaches(family),
      send: (datagram, host, port) => this.#sockets.sendOrThrow(datagram, host, port),
      lend: (receiver) => void (this.#foreign = receiver),
    };
  }

  /** A datagram arrived. Never throws. */
  #heard(datagram: Uint8Array, from: DatagramSource): void {
    if (this.#closed) return;
    // Not a bencoded dictionary: a UDP tracker's reply, for the client the socket is lent to.
    if (datagram[0] !== 0x64 && this.#foreign) {
      try {
        this.#foreign(datagram, from);
      } catch (error) {
        this.#log.error(`DHT: the socket's borrower failed: ${(error as Error).message}`);
      }
      return;
    }
    let message: KrpcMessage;
    try {
      message = decodeKrpc(datagram);
    } catch (error) {
      this.#stats.dropped++;
      if (error instanceof KrpcDecodeError && error.query && error.transaction) {
        if (this.#admit(from)) {
          this.#reply(from, {
            kind: "error",
            transaction: error.transaction,
            code: KrpcErrorCode.Protocol,
            message: error.message,
          });
        }
      }
      return;
    }
    try {
      if (message.kind === "query") {
        if (!this.#admit(from)) {
          this.#stats.dropped++;
          return;
        }
        this.#stats.queriesReceived++;
        this.#serve(message, from);
      } else this.#answered(message, from);
    } catch (error) {
      this.#log.error(`DHT: ${(error as Error).stack} (a bug; please report it)`);
    }
  }

  /** Whether a query from `from` is within the rate limits. */
  #admit(from: DatagramSource): boolean {
    const now = Date.now();
    const second = Math.floor(now / 1000);
    // The source's own limit first: what one source floods must not use up everyone's budget.
    const key = this.#options.manyPerIp ? `${from.host}:${from.port}` : from.host;
    const source = this.#sources.get(key);
    if (source && source.second === second) {
      if (++source.count > PER_SOURCE_PER_SECOND) return false;
    } else setNewest(this.#sources, key, { second, count: 1 }, REMEMBERED);
    if (this.#second.at !== second) this.#second = { at: second, count: 0 };
    return ++this.#second.count <= QUERIES_PER_SECOND;
  }

  /** A response or an error to one of our queries. */
  #answered(message: KrpcMessage, from: DatagramSource): void {
    const transaction = message.transaction.length === 2
      ? (message.transaction[0] << 8) | message.transaction[1]
      : -1;
    const pending = this.#pending.get(transaction);
    if (!pending || pending.host !== from.host || pending.port !== from.port) {
      this.#stats.dropped++;
      return;
    }
    this.#pending.delete(transaction);
    clearTimeout(pending.timer);
    if (message.kind !== "response") return pending.resolve(undefined);
    const key = `${from.host}:${from.port}`;
    if (!this.#routerKeys.has(key)) {
      const ip = ipBytes(from.host);
      const verified = ip ? isBep42Valid(message.result.id, ip) : false;
      this.#table.confirmed({ ...from, id: message.result.id }, true, Date.now(), verified);
    }
    // One vote per IP address (one host answering from many ports is one voter), except
    // where many nodes share an address by design.
    if (message.ip) this.#voteExternal(message.ip, this.#options.manyPerIp ? key : from.host);
    pending.resolve(message);
  }

  /** BEP 42: a node says where it sees us; once we believe it, our id follows it. */
  #voteExternal(compact: Uint8Array, voter: string): void {
    const [seen] = parseCompactPeers(compact, compact.length === 6 ? 4 : 6).peers;
    if (!seen) return;
    const address = this.#votes.vote(voter, seen.host);
    const ip = address ? ipBytes(address) : undefined;
    if (!ip || isBep42Valid(this.id, ip)) return;
    const id = bep42NodeId(ip);
    this.#log.info(
      `DHT: our address is ${address}; node id now ${toHex(id).slice(0, 8)}… (BEP 42)`,
    );
    const old = this.#table.nodes();
    this.#table = new RoutingTable(id, { manyPerIp: this.#options.manyPerIp });
    // Each node keeps when it last answered and the queries it failed since.
    for (const node of old) {
      this.#table.confirmed(node, true, node.repliedAt || Date.now(), node.verified);
      for (let i = 0; i < node.failures; i++) this.#table.failed(node.key);
    }
  }

  #reply(to: DatagramSource, message: KrpcMessage): void {
    this.#sockets.send(encodeKrpc(message), to.host, to.port);
  }

  /** Answers a query. */
  #serve(query: KrpcQuery, from: DatagramSource): void {
    const now = Date.now();
    const key = `${from.host}:${from.port}`;
    const family = from.host.includes(":") ? 6 : 4;
    const { args } = query;
    const result: KrpcResult = { id: this.id };
    const nodesFor = (target: Uint8Array) => {
      const want = args.want?.length ? args.want : [family === 4 ? "n4" : "n6"];
      if (want.includes("n4")) {
        result.nodes = encodeCompactNodes(this.#table.closest(target, 8, 4), 4);
      }
      if (want.includes("n6")) {
        result.nodes6 = encodeCompactNodes(this.#table.closest(target, 8, 6), 6);
      }
    };
    switch (query.method) {
      case "ping":
        break;
      case "find_node":
        nodesFor(args.target!);
        break;
      case "get_peers": {
        const infoHash = args.infoHash!;
        result.token = this.#tokens.issue(from.host, infoHash, now);
        const values = this.#store.values(infoHash, family, now);
        if (values.length > 0) result.values = values;
        nodesFor(infoHash);
        break;
      }
      case "announce_peer": {
        const infoHash = args.infoHash!;
        if (!this.#tokens.accepts(args.token!, from.host, infoHash, now)) {
          return this.#reply(from, {
            kind: "error",
            transaction: query.transaction,
            code: KrpcErrorCode.Protocol,
            message: "bad token",
          });
        }
        const port = args.impliedPort ? from.port : args.port!;
        const peer = compactPeer({ host: from.host, port });
        if (peer) this.#store.add(infoHash, peer.bytes, now);
        break;
      }
      default:
        return this.#reply(from, {
          kind: "error",
          transaction: query.transaction,
          code: KrpcErrorCode.MethodUnknown,
          message: "method unknown",
        });
    }
    this.#reply(from, {
      kind: "response",
      transaction: query.transaction,
      result,
      ip: compactPeer(from)?.bytes,
    });
    // A node that queries us may belong in our table: it enters once it answers a ping.
    if (query.readOnly || this.#routerKeys.has(key)) return;
    if (this.#table.confirmed({ ...from, id: args.id }, false, now) === "refused") {
      this.#ping(from, now, 60_000);
    }
  }

  /** The nodes worth saving: the table's, most recently answered first. */
  savedNodes(): NodeContact[] {
    return this.#table.nodes().reverse().slice(0, SAVED_NODES)
      .map(({ id, host, port }) => ({ id, host, port }));
  }

  /** Saves the routing table (our id and its nodes) to the state file. */
  async save(): Promise<void> {
    const file = this.#options.stateFile;
    if (!file) return;
    const nodes = this.savedNodes();
    const state = {
      id: toHex(this.id),
      nodes: (nodes.length > 0 ? nodes : this.#saved).map((node) => ({
        id: toHex(node.id),
        host: node.host,
        port: node.port,
      })),
    };
    try {
      await writeAtomically(
        file,
        new TextEncoder().encode(JSON.stringify(state)),
        "save DHT nodes to",
      );
    } catch (error) {
      this.#log.warn(`DHT: ${(error as Error).message}`);
    }
  }

  /** Stops: every query given up, sockets closed, the table saved. Never rejects. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#closing.abort();
    clearInterval(this.#clock);
    for (const pending of this.#pending.values()) {
      clearTimeout(pending.timer);
      pending.resolve(undefined);
    }
    this.#pending.clear();
    await this.#tasks.settle();
    const { queriesSent, queriesReceived } = this.#stats;
    this.#log.info(
      `DHT: ${queriesSent} queries sent, ${queriesReceived} received; ${this.#table.size} nodes in the table`,
    );
    await this.save();
    this.#sockets.close();
    await this.#listening;
  }
}

/** Reads a saved table; anything malformed in it is left out. */
function readState(
  file: string,
  log: Logger,
): { id?: Uint8Array; nodes: NodeContact[] } | undefined {
  let text: string;
  try {
    text = Deno.readTextFileSync(file);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) {
      log.warn(`DHT: cannot read ${file}: ${(error as Error).message}`);
    }
    return undefined;
  }
  try {
    const state = JSON.parse(text.slice(0, 1 << 20));
    const id = typeof state?.id === "string" ? fromHex(state.id) : undefined;
    const nodes: NodeContact[] = [];
    for (const node of Array.isArray(state?.nodes) ? state.nodes.slice(0, SAVED_NODES) : []) {
      const nodeId = typeof node?.id === "string" ? fromHex(node.id) : undefined;
      const host = typeof node?.host === "string" ? node.host : "";
      const port = node?.port;
      if (nodeId?.length !== 20 || !ipBytes(host) || !Number.isInteger(port)) continue;
      if (port < 1 || port > 0xffff) continue;
      nodes.push({ id: nodeId, host, port });
    }
    return { id: id?.length === 20 ? id : undefined, nodes };
  } catch {
    log.warn(`DHT: ${file} is not a saved routing table; starting afresh`);
    return undefined;
  }
}
