/**
 * Rate limits against real peers: shoal's upload to a libtorrent leecher
 * and its download from an aria2c seeder stay within 10% of the limit.
 * Each transfer takes about 30 s at the limit; the average over the whole
 * transfer and over every 10 s window must stay within 10%.
 */
import { readTorrentFile } from "../../lib/metainfo/mod.ts";
import { Session } from "../../lib/session/session.ts";
import { assert } from "../helpers/assert.ts";
import { assertSameContent, singleFileFixture } from "../helpers/content.ts";
import { startLeecher } from "../helpers/leechers.ts";
import { startSeeder } from "../helpers/seeders.ts";
import { testWithPrograms, withTempDir } from "../helpers/tools.ts";

const LIMIT = 512 * 1024;
/** 30 s of data at the limit. */
const SIZE = 30 * LIMIT + 1000;
const WINDOW_MS = 10_000;

interface Measurement {
  /** Bytes per second from the first byte to the end. */
  average: number;
  /** Bytes per second in each whole 10 s window from the first byte. */
  windows: number[];
}

/** Samples `bytes()` every 100 ms until `done` settles. */
async function measure(bytes: () => number, done: Promise<unknown>): Promise<Measurement> {
  let finished = false;
  done.finally(() => (finished = true)).catch(() => {});
  const samples: { at: number; bytes: number }[] = [];
  while (!finished) {
    const value = bytes();
    if (samples.length > 0 || value > 0) samples.push({ at: performance.now(), bytes: value });
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await done;
  samples.push({ at: performance.now(), bytes: bytes() });
  const first = samples[0];
  const last = samples[samples.length - 1];
  const windows: number[] = [];
  let start = first;
  for (const sample of samples) {
    if (sample.at - start.at >= WINDOW_MS) {
      windows.push((sample.bytes - start.bytes) / ((sample.at - start.at) / 1000));
      start = sample;
    }
  }
  return { average: (last.bytes - first.bytes) / ((last.at - first.at) / 1000), windows };
}

function assertNear({ average, windows }: Measurement, what: string): void {
  const off = (rate: number) => Math.abs(rate - LIMIT) / LIMIT;
  const describe = (rate: number) =>
    `${Math.round(rate)} B/s (${(off(rate) * 100).toFixed(1)}% off)`;
  const report = `${what} against a limit of ${LIMIT} B/s: average ${describe(average)}; ` +
    `10 s windows ${windows.map(describe).join(", ")}`;
  assert(windows.length >= 2, `${report}: the transfer was too short to measure`);
  assert([average, ...windows].every((rate) => off(rate) <= 0.1), report);
  console.log(report);
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
        assertNear(await measure(() => handle.status().uploaded, leecher.done), "upload");
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
        assertNear(await measure(() => handle.status().downloaded, handle.done), "download");
        await assertSameContent(fixture, `${dir}/out`);
      } finally {
        await session.close();
        await seeder.stop();
      }
    }),
);
