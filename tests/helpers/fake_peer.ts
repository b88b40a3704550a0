/**
 * Fake peers for faults real clients cannot be made to produce: a real TCP
 * server on loopback (127.0.0.1 unless told) that answers the handshake and serves blocks from
 * memory, misbehaving as told. It parses the wire on its own (not with
 * shoal's codec), so a bug in the codec cannot hide itself.
 *
 * @module
 */

import type { Torrent } from "../../lib/metainfo/torrent.ts";
import { message, readExactly, uint32, writeAll } from "./wire.ts";

const PROTOCOL = new TextEncoder().encode("\x13BitTorrent protocol");

/** How the fake peer misbehaves. */
export interface FakePeerBehaviour {
  /** Corrupt the blocks of these pieces (one byte flipped). */
  corrupt?: (piece: number) => boolean;
  /** Right after the handshake, announce a message of 1 MiB + 1 bytes. */
  oversized?: boolean;
  /** Unchoke and claim every piece, but never answer a request. */
  silent?: boolean;
  /** Send half of the first requested block, then close the connection. */
  disconnectMidPiece?: boolean;
  /** Answer the handshake with another info hash. */
  wrongInfoHash?: boolean;
  /** Send a bitfield with a spare bit set. */
  spareBits?: boolean;
  /** Send `have` for a piece that does not exist. */
  haveOutOfRange?: boolean;
  /** Wait this long before sending each block. */
  delayMs?: number;
  /** Announce the fast extension (BEP 6) and send have all instead of a bitfield. */
  fast?: boolean;
  /** Stay choking; allow these pieces fast (needs `fast`) and reject requests for others. */
  chokeAllowing?: number[];
  /** Send this many blocks nobody asked for, before unchoking. */
  unrequestedBlocks?: number;
  /** Accept the connection but never answer the handshake. */
  mute?: boolean;
  /** Answer the handshake, then send nothing at all. */
  quietAfterHandshake?: boolean;
  /** Claim (and serve) only pieces `[0, claim)`. */
  claim?: number;
  /** Claim only pieces `[0, first)` at first, and the others with `have` after `afterMs`. */
  revealLater?: { first: number; afterMs: number };
  /** The loopback address to listen on (bans are by IP). Default 127.0.0.1. */
  host?: string;
  /**
   * Claim every piece, then, once the other side's extension handshake
   * (BEP 10) names lt_donthave, announce `piece` and take it back `flaps`
   * times (default 1; the last message takes it back), and only then unchoke.
   */
  takeBack?: { piece: number; flaps?: number };
}

/** A running fake peer. */
export interface FakePeer {
  /** The loopback address it listens on. */
  host: string;
  /** Its port. */
  port: number;
  /** `host:port`. */
  address: string;
  /** Connections accepted so far. */
  readonly connections: number;
  /** Requests received so far. */
  readonly requests: number;
  /** Blocks sent so far. */
  readonly blocksSent: number;
  /** Connections the other side closed (as opposed to us). */
  readonly closedByClient: number;
  /** Keep-alive messages received. */
  readonly keepAlives: number;
  /** Requests answered with reject. */
  readonly rejected: number;
  /** Ids of the messages received (keep-alives left out), in order. */
  readonly received: readonly number[];
  /** Pieces named in the `have` messages received, in order. */
  readonly haves: readonly number[];
  /** Requests received for the piece taken back (`takeBack`), after it was taken back. */
  readonly takenBackRequests: number;
  /** Stops listening and closes every connection. */
  stop(): Promise<void>;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/**
 * Starts a fake seeder of `torrent` whose content is `content` (all files
 * concatenated, as the torrent's byte stream).
 */
export function startFakePeer(
  torrent: Torrent,
  content: Uint8Array,
  behaviour: FakePeerBehaviour = {},
): FakePeer {
  const host = behaviour.host ?? "127.0.0.1";
  const listener = Deno.listen({ hostname: host, port: 0 });
  const conns = new Set<Deno.Conn>();
  const stats = {
    connections: 0,
    requests: 0,
    blocksSent: 0,
    closedByClient: 0,
    keepAlives: 0,
    rejected: 0,
    takenBackRequests: 0,
  };
  const received: number[] = [];
  const haves: number[] = [];
  let stopped = false;
  const peerId = new TextEncoder().encode(`-FK0001-${crypto.randomUUID().slice(0, 12)}`);

  async function serve(conn: Deno.Conn): Promise<void> {
    const handshake = await readExactly(conn, 68);
    if (!handshake) return;
    if (behaviour.mute) {
      if ((await conn.read(new Uint8Array(1))) === null) stats.closedByClient++;
      return;
    }
    const reply = new Uint8Array(68);
    reply.set(PROTOCOL);
    if (behaviour.fast) reply[27] |= 0x04;
    if (behaviour.takeBack) reply[25] |= 0x10; // the extension protocol (BEP 10)
    reply.set(behaviour.wrongInfoHash ? new Uint8Array(20).fill(7) : torrent.infoHash, 28);
    reply.set(peerId, 48);
    await writeAll(conn, reply);
    if (behaviour.oversized) {
      // A piece message claiming 1 MiB + 1 bytes: far above a 16 KiB block.
      await writeAll(conn, new Uint8Array([0x00, 0x10, 0x00, 0x01, 7]));
    }
    const bitfield = new Uint8Array(Math.ceil(torrent.pieceCount / 8)).fill(0xff);
    const claimed = Math.min(behaviour.claim ?? torrent.pieceCount, torrent.pieceCount);
    for (let piece = claimed; piece < torrent.pieceCount; piece++) {
      bitfield[piece >> 3] &= ~(0x80 >> (piece & 7));
    }
    const reveal = behaviour.revealLater;
    if (reveal) {
      for (let piece = reveal.first; piece < torrent.pieceCount; piece++) {
        bitfield[piece >> 3] &= ~(0x80 >> (piece & 7));
      }
      setTimeout(async () => {
        for (let piece = reveal.first; piece < torrent.pieceCount; piece++) {
          await writeAll(conn, message(4, uint32(piece))).catch(() => {});
        }
      }, reveal.afterMs);
    }
    const spare = bitfield.length * 8 - torrent.pieceCount;
    if (spare > 0 && !behaviour.spareBits) bitfield[bitfield.length - 1] &= 0xff << spare;
    if (behaviour.spareBits && spare === 0) {
      throw new Error("spareBits needs a piece count that is not a multiple of 8");
    }
    if (behaviour.quietAfterHandshake) {
      // Read everything, counting keep-alives; answer nothing.
      while (true) {
        const header = await readExactly(conn, 4);
        const length = header ? new DataView(header.buffer).getUint32(0) : -1;
        if (length === 0) stats.keepAlives++;
        if (length < 0 || length > 1 << 20 || (length > 0 && !(await readExactly(conn, length)))) {
          stats.closedByClient++;
          return;
        }
      }
    }
    await writeAll(conn, behaviour.fast ? message(0x0e) : message(5, bitfield));
    if (behaviour.haveOutOfRange) await writeAll(conn, message(4, uint32(torrent.pieceCount + 10)));
    for (let i = 0; i < (behaviour.unrequestedBlocks ?? 0); i++) {
      const index = i % torrent.pieceCount;
      const length = Math.min(16384, torrent.pieceMap.pieceSize(index));
      const start = index * torrent.pieceLength;
      await writeAll(
        conn,
        message(7, uint32(index), uint32(0), content.slice(start, start + length)),
      );
    }
    const allowed = new Set(behaviour.chokeAllowing ?? []);
    if (behaviour.chokeAllowing) {
      for (const piece of allowed) await writeAll(conn, message(0x11, uint32(piece)));
    } else if (!behaviour.takeBack) {
      await writeAll(conn, message(1));
    }
    let tookBack = false;
    while (!stopped) {
      const header = await readExactly(conn, 4);
      if (!header) {
        stats.closedByClient++;
        return;
      }
      const length = new DataView(header.buffer).getUint32(0);
      if (length === 0) {
        stats.keepAlives++;
        continue;
      }
      if (length > 1 << 20) return;
      const body = await readExactly(conn, length);
      if (!body) {
        stats.closedByClient++;
        return;
      }
      received.push(body[0]);
      if (body[0] === 4) haves.push(new DataView(body.buffer).getUint32(1));
      if (body[0] === 20 && body[1] === 0 && behaviour.takeBack && !tookBack) {
        // Their id for lt_donthave, from their extension handshake.
        const id = /11:lt_donthavei(\d+)e/.exec(new TextDecoder().decode(body.subarray(2)))?.[1];
        if (id === undefined) continue;
        const { piece, flaps = 1 } = behaviour.takeBack;
        const burst: Uint8Array[] = [];
        for (let i = 0; i < flaps; i++) {
          if (i > 0) burst.push(message(4, uint32(piece)));
          burst.push(message(20, new Uint8Array([Number(id)]), uint32(piece)));
        }
        burst.push(message(1));
        await writeAll(conn, concat(burst));
        tookBack = true;
        continue;
      }
      if (body[0] !== 6) continue;
      stats.requests++;
      if (tookBack && new DataView(body.buffer).getUint32(1) === behaviour.takeBack!.piece) {
        stats.takenBackRequests++;
        continue;
      }
      if (behaviour.silent) continue;
      const view = new DataView(body.buffer);
      const index = view.getUint32(1);
      const begin = view.getUint32(5);
      const blockLength = view.getUint32(9);
      if (behaviour.chokeAllowing && !allowed.has(index)) {
        await writeAll(conn, message(0x10, body.subarray(1, 13)));
        stats.rejected++;
        continue;
      }
      const start = index * torrent.pieceLength + begin;
      const block = content.slice(start, start + blockLength);
      if (behaviour.corrupt?.(index)) block[0] ^= 0xff;
      const piece = message(7, uint32(index), uint32(begin), block);
      if (behaviour.disconnectMidPiece) {
        await writeAll(conn, piece.subarray(0, 13 + blockLength / 2));
        return;
      }
      if (behaviour.delayMs) await new Promise((resolve) => setTimeout(resolve, behaviour.delayMs));
      await writeAll(conn, piece);
      stats.blocksSent++;
    }
  }

  (async () => {
    for await (const conn of listener) {
      stats.connections++;
      conns.add(conn);
      // A write that fails means the client closed the connection.
      serve(conn).catch(() => stats.closedByClient++).finally(() => {
        conns.delete(conn);
        try {
          conn.close();
        } catch {
          // already closed
        }
      });
    }
  })().catch(() => {});

  const port = (listener.addr as Deno.NetAddr).port;
  return {
    host,
    port,
    address: `${host}:${port}`,
    get connections() {
      return stats.connections;
    },
    get requests() {
      return stats.requests;
    },
    received,
    haves,
    get blocksSent() {
      return stats.blocksSent;
    },
    get closedByClient() {
      return stats.closedByClient;
    },
    get keepAlives() {
      return stats.keepAlives;
    },
    get rejected() {
      return stats.rejected;
    },
    get takenBackRequests() {
      return stats.takenBackRequests;
    },
    stop() {
      stopped = true;
      listener.close();
      for (const conn of conns) {
        try {
          conn.close();
        } catch {
          // already closed
        }
      }
      return Promise.resolve();
    },
  };
}
