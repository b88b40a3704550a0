/**
 * Attacks on a seed by leechers that take slots, queue replies or never
 * read, as real sockets from their own loopback addresses, with an honest
 * leecher (a second shoal session) downloading beside them. Each test
 * prints the honest download's time alone and under attack.
 */
import { readTorrentFile } from "../../lib/metainfo/mod.ts";
import type { Torrent } from "../../lib/metainfo/torrent.ts";
import { MAX_QUEUED_BYTES } from "../../lib/wire/connection.ts";
import { Session, type SessionOptions } from "../../lib/session/session.ts";
import type { AddTorrentOptions, TorrentHandle } from "../../lib/session/torrent_handle.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import { assertSameContent, type Fixture, singleFileFixture } from "../helpers/content.ts";
import { connectFakeLeecher } from "../helpers/fake_leecher.ts";
import { withTempDir } from "../helpers/tools.ts";
import { type Attack, discardAll, startAttack } from "../helpers/attackers.ts";
import { handshake, message, readExactly, uint32, writeAll } from "../helpers/wire.ts";
import type { PeerStream } from "../../lib/wire/stream.ts";

interface Seed {
  dir: string;
  fixture: Fixture;
  torrent: Torrent;
  session: Session;
  handle: TorrentHandle;
}

async function withSeed(
  size: number,
  fn: (seed: Seed) => Promise<void>,
  sessionOptions: SessionOptions = {},
  options: Partial<AddTorrentOptions> = {},
): Promise<void> {
  await withTempDir(async (dir) => {
    const fixture = await singleFileFixture(dir, size, [], 64 * 1024);
    const torrent = await readTorrentFile(fixture.torrent);
    const session = new Session({ port: 0, host: "127.0.0.1", ...sessionOptions });
    try {
      const handle = session.add(torrent, { downloadDir: fixture.dataDir, seed: true, ...options });
      await handle.done;
      await fn({ dir, fixture, torrent, session, handle });
    } finally {
      await session.close();
    }
  });
}

/**
 * An honest shoal leecher downloads from the seed; resolves to its time in
 * seconds, or fails with its progress after `limitMs`.
 */
async function honestDownload(seed: Seed, name: string, limitMs = 60_000): Promise<number> {
  const session = new Session({ port: 0, host: "127.0.0.1" });
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const started = performance.now();
    const handle = session.add(seed.torrent, {
      downloadDir: `${seed.dir}/${name}`,
      peers: [{ host: "127.0.0.1", port: seed.session.port }],
    });
    timer = setTimeout(() => handle.stop(), limitMs);
    const done = await handle.done;
    const { piecesDone, pieceCount } = handle.status();
    assertEquals(done, "complete", `${piecesDone}/${pieceCount} pieces after ${limitMs / 1000} s`);
    const seconds = (performance.now() - started) / 1000;
    await assertSameContent(seed.fixture, `${seed.dir}/${name}`);
    return seconds;
  } finally {
    clearTimeout(timer);
    await session.close();
  }
}

/** Sends a handshake one byte a second, until it is closed. */
function slowHandshake(torrent: Torrent): (conn: PeerStream) => Promise<void> {
  return async (conn) => {
    for (const byte of handshake(torrent.infoHash, "SH")) {
      await writeAll(conn, new Uint8Array([byte]));
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    await readExactly(conn, 1);
  };
}

const MiB = 1024 * 1024;

Deno.test("seed attacks: a leecher that never reads and floods invalid requests is paused, bounded and dropped", () =>
  withSeed(8 * MiB, async (seed) => {
    const alone = await honestDownload(seed, "alone");
    const rssBefore = Deno.memoryUsage().rss;
    const flooder = (await connectFakeLeecher(seed.session.port, seed.torrent.infoHash, {
      from: "127.0.0.77",
    }))!;
    // 1 MiB of requests for a piece that does not exist: each earns a 17-byte reject.
    const requests = 61_680;
    const chunk = new Uint8Array(requests * 17);
    const request = message(6, uint32(seed.torrent.pieceCount + 1), uint32(0), uint32(16384));
    for (let i = 0; i < requests; i++) chunk.set(request, i * 17);
    let sent = 0;
    let dropped = false;
    const flooding = (async () => {
      while (sent < 3_000_000) {
        await flooder.send(chunk);
        sent += requests;
      }
    })().catch(() => dropped = true);
    let peakQueue = 0;
    let peakRss = rssBefore;
    const sampler = setInterval(() => {
      for (const peer of seed.handle.peers()) peakQueue = Math.max(peakQueue, peer.sendQueueBytes);
      peakRss = Math.max(peakRss, Deno.memoryUsage().rss);
    }, 50);
    try {
      const attacked = await honestDownload(seed, "attacked");
      const deadline = Date.now() + 15_000;
      while (!dropped && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      console.log(
        `honest download ${alone.toFixed(2)} s alone, ${
          attacked.toFixed(2)
        } s beside the flooder; ` +
          `it got ${sent} requests in before it was dropped; peak send queue ${
            (peakQueue / MiB).toFixed(2)
          } MiB, memory +${((peakRss - rssBefore) / MiB).toFixed(0)} MiB`,
      );
      assert(dropped, "the flooder that never reads was dropped");
      assert(sent < 3_000_000, `all ${sent} requests went in: nothing pushed back`);
      assert(peakQueue <= MAX_QUEUED_BYTES, `send queue peaked at ${peakQueue} bytes`);
      assert(peakRss - rssBefore < 200 * MiB, `memory grew by ${(peakRss - rssBefore) / MiB} MiB`);
    } finally {
      clearInterval(sampler);
      flooder.close();
      await flooding;
    }
  }, { timeouts: { sendStallMs: 3000 } }));

for (
  const [what, hosts, perHost] of [
    ["40 from one IP", ["127.0.0.88"], 40],
    ["2 from each of 24 IPs", Array.from({ length: 24 }, (_, i) => `127.0.1.${i + 1}`), 2],
  ] as const
) {
  Deno.test(`seed attacks: slow handshakes (${what}, one byte a second, reopened when closed) do not lock out an honest leecher`, () =>
    withSeed(8 * MiB, async (seed) => {
      const alone = await honestDownload(seed, "alone");
      const attacks: Attack[] = hosts.map((from) =>
        startAttack({
          port: seed.session.port,
          from,
          parallel: perHost,
          script: slowHandshake(seed.torrent),
        })
      );
      try {
        await new Promise((resolve) => setTimeout(resolve, 1500)); // every slow socket is in
        const attacked = await honestDownload(seed, "attacked", 30_000);
        const opened = attacks.reduce((sum, a) => sum + a.connections, 0);
        console.log(
          `honest download ${alone.toFixed(2)} s alone, ${
            attacked.toFixed(2)
          } s beside ${what} slow handshakes (${opened} opened)`,
        );
      } finally {
        await Promise.all(attacks.map((a) => a.stop()));
      }
    }));
}

Deno.test("seed attacks: a connection that sends nothing is closed after the first-byte deadline, well before the handshake's", () =>
  withSeed(MiB, async (seed) => {
    const started = performance.now();
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: seed.session.port });
    try {
      assertEquals(await readExactly(conn, 1).catch(() => undefined), undefined);
      const seconds = (performance.now() - started) / 1000;
      assert(seconds >= 2.5 && seconds < 8, `closed after ${seconds.toFixed(1)} s (deadline 3 s)`);
    } finally {
      conn.close();
    }
  }));

/** Handshakes, says it is interested, reads what comes and asks for nothing. */
function slotHoarder(torrent: Torrent): (conn: PeerStream) => Promise<void> {
  return async (conn) => {
    await writeAll(conn, handshake(torrent.infoHash, "SL"));
    if (!(await readExactly(conn, 68))) return;
    await writeAll(conn, message(2));
    await discardAll(conn);
  };
}

/** Handshakes, asks for 500 blocks, and never reads again (until the attack stops). */
function nonReader(torrent: Torrent): (conn: PeerStream, attack: Attack) => Promise<void> {
  return async (conn, attack) => {
    await writeAll(conn, handshake(torrent.infoHash, "NR"));
    if (!(await readExactly(conn, 68))) return;
    await writeAll(conn, message(2));
    const blocks = torrent.pieceLength / 16384;
    for (let i = 0; i < 500; i++) {
      const index = Math.floor(i / blocks) % torrent.pieceCount;
      await writeAll(conn, message(6, uint32(index), uint32((i % blocks) * 16384), uint32(16384)));
    }
    while (!attack.stopped) await new Promise((resolve) => setTimeout(resolve, 100));
  };
}

Deno.test("seed attacks: 200 connections from one IP that take a slot and ask for nothing do not keep an honest leecher waiting", () =>
  withSeed(8 * MiB, async (seed) => {
    const alone = await honestDownload(seed, "alone");
    const attack = startAttack({
      port: seed.session.port,
      from: "127.0.0.99",
      parallel: 200,
      script: slotHoarder(seed.torrent),
    });
    try {
      await new Promise((resolve) => setTimeout(resolve, 1500)); // the torrent is full of them
      const attacked = await honestDownload(seed, "attacked", 60_000);
      console.log(
        `honest download ${alone.toFixed(2)} s alone, ${
          attacked.toFixed(2)
        } s beside 200 slot hoarders (${attack.connections} connections opened)`,
      );
    } finally {
      await attack.stop();
    }
  }));

Deno.test("seed attacks: 20 peers that ask for 500 blocks and never read lose their slots to an honest leecher", () =>
  withSeed(8 * MiB, async (seed) => {
    const alone = await honestDownload(seed, "alone");
    const attacks = Array.from({ length: 20 }, (_, i) =>
      startAttack({
        port: seed.session.port,
        from: `127.0.2.${i + 1}`,
        reconnect: false,
        script: nonReader(seed.torrent),
      }));
    try {
      await new Promise((resolve) => setTimeout(resolve, 1500)); // their requests are queued
      const attacked = await honestDownload(seed, "attacked", 60_000);
      const queued = seed.handle.peers().reduce((sum, p) => sum + p.sendQueueBytes, 0);
      console.log(
        `honest download ${alone.toFixed(2)} s alone, ${
          attacked.toFixed(2)
        } s beside 20 non-readers (${(queued / MiB).toFixed(1)} MiB waiting for them)`,
      );
    } finally {
      await Promise.all(attacks.map((a) => a.stop()));
    }
  }));
