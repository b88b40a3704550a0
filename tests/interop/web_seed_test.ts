/**
 * Web seeds (BEP 19) against a real web server (Debian's nginx on a
 * loopback port) and real peers (libtorrent): torrents made with
 * `shoal create --web-seed`, downloaded from nginx alone and from nginx
 * beside a libtorrent seeder, multi-file, byte for byte; and, from a small
 * server of our own, the faults nginx does not make: a server that
 * ignores `Range`, one that fails at first, one that serves damaged bytes,
 * one that lacks a file.
 */
import { assert, assertEquals, assertStringIncludes } from "../helpers/assert.ts";
import {
  assertSameContent,
  type Fixture,
  multiFileFixture,
  singleFileFixture,
} from "../helpers/content.ts";
import { startNginx } from "../helpers/nginx.ts";
import { startSeeder } from "../helpers/seeders.ts";
import { lastStatus, runShoal, testWithPrograms, withTempDir } from "../helpers/tools.ts";
import { startWebServer, type WebServerFaults } from "../helpers/web_server.ts";
import { readTorrentFile } from "../../lib/metainfo/mod.ts";

let torrentsMade = 0;

/** Makes `fixture`'s torrent again with `shoal create --web-seed url` (pieces of `pieceSize`). */
async function withWebSeed(fixture: Fixture, url: string, pieceSize = "64k"): Promise<string> {
  const content = `${fixture.dataDir}/${fixture.files[0].path.split("/")[0]}`;
  const torrent = fixture.torrent.replace(/\.torrent$/, `-ws${++torrentsMade}.torrent`);
  const made = await runShoal([
    "create",
    content,
    "--web-seed",
    url,
    "--piece-size",
    pieceSize,
    "-o",
    torrent,
  ]);
  assertEquals(made.code, 0, made.stderr);
  return torrent;
}

/** What these tests read of a `--json` status line. */
type Status = Record<string, unknown> & {
  downloaded: number;
  hashFailures: number;
  webSeeds: { url: string; state: string; downloaded: number; error: string | null }[];
};

function download(torrent: string, out: string, extra: string[] = []) {
  return runShoal(["download", torrent, "-d", out, "--json", ...extra]);
}

testWithPrograms(
  "web seeds: torrents made with shoal create --web-seed download from nginx alone, multi-file and single-file, in ranges of at least a piece, also through a redirect",
  ["nginx"],
  () =>
    withTempDir(async (dir) => {
      const multi = await multiFileFixture(dir);
      const single = await singleFileFixture(dir, 3_000_017, [], 16 * 1024);
      // One server for both: the multi-file folder and the single file side by side.
      await Deno.rename(`${single.dataDir}/single.bin`, `${multi.dataDir}/single.bin`);
      single.dataDir = multi.dataDir;
      const nginx = await startNginx(multi.dataDir);
      try {
        const multiTorrent = await withWebSeed(multi, nginx.url);
        const result = await download(multiTorrent, `${dir}/out-multi`);
        assertEquals(result.code, 0, result.stderr);
        await assertSameContent(multi, `${dir}/out-multi`);
        const status = lastStatus<Status>(result.stdout);
        assertEquals(status.webSeeds.length, 1);
        assertEquals(
          status.webSeeds[0].downloaded,
          1_300_001 + 1_234 + 2 * 1024 * 1024 + 7 + 65_537,
        );
        // Ranges: each at least a piece (64 KiB) unless it reaches the end of its file, or starts
        // at its start (the rest of a piece that began in the file before).
        const lengths = {
          "/multi/a/b/nested.bin": 1_300_001,
          "/multi/c/d/e/deep.txt": 1_234,
          "/multi/top.dat": 2 * 1024 * 1024 + 7,
          "/multi/z.bin": 65_537,
        } as Record<string, number>;
        const requests = await nginx.requests();
        assert(requests.length > 0 && requests.length <= 12, `${requests.length} requests`);
        for (const { path, status: code, range } of requests) {
          assertEquals(code, 206, path);
          const [from, to] = range.replace("bytes=", "").split("-").map(Number);
          assert(
            to - from + 1 >= 64 * 1024 || to + 1 === lengths[path] || from === 0,
            `${path} ${range}`,
          );
        }
        // A single-file torrent whose web seed is the file's URL itself.
        const singleTorrent = await withWebSeed(single, `${nginx.url}single.bin`, "16k");
        const alone = await download(singleTorrent, `${dir}/out-single`);
        assertEquals(alone.code, 0, alone.stderr);
        await assertSameContent(single, `${dir}/out-single`);

        // Redirected (302 from /moved/...): followed, and remembered for each file.
        const before = (await nginx.requests()).length;
        const moved = await withWebSeed(multi, `${nginx.url}moved/`);
        const redirected = await download(moved, `${dir}/out-moved`);
        assertEquals(redirected.code, 0, redirected.stderr);
        await assertSameContent(multi, `${dir}/out-moved`);
        const after = (await nginx.requests()).slice(before);
        const redirects = after.filter((request) => request.status === 302);
        assertEquals(new Set(redirects.map((request) => request.path)).size, 4, "each file moved");
        // At most the request slots' first requests for a file go through the redirect.
        assert(redirects.length <= 4 + 3, `${redirects.length} redirects`);
        assert(
          after.every((request) => request.status === 302 || !request.path.startsWith("/moved/")),
        );
      } finally {
        await nginx.stop();
      }
    }),
);

testWithPrograms(
  "web seeds: nginx beside a libtorrent seeder both give pieces; a magnet link's ws= is used once the metadata arrives; --max-web-seeds 0 uses none",
  ["nginx", "python3-libtorrent"],
  () =>
    withTempDir(async (dir) => {
      const fixture = await singleFileFixture(dir, 8 * 1024 * 1024, [], 256 * 1024);
      // Slow answers (1 MiB/s each), so that the peer has its share.
      const nginx = await startNginx(fixture.dataDir, { limitRate: "1m" });
      const torrent = await withWebSeed(fixture, `${nginx.url}single.bin`, "256k");
      const seeder = await startSeeder("libtorrent", torrent, fixture.dataDir, {
        uploadLimit: 2 * 1024 * 1024,
      });
      try {
        const both = await download(torrent, `${dir}/both`, ["--peer", seeder.address]);
        assertEquals(both.code, 0, both.stderr);
        await assertSameContent(fixture, `${dir}/both`);
        const status = lastStatus<Status>(both.stdout);
        const fromWeb = status.webSeeds[0].downloaded;
        assert(
          fromWeb > 0 && fromWeb < status.downloaded,
          `web ${fromWeb} of ${status.downloaded}`,
        );

        const parsed = await readTorrentFile(torrent);
        const magnet = `magnet:?xt=urn:btih:${parsed.infoHashHex}&x.pe=${seeder.address}&ws=${
          encodeURIComponent(`${nginx.url}single.bin`)
        }`;
        const byMagnet = await download(magnet, `${dir}/magnet`);
        assertEquals(byMagnet.code, 0, byMagnet.stderr);
        await assertSameContent(fixture, `${dir}/magnet`);
        assert(
          lastStatus<Status>(byMagnet.stdout).webSeeds[0].downloaded > 0,
          "the ws= web seed was used",
        );

        const before = (await nginx.requests()).length;
        const none = await download(torrent, `${dir}/none`, [
          "--peer",
          seeder.address,
          "--max-web-seeds",
          "0",
        ]);
        assertEquals(none.code, 0, none.stderr);
        await assertSameContent(fixture, `${dir}/none`);
        assertEquals((await nginx.requests()).length, before, "no request with --max-web-seeds 0");
      } finally {
        await seeder.stop();
        await nginx.stop();
      }
    }),
);

Deno.test("web seeds: a server that ignores Range is read through once per file", () =>
  withTempDir(async (dir) => {
    const fixture = await multiFileFixture(dir);
    const server = startWebServer(fixture.dataDir, { ignoreRange: true });
    try {
      const torrent = await withWebSeed(fixture, server.url);
      const result = await download(torrent, `${dir}/out`);
      assertEquals(result.code, 0, result.stderr);
      await assertSameContent(fixture, `${dir}/out`);
      // Each request slot's first range finds out (its answer is dropped); then each file once.
      const perFile = new Map<string, number>();
      for (const { path } of server.requests) perFile.set(path, (perFile.get(path) ?? 0) + 1);
      assertEquals(perFile.size, 4);
      assert(server.requests.length <= 4 + 4, `${server.requests.length} requests`);
    } finally {
      await server.stop();
    }
  }));

Deno.test("web seeds: a server that answers 503 at first is asked again after its Retry-After", () =>
  withTempDir(async (dir) => {
    const fixture = await singleFileFixture(dir, 500_000);
    const server = startWebServer(fixture.dataDir, { failFirst: 2 });
    try {
      const torrent = await withWebSeed(fixture, `${server.url}single.bin`, "16k");
      const result = await download(torrent, `${dir}/out`);
      assertEquals(result.code, 0, result.stderr);
      await assertSameContent(fixture, `${dir}/out`);
      assertEquals(server.requests.slice(0, 2).map((request) => request.status), [503, 503]);
    } finally {
      await server.stop();
    }
  }));

/** A web seed that fails in `faults`' way beside a libtorrent seeder: the download completes from the peer. */
async function faultyWebSeed(dir: string, faults: WebServerFaults, error: string) {
  const fixture = await singleFileFixture(dir, 2_000_000, [], 64 * 1024);
  const server = startWebServer(fixture.dataDir, faults);
  const torrent = await withWebSeed(fixture, `${server.url}single.bin`, "64k");
  // A slow peer (about 8 s for the whole file), so that the web seed's answers arrive and are
  // checked long before the peer could finish alone.
  const seeder = await startSeeder("libtorrent", torrent, fixture.dataDir, {
    uploadLimit: 256 * 1024,
  });
  try {
    const result = await download(torrent, `${dir}/out`, ["--peer", seeder.address]);
    assertEquals(result.code, 0, result.stderr);
    await assertSameContent(fixture, `${dir}/out`);
    const seed = lastStatus<Status>(result.stdout).webSeeds[0];
    assertEquals(seed.state, "failed");
    assertStringIncludes(seed.error ?? "", error);
    return lastStatus<Status>(result.stdout);
  } finally {
    await seeder.stop();
    await server.stop();
  }
}

testWithPrograms(
  "web seeds: one that serves damaged bytes is dropped after a hash failure; the peer completes the download",
  ["python3-libtorrent"],
  () =>
    withTempDir(async (dir) => {
      const status = await faultyWebSeed(dir, { damage: true }, "failed the hash check");
      assert(status.hashFailures >= 1, `${status.hashFailures} hash failures`);
    }),
);

testWithPrograms(
  "web seeds: one that lacks the file (404) is dropped; the peer completes the download",
  ["python3-libtorrent"],
  () =>
    withTempDir(async (dir) => {
      await faultyWebSeed(dir, { missing: ["/single.bin"] }, "404");
    }),
);
