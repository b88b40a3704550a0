/**
 * A fake leecher for faults real clients do not produce: it dials a peer,
 * handshakes (with the fast extension), says it is interested, and then
 * sends whatever requests a test wants, reading replies or not. It parses
 * the wire on its own, not with shoal's codec.
 *
 * @module
 */

import type { PeerStream } from "../../lib/wire/stream.ts";
import { dialLoopback, handshake, message, uint32, writeAll } from "./wire.ts";

/** What the fake leecher has seen. */
export interface FakeLeecherCounts {
  /** Piece messages received. */
  pieces: number;
  /** Reject messages received. */
  rejects: number;
  /** Whether the other side unchoked us. */
  unchoked: boolean;
}

/** A connected fake leecher. */
export interface FakeLeecher {
  /** What it has seen so far. */
  readonly counts: FakeLeecherCounts;
  /** Sends a request. */
  request(index: number, begin: number, length: number): Promise<void>;
  /** Sends a cancel. */
  cancel(index: number, begin: number, length: number): Promise<void>;
  /** Sends raw bytes (many messages at once). */
  send(bytes: Uint8Array): Promise<void>;
  /** Starts reading and counting what arrives (not started until called). */
  startReading(): void;
  /** Resolves when `test` holds for the counts, or rejects after `ms`. */
  until(test: (counts: FakeLeecherCounts) => boolean, ms?: number): Promise<void>;
  /** Closes the connection. */
  close(): void;
}

/** How the fake leecher introduces itself. */
export interface FakeLeecherOptions {
  /** A bencoded extension handshake (BEP 10) to send, as text; none when absent. */
  extensionHandshake?: string;
  /** The loopback address to connect from (bans are by IP). Default 127.0.0.1. */
  from?: string;
}

/** Sends a request (id 6) or cancel (id 8) for a block. */
async function sendBlockMessage(
  conn: PeerStream,
  id: number,
  index: number,
  begin: number,
  length: number,
): Promise<void> {
  await writeAll(conn, message(id, uint32(index), uint32(begin), uint32(length)));
}

/**
 * Dials `port` on 127.0.0.1 (from `options.from`) and handshakes for `infoHash`.
 *
 * @returns The leecher, or `undefined` when the other side closed instead of answering.
 */
export async function connectFakeLeecher(
  port: number,
  infoHash: Uint8Array,
  options: FakeLeecherOptions = {},
): Promise<FakeLeecher | undefined> {
  const conn = await dialLoopback(port, options.from);
  await writeAll(conn, handshake(infoHash, "FL", options.extensionHandshake !== undefined));
  const reply = new Uint8Array(68);
  let filled = 0;
  while (filled < 68) {
    const n = await conn.read(reply.subarray(filled)).catch(() => null);
    if (n === null) {
      conn.close();
      return undefined;
    }
    filled += n;
  }
  if (options.extensionHandshake !== undefined) {
    const payload = new TextEncoder().encode(options.extensionHandshake);
    await writeAll(conn, new Uint8Array([...uint32(payload.length + 2), 20, 0, ...payload]));
  }
  await writeAll(conn, message(2)); // interested
  const counts: FakeLeecherCounts = { pieces: 0, rejects: 0, unchoked: false };
  let closed = false;
  const read = async () => {
    let buffer = new Uint8Array(0);
    const chunk = new Uint8Array(65536);
    while (!closed) {
      const n = await conn.read(chunk).catch(() => null);
      if (n === null) return;
      const next = new Uint8Array(buffer.length + n);
      next.set(buffer);
      next.set(chunk.subarray(0, n), buffer.length);
      buffer = next;
      while (buffer.length >= 4) {
        const length = new DataView(buffer.buffer, buffer.byteOffset).getUint32(0);
        if (buffer.length < 4 + length) break;
        const id = length > 0 ? buffer[4] : -1;
        if (id === 7) counts.pieces++;
        if (id === 0x10) counts.rejects++;
        if (id === 1) counts.unchoked = true;
        if (id === 0) counts.unchoked = false;
        buffer = buffer.slice(4 + length);
      }
    }
  };
  return {
    counts,
    request: (index, begin, length) => sendBlockMessage(conn, 6, index, begin, length),
    cancel: (index, begin, length) => sendBlockMessage(conn, 8, index, begin, length),
    send: (bytes) => writeAll(conn, bytes),
    startReading() {
      read().catch(() => {});
    },
    async until(test, ms = 10_000) {
      const deadline = Date.now() + ms;
      while (!test(counts)) {
        if (Date.now() > deadline) throw new Error(`timed out; counts ${JSON.stringify(counts)}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    close() {
      closed = true;
      try {
        conn.close();
      } catch {
        // already closed
      }
    },
  };
}
