/**
 * Leechers that misbehave, as real sockets against a seeding session:
 * invalid and flooding requests are rejected, a leecher that never reads
 * does not make our send queue grow, an unknown info hash is refused.
 */
import { readTorrentFile } from "../../lib/metainfo/mod.ts";
import { Session } from "../../lib/session/session.ts";
import type { TorrentHandle } from "../../lib/session/torrent_handle.ts";
import type { Torrent } from "../../lib/metainfo/torrent.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import { singleFileFixture } from "../helpers/content.ts";
import { connectFakeLeecher } from "../helpers/fake_leecher.ts";
import { withTempDir } from "../helpers/tools.ts";

async function withSeeder(
  fn: (session: Session, handle: TorrentHandle, torrent: Torrent) => Promise<void>,
  maxPeers?: number,
): Promise<void> {
  await withTempDir(async (dir) => {
    const fixture = await singleFileFixture(dir, 4_000_000);
    const torrent = await readTorrentFile(fixture.torrent);
    const session = new Session({ port: 0, host: "127.0.0.1" });
    try {
      const handle = session.add(torrent, { downloadDir: fixture.dataDir, seed: true, maxPeers });
      await handle.done;
      await fn(session, handle, torrent);
    } finally {
      await session.close();
    }
  });
}

Deno.test("hostile leechers: invalid requests are rejected, valid ones served, the connection kept", () =>
  withSeeder(async (session, _handle, torrent) => {
    const leecher = (await connectFakeLeecher(session.port, torrent.infoHash))!;
    leecher.startReading();
    await leecher.until((c) => c.unchoked);
    await leecher.request(torrent.pieceCount + 5, 0, 16384); // no such piece
    await leecher.request(0, torrent.pieceLength - 100, 16384); // past the end of the piece
    await leecher.request(1, 0, 65536); // larger than 16 KiB
    await leecher.request(2, 0, 0); // empty
    await leecher.request(3, 0, 16384); // fine
    await leecher.until((c) => c.rejects === 4 && c.pieces === 1);
    leecher.close();
  }));

Deno.test("hostile leechers: a request flood beyond our reqq is rejected, not queued", () =>
  withSeeder(async (session, handle, torrent) => {
    const leecher = (await connectFakeLeecher(session.port, torrent.infoHash))!;
    leecher.startReading();
    await leecher.until((c) => c.unchoked);
    const blocks = torrent.pieceLength / 16384;
    for (let i = 0; i < 3000; i++) {
      await leecher.request(
        Math.floor(i / blocks) % torrent.pieceCount,
        (i % blocks) * 16384,
        16384,
      );
    }
    await leecher.until((c) => c.pieces + c.rejects === 3000, 20_000);
    assert(leecher.counts.rejects > 0, "some requests were rejected");
    assert(handle.peers().every((p) => p.queuedRequests <= 500));
    leecher.close();
  }));

Deno.test("hostile leechers: claiming a huge reqq changes nothing, our own reqq bounds its requests", () =>
  withSeeder(async (session, handle, torrent) => {
    const leecher = (await connectFakeLeecher(session.port, torrent.infoHash, {
      extensionHandshake: "d1:md11:ut_metadatai1ee4:reqqi4294967295ee",
    }))!;
    leecher.startReading();
    await leecher.until((c) => c.unchoked);
    for (let i = 0; i < 2000; i++) await leecher.request(i % torrent.pieceCount, 0, 16384);
    await leecher.until((c) => c.pieces + c.rejects === 2000, 20_000);
    assert(leecher.counts.rejects > 0, "requests beyond our reqq were rejected");
    assert(handle.peers().every((p) => p.queuedRequests <= 500));
    leecher.close();
  }));

Deno.test("hostile leechers: requests for pieces we do not have are rejected, the ones we have served", () =>
  withTempDir(async (dir) => {
    const fixture = await singleFileFixture(dir, 4_000_000);
    const torrent = await readTorrentFile(fixture.torrent);
    // Spoil the second half of the data: those pieces fail the check, so we lack them.
    const path = `${fixture.dataDir}/${fixture.files[0].path}`;
    const data = await Deno.readFile(path);
    data.fill(0, 2_000_000);
    await Deno.writeFile(path, data);
    const session = new Session({ port: 0, host: "127.0.0.1" });
    try {
      const handle = session.add(torrent, { downloadDir: fixture.dataDir });
      while (handle.state !== "downloading") await new Promise((r) => setTimeout(r, 10));
      const last = torrent.pieceCount - 1;
      const leecher = (await connectFakeLeecher(session.port, torrent.infoHash))!;
      leecher.startReading();
      await leecher.until((c) => c.unchoked, 40_000);
      await leecher.request(last, 0, 16384); // we do not have it
      await leecher.request(last - 1, 0, 16384); // nor that
      await leecher.request(0, 0, 16384); // we have it
      await leecher.until((c) => c.rejects === 2 && c.pieces === 1);
      leecher.close();
    } finally {
      await session.close();
    }
  }));

Deno.test("hostile leechers: one that never reads cannot make our send queue grow", () =>
  withSeeder(async (session, handle, torrent) => {
    const leecher = (await connectFakeLeecher(session.port, torrent.infoHash))!;
    // Not reading: the unchoke and every piece pile up on our side.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const blocks = torrent.pieceLength / 16384;
    for (let i = 0; i < 490; i++) {
      await leecher.request(
        Math.floor(i / blocks) % torrent.pieceCount,
        (i % blocks) * 16384,
        16384,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const [peer] = handle.peers();
    assert(peer.sendQueueBytes <= 512 * 1024, `send queue: ${peer.sendQueueBytes} bytes`);
    assert(peer.queuedRequests > 0, "requests wait instead of being read into memory");
    leecher.close();
  }));

Deno.test("leechers: cancelled requests that are still queued are never sent", () =>
  withSeeder(async (session, handle, torrent) => {
    const leecher = (await connectFakeLeecher(session.port, torrent.infoHash))!;
    const blocks = torrent.pieceLength / 16384;
    const requests = Array.from({ length: 490 }, (_, i) => ({
      index: Math.floor(i / blocks) % torrent.pieceCount,
      begin: (i % blocks) * 16384,
    }));
    // Not reading yet: most requests wait in our queue behind a full socket.
    for (const { index, begin } of requests) await leecher.request(index, begin, 16384);
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert(handle.peers()[0].queuedRequests > 0, "requests are waiting");
    for (const { index, begin } of requests) await leecher.cancel(index, begin, 16384);
    const deadline = Date.now() + 5000;
    while (handle.peers()[0].queuedRequests > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assertEquals(handle.peers()[0].queuedRequests, 0);
    leecher.startReading();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert(leecher.counts.pieces < 490, `${leecher.counts.pieces} of 490 cancelled blocks came`);
    leecher.close();
  }));

Deno.test("incoming: beyond the peer limit, further leechers are turned away", () =>
  withSeeder(async (session, handle, torrent) => {
    const leechers = [];
    for (let i = 0; i < 5; i++) {
      leechers.push(await connectFakeLeecher(session.port, torrent.infoHash));
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    assertEquals(handle.peers().length, 3);
    for (const leecher of leechers) leecher?.close();
  }, 3));

Deno.test("hostile leechers: a handshake for a torrent we do not serve is refused", () =>
  withSeeder(async (session) => {
    assertEquals(await connectFakeLeecher(session.port, new Uint8Array(20).fill(3)), undefined);
  }));

Deno.test("rate-limited seeding: closing does not wait for the upload limit's queue", () =>
  withTempDir(async (dir) => {
    const fixture = await singleFileFixture(dir, 4_000_000);
    const torrent = await readTorrentFile(fixture.torrent);
    // 16 KiB/s: five unchoked leechers with a block each in the queue owe five seconds.
    const session = new Session({ port: 0, host: "127.0.0.1", maxUploadRate: 16 * 1024 });
    const leechers = [];
    try {
      const handle = session.add(torrent, { downloadDir: fixture.dataDir, seed: true });
      await handle.done;
      for (let i = 0; i < 6; i++) {
        const leecher = (await connectFakeLeecher(session.port, torrent.infoHash))!;
        leecher.startReading();
        leechers.push(leecher);
      }
      await Promise.all(leechers.slice(0, 4).map((l) => l.until((c) => c.unchoked)));
      for (const leecher of leechers) {
        for (let block = 0; block < 8; block++) await leecher.request(block, 0, 16384);
      }
      await leechers[0].until((c) => c.pieces >= 1);
    } finally {
      const started = performance.now();
      await session.close();
      const seconds = (performance.now() - started) / 1000;
      for (const leecher of leechers) leecher.close();
      assert(seconds < 2.5, `close took ${seconds.toFixed(1)} s`);
    }
  }));
