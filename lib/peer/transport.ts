/**
 * How outgoing connections to peers are opened: a transport turns a peer's
 * address into a byte stream. The default is `Deno.connect`; `dialFrom`
 * connects from a chosen local address (`--bind`), which `Deno.connect`
 * cannot do, through `node:net`. uTP will be another transport.
 *
 * @module
 */

import { isIPv6 } from "node:net";
import { dialWithNode } from "./_node_dial.ts";
import { isLoopback } from "../util/_address.ts";
import type { PeerAddress } from "../metainfo/magnet.ts";
import type { PeerStream } from "./stream.ts";

/** Opens a stream to a peer; rejects when it cannot (the caller wraps the error). */
export type Transport = (address: PeerAddress, signal: AbortSignal) => Promise<PeerStream>;

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
