/**
 * The DHT node's UDP sockets: one per address family on one port (by
 * default a dual-stack `::` socket that also carries IPv4, or `0.0.0.0`
 * where IPv6 is missing), or one per family on the addresses given to
 * bind to. The port asked for is used when free, else any free one.
 *
 * @module
 */

import type { Logger } from "../util/log.ts";

/** A datagram's sender, IPv4 written as IPv4 even when it came through a dual-stack socket. */
export interface DatagramSource {
  host: string;
  port: number;
}

interface Socket {
  conn: Deno.DatagramConn;
  /** The families it sends to: a dual-stack socket sends to both. */
  families: readonly (4 | 6)[];
}

function open(hostname: string, port: number): Deno.DatagramConn {
  return Deno.listenDatagram({ transport: "udp", hostname, port });
}

/** The sockets of one node. */
export class UdpSockets {
  /** The port they are bound to. */
  readonly port: number;
  readonly #sockets: Socket[];
  readonly #log: Logger;
  #closed = false;

  private constructor(sockets: Socket[], log: Logger) {
    this.#sockets = sockets;
    this.port = (sockets[0].conn.addr as Deno.NetAddr).port;
    this.#log = log;
  }

  /**
   * Opens the sockets.
   *
   * @param port The port to use; when taken, any free one (with a warning).
   * @param bind The addresses to bind to (the first of each family), else every interface.
   * @throws {Error} When no socket could be opened (no `net` flag, no permission).
   */
  static open(port: number, bind: readonly string[] | undefined, log: Logger): UdpSockets {
    if (typeof Deno.listenDatagram !== "function") {
      throw new Error("the DHT needs UDP, which Deno gives only with --unstable-net");
    }
    // Nodes are anywhere: without net access to every host, sends would fail or prompt.
    // Asked, never prompted for.
    if (Deno.permissions.querySync({ name: "net" }).state !== "granted") {
      throw new Error("the DHT needs net access to every host (--allow-net with no list)");
    }
    const tryOpen = (hosts: readonly string[], at: number): Socket[] => {
      const sockets: Socket[] = [];
      try {
        for (const host of hosts) {
          const conn = open(host, sockets.length === 0 ? at : portOf(sockets[0].conn));
          const family = host.includes(":") ? 6 : 4;
          sockets.push({ conn, families: host === "::" ? [6, 4] : [family] });
        }
        return sockets;
      } catch (error) {
        for (const socket of sockets) socket.conn.close();
        throw error;
      }
    };
    const hosts = bind?.length
      ? [
        ...new Set(
          [bind.find((host) => !host.includes(":")), bind.find((host) => host.includes(":"))]
            .filter((host): host is string => host !== undefined),
        ),
      ]
      : undefined;
    const attempt = (at: number): Socket[] => {
      if (hosts) return tryOpen(hosts, at);
      try {
        return tryOpen(["::"], at);
      } catch (error) {
        if (error instanceof Deno.errors.AddrInUse) throw error;
        return tryOpen(["0.0.0.0"], at); // No IPv6 here.
      }
    };
    let sockets: Socket[];
    try {
      sockets = attempt(port);
    } catch (error) {
      if (!(error instanceof Deno.errors.AddrInUse) || port === 0) throw error;
      sockets = attempt(0);
      log.warn(`DHT: UDP port ${port} is taken; using ${portOf(sockets[0].conn)}`);
    }
    return new UdpSockets(sockets, log);
  }

  /** Whether datagrams can be sent to addresses of `family`. */
  reaches(family: 4 | 6): boolean {
    return this.#sockets.some((socket) => socket.families.includes(family));
  }

  /** Sends one datagram; a failure is logged, never thrown. */
  send(datagram: Uint8Array, host: string, port: number): void {
    if (this.#closed) return;
    this.sendOrThrow(datagram, host, port)
      .catch((error) => this.#log.debug(`DHT: to ${host}:${port}: ${(error as Error).message}`));
  }

  /** Sends one datagram, and says when it could not. */
  async sendOrThrow(datagram: Uint8Array, host: string, port: number): Promise<void> {
    if (this.#closed) throw new Error("the DHT's socket is closed");
    const family = host.includes(":") ? 6 : 4;
    const socket = this.#sockets.find((socket) => socket.families.includes(family));
    if (!socket) throw new Error(`the DHT's socket cannot reach IPv${family} addresses`);
    await socket.conn.send(datagram, { transport: "udp", hostname: host, port });
  }

  /** Reads datagrams until closed; `heard` must not throw. */
  run(heard: (datagram: Uint8Array, from: DatagramSource) => void): Promise<void> {
    return Promise.all(this.#sockets.map(async ({ conn }) => {
      while (!this.#closed) {
        let datagram: Uint8Array;
        let from: Deno.Addr;
        try {
          [datagram, from] = await conn.receive();
        } catch (error) {
          if (this.#closed) return;
          // ICMP errors (a port unreachable) surface as receive errors on some systems.
          if (error instanceof Deno.errors.ConnectionReset) continue;
          this.#log.warn(`DHT: stopped listening: ${(error as Error).message}`);
          return;
        }
        if (from.transport !== "udp") continue;
        heard(datagram, { host: from.hostname.replace(/^::ffff:(?=\d+\.)/i, ""), port: from.port });
      }
    })).then(() => {});
  }

  /** Closes the sockets. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const { conn } of this.#sockets) {
      try {
        conn.close();
      } catch {
        // Closed already.
      }
    }
  }
}

function portOf(conn: Deno.DatagramConn): number {
  return (conn.addr as Deno.NetAddr).port;
}
