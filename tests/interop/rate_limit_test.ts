/**
 * Rate limits against real peers: shoal's upload to a libtorrent leecher
 * and its download from an aria2c seeder stay within 10% of the limit.
 * (Measured over about 8 s each, to keep the suite short.)
 */
import { readTorrentFile } from "../../lib/metainfo/mod.ts";
import { Session } from "../../lib/session/session.ts";
import { assert } from "../helpers/assert.ts";
import { assertSameContent, singleFileFixture } from "../helpers/content.ts";
import { startLeecher } from "../helpers/leechers.ts";
import { startSeeder } from "../helpers/seeders.ts";
import { testWithPrograms, withTempDir } from "../helpers/tools.ts";

const LIMIT = 512 * 1024;
const SIZE = 4 * 1024 * 1024 + 1000;

/** Samples `bytes()` every 100 ms until `done` settles; the rate between the first byte and the end. */
async function measuredRate(bytes: () => number, done: Promise<unknown>): Promise<number> {
  let finished = false;
  done.finally(() => (finished = true)).catch(() => {});
  let first: { at: number; bytes: number } | undefined;
  while (!finished) {
    const value = bytes();
    if (first === undefined && value > 0) first = { at: performance.now(), bytes: value };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await done;
  const seconds = (performance.now() - first!.at) / 1000;
  return (bytes() - first!.bytes) / seconds;
}

function assertNear(rate: number, what: string): void {
  const error = Math.abs(rate - LIMIT) / LIMIT;
  assert(
    error <= 0.1,
    `${what}: ${Math.round(rate)} B/s against a limit of ${LIMIT} (${
      (error * 100).toFixed(1)
    }% off)`,
  );
}

testWithPrograms("rate limits: upload to a real leecher (libtorrent) holds --max-up", [
  "python3-libtorrent",
], () =>
  withTempDir(async (dir) => {
    const fixture = await singleFileFixture(dir, SIZE);
    const torrent = await readTorrentFile(fixture.torrent);
    const seeder = new Session({ port: 0, host: "127.0.0.1", maxUploadRate: LIMIT });
    try {
      const handle = seeder.add(torrent, { downloadDir: fixture.dataDir, seed: true });
      await handle.done;
      const leecher = await startLeecher(
        "libtorrent",
        fixture.torrent,
        `${dir}/leech`,
        `127.0.0.1:${seeder.port}`,
      );
      try {
        assertNear(await measuredRate(() => handle.status().uploaded, leecher.done), "upload");
      } finally {
        await leecher.stop();
      }
      await assertSameContent(fixture, `${dir}/leech`);
    } finally {
      await seeder.close();
    }
  }));

testWithPrograms(
  "rate limits: download from a real seeder (aria2c) holds --max-down",
  ["aria2c"],
  () =>
    withTempDir(async (dir) => {
      const fixture = await singleFileFixture(dir, SIZE);
      const torrent = await readTorrentFile(fixture.torrent);
      const seeder = await startSeeder("aria2", fixture.torrent, fixture.dataDir);
      const session = new Session({ port: 0, host: "127.0.0.1", maxDownloadRate: LIMIT });
      try {
        const handle = session.add(torrent, {
          downloadDir: `${dir}/out`,
          peers: [{ host: "127.0.0.1", port: seeder.port }],
        });
        assertNear(await measuredRate(() => handle.status().downloaded, handle.done), "download");
        await assertSameContent(fixture, `${dir}/out`);
      } finally {
        await session.close();
        await seeder.stop();
      }
    }),
);
