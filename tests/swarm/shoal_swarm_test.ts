/**
 * shoal instances swarm with each other over loopback: one seeder and
 * leechers that also trade pieces among themselves.
 */
import { readTorrentFile } from "../../lib/metainfo/mod.ts";
import { createTorrent } from "../../lib/metainfo/create.ts";
import { Session } from "../../lib/session/session.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import { assertSameContent } from "../helpers/content.ts";
import { withTempDir, writeRandomFile } from "../helpers/tools.ts";

async function swarm(instances: number): Promise<void> {
  await withTempDir(async (dir) => {
    await Deno.mkdir(`${dir}/seed`);
    const length = 12 * 1024 * 1024 + 12345;
    await writeRandomFile(`${dir}/seed/payload.bin`, length, 5);
    const { bytes } = await createTorrent(`${dir}/seed/payload.bin`, { pieceLength: 64 * 1024 });
    await Deno.writeFile(`${dir}/p.torrent`, bytes);
    const torrent = await readTorrentFile(`${dir}/p.torrent`);
    const sessions = Array.from(
      { length: instances },
      () => new Session({ port: 0, host: "127.0.0.1" }),
    );
    try {
      // One upload slot at the seeder (plus the optimistic one): leechers must trade with each other.
      const seeder = sessions[0].add(torrent, {
        downloadDir: `${dir}/seed`,
        seed: true,
        uploadSlots: 1,
      });
      await seeder.done;
      // Each leecher starts with its own share of the pieces (piece % leechers === i), so
      // every one of them has something the others need.
      const content = await Deno.readFile(`${dir}/seed/payload.bin`);
      const count = instances - 1;
      for (let i = 0; i < count && count > 1; i++) {
        const share = new Uint8Array(length);
        for (let piece = i; piece < torrent.pieceCount; piece += count) {
          const start = piece * torrent.pieceLength;
          share.set(content.subarray(start, start + torrent.pieceMap.pieceSize(piece)), start);
        }
        await Deno.mkdir(`${dir}/leech-${i}`);
        await Deno.writeFile(`${dir}/leech-${i}/payload.bin`, share);
      }
      const leechers = sessions.slice(1).map((session, i) =>
        session.add(torrent, {
          downloadDir: `${dir}/leech-${i}`,
          seed: true,
          peers: sessions.filter((other) => other !== session).map((other) => ({
            host: "127.0.0.1",
            port: other.port,
          })),
        })
      );
      for (const leecher of leechers) assertEquals(await leecher.done, "complete");
      for (const [i] of leechers.entries()) {
        await assertSameContent(
          { torrent: "", dataDir: `${dir}/seed`, files: [{ path: "payload.bin", length }] },
          `${dir}/leech-${i}`,
        );
      }
      if (instances > 2) {
        for (const [i, leecher] of leechers.entries()) {
          assert(leecher.status().uploaded > 0, `leecher ${i} uploaded nothing`);
        }
      }
      assert(seeder.status().uploaded > 0);
    } finally {
      await Promise.all(sessions.map((session) => session.close()));
    }
  });
}

Deno.test("shoal swarm: one seeder, one leecher", () => swarm(2));
Deno.test("shoal swarm: one seeder, four leechers that each start with a quarter and trade", () =>
  swarm(5));

Deno.test("seed limits: a seed stops (complete, peers closed) at its seed ratio, and at its seed time", () =>
  withTempDir(async (dir) => {
    await Deno.mkdir(`${dir}/seed`);
    await writeRandomFile(`${dir}/seed/data.bin`, 600_000, 5);
    const { torrent } = await createTorrent(`${dir}/seed/data.bin`, { pieceLength: 32768 });
    const seeder = new Session({ port: 0, host: "127.0.0.1" });
    const leecher = new Session({ port: 0, host: "127.0.0.1" });
    const timed = new Session({ port: 0, host: "127.0.0.1" });
    try {
      const seed = seeder.add(torrent, { downloadDir: `${dir}/seed`, seed: true, seedRatio: 1 });
      assertEquals(await seed.done, "complete");
      assertEquals(seed.state, "seeding");
      const leech = leecher.add(torrent, {
        downloadDir: `${dir}/leech`,
        peers: [{ host: "127.0.0.1", port: seeder.port }],
      });
      assertEquals(await leech.done, "complete");
      const deadline = Date.now() + 5000;
      while (seed.state === "seeding" && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assertEquals(seed.state, "complete", "ratio 1 reached: seeding ended");
      assert(seed.status().uploaded >= torrent.totalLength);

      const started = Date.now();
      const byTime = timed.add(torrent, {
        downloadDir: `${dir}/seed`,
        stateDir: `${dir}/state-timed`,
        seed: true,
        seedTimeMs: 1500,
      });
      assertEquals(await byTime.done, "complete");
      while (byTime.state === "seeding" && Date.now() - started < 5000) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assertEquals(byTime.state, "complete", "seeded 1.5 s: seeding ended");
      assert(Date.now() - started >= 1500, "not before its time");
    } finally {
      await Promise.all([seeder.close(), leecher.close(), timed.close()]);
    }
  }));
