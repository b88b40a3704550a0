import { assert, assertEquals, assertNotEquals, assertRejects } from "../helpers/assert.ts";
import { createTorrent, defaultPieceLength, writeTorrentFile } from "../../lib/metainfo/create.ts";
import { pieceHash } from "../../lib/metainfo/torrent.ts";
import { PieceHasher } from "../../lib/metainfo/_piece_hasher.ts";
import { ShoalError, UsageError } from "../../lib/errors.ts";
import { sha1 } from "../../lib/util/_sha1.ts";
import { withTempDir, writeRandomFile } from "../helpers/tools.ts";

Deno.test("create: a single file; piece hashes match the data", () =>
  withTempDir(async (dir) => {
    const data = await writeRandomFile(`${dir}/movie.bin`, 100_000);
    const progress: number[] = [];
    const { torrent } = await createTorrent(`${dir}/movie.bin`, {
      pieceLength: 16384,
      trackers: [["http://127.0.0.1:1/announce"]],
      onProgress: (done) => progress.push(done),
    });
    assertEquals(torrent.name, "movie.bin");
    assertEquals(torrent.multiFile, false);
    assertEquals(torrent.pieceCount, 7);
    for (let piece = 0; piece < torrent.pieceCount; piece++) {
      assertEquals(
        pieceHash(torrent, piece),
        sha1(data.subarray(piece * 16384, (piece + 1) * 16384)),
      );
    }
    assertEquals(progress.at(-1), 100_000);
    assertEquals(torrent.trackers, [["http://127.0.0.1:1/announce"]]);
  }));

Deno.test("create: a folder, in UTF-8 byte order, empty files kept", () =>
  withTempDir(async (dir) => {
    await Deno.mkdir(`${dir}/c/sub`, { recursive: true });
    await writeRandomFile(`${dir}/c/b.txt`, 10);
    await writeRandomFile(`${dir}/c/B.txt`, 20);
    await writeRandomFile(`${dir}/c/sub/z`, 30);
    await writeRandomFile(`${dir}/c/é`, 40);
    await Deno.writeFile(`${dir}/c/a-empty`, new Uint8Array());
    const { torrent } = await createTorrent(`${dir}/c/`);
    assertEquals(torrent.name, "c");
    assertEquals(torrent.files.map((f) => [f.path.join("/"), f.length]), [
      ["c/B.txt", 20],
      ["c/a-empty", 0],
      ["c/b.txt", 10],
      ["c/sub/z", 30],
      ["c/é", 40],
    ]);
  }));

Deno.test("create: every option lands in the torrent", () =>
  withTempDir(async (dir) => {
    await writeRandomFile(`${dir}/f`, 5000);
    const { torrent } = await createTorrent(`${dir}/f`, {
      trackers: [["http://a.test/1", "udp://b.test:2"], ["https://c.test/3"]],
      private: true,
      comment: "note",
      webSeeds: ["http://ws.test/f"],
      name: "renamed",
      source: "SRC",
      creationDate: new Date(1_600_000_000_000),
    });
    assertEquals(torrent.trackers, [["http://a.test/1", "udp://b.test:2"], ["https://c.test/3"]]);
    assertEquals([torrent.private, torrent.comment, torrent.name, torrent.source], [
      true,
      "note",
      "renamed",
      "SRC",
    ]);
    assertEquals(torrent.webSeeds, ["http://ws.test/f"]);
    assertEquals(torrent.creationDate?.getTime(), 1_600_000_000_000);
    assertEquals(torrent.createdBy?.startsWith("shoal/"), true);
  }));

Deno.test("create: without a date the output is reproducible; source changes the info hash", () =>
  withTempDir(async (dir) => {
    await writeRandomFile(`${dir}/f`, 70_000);
    const a = await createTorrent(`${dir}/f`, { creationDate: null });
    const b = await createTorrent(`${dir}/f`, { creationDate: null });
    assertEquals(a.bytes, b.bytes);
    assertEquals(a.torrent.creationDate, undefined);
    const c = await createTorrent(`${dir}/f`, { creationDate: null, source: "X" });
    assertNotEquals(c.torrent.infoHashHex, a.torrent.infoHashHex);
  }));

Deno.test("create: symlinks are skipped and reported", () =>
  withTempDir(async (dir) => {
    await Deno.mkdir(`${dir}/c`);
    await writeRandomFile(`${dir}/c/real`, 100);
    await Deno.symlink(`${dir}/c/real`, `${dir}/c/link`);
    const { torrent, skipped } = await createTorrent(`${dir}/c`);
    assertEquals(torrent.files.map((f) => f.path.join("/")), ["c/real"]);
    assertEquals(skipped, [`${dir}/c/link`]);
  }));

Deno.test("create: refuses what cannot make a torrent", () =>
  withTempDir(async (dir) => {
    await Deno.mkdir(`${dir}/empty`);
    await assertRejects(() => createTorrent(`${dir}/empty`), ShoalError, "holds no files");
    await Deno.writeFile(`${dir}/zero`, new Uint8Array());
    await assertRejects(() => createTorrent(`${dir}/zero`), ShoalError, "only empty files");
    await assertRejects(() => createTorrent(`${dir}/missing`), ShoalError, "no such file");
    await writeRandomFile(`${dir}/f`, 10);
    await assertRejects(
      () => createTorrent(`${dir}/f`, { pieceLength: 1000 }),
      UsageError,
      "power of two",
    );
    await assertRejects(
      () => createTorrent(`${dir}/f`, { pieceLength: 8192 }),
      UsageError,
      "from 16 KiB",
    );
    await assertRejects(
      () => createTorrent(`${dir}/f`, { trackers: [["not a url"]] }),
      UsageError,
      "not a URL",
    );
    await assertRejects(
      () => createTorrent(`${dir}/f`, { trackers: [["ftp://x/"]] }),
      UsageError,
      "must use",
    );
    await assertRejects(
      () => createTorrent(`${dir}/f`, { webSeeds: ["udp://x/"] }),
      UsageError,
      "must use",
    );
  }));

Deno.test("create: writeTorrentFile refuses to overwrite without force", () =>
  withTempDir(async (dir) => {
    const path = `${dir}/t.torrent`;
    await writeTorrentFile(path, new Uint8Array([1]));
    await assertRejects(() => writeTorrentFile(path, new Uint8Array([2])), ShoalError, "--force");
    await writeTorrentFile(path, new Uint8Array([3]), { force: true });
    assertEquals(await Deno.readFile(path), new Uint8Array([3]));
    assertEquals([...Deno.readDirSync(dir)].length, 1);
  }));

Deno.test("create: default piece length grows with the size, 16 KiB to 16 MiB", () => {
  assertEquals(defaultPieceLength(1), 16384);
  assertEquals(defaultPieceLength(100 * 1024 * 1024), 128 * 1024);
  assertEquals(defaultPieceLength(1024 ** 3), 1024 * 1024);
  assertEquals(defaultPieceLength(4 * 1024 ** 4), 16 * 1024 * 1024);
});

Deno.test("create: PieceHasher gives the same hashes however the stream is cut", () => {
  const data = new Uint8Array(50_000).map((_, i) => (i * 7) & 0xff);
  const whole = new PieceHasher(16384, data.length);
  whole.update(data);
  const cut = new PieceHasher(16384, data.length);
  for (const size of [1, 16383, 2, 16384, 100, 17130]) {
    const offset = cut.bytesHashed;
    cut.update(data.subarray(offset, offset + size));
  }
  assertEquals(cut.bytesHashed, data.length);
  assertEquals(cut.finish(), whole.finish());
  const short = new PieceHasher(16384, 100);
  short.update(new Uint8Array(50));
  let threw = false;
  try {
    short.finish();
  } catch {
    threw = true;
  }
  assert(threw);
});

Deno.test("create: '.' and 'dir/..' are named after the real folder", () =>
  withTempDir(async (dir) => {
    await Deno.mkdir(`${dir}/project/inner`, { recursive: true });
    await writeRandomFile(`${dir}/project/inner/a`, 100);
    const cwd = Deno.cwd();
    Deno.chdir(`${dir}/project`);
    try {
      assertEquals((await createTorrent(".")).torrent.name, "project");
      assertEquals((await createTorrent("inner/..")).torrent.name, "project");
    } finally {
      Deno.chdir(cwd);
    }
  }));
