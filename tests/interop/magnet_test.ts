/**
 * Magnet links against real clients over loopback. `shoal download` is
 * given only a magnet link and fetches the metadata (BEP 9) from aria2c,
 * transmission-cli, libtorrent or WebTorrent, found through `x.pe` or
 * through a real tracker (opentracker), then downloads byte for byte; the
 * same for an info dictionary over 1 MiB. And the other way round:
 * libtorrent and WebTorrent, given a magnet link and shoal as their only
 * peer, get the metadata and the data from shoal.
 */
import { readTorrentFile } from "../../lib/metainfo/mod.ts";
import { createTorrent } from "../../lib/metainfo/create.ts";
import { Session } from "../../lib/session/session.ts";
import { assert, assertEquals, assertStringIncludes } from "../helpers/assert.ts";
import {
  assertSameContent,
  copyContent,
  type Fixture,
  multiFileFixture,
  singleFileFixture,
} from "../helpers/content.ts";
import { LEECHER_PROGRAMS, startLeecher } from "../helpers/leechers.ts";
import { SEEDER_PROGRAMS, type SeederKind, startSeeder } from "../helpers/seeders.ts";
import { runShoal, testWithPrograms, withTempDir, writeRandomFile } from "../helpers/tools.ts";
import { freePort, startOpentracker } from "../helpers/trackers.ts";

/** `shoal download <magnet> -d <out> --json`, checked byte for byte and for the saved .torrent. */
async function downloadMagnet(fixture: Fixture, magnet: string, out: string): Promise<void> {
  const torrent = await readTorrentFile(fixture.torrent);
  const result = await runShoal([
    "download",
    magnet,
    "-d",
    out,
    "-p",
    String(freePort()),
    "--json",
  ]);
  assertEquals(result.code, 0, `shoal failed:\n${result.stdout.slice(-3000)}\n${result.stderr}`);
  await assertSameContent(fixture, out);
  const lines = result.stdout.trim().split("\n").map((line) => JSON.parse(line));
  assertEquals(lines[0].state, "metadata", "it starts without the metadata");
  assert(lines.some((line) => line.event === "metadata"), "the metadata is announced");
  const saved = await readTorrentFile(`${out}/.shoal/${torrent.infoHashHex}.torrent`);
  assertEquals(saved.infoHashHex, torrent.infoHashHex);
}

for (const kind of ["libtorrent", "aria2", "transmission", "webtorrent"] as const) {
  testWithPrograms(
    `magnet: shoal fetches the metadata from ${kind} (x.pe only) and downloads single- and multi-file torrents byte for byte`,
    SEEDER_PROGRAMS[kind],
    () =>
      withTempDir(async (dir) => {
        for (const fixture of [await singleFileFixture(dir), await multiFileFixture(dir)]) {
          const name = fixture.torrent.split("/").pop()!;
          const data = await copyContent(fixture, `${dir}/${kind}-${name}`);
          const seeder = await startSeeder(kind, fixture.torrent, data);
          try {
            const hash = (await readTorrentFile(fixture.torrent)).infoHashHex;
            await downloadMagnet(
              fixture,
              `magnet:?xt=urn:btih:${hash}&x.pe=${seeder.address}`,
              `${dir}/out-${name}`,
            );
          } finally {
            await seeder.stop();
          }
        }
      }),
  );
}

testWithPrograms(
  "magnet: the peers come from a real tracker (opentracker) named in the link",
  ["opentracker", ...SEEDER_PROGRAMS.libtorrent, ...SEEDER_PROGRAMS.aria2],
  () =>
    withTempDir(async (dir) => {
      const probe = await multiFileFixture(`${dir}`);
      const hash = (await readTorrentFile(probe.torrent)).infoHashHex;
      const tracker = await startOpentracker([hash]);
      const seeders = [];
      try {
        await Deno.mkdir(`${dir}/t`);
        const fixture = await multiFileFixture(`${dir}/t`, [[tracker.http]]);
        for (const kind of ["libtorrent", "aria2"] as SeederKind[]) {
          const data = await copyContent(fixture, `${dir}/${kind}`);
          seeders.push(await startSeeder(kind, fixture.torrent, data));
        }
        await downloadMagnet(
          fixture,
          `magnet:?xt=urn:btih:${hash}&dn=multi&tr=${encodeURIComponent(tracker.http)}`,
          `${dir}/out`,
        );
      } finally {
        await Promise.all(seeders.map((seeder) => seeder.stop()));
        await tracker.stop();
      }
    }),
);

/** A torrent of 5,000 small files with long names: an info dictionary of about 1.3 MiB. */
async function manyFilesFixture(dir: string): Promise<Fixture> {
  const dataDir = `${dir}/many-data`;
  const root = `${dataDir}/many`;
  await Deno.mkdir(root, { recursive: true });
  const files = [];
  for (let i = 0; i < 5000; i++) {
    const path = `many/${String(i).padStart(5, "0")}-${"x".repeat(200)}.bin`;
    await writeRandomFile(`${dataDir}/${path}`, 1 + (i % 97), i + 1);
    files.push({ path, length: 1 + (i % 97) });
  }
  const { bytes } = await createTorrent(root, { pieceLength: 16 * 1024 });
  await Deno.writeFile(`${dir}/many.torrent`, bytes);
  return { torrent: `${dir}/many.torrent`, dataDir, files };
}

testWithPrograms(
  "magnet: an info dictionary over 1 MiB (5,000 files) is fetched from libtorrent",
  SEEDER_PROGRAMS.libtorrent,
  () =>
    withTempDir(async (dir) => {
      const fixture = await manyFilesFixture(dir);
      const torrent = await readTorrentFile(fixture.torrent);
      assert(torrent.infoBytes.length > 1024 * 1024, `${torrent.infoBytes.length} bytes`);
      const seeder = await startSeeder("libtorrent", fixture.torrent, fixture.dataDir);
      try {
        await downloadMagnet(
          fixture,
          `magnet:?xt=urn:btih:${torrent.infoHashHex}&x.pe=${seeder.address}`,
          `${dir}/out`,
        );
      } finally {
        await seeder.stop();
      }
    }),
);

for (const kind of ["libtorrent", "webtorrent"] as const) {
  testWithPrograms(
    `magnet: ${kind} given a magnet link and shoal as its only peer gets the metadata and the data from shoal`,
    LEECHER_PROGRAMS[kind],
    () =>
      withTempDir(async (dir) => {
        const fixture = await multiFileFixture(dir);
        const torrent = await readTorrentFile(fixture.torrent);
        const seeder = new Session({ port: 0, host: "127.0.0.1" });
        try {
          const handle = seeder.add(torrent, {
            downloadDir: fixture.dataDir,
            seed: true,
            requireComplete: true,
          });
          assertEquals(await handle.done, "complete");
          const leecher = await startLeecher(
            kind,
            `magnet:?xt=urn:btih:${torrent.infoHashHex}`,
            `${dir}/leech`,
            `127.0.0.1:${seeder.port}`,
          );
          try {
            await leecher.done;
          } finally {
            await leecher.stop();
          }
          await assertSameContent(fixture, `${dir}/leech`);
        } finally {
          await seeder.close();
        }
      }),
  );
}

Deno.test("magnet: shoal download says what is missing when a magnet link names no peer", async () => {
  const result = await runShoal(["download", `magnet:?xt=urn:btih:${"ab".repeat(20)}`]);
  assertEquals(result.code, 4);
  assertStringIncludes(result.stderr, "--peer host:port");
});

testWithPrograms(
  "magnet: shoal info --fetch prints the whole torrent from libtorrent's metadata and saves it; nothing is downloaded",
  SEEDER_PROGRAMS.libtorrent,
  () =>
    withTempDir(async (dir) => {
      const fixture = await multiFileFixture(dir);
      const torrent = await readTorrentFile(fixture.torrent);
      const seeder = await startSeeder("libtorrent", fixture.torrent, fixture.dataDir);
      try {
        const magnet = `magnet:?xt=urn:btih:${torrent.infoHashHex}&so=0,2`;
        const args = ["--peer", seeder.address, "-p", String(freePort())];
        const shown = await runShoal([
          "info",
          "--fetch",
          magnet,
          ...args,
          "--save-torrent",
          `${dir}/x.torrent`,
        ], { cwd: dir });
        assertEquals(shown.code, 0, shown.stderr);
        assertStringIncludes(shown.stdout, "in 5 files");
        assertStringIncludes(shown.stdout, "nested.bin");
        assertEquals((await readTorrentFile(`${dir}/x.torrent`)).infoHashHex, torrent.infoHashHex);
        const json = await runShoal(["info", "--fetch", "--json", magnet, ...args], { cwd: dir });
        assertEquals(json.code, 0, json.stderr);
        assertEquals(JSON.parse(json.stdout).files.length, 5);
        const entries = [];
        for await (const entry of Deno.readDir(dir)) entries.push(entry.name);
        assertEquals(entries.sort(), ["multi-data", "multi.torrent", "x.torrent"]);
        // Without --fetch the link alone is shown, with its file selection (BEP 53, applied).
        const plain = await runShoal(["info", magnet]);
        assertStringIncludes(plain.stdout, "Files wanted");
        assertStringIncludes(plain.stdout, "only these are downloaded");
      } finally {
        await seeder.stop();
      }
    }),
);
