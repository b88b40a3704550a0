/**
 * How connections to and from peers are opened: a transport turns a peer's
 * address into a byte stream, and a listener hands over each connection a
 * peer opens to us as a stream with its address. Nothing above this module
 * names a socket type. The default is TCP through `Deno.connect` and
 * `Deno.listen`; `dialFrom` connects from a chosen local address (`--bind`),
 * which `Deno.connect` cannot do, through `node:net`. uTP will be another
 * transport and listener.
 *
 * @module
 */

import { isIPv6 } from "node:net";
import { dialWithNode } from "./_node_dial.ts";
import { isLoopback } from "../util/_address.ts";
import type { PeerAddress } from "../net/peer_address.ts";
import type { PeerStream } from "./stream.ts";

/** Opens a stream to a peer; rejects when it cannot (the caller wraps the error). */
export type Transport = (address: PeerAddress, signal: AbortSignal) => Promise<PeerStream>;

/** A connection a peer opened to us. */
export interface IncomingStream extends PeerStream {
  /** Where it comes from (an IPv4 peer on a dual-stack socket shows as IPv4). */
  readonly remote: PeerAddress;
}

/** Where peers dial us: each connection they open comes as a stream. */
export interface PeerListener extends AsyncIterable<IncomingStream> {
  /** The address and port listened on. */
  readonly local: PeerAddress;
  /** Stops listening; connections handed over stay open. */
  close(): void;
}

/**
 * Listens for TCP connections.
 *
 * @param hostname The local address (`::` or `0.0.0.0` for every one).
 * @param port The port; 0 picks a free one.
 * @throws {Deno.errors.AddrInUse} When the port is taken.
 *
 * @example Accepting a connection
 * ```ts
 * import { listenTcp, tcpTransport } from "./transport.ts";
 *
 * const listener = listenTcp("127.0.0.1", 0);
 * const dialled = await tcpTransport(listener.local, new AbortController().signal);
 * for await (const incoming of listener) {
 *   console.log(incoming.remote.host); // 127.0.0.1
 *   incoming.close();
 *   break;
 * }
 * dialled.close();
 * listener.close();
 * ```
 */
export function listenTcp(hostname: string, port: number): PeerListener {
  const listener = Deno.listen({ hostname, port, transport: "tcp" });
  let closed = false;
  return {
    local: { host: listener.addr.hostname, port: listener.addr.port },
    close: () => {
      if (closed) return;
      closed = true;
      listener.close();
    },
    // Leaving the loop does not close the listener (Deno's own iterator would).
    async *[Symbol.asyncIterator]() {
      while (!closed) {
        let conn: Deno.TcpConn;
        try {
          conn = await listener.accept();
        } catch (error) {
          if (closed) return;
          throw error;
        }
        yield new TcpIncoming(conn);
      }
    },
  };
}

/** A TCP connection a peer opened, with its address. */
class TcpIncoming implements IncomingStream {
  readonly remote: PeerAddress;
  readonly #conn: Deno.TcpConn;

  constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
    this.remote = { host: unmapIPv4(conn.remoteAddr.hostname), port: conn.remoteAddr.port };
  }

  read(buffer: Uint8Array): Promise<number | null> {
    return this.#conn.read(buffer);
  }

  write(bytes: Uint8Array): Promise<number> {
    return this.#conn.write(bytes);
  }

  close(): void {
    this.#conn.close();
  }
}

/** An IPv4 peer accepted on a dual-stack socket shows as `::ffff:a.b.c.d`; gives `a.b.c.d`. */
function unmapIPv4(host: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(host);
  return mapped ? mapped[1] : host;
}

/** The default transport: a TCP connection from whatever address the system picks. */
export function tcpTransport(address: PeerAddress, signal: AbortSignal): Promise<PeerStream> {
  return Deno.connect({ hostname: address.host, port: address.port, signal });
}

/**
 * A TCP transport that connects from one of `localAddresses`: the first of
 * the peer's address family. A peer of a family none of them has is refused,
 * and so is a peer beyond this machine when that address is a loopback one.
 * To a loopback peer from a loopback address the system picks that address
 * anyway, so `Deno.connect` (faster than `node:net`) is used.
 *
 * @param localAddresses IP addresses of this machine (`--bind`).
 *
 * @example Connecting from 127.0.0.1
 * ```ts
 * import { dialFrom } from "./mod.ts";
 *
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const dial = dialFrom(["127.0.0.1"]);
 * const [stream, accepted] = await Promise.all([
 *   dial({ host: "127.0.0.1", port: listener.addr.port }, new AbortController().signal),
 *   listener.accept(),
 * ]);
 * console.log(accepted.remoteAddr.hostname); // 127.0.0.1
 * stream.close();
 * accepted.close();
 * listener.close();
 * ```
 */
export function dialFrom(localAddresses: readonly string[]): Transport {
  return (address, signal) => {
    const v6 = isIPv6(address.host.replace(/^\[|\]$/g, ""));
    const local = localAddresses.find((candidate) => isIPv6(candidate) === v6);
    if (local === undefined) {
      return Promise.reject(
        new Error(
          `no --bind address is an IPv${v6 ? 6 : 4} address, so ${address.host} cannot be reached`,
        ),
      );
    }
    if (isLoopback(local)) {
      if (isLoopback(address.host)) return tcpTransport(address, signal);
      return Promise.reject(
        new Error(`${address.host} is beyond this machine and shoal is bound to ${local}`),
      );
    }
    return dialWithNode(address, local, signal);
  };
}
