/**
 * A peer that speaks only the peer exchange (BEP 11), to look at what
 * shoal sends and to send it what hostile peers send: a real TCP server on
 * a loopback address that answers the handshake, sends an extension
 * handshake (BEP 10) naming `ut_pex`, has no pieces, and then sends the
 * PEX messages it is told to. It writes the wire and bencode by hand, not
 * with shoal's code, so a bug there cannot hide itself.
 *
 * @module
 */

import { handshakeReply, message, readExactly, serveLoopback, writeAll } from "./wire.ts";

/** Our id for ut_pex in the extension handshake. */
const OUR_UT_PEX = 5;
const encoder = new TextEncoder();
const latin1 = (bytes: Uint8Array) => String.fromCharCode(...bytes);

/** How the PEX peer behaves. */
export interface PexPeerBehaviour {
  /** The loopback address to listen on (bans are by IP). Default 127.0.0.1. */
  host?: string;
  /** Addresses (IPv4 `host:port`) it names in each of its messages. */
  names?: string[];
  /** How many messages it sends, one after the other, right after the handshakes. Default 1 when `names` are given. */
  messages?: number;
  /** Waits this long before answering the handshake (so that shoal's other peers come first). */
  answerAfterMs?: number;
}

/** A running PEX peer. */
export interface PexPeer {
  /** `host:port`. */
  address: string;
  /** The extension handshakes received, as latin1 text. */
  readonly handshakes: readonly string[];
  /** The PEX messages received, as latin1 text. */
  readonly received: readonly string[];
  /** The first messages received after the handshake: their ids (`20/<extended id>`). */
  readonly order: readonly string[];
  /** Connections accepted so far. */
  readonly connections: number;
  /** Connections the other side has closed so far. */
  readonly closedByPeer: number;
  /** Stops listening and closes every connection. */
  stop(): Promise<void>;
}

/** The compact form of `host:port` (IPv4). */
function compact(address: string): string {
  const [host, port] = [
    address.slice(0, address.lastIndexOf(":")),
    Number(address.split(":").pop()),
  ];
  return String.fromCharCode(...host.split(".").map(Number), port >> 8, port & 255);
}

/** `d5:added<n>:<compact>7:added.f<n>:<flags>e` */
function pexMessage(names: readonly string[]): Uint8Array {
  const added = names.map(compact).join("");
  const text = `d5:added${added.length}:${added}7:added.f${names.length}:${
    "\0".repeat(names.length)
  }e`;
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

/**
 * Starts a PEX peer for the torrent `infoHash`.
 *
 * @param infoHash The torrent's info hash (the handshake's).
 */
export function startPexPeer(infoHash: Uint8Array, behaviour: PexPeerBehaviour = {}): PexPeer {
  const host = behaviour.host ?? "127.0.0.1";
  const server = serveLoopback(host, (conn) => serve(conn));
  const seen = {
    order: [] as string[],
    closedByPeer: 0,
    handshakes: [] as string[],
    received: [] as string[],
  };
  const peerId = encoder.encode(`-PX0001-${crypto.randomUUID().slice(0, 12)}`);
  const names = behaviour.names ?? [];
  const count = behaviour.messages ?? (names.length > 0 ? 1 : 0);

  async function serve(conn: Deno.Conn): Promise<void> {
    const theirs = await readExactly(conn, 68);
    if (!theirs) return;
    await new Promise((resolve) => setTimeout(resolve, behaviour.answerAfterMs ?? 0));
    const reply = handshakeReply(infoHash, peerId);
    // The handshake, the extension handshake and have none in one write, as libtorrent does:
    // shoal reads them together and must still send its own handshake and pieces first.
    const handshake = `d1:md6:ut_pexi${OUR_UT_PEX}ee1:pi${server.port}e1:v3:pexe`;
    const extended = message(20, new Uint8Array([0]), encoder.encode(handshake));
    const haveNone = message(0x0f);
    const all = new Uint8Array(reply.length + extended.length + haveNone.length);
    all.set(reply);
    all.set(extended, reply.length);
    all.set(haveNone, reply.length + extended.length);
    await writeAll(conn, all);
    let sent = false;
    while (true) {
      const lengthBytes = await readExactly(conn, 4);
      if (!lengthBytes) {
        seen.closedByPeer++;
        return;
      }
      const length = new DataView(lengthBytes.buffer).getUint32(0);
      if (length === 0) continue;
      if (length > 1 << 20) return;
      const body = await readExactly(conn, length);
      if (!body) {
        seen.closedByPeer++;
        return;
      }
      if (seen.order.length < 16) seen.order.push(body[0] === 20 ? `20/${body[1]}` : `${body[0]}`);
      if (body[0] !== 20) continue;
      const payload = body.subarray(2);
      if (body[1] === 0) {
        const text = latin1(payload);
        seen.handshakes.push(text);
        const theirId = Number(/6:ut_pexi(\d+)e/.exec(text)?.[1] ?? 0);
        if (sent || theirId === 0) continue;
        sent = true;
        for (let i = 0; i < count; i++) {
          await writeAll(conn, message(20, new Uint8Array([theirId]), pexMessage(names)));
        }
        continue;
      }
      if (body[1] === OUR_UT_PEX) seen.received.push(latin1(payload));
    }
  }

  return {
    address: server.address,
    get handshakes() {
      return seen.handshakes;
    },
    get received() {
      return seen.received;
    },
    get order() {
      return seen.order;
    },
    get connections() {
      return server.connections;
    },
    get closedByPeer() {
      return seen.closedByPeer;
    },
    stop: () => server.stop(),
  };
}
