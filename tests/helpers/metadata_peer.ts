/**
 * A peer that speaks only the metadata exchange (BEP 9), honestly or not:
 * a real TCP server on a loopback address that answers the handshake,
 * sends an extension handshake (BEP 10) naming `ut_metadata` and a
 * `metadata_size`, and answers metadata requests as told. It has no pieces
 * (have none). It writes the wire and bencode by hand, not with shoal's
 * code, so a bug there cannot hide itself.
 *
 * @module
 */

import { handshakeReply, message, readExactly, serveLoopback, writeAll } from "./wire.ts";

/** How the metadata peer behaves. */
export interface MetadataPeerBehaviour {
  /** The loopback address to listen on (bans are by IP). Default 127.0.0.1. */
  host?: string;
  /** The `metadata_size` announced. Default the real size. */
  announceSize?: number;
  /** What it does with a request. Default `serve`. */
  answer?: "serve" | "corrupt" | "reject" | "outOfRange" | "ignore";
  /** Right after the handshakes, send this many data messages nobody asked for. */
  unsolicited?: number;
}

/** A running metadata peer. */
export interface MetadataPeer {
  /** `host:port`. */
  address: string;
  /** Connections accepted so far. */
  readonly connections: number;
  /** Metadata requests received so far. */
  readonly requests: number;
  /** The extension handshakes received, as text. */
  readonly handshakes: readonly string[];
  /** Stops listening and closes every connection. */
  stop(): Promise<void>;
}

const PIECE = 16 * 1024;
const OUR_UT_METADATA = 3;
const encoder = new TextEncoder();

function extended(id: number, ...parts: Uint8Array[]): Uint8Array {
  return message(20, new Uint8Array([id]), ...parts);
}

/** `d8:msg_typei<type>e5:piecei<piece>e[10:total_sizei<size>e]e` */
function header(type: number, piece: number, totalSize?: number): Uint8Array {
  const size = totalSize === undefined ? "" : `10:total_sizei${totalSize}e`;
  return encoder.encode(`d8:msg_typei${type}e5:piecei${piece}e${size}e`);
}

/** Reads the `msg_type` and `piece` of a request header (the only messages shoal sends). */
function parseRequest(payload: Uint8Array): { type: number; piece: number } | undefined {
  const text = new TextDecoder().decode(payload);
  const type = /8:msg_typei(\d+)e/.exec(text);
  const piece = /5:piecei(\d+)e/.exec(text);
  return type && piece ? { type: Number(type[1]), piece: Number(piece[1]) } : undefined;
}

/**
 * Starts a metadata peer for the torrent whose info dictionary is `info`.
 *
 * @param infoHash The torrent's info hash (the handshake's).
 * @param info The info dictionary's bytes.
 */
export function startMetadataPeer(
  infoHash: Uint8Array,
  info: Uint8Array,
  behaviour: MetadataPeerBehaviour = {},
): MetadataPeer {
  const host = behaviour.host ?? "127.0.0.1";
  const server = serveLoopback(host, (conn) => serve(conn));
  const stats = { requests: 0, handshakes: [] as string[] };
  const size = behaviour.announceSize ?? info.length;
  const pieceCount = Math.ceil(info.length / PIECE);
  const peerId = encoder.encode(`-MD0001-${crypto.randomUUID().slice(0, 12)}`);

  const pieceOf = (piece: number, corrupt: boolean) => {
    const bytes = info.slice(piece * PIECE, (piece + 1) * PIECE);
    if (corrupt) bytes[0] ^= 0xff;
    return bytes;
  };

  async function serve(conn: Deno.Conn): Promise<void> {
    const theirs = await readExactly(conn, 68);
    if (!theirs) return;
    const reply = handshakeReply(infoHash, peerId);
    await writeAll(conn, reply);
    const handshake =
      `d1:md11:ut_metadatai${OUR_UT_METADATA}ee13:metadata_sizei${size}e1:v8:metadatae`;
    await writeAll(conn, extended(0, encoder.encode(handshake)));
    await writeAll(conn, message(0x0f)); // have none
    let theirId = 0;
    for (let i = 0; i < (behaviour.unsolicited ?? 0); i++) {
      const piece = i % pieceCount;
      // Under shoal's id for ut_metadata, once known; until then the usual 2 (libtorrent's).
      await writeAll(
        conn,
        extended(theirId || 2, header(1, piece, info.length), pieceOf(piece, false)),
      );
    }
    while (true) {
      const lengthBytes = await readExactly(conn, 4);
      if (!lengthBytes) return;
      const length = new DataView(lengthBytes.buffer).getUint32(0);
      if (length === 0) continue;
      if (length > 1 << 20) return;
      const body = await readExactly(conn, length);
      if (!body) return;
      if (body[0] !== 20) continue;
      const payload = body.subarray(2);
      if (body[1] === 0) {
        const text = new TextDecoder().decode(payload);
        stats.handshakes.push(text);
        const found = /11:ut_metadatai(\d+)e/.exec(text);
        theirId = found ? Number(found[1]) : 0;
        continue;
      }
      if (body[1] !== OUR_UT_METADATA) continue;
      const request = parseRequest(payload);
      if (!request || request.type !== 0) continue;
      stats.requests++;
      const piece = request.piece;
      switch (behaviour.answer ?? "serve") {
        case "ignore":
          continue;
        case "reject":
          await writeAll(conn, extended(theirId, header(2, piece)));
          continue;
        case "outOfRange":
          // A piece that does not exist, then one of the wrong length.
          await writeAll(
            conn,
            extended(theirId, header(1, pieceCount + 5, info.length), pieceOf(0, false)),
          );
          await writeAll(
            conn,
            extended(theirId, header(1, piece, info.length), new Uint8Array(PIECE + 1)),
          );
          continue;
        default:
          await writeAll(
            conn,
            extended(
              theirId,
              header(1, piece, info.length),
              pieceOf(piece, behaviour.answer === "corrupt"),
            ),
          );
      }
    }
  }

  return {
    address: server.address,
    get connections() {
      return server.connections;
    },
    get requests() {
      return stats.requests;
    },
    get handshakes() {
      return stats.handshakes;
    },
    stop: () => server.stop(),
  };
}
