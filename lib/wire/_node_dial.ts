/**
 * Connecting to a peer from a chosen local address through `node:net`
 * (`Deno.connect` cannot choose it), and the socket as a peer stream.
 *
 * @module
 */

import { connect as nodeConnect, type Socket } from "node:net";
import type { PeerAddress } from "../net/peer_address.ts";
import type { PeerStream } from "./stream.ts";

/** Connects to `address` from `local`; rejects on failure or when `signal` aborts. */
export function dialWithNode(
  address: PeerAddress,
  local: string,
  signal: AbortSignal,
): Promise<PeerStream> {
  if (signal.aborted) return Promise.reject(signal.reason ?? new Error("aborted"));
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
