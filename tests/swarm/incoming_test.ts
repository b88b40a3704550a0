/** Peers that dial a downloading session are answered and routed to their torrent by info hash. */
import { readTorrentFile } from "../../lib/metainfo/mod.ts";
import { Session } from "../../lib/session/session.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import { singleFileFixture } from "../helpers/content.ts";
import { testWithIPv6, withTempDir } from "../helpers/tools.ts";
import { startFakePeer } from "../helpers/fake_peer.ts";
import { connectFakeLeecher } from "../helpers/fake_leecher.ts";

async function readAtLeast(conn: Deno.Conn, length: number): Promise<Uint8Array> {
  const out = new Uint8Array(length + 4096);
  let filled = 0;
  while (filled < length) {
    const n = await conn.read(out.subarray(filled));
    if (n === null) break;
    filled += n;
  }
  return out.subarray(0, filled);
}

Deno.test("incoming: a peer that dials us gets our handshake, our pieces and our extension handshake", () =>
  withTempDir(async (dir) => {
    const fixture = await singleFileFixture(dir, 100_000);
    const torrent = await readTorrentFile(fixture.torrent);
    const session = new Session({ port: 0, host: "127.0.0.1" });
    try {
      session.add(torrent, { downloadDir: `${dir}/out` });
      while (session.torrents()[0].state !== "downloading") {
        await new Promise((r) => setTimeout(r, 10));
      }
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: session.port });
      const handshake = new Uint8Array(68);
      handshake.set(new TextEncoder().encode("\x13BitTorrent protocol"));
      handshake[25] = 0x10;
      handshake[27] = 0x04;
      handshake.set(torrent.infoHash, 28);
      handshake.set(new TextEncoder().encode("-XX0001-incomingpeer"), 48);
      await conn.write(handshake);
      // The handshake and the greeting may come in separate writes: read until both are in.
      let reply = await readAtLeast(conn, 68 + 5);
      while (reply.length < 68 + 2 * 5 + 20) {
        const more = await readAtLeast(conn, 1);
        if (more.length === 0) break;
        reply = new Uint8Array([...reply, ...more]);
      }
      assertEquals([...reply.subarray(28, 48)], [...torrent.infoHash]);
      assertEquals([...reply.subarray(48, 51)], [..."-SH"].map((c) => c.charCodeAt(0)));
      // After the handshake: the extension handshake (id 20) and have none (0x0f), we have nothing yet.
      const ids = new Set<number>();
      let offset = 68;
      while (offset + 5 <= reply.length) {
        const length = new DataView(reply.buffer, reply.byteOffset + offset).getUint32(0);
        ids.add(reply[offset + 4]);
        offset += 4 + length;
      }
      assert(ids.has(20) && ids.has(0x0f), `message ids ${[...ids]}`);
      conn.close();

      const stranger = await Deno.connect({ hostname: "127.0.0.1", port: session.port });
      handshake.fill(9, 28, 48);
      await stranger.write(handshake);
      assertEquals(
        await stranger.read(new Uint8Array(68)),
        null,
        "a torrent we do not have is refused",
      );
      stranger.close();
    } finally {
      await session.close();
    }
  }));

Deno.test("self: an address that turns out to be ourselves is dropped at the handshake and never dialled again", () =>
  withTempDir(async (dir) => {
    const fixture = await singleFileFixture(dir, 100_000);
    const torrent = await readTorrentFile(fixture.torrent);
    const lines: string[] = [];
    const log = { debug: (m: string) => lines.push(m), info() {}, warn() {}, error() {} };
    // 127.0.0.2 reaches the same loopback listener, but is not an address we know as ours.
    const session = new Session({ port: 0, host: "0.0.0.0", log });
    try {
      const handle = session.add(torrent, {
        downloadDir: `${dir}/out`,
        peers: [{ host: "127.0.0.2", port: session.port }, {
          host: "127.0.0.1",
          port: session.port,
        }],
      });
      const deadline = Date.now() + 5000;
      const dialledSelf = (l: string) =>
        l.includes("peer 127.0.0.2:") && l.includes("Connected to ourselves");
      // The answering side logs it too, first or second: wait for the dialling side's line.
      while (!lines.some(dialledSelf) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
      }
      assert(
        lines.some((l) => l.includes("peer 127.0.0.2:") && l.includes("Connected to ourselves")),
        lines.join("\n"),
      );
      assert(
        !lines.some((l) => l.includes(`peer 127.0.0.1:${session.port}:`)),
        "our own address is never dialled",
      );
      assertEquals(handle.status().peersConnected, 0);
    } finally {
      await session.close();
    }
  }));

testWithIPv6(
  "incoming: by default the session listens on IPv6 and IPv4; an IPv4 peer shows as a.b.c.d, not ::ffff:a.b.c.d",
  [],
  () =>
    withTempDir(async (dir) => {
      const fixture = await singleFileFixture(dir, 100_000);
      const torrent = await readTorrentFile(fixture.torrent);
      const session = new Session({ port: 0 });
      try {
        assert(session.addresses.includes("::"), `listening on ${session.addresses}`);
        const handle = session.add(torrent, { downloadDir: `${dir}/out` });
        while (handle.state !== "downloading") await new Promise((r) => setTimeout(r, 10));
        const handshake = new Uint8Array(68);
        handshake.set(new TextEncoder().encode("\x13BitTorrent protocol"));
        handshake.set(torrent.infoHash, 28);
        const conns: Deno.Conn[] = [];
        for (
          const [hostname, id] of [["127.0.0.1", "-XX0001-ipv4ipv4ipv4"], [
            "::1",
            "-XX0001-ipv6ipv6ipv6",
          ]]
        ) {
          const conn = await Deno.connect({ hostname, port: session.port });
          conns.push(conn);
          handshake.set(new TextEncoder().encode(id), 48);
          await conn.write(handshake);
          const reply = await readAtLeast(conn, 68);
          assertEquals(
            [...reply.subarray(28, 48)],
            [...torrent.infoHash],
            `answered over ${hostname}`,
          );
        }
        while (handle.peers().length < 2) await new Promise((r) => setTimeout(r, 10));
        const addresses = handle.peers().map((peer) => peer.address).sort();
        assert(/^127\.0\.0\.1:\d+$/.test(addresses[0]), addresses[0]);
        assert(/^\[::1\]:\d+$/.test(addresses[1]), addresses[1]);
        for (const conn of conns) conn.close();
      } finally {
        await session.close();
      }
    }),
);

Deno.test("incoming: a peer that dials in is known by the listen port it names (BEP 10 p), so it is not dialled while connected", () =>
  withTempDir(async (dir) => {
    const fixture = await singleFileFixture(dir, 100_000);
    const torrent = await readTorrentFile(fixture.torrent);
    const content = await Deno.readFile(`${fixture.dataDir}/single.bin`);
    // The peer's listening side, on its own loopback address.
    const listening = startFakePeer(torrent, content, { host: "127.0.0.5" });
    const session = new Session({ port: 0, host: "127.0.0.1" });
    try {
      const handle = session.add(torrent, { downloadDir: `${dir}/out` });
      while (handle.state !== "downloading") await new Promise((r) => setTimeout(r, 10));
      const leecher = await connectFakeLeecher(session.port, torrent.infoHash, {
        from: "127.0.0.5",
        extensionHandshake: `d1:md11:lt_donthavei3ee1:pi${listening.port}ee`,
      });
      assert(leecher, "connected");
      try {
        leecher.startReading();
        while (handle.peers().length === 0) await new Promise((r) => setTimeout(r, 10));
        await new Promise((r) => setTimeout(r, 200)); // its extension handshake is read
        // A tracker (or the user) lists that listen address: it is the peer already connected.
        handle.addPeers([{ host: "127.0.0.5", port: listening.port }]);
        await new Promise((r) => setTimeout(r, 500));
        assertEquals(listening.connections, 0, "not dialled while it is connected");
        assertEquals(handle.status().peersSeen, 1, "one peer, by its listen address");
      } finally {
        leecher.close();
      }
    } finally {
      await session.close();
      await listening.stop();
    }
  }));
