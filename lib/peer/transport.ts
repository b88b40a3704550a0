/**
 * How outgoing connections to peers are opened: a transport turns a peer's
 * address into a byte stream. The default is `Deno.connect`; `dialFrom`
 * connects from a chosen local address (`--bind`), which `Deno.connect`
 * cannot do, through `node:net`. uTP will be another transport.
 *
 * @module
 */

import { connect as nodeConnect, isIPv6, type Socket } from "node:net";
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
 * the peer's address family. A peer of a family none of them has is refused.
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
    return new Promise((resolve, reject) => {
      const socket = nodeConnect({ host: address.host, port: address.port, localAddress: local });
      const abort = () => {
        socket.destroy();
        reject(signal.reason ?? new Error("aborted"));
      };
      signal.addEventListener("abort", abort, { once: true });
      socket.once("connect", () => {
        signal.removeEventListener("abort", abort);
        resolve(new SocketStream(socket));
      });
      socket.once("error", (error) => {
        signal.removeEventListener("abort", abort);
        socket.destroy();
        reject(error);
      });
    });
  };
}

/** Bytes read ahead before the socket is paused. */
const HIGH_WATER = 1024 * 1024;

/** A `node:net` socket as a {@linkcode PeerStream}: reads pull from a bounded buffer, writes wait until handed to the system. */
class SocketStream implements PeerStream {
  readonly #socket: Socket;
  #chunks: Uint8Array[] = [];
  #buffered = 0;
  #ended = false;
  #error: Error | undefined;
  #wake: (() => void) | undefined;

  constructor(socket: Socket) {
    this.#socket = socket;
    socket.on("data", (chunk: Uint8Array) => {
      this.#chunks.push(chunk);
      this.#buffered += chunk.length;
      if (this.#buffered > HIGH_WATER) socket.pause();
      this.#notify();
    });
    socket.on("end", () => {
      this.#ended = true;
      this.#notify();
    });
    socket.on("error", (error: Error) => {
      this.#error = error;
      this.#ended = true;
      this.#notify();
    });
    socket.on("close", () => {
      this.#ended = true;
      this.#notify();
    });
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  async read(buffer: Uint8Array): Promise<number | null> {
    while (this.#chunks.length === 0) {
      if (this.#ended) {
        if (this.#error) throw this.#error;
        return null;
      }
      await new Promise<void>((resolve) => this.#wake = resolve);
    }
    let filled = 0;
    while (filled < buffer.length && this.#chunks.length > 0) {
      const chunk = this.#chunks[0];
      const n = Math.min(chunk.length, buffer.length - filled);
      buffer.set(chunk.subarray(0, n), filled);
      filled += n;
      if (n === chunk.length) this.#chunks.shift();
      else this.#chunks[0] = chunk.subarray(n);
    }
    this.#buffered -= filled;
    if (this.#buffered <= HIGH_WATER / 2 && this.#socket.isPaused()) this.#socket.resume();
    return filled;
  }

  write(bytes: Uint8Array): Promise<number> {
    return new Promise((resolve, reject) => {
      if (this.#ended) return reject(this.#error ?? new Error("the connection is closed"));
      // The callback runs once the bytes are handed to the system, so `bytes` is free again.
      this.#socket.write(bytes, (error) => error ? reject(error) : resolve(bytes.length));
    });
  }

  close(): void {
    this.#ended = true;
    this.#socket.destroy();
    this.#notify();
  }
}
