/**
 * A fake leecher for faults real clients do not produce: it dials a peer,
 * handshakes (with the fast extension), says it is interested, and then
 * sends whatever requests a test wants, reading replies or not. It parses
 * the wire on its own, not with shoal's codec.
 *
 * @module
 */

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
}

function uint32(value: number): Uint8Array {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setUint32(0, value);
  return bytes;
}

/** Sends a request (id 6) or cancel (id 8) for a block. */
async function sendBlockMessage(
  conn: Deno.Conn,
  id: number,
  index: number,
  begin: number,
  length: number,
): Promise<void> {
  const message = new Uint8Array(17);
  message.set(uint32(13));
  message[4] = id;
  message.set(uint32(index), 5);
  message.set(uint32(begin), 9);
  message.set(uint32(length), 13);
  let written = 0;
  while (written < message.length) written += await conn.write(message.subarray(written));
}

/**
 * Dials `port` on 127.0.0.1 and handshakes for `infoHash`.
 *
 * @returns The leecher, or `undefined` when the other side closed instead of answering.
 */
export async function connectFakeLeecher(
  port: number,
  infoHash: Uint8Array,
  options: FakeLeecherOptions = {},
): Promise<FakeLeecher | undefined> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const handshake = new Uint8Array(68);
  handshake.set(new TextEncoder().encode("\x13BitTorrent protocol"));
  if (options.extensionHandshake !== undefined) handshake[25] = 0x10;
  handshake[27] = 0x04;
  handshake.set(infoHash, 28);
  handshake.set(new TextEncoder().encode(`-FL0001-${crypto.randomUUID().slice(0, 12)}`), 48);
  await conn.write(handshake);
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
    await conn.write(new Uint8Array([...uint32(payload.length + 2), 20, 0, ...payload]));
  }
  await conn.write(new Uint8Array([0, 0, 0, 1, 2])); // interested
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
