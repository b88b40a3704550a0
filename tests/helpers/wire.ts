/**
 * The BitTorrent wire as the fake peers and attackers write it, on their
 * own (not with shoal's codec, so a bug there cannot hide itself), and
 * connections from a chosen loopback address: bans are by IP, so an
 * attacker comes from its own 127.0.0.x while honest peers use 127.0.0.1.
 *
 * @module
 */

import { dialWithNode } from "../../lib/wire/_node_dial.ts";
import type { PeerStream } from "../../lib/wire/stream.ts";

/** `value` as 4 big-endian bytes. */
export function uint32(value: number): Uint8Array {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setUint32(0, value);
  return bytes;
}

/** A length-prefixed message with id `id` and body `parts`. */
export function message(id: number, ...parts: Uint8Array[]): Uint8Array {
  const length = 1 + parts.reduce((sum, p) => sum + p.length, 0);
  const out = new Uint8Array(4 + length);
  out.set(uint32(length));
  out[4] = id;
  let offset = 5;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** A handshake for `infoHash`, announcing the fast extension (and BEP 10 when `extended`). */
export function handshake(infoHash: Uint8Array, tag = "FK", extended = false): Uint8Array {
  const bytes = new Uint8Array(68);
  bytes.set(new TextEncoder().encode("\x13BitTorrent protocol"));
  if (extended) bytes[25] = 0x10;
  bytes[27] = 0x04;
  bytes.set(infoHash, 28);
  bytes.set(new TextEncoder().encode(`-${tag}0001-${crypto.randomUUID().slice(0, 12)}`), 48);
  return bytes;
}

/** Reads exactly `length` bytes; `undefined` when the stream ends first. */
export async function readExactly(
  conn: PeerStream,
  length: number,
): Promise<Uint8Array | undefined> {
  const out = new Uint8Array(length);
  let filled = 0;
  while (filled < length) {
    const n = await conn.read(out.subarray(filled));
    if (n === null) return undefined;
    filled += n;
  }
  return out;
}

/** Writes all of `bytes`. */
export async function writeAll(conn: PeerStream, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) written += await conn.write(bytes.subarray(written));
}

/** Connects to `port` on 127.0.0.1, from the loopback address `from` when given. */
export async function dialLoopback(port: number, from?: string): Promise<PeerStream> {
  if (!from || from === "127.0.0.1") return await Deno.connect({ hostname: "127.0.0.1", port });
  return await dialWithNode({ host: "127.0.0.1", port }, from, AbortSignal.timeout(10_000));
}

/** Closes `conn`, which may be closed already. */
export function closeQuietly(conn: PeerStream): void {
  try {
    conn.close();
  } catch {
    // already closed
  }
}

/** A real TCP server on a loopback address, serving each connection on its own. */
export interface LoopbackServer {
  /** `host:port`. */
  address: string;
  /** Its port. */
  port: number;
  /** Connections accepted so far. */
  readonly connections: number;
  /** Stops listening, closes every connection and waits for the accept loop. */
  stop(): Promise<void>;
}

/**
 * Listens on `host` and runs `serve` for each connection, which is closed
 * when `serve` ends (a rejection only ends that connection).
 */
export function serveLoopback(
  host: string,
  serve: (conn: Deno.Conn) => Promise<void>,
): LoopbackServer {
  const listener = Deno.listen({ hostname: host, port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const conns = new Set<Deno.Conn>();
  let connections = 0;
  const accepting = (async () => {
    for await (const conn of listener) {
      connections++;
      conns.add(conn);
      serve(conn).catch(() => {}).finally(() => {
        conns.delete(conn);
        closeQuietly(conn);
      });
    }
  })().catch(() => {});
  return {
    address: `${host}:${port}`,
    port,
    get connections() {
      return connections;
    },
    stop: async () => {
      listener.close();
      for (const conn of conns) closeQuietly(conn);
      await accepting;
    },
  };
}

/** Our answer to a handshake: BEP 10 and the fast extension, the torrent and our peer id. */
export function handshakeReply(infoHash: Uint8Array, peerId: Uint8Array): Uint8Array {
  const reply = new Uint8Array(68);
  reply.set(new TextEncoder().encode("\x13BitTorrent protocol"));
  reply[25] |= 0x10; // the extension protocol
  reply[27] |= 0x04; // the fast extension
  reply.set(infoHash, 28);
  reply.set(peerId, 48);
  return reply;
}
