/**
 * The session: owns our peer id, the listening port (incoming peers are
 * routed to their torrent by info hash), the UDP tracker client and the
 * torrents added to it.
 *
 * @example Downloading a torrent from a Deno program
 * ```ts ignore
 * import { readTorrentFile, Session } from "jsr:@shoal/shoal";
 *
 * const session = new Session({ port: 6881 });
 * const handle = session.add(await readTorrentFile("x.torrent"), { downloadDir: "./downloads" });
 * handle.on("piece", () => console.log(handle.status().progress));
 * await handle.done;
 * await session.close();
 * ```
 *
 * @module
 */

import { ShoalError } from "../errors.ts";
import type { Torrent } from "../metainfo/torrent.ts";
import { acceptPeer, type PeerTimeouts } from "../peer/connection.ts";
import { randomPeerId } from "../peer_id.ts";
import { UdpTrackerClient } from "../tracker/udp.ts";
import { RateLimiter } from "../swarm/rate_limiter.ts";
import { toHex } from "../util/bytes.ts";
import { type Logger, silentLogger } from "../util/log.ts";
import { type AddTorrentOptions, TorrentHandle } from "./torrent_handle.ts";

/** Options of {@linkcode Session}. */
export interface SessionOptions {
  /** Port to listen on and announce. Default 6881; the next free one of the 10 from there is used if it is taken. 0 picks any free port. */
  port?: number;
  /** Address to listen on. Default `0.0.0.0`. */
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
}

/** The port could not be opened. */
export class ListenError extends ShoalError {}

const PORT_ATTEMPTS = 10;
const MAX_PENDING_HANDSHAKES = 32;

/** Runs torrents: one listening port, one peer id, many torrents. */
export class Session {
  /** Our peer id. */
  readonly peerId: Uint8Array;
  /** The port we listen on and announce (0 when not listening). */
  readonly port: number;
  readonly #log: Logger;
  readonly #udp = new UdpTrackerClient();
  readonly #torrents = new Map<string, TorrentHandle>();
  readonly #listener?: Deno.TcpListener;
  readonly #timeouts?: PeerTimeouts;
  readonly #downloadLimiter?: RateLimiter;
  readonly #uploadLimiter?: RateLimiter;
  #pendingHandshakes = 0;
  #closed = false;

  /**
   * Opens the listening port.
   *
   * @throws {ListenError} When no port could be opened.
   */
  constructor(options: SessionOptions = {}) {
    this.peerId = options.peerId ?? randomPeerId();
    this.#log = options.log ?? silentLogger;
    this.#timeouts = options.timeouts;
    if (options.maxDownloadRate) this.#downloadLimiter = new RateLimiter(options.maxDownloadRate);
    if (options.maxUploadRate) this.#uploadLimiter = new RateLimiter(options.maxUploadRate);
    if (options.listen === false) {
      this.port = options.port ?? 0;
      return;
    }
    const hostname = options.host ?? "0.0.0.0";
    const first = options.port ?? 6881;
    let lastError: unknown;
    for (let attempt = 0; attempt < (first === 0 ? 1 : PORT_ATTEMPTS); attempt++) {
      const port = first === 0 ? 0 : first + attempt;
      if (port > 65535) break;
      try {
        this.#listener = Deno.listen({ hostname, port, transport: "tcp" });
        break;
      } catch (error) {
        if (error instanceof Deno.errors.NotCapable) throw error;
        lastError = error;
      }
    }
    if (!this.#listener) {
      throw new ListenError(
        `Cannot listen on ${hostname} port ${first}${
          first ? `–${first + PORT_ATTEMPTS - 1}` : ""
        }: ${(lastError as Error)?.message}; choose another port with -p`,
        { cause: lastError },
      );
    }
    this.port = this.#listener.addr.port;
    if (this.port !== first && first !== 0) {
      this.#log.info(`port ${first} is taken; listening on ${this.port}`);
    }
    this.#accept(this.#listener);
  }

  /**
   * Adds a torrent and starts it at once.
   *
   * @throws {ShoalError} When the torrent is already in the session.
   */
  add(torrent: Torrent, options: AddTorrentOptions): TorrentHandle {
    if (this.#closed) throw new ShoalError("The session is closed");
    if (this.#torrents.has(torrent.infoHashHex)) {
      throw new ShoalError(`The torrent ${torrent.infoHashHex} is already in this session`);
    }
    const handle = new TorrentHandle(torrent, options, {
      peerId: this.peerId,
      port: this.port,
      udp: this.#udp,
      log: this.#log,
      downloadLimiter: this.#downloadLimiter,
      uploadLimiter: this.#uploadLimiter,
    });
    this.#torrents.set(torrent.infoHashHex, handle);
    return handle;
  }

  /** The torrents in the session. */
  torrents(): TorrentHandle[] {
    return [...this.#torrents.values()];
  }

  /** Stops every torrent (announcing `stopped`, saving resume data) and closes the port. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#listener?.close();
    } catch {
      // Already closed.
    }
    await Promise.allSettled([...this.#torrents.values()].map((handle) => handle.stop()));
    this.#udp.close();
  }

  async #accept(listener: Deno.TcpListener): Promise<void> {
    try {
      for await (const conn of listener) {
        if (this.#pendingHandshakes >= MAX_PENDING_HANDSHAKES) {
          conn.close();
          continue;
        }
        this.#pendingHandshakes++;
        acceptPeer(conn, (infoHash) => {
          const handle = this.#torrents.get(toHex(infoHash));
          if (!handle || (handle.state !== "downloading" && handle.state !== "seeding")) {
            return undefined;
          }
          return { infoHash, peerId: this.peerId, timeouts: this.#timeouts };
        }, this.#timeouts).then((connection) => {
          this.#torrents.get(toHex(connection.handshake.infoHash))?.adopt(connection) ??
            connection.close();
        }, (error) => {
          this.#log.debug(`incoming connection: ${(error as Error).message}`);
        }).finally(() => this.#pendingHandshakes--);
      }
    } catch (error) {
      if (!this.#closed) {
        this.#log.warn(`stopped accepting connections: ${(error as Error).message}`);
      }
    }
  }
}
