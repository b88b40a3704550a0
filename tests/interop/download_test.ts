/**
 * shoal downloads from real BitTorrent clients over loopback: aria2c,
 * transmission-cli, libtorrent and WebTorrent, each alone and all at once,
 * a single-file torrent with 16 KiB pieces and a multi-file torrent with
 * 1 MiB pieces (nested folders, an empty file, odd sizes). The result is
 * compared byte for byte.
 */
import { readTorrentFile } from "../../lib/metainfo/mod.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import {
  assertSameContent,
  copyContent,
  type Fixture,
  multiFileFixture,
  singleFileFixture,
} from "../helpers/content.ts";
import { type Seeder, SEEDER_PROGRAMS, type SeederKind, startSeeder } from "../helpers/seeders.ts";
import { runShoal, testWithPrograms, withTempDir } from "../helpers/tools.ts";
import { freePort, startOpentracker } from "../helpers/trackers.ts";

async function seedersFor(kinds: SeederKind[], fixture: Fixture, dir: string): Promise<Seeder[]> {
  const seeders: Seeder[] = [];
  try {
    await Promise.all(kinds.map(async (kind) => {
      const data = await copyContent(fixture, `${dir}/${kind}-${fixture.torrent.split("/").pop()}`);
      seeders.push(await startSeeder(kind, fixture.torrent, data));
    }));
  } catch (error) {
    await Promise.all(seeders.map((s) => s.stop()));
    throw error;
  }
  return seeders;
}

async function downloadFrom(fixture: Fixture, seeders: Seeder[], out: string): Promise<void> {
  const result = await runShoal([
    "download",
    fixture.torrent,
    "-d",
    out,
    "-p",
    String(freePort()),
    ...seeders.flatMap((s) => ["--peer", s.address]),
  ]);
  assertEquals(result.code, 0, `shoal failed:\n${result.stdout}\n${result.stderr}`);
  await assertSameContent(fixture, out);
}

function downloadTest(name: string, kinds: SeederKind[]): void {
  testWithPrograms(
    name,
    kinds.flatMap((kind) => SEEDER_PROGRAMS[kind]),
    () =>
      withTempDir(async (dir) => {
        const fixtures = [await singleFileFixture(dir), await multiFileFixture(dir)];
        const seeders = await Promise.all(fixtures.map((f) => seedersFor(kinds, f, dir)));
        try {
          await Promise.all(
            fixtures.map((fixture, i) => downloadFrom(fixture, seeders[i], `${dir}/out-${i}`)),
          );
        } finally {
          await Promise.all(seeders.flat().map((s) => s.stop()));
        }
      }),
  );
}

for (const kind of ["aria2", "transmission", "libtorrent", "webtorrent"] as const) {
  downloadTest(`download: from ${kind} alone, single-file and multi-file torrents, byte for byte`, [
    kind,
  ]);
}
downloadTest("download: from aria2, transmission, libtorrent and webtorrent at once", [
  "aria2",
  "transmission",
  "libtorrent",
  "webtorrent",
]);

testWithPrograms(
  "download: peers found through a real tracker (opentracker), no --peer",
  ["opentracker", "aria2c", "python3-libtorrent"],
  () =>
    withTempDir(async (dir) => {
      const probe = await singleFileFixture(`${dir}`);
      const hash = (await readTorrentFile(probe.torrent)).infoHashHex;
      // The info hash does not depend on the tracker list, so the whitelist can be written first.
      const tracker = await startOpentracker([hash]);
      try {
        await Deno.mkdir(`${dir}/t`);
        const fixture = await singleFileFixture(`${dir}/t`, undefined, [[tracker.http]]);
        assertEquals((await readTorrentFile(fixture.torrent)).infoHashHex, hash);
        const seeders = await seedersFor(["aria2", "libtorrent"], fixture, dir);
        try {
          const result = await runShoal([
            "download",
            fixture.torrent,
            "-d",
            `${dir}/out`,
            "-p",
            String(freePort()),
            "--json",
          ]);
          assertEquals(result.code, 0, result.stderr);
          await assertSameContent(fixture, `${dir}/out`);
          // No --peer: every peer came from the tracker's reply.
          const last = JSON.parse(result.stdout.trim().split("\n").at(-1)!);
          assert(last.peersSeen >= 1, result.stdout);
          assert(["working", "announcing"].includes(last.trackers[0].state), result.stdout);
        } finally {
          await Promise.all(seeders.map((s) => s.stop()));
        }
      } finally {
        await tracker.stop();
      }
    }),
);
