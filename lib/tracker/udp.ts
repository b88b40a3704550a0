/**
 * UDP tracker client (BEP 15). One client owns one socket per address family
 * and serves any number of trackers and torrents at once: replies are matched
 * to requests by transaction id and sender address, connection ids are reused
 * for a minute, and requests are retransmitted on the 15 × 2^n second
 * schedule (configurable).
 *
 * Packets that are too short, carry an unknown transaction id, the wrong
 * action, or come from another address are ignored and counted.
 *
 * @module
 */

import type { SharedUdp } from "../net/shared_udp.ts";
import { lookup } from "node:dns/promises";
import {
  ACTION_ANNOUNCE,
  ACTION_CONNECT,
  ACTION_SCRAPE,
  judgeUdpReply,
  parseUdpAnnounceReply,
  parseUdpConnectReply,
  parseUdpScrapeReply,
  udpReplyHeader,
} from "./_udp_reply.ts";
import { isPermissionError, networkPermissionError, TrackerError } from "./errors.ts";
import {
  type AnnounceRequest,
  type AnnounceResult,
  type ScrapeResult,
  UDP_EVENT_CODES,
} from "./types.ts";
import { formatDuration } from "../util/size.ts";

const PROTOCOL_ID = 0x41727101980n;
/** Most info hashes in one UDP scrape (BEP 15: "about 74"). */
export const MAX_UDP_SCRAPE_HASHES = 74;

/** Options of {@linkcode UdpTrackerClient}. */
export interface UdpTrackerOptions {
  /** First wait before a retransmission, in ms: 15 s in BEP 15. */
  retransmitBaseMs?: number;
  /** Largest n in 15 × 2^n: 8 in BEP 15. The request fails after that wait. */
  maxRetransmits?: number;
  /** How long a connection id is used, in ms: 60 s in BEP 15. */
  connectionIdTtlMs?: number;
  /** Called for every ignored packet, with the reason (for logs and tests). */
  onIgnoredPacket?: (reason: string) => void;
  /**
   * Local addresses to send from (`--bind`): the socket of each family binds
   * the first address of that family. Default: every address (`0.0.0.0`, `::`).
   */
  bind?: readonly string[];
  /**
   * A socket to send from instead of its own, when there is one (the
   * session's DHT node lends its socket: one UDP port for both); asked at
   * each send, so it may come and go. Its families it cannot reach, and
   * every request when it gives none, use the client's own sockets.
   */
  shared?: () => SharedUdp | undefined;
}

/** A retransmission about to go out: the tracker has not answered yet. */
export interface UdpRetry {
  /** Tries sent so far without an answer. */
  tries: number;
  /** How long they waited in all, in ms. */
  waitedMs: number;
  /** How long the next try will wait, in ms. */
  nextWaitMs: number;
}

/** Options of one UDP tracker request. */
export interface UdpRequestOptions {
  /** Cancels the request. */
  signal?: AbortSignal;
  /** Largest n in 15 × 2^n for this request (default: the client's). */
  maxRetransmits?: number;
  /** Called before each retransmission (a tracker slow to answer shows as failing meanwhile). */
  onRetry?: (retry: UdpRetry) => void;
}

interface Pending {
  action: number;
  hostname: string;
  port: number;
  resolve: (packet: Uint8Array) => void;
  reject: (error: Error) => void;
}

interface Endpoint {
  hostname: string;
  port: number;
  family: 4 | 6;
}

/** Parses `udp://host:port/...` into host and port. */
function parseUdpUrl(url: string): { host: string; port: number } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TrackerError("network", `"${url}" is not a URL`);
  }
  if (parsed.protocol !== "udp:" || !parsed.hostname || !parsed.port) {
    throw new TrackerError("network", `"${url}" is not a udp://host:port tracker URL`);
  }
  return { host: parsed.hostname.replace(/^\[|\]$/g, ""), port: Number(parsed.port) };
}

/**
 * Why an aborted request ended: a timeout signal becomes a tracker timeout;
 * any other reason (the announcer's own stop error) is passed on as it is.
 */
function abortReason(signal: AbortSignal): unknown {
  const reason = signal.reason;
  if (reason instanceof DOMException && reason.name === "TimeoutError") {
    return new TrackerError("timeout", "The tracker did not answer in time", { cause: reason });
  }
  return reason;
}

/**
 * A BEP 15 client shared by every UDP tracker and torrent of a session.
 *
 * @example One client for every UDP tracker of a program
 * ```ts
 * import { TrackerError, UdpTrackerClient } from "./mod.ts";
 *
 * // BEP 15 waits 15 s, then 30 s, … before giving up; shorter here.
 * const udp = new UdpTrackerClient({ retransmitBaseMs: 100, maxRetransmits: 1 });
 * try {
 *   await udp.scrape("udp://127.0.0.1:2", [new Uint8Array(20)]);
 * } catch (error) {
 *   if (!(error instanceof TrackerError)) throw error;
 *   console.log(error.message); // The tracker did not answer after 2 tries over 0.3s
 * } finally {
 *   udp.close();
 * }
 * ```
 */
export class UdpTrackerClient {
  readonly #retransmitBaseMs: number;
  readonly #maxRetransmits: number;
  readonly #connectionIdTtlMs: number;
  readonly #onIgnoredPacket?: (reason: string) => void;
  readonly #bind?: readonly string[];
  readonly #shared?: () => SharedUdp | undefined;
  /** The shared socket that hands us its tracker replies now. */
  #borrowed?: SharedUdp;
  readonly #sockets = new Map<4 | 6, Deno.DatagramConn>();
  readonly #pending = new Map<number, Pending>();
  readonly #connections = new Map<string, { id: bigint; expires: number }>();
  #closed = false;
  /** Packets ignored so far (short, unknown transaction, wrong action or sender). */
  ignoredPackets = 0;

  /**
   * Creates a client; sockets open on first use.
   *
   * @param options Retransmission schedule and connection id lifetime.
   */
  constructor(options: UdpTrackerOptions = {}) {
    this.#retransmitBaseMs = options.retransmitBaseMs ?? 15_000;
    this.#maxRetransmits = options.maxRetransmits ?? 8;
    this.#connectionIdTtlMs = options.connectionIdTtlMs ?? 60_000;
    this.#onIgnoredPacket = options.onIgnoredPacket;
    this.#bind = options.bind;
    this.#shared = options.shared;
  }

  #ignore(reason: string): void {
    this.ignoredPackets++;
    try {
      this.#onIgnoredPacket?.(reason);
    } catch {
      // A watcher's mistake must not stop the socket's receive loop.
    }
  }

  #socket(family: 4 | 6): Deno.DatagramConn {
    let socket = this.#sockets.get(family);
    if (!socket) {
      // UDP sockets are among Deno's unstable APIs: without the flag the function is missing.
      if (typeof Deno.listenDatagram !== "function") {
        throw new TrackerError(
          "network",
          "UDP trackers need Deno's UDP sockets, which are behind a flag: run Deno with --unstable-net",
        );
      }
      const hostname = this.#bind
        ? this.#bind.find((address) => address.includes(":") === (family === 6))
        : family === 4
        ? "0.0.0.0"
        : "::";
      if (hostname === undefined) {
        throw new TrackerError(
          "network",
          `No --bind address is an IPv${family} address, so this IPv${family} tracker cannot be reached`,
        );
      }
      socket = Deno.listenDatagram({ transport: "udp", hostname, port: 0 });
      this.#sockets.set(family, socket);
      this.#receive(socket, family);
    }
    return socket;
  }

  async #receive(socket: Deno.DatagramConn, family: 4 | 6): Promise<void> {
    try {
      for await (const [packet, address] of socket) this.#dispatch(packet, address as Deno.NetAddr);
    } catch {
      // Closed, or failed: either way this socket is done.
    }
    // If it failed while in use, forget it so the next request (a
    // retransmission included) opens a new one instead of waiting forever.
    if (this.#sockets.get(family) === socket) {
      this.#sockets.delete(family);
      try {
        socket.close();
      } catch {
        // already closed
      }
    }
  }

  /** Sends from the shared socket when there is one for the family, else from our own. */
  async #send(endpoint: Endpoint, packet: Uint8Array): Promise<void> {
    const shared = this.#shared?.();
    if (shared?.reaches(endpoint.family)) {
      if (this.#borrowed !== shared) {
        this.#borrowed = shared;
        shared.lend((datagram, from) =>
          this.#dispatch(datagram, { transport: "udp", hostname: from.host, port: from.port })
        );
      }
      return await shared.send(packet, endpoint.hostname, endpoint.port);
    }
    await this.#socket(endpoint.family).send(packet, {
      transport: "udp",
      hostname: endpoint.hostname,
      port: endpoint.port,
    });
  }

  #dispatch(packet: Uint8Array, from: Deno.NetAddr): void {
    const header = udpReplyHeader(packet);
    if (!header) return this.#ignore(`a ${packet.length}-byte packet is too short`);
    const { transaction } = header;
    const pending = this.#pending.get(transaction);
    if (!pending) return this.#ignore(`unknown transaction id ${transaction}`);
    if (from.hostname !== pending.hostname || from.port !== pending.port) {
      return this.#ignore(`a reply came from ${from.hostname}:${from.port}, not the tracker`);
    }
    const verdict = judgeUdpReply(packet, pending.action);
    if (verdict.kind === "ignore") return this.#ignore(verdict.reason);
    this.#pending.delete(transaction);
    if (verdict.kind === "error") return pending.reject(verdict.error);
    pending.resolve(packet);
  }

  /** Looks the host up; a stop does not wait for the lookup (it cannot be cancelled) to end. */
  async #resolve(host: string, signal?: AbortSignal): Promise<Endpoint> {
    if (signal?.aborted) throw abortReason(signal);
    const lookingUp = lookup(host);
    let onAbort = () => {};
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(abortReason(signal!));
      signal?.addEventListener("abort", onAbort, { once: true });
    });
    try {
      const { address, family } = await Promise.race([lookingUp, aborted]);
      return { hostname: address, port: 0, family: family === 6 ? 6 : 4 };
    } catch (error) {
      if (signal?.aborted) throw abortReason(signal);
      if (isPermissionError(error)) throw networkPermissionError(error);
      throw new TrackerError("network", `Cannot resolve the tracker host ${host}`, {
        cause: error,
      });
    } finally {
      signal?.removeEventListener("abort", onAbort);
      lookingUp.catch(() => {}); // It may fail after the race was lost.
    }
  }

  #transactionId(): number {
    const id = new Uint32Array(1);
    do crypto.getRandomValues(id); while (this.#pending.has(id[0]));
    return id[0];
  }

  /**
   * Sends one packet and waits up to `waitMs` for its reply; `undefined` on
   * timeout. Every way the wait can end (reply, error packet, timeout, abort,
   * `close()`) settles one promise, which is owned from the moment it exists:
   * it may settle while the packet is still being sent.
   */
  async #exchange(
    endpoint: Endpoint,
    action: number,
    build: (transaction: number) => Uint8Array,
    waitMs: number,
    signal?: AbortSignal,
  ): Promise<Uint8Array | undefined> {
    if (this.#closed) throw new TrackerError("network", "The UDP tracker client is closed");
    if (signal?.aborted) throw abortReason(signal);
    const transaction = this.#transactionId();
    let cancel = () => {};
    const outcome = new Promise<Uint8Array | undefined>((resolve, reject) => {
      const finish = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        this.#pending.delete(transaction);
      };
      const onAbort = () => {
        finish();
        reject(abortReason(signal!));
      };
      const timer = setTimeout(() => {
        finish();
        resolve(undefined);
      }, waitMs);
      // The caller's signal may live for the whole session: `finish` leaves no listener on it.
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#pending.set(transaction, {
        action,
        hostname: endpoint.hostname,
        port: endpoint.port,
        resolve: (packet) => {
          finish();
          resolve(packet);
        },
        reject: (error) => {
          finish();
          reject(error);
        },
      });
      cancel = finish;
    });
    outcome.catch(() => {}); // Awaited below; this only marks it handled during the send.
    try {
      await this.#send(endpoint, build(transaction));
    } catch (error) {
      cancel();
      if (error instanceof TrackerError) throw error;
      if (signal?.aborted) throw abortReason(signal);
      if (this.#closed) throw new TrackerError("network", "The UDP tracker client was closed");
      if (isPermissionError(error)) throw networkPermissionError(error);
      throw new TrackerError("network", `Cannot send to the tracker: ${(error as Error).message}`, {
        cause: error,
      });
    }
    return await outcome;
  }

  async #connectionId(
    endpoint: Endpoint,
    attempt: number,
    signal?: AbortSignal,
  ): Promise<bigint | undefined> {
    const key = `${endpoint.hostname}|${endpoint.port}`;
    const cached = this.#connections.get(key);
    if (cached && cached.expires > Date.now()) return cached.id;
    const packet = await this.#exchange(
      endpoint,
      ACTION_CONNECT,
      (transaction) => {
        const out = new Uint8Array(16);
        const view = new DataView(out.buffer);
        view.setBigUint64(0, PROTOCOL_ID);
        view.setUint32(8, ACTION_CONNECT);
        view.setUint32(12, transaction);
        return out;
      },
      this.#waitMs(attempt),
      signal,
    );
    if (!packet) return undefined;
    const id = parseUdpConnectReply(packet);
    this.#connections.set(key, { id, expires: Date.now() + this.#connectionIdTtlMs });
    return id;
  }

  #waitMs(attempt: number): number {
    return this.#retransmitBaseMs * 2 ** attempt;
  }

  /** Connects (or reuses a connection id) and runs one request, retransmitting on the schedule. */
  async #request(
    url: string,
    action: number,
    body: (connectionId: bigint, transaction: number) => Uint8Array,
    options: UdpRequestOptions,
  ): Promise<{ packet: Uint8Array; family: 4 | 6 }> {
    const { signal, onRetry } = options;
    const maxRetransmits = options.maxRetransmits ?? this.#maxRetransmits;
    const { host, port } = parseUdpUrl(url);
    const endpoint = { ...(await this.#resolve(host, signal)), port };
    let waited = 0;
    for (let attempt = 0; attempt <= maxRetransmits; attempt++) {
      if (attempt > 0) {
        onRetry?.({ tries: attempt, waitedMs: waited, nextWaitMs: this.#waitMs(attempt) });
      }
      waited += this.#waitMs(attempt);
      const connectionId = await this.#connectionId(endpoint, attempt, signal);
      if (connectionId === undefined) continue;
      const packet = await this.#exchange(
        endpoint,
        action,
        (transaction) => body(connectionId, transaction),
        this.#waitMs(attempt),
        signal,
      );
      if (packet) return { packet, family: endpoint.family };
    }
    throw new TrackerError(
      "timeout",
      `The tracker did not answer after ${maxRetransmits + 1} tries over ${
        formatDuration(waited / 1000)
      }`,
    );
  }

  /**
   * Announces to a UDP tracker.
   *
   * @param url `udp://host:port[/path]`.
   * @param request What to announce.
   * @param options Cancellation, retransmissions, retry reports.
   * @throws {TrackerError} On timeout, an error packet (`failure`, the tracker's words) or a bad URL.
   */
  async announce(
    url: string,
    request: AnnounceRequest,
    options: UdpRequestOptions = {},
  ): Promise<AnnounceResult> {
    const { packet, family } = await this.#request(
      url,
      ACTION_ANNOUNCE,
      (connectionId, transaction) => {
        const out = new Uint8Array(98);
        const view = new DataView(out.buffer);
        view.setBigUint64(0, connectionId);
        view.setUint32(8, ACTION_ANNOUNCE);
        view.setUint32(12, transaction);
        out.set(request.infoHash, 16);
        out.set(request.peerId, 36);
        view.setBigUint64(56, BigInt(request.downloaded));
        view.setBigUint64(64, BigInt(request.left));
        view.setBigUint64(72, BigInt(request.uploaded));
        view.setUint32(80, UDP_EVENT_CODES[request.event]);
        view.setUint32(84, 0);
        view.setUint32(88, request.key >>> 0);
        view.setInt32(92, request.numWant ?? -1);
        view.setUint16(96, request.port);
        return out;
      },
      options,
    );
    return parseUdpAnnounceReply(packet, family);
  }

  /**
   * Scrapes a UDP tracker for up to 74 torrents.
   *
   * @returns Numbers per info hash (lower-case hex), in the order asked.
   * @throws {TrackerError} On timeout or an error packet.
   */
  async scrape(
    url: string,
    infoHashes: readonly Uint8Array[],
    options: UdpRequestOptions = {},
  ): Promise<ScrapeResult[]> {
    if (infoHashes.length === 0 || infoHashes.length > MAX_UDP_SCRAPE_HASHES) {
      throw new RangeError(`A UDP scrape takes 1 to ${MAX_UDP_SCRAPE_HASHES} info hashes`);
    }
    const { packet } = await this.#request(url, ACTION_SCRAPE, (connectionId, transaction) => {
      const out = new Uint8Array(16 + 20 * infoHashes.length);
      const view = new DataView(out.buffer);
      view.setBigUint64(0, connectionId);
      view.setUint32(8, ACTION_SCRAPE);
      view.setUint32(12, transaction);
      infoHashes.forEach((hash, i) => out.set(hash, 16 + 20 * i));
      return out;
    }, options);
    return parseUdpScrapeReply(packet, infoHashes.length);
  }

  /** Closes the sockets; requests still waiting fail. */
  close(): void {
    this.#closed = true;
    for (const socket of this.#sockets.values()) socket.close();
    this.#sockets.clear();
    for (const pending of this.#pending.values()) {
      pending.reject(new TrackerError("network", "The UDP tracker client was closed"));
    }
    this.#pending.clear();
  }
}
