import { assert, assertEquals, assertRejects, assertThrows } from "../helpers/assert.ts";
import { encode } from "../../lib/bencode/mod.ts";
import {
  MAX_TORRENT_FILE_BYTES,
  parseTorrent,
  pieceHash,
  readTorrentFile,
  readTorrentFileSync,
  TorrentError,
} from "../../lib/metainfo/mod.ts";
import { DiskError } from "../../lib/errors.ts";
import { toHex } from "../../lib/util/_bytes.ts";
import { sha1 } from "../../lib/util/_sha1.ts";
import { ascii, latin1 } from "../helpers/bytes.ts";
import { torrentBytes } from "../helpers/torrents.ts";

function rejects(bytes: Uint8Array, fragment: string): void {
  const error = assertThrows(() => parseTorrent(bytes), TorrentError, fragment);
  assertEquals(error.exitCode, 3);
}

Deno.test("torrent: single-file fields", () => {
  const torrent = parseTorrent(torrentBytes({ private: 1, source: "SRC" }, {
    announce: "http://tracker.test/announce",
    comment: "hello",
    "created by": "maker 1.0",
    "creation date": 1700000000,
    "url-list": "http://seed.test/file.bin",
  }));
  assertEquals(torrent.name, "file.bin");
  assertEquals(torrent.multiFile, false);
  assertEquals(torrent.totalLength, 20000);
  assertEquals(torrent.pieceCount, 2);
  assertEquals(torrent.files.map((f) => [f.path, f.length, f.offset]), [[["file.bin"], 20000, 0]]);
  assertEquals(torrent.trackers, [["http://tracker.test/announce"]]);
  assertEquals(torrent.webSeeds, ["http://seed.test/file.bin"]);
  assertEquals(torrent.private, true);
  assertEquals(torrent.source, "SRC");
  assertEquals(torrent.comment, "hello");
  assertEquals(torrent.createdBy, "maker 1.0");
  assertEquals(torrent.creationDate?.toISOString(), "2023-11-14T22:13:20.000Z");
  assertEquals(torrent.warnings, []);
  assertEquals(pieceHash(torrent, 1).length, 20);
  assertThrows(() => pieceHash(torrent, 2), RangeError);
});

Deno.test("torrent: the info hash is SHA-1 of the original info bytes, even unsorted", () => {
  // Keys out of order: a re-encoding would sort them and change the hash.
  const info = "d6:lengthi5e4:name1:a6:pieces20:" + "x".repeat(20) + "12:piece lengthi16384ee";
  const bytes = latin1(`d4:info${info}e`);
  const torrent = parseTorrent(bytes);
  assertEquals(torrent.infoHashHex, toHex(sha1(latin1(info))));
  assertEquals(torrent.infoBytes, latin1(info));
  assert(torrent.warnings.some((w) => w.includes("not sorted")));
});

Deno.test("torrent: multi-file offsets, attributes and padding", () => {
  const torrent = parseTorrent(torrentBytes({
    name: "album",
    length: undefined,
    "piece length": 16384,
    pieces: new Uint8Array(40),
    files: [
      { length: 100, path: ["a.txt"] },
      { length: 16284, path: [".pad", "16284"], attr: "p" },
      { length: 1000, path: ["bin", "run"], attr: "xh" },
      { length: 0, path: ["empty"] },
    ],
  }));
  assertEquals(torrent.multiFile, true);
  assertEquals(torrent.files.map((f) => f.offset), [0, 100, 16384, 17384]);
  assertEquals(torrent.files.map((f) => f.padding), [false, true, false, false]);
  assertEquals(torrent.files[2].path, ["album", "bin", "run"]);
  assertEquals([torrent.files[2].executable, torrent.files[2].hidden], [true, true]);
  assertEquals(torrent.totalLength, 17384);
});

Deno.test("torrent: announce-list tiers win over announce, trimmed and deduplicated", () => {
  const torrent = parseTorrent(torrentBytes({}, {
    announce: "http://ignored.test/",
    "announce-list": [[" http://a.test/ ", "udp://b.test:1"], [], ["http://a.test/"], [
      "http://c.test/",
    ], "junk"],
  }));
  assertEquals(torrent.trackers, [["http://a.test/", "udp://b.test:1"], ["http://c.test/"]]);
  assert(torrent.warnings.some((w) => w.includes("not a list")));
});

Deno.test("torrent: name.utf-8 and path.utf-8 are preferred when valid", () => {
  const torrent = parseTorrent(torrentBytes({
    name: latin1("caf\xe9"),
    "name.utf-8": "café",
    length: undefined,
    files: [{ length: 20000, path: [latin1("\xff")], "path.utf-8": ["ü.txt"] }],
  }));
  assertEquals(torrent.name, "café");
  assertEquals(torrent.files[0].path, ["café", "ü.txt"]);
});

Deno.test("torrent: invalid UTF-8 in names becomes _", () => {
  const torrent = parseTorrent(torrentBytes({ name: latin1("a\xffb") }));
  assertEquals(torrent.name, "a_b");
});

Deno.test("torrent: validation errors name the problem", () => {
  rejects(ascii("i1e"), "top level is not a dictionary");
  rejects(ascii("garbage"), "Not a valid torrent file");
  rejects(encode({ announce: "x" }), `no "info"`);
  rejects(torrentBytes({ "piece length": undefined }), `no "piece length"`);
  rejects(torrentBytes({ "piece length": 0 }), "must be positive");
  rejects(torrentBytes({ "piece length": -16384 }), "must be positive");
  rejects(torrentBytes({ "piece length": 1024 * 1024 * 1024 }), "over the limit");
  rejects(torrentBytes({ pieces: new Uint8Array(21) }), "not a multiple of 20");
  rejects(torrentBytes({ pieces: new Uint8Array(60) }), "holds 3 hashes but 20000 bytes");
  rejects(torrentBytes({ pieces: undefined }), `no "pieces"`);
  rejects(torrentBytes({ name: undefined }), `no "name"`);
  rejects(torrentBytes({ name: 5 }), `"name" is not a byte string`);
  rejects(torrentBytes({ length: undefined }), `neither "length" nor "files"`);
  rejects(torrentBytes({ length: -1 }), "negative length");
  rejects(torrentBytes({ length: 2n ** 60n }), "too large");
  rejects(torrentBytes({ length: 0, pieces: new Uint8Array() }), "no data");
  rejects(torrentBytes({ length: undefined, files: [] }), "is empty");
  rejects(torrentBytes({ length: undefined, files: "x" }), "not a list");
  rejects(torrentBytes({ length: undefined, files: [5] }), "not a dictionary");
  rejects(
    torrentBytes({ length: undefined, files: [{ length: 1, path: [1] }] }),
    "element 0 is not a byte string",
  );
  rejects(torrentBytes({ length: undefined, files: [{ length: 1 }] }), `no "path"`);
  rejects(torrentBytes({ length: undefined, files: [{ path: ["a"] }] }), `no valid "length"`);
  rejects(
    torrentBytes({ length: undefined, files: [{ attr: "l", path: ["a"] }] }),
    `without a "symlink path"`,
  );
  rejects(torrentBytes({ "meta version": 2, pieces: undefined }), "v2-only");
});

Deno.test("torrent: a non-power-of-two piece length loads with a warning", () => {
  const torrent = parseTorrent(torrentBytes({ "piece length": 10000, pieces: new Uint8Array(40) }));
  assert(torrent.warnings.some((w) => w.includes("not a power of two")));
});

Deno.test("torrent: hostile paths stay inside the download directory", () => {
  const torrent = parseTorrent(
    torrentBytes({
      name: "../../etc",
      length: undefined,
      files: [
        { length: 1, path: ["..", "..", "passwd"] },
        { length: 1, path: ["/etc/shadow"] },
        { length: 1, path: ["a\u0000b"] },
        { length: 1, path: ["C:\\Windows", "x"] },
        { length: 19996, path: ["x".repeat(400) + ".mkv"] },
      ],
    }),
    { platform: "linux" },
  );
  const paths = torrent.files.map((f) => f.path.join("/"));
  assertEquals(paths.slice(0, 4), [
    "....etc/passwd",
    "....etc/etcshadow",
    "....etc/a_b",
    "....etc/C:Windows/x",
  ]);
  const long = torrent.files[4].path[1];
  assertEquals(new TextEncoder().encode(long).length, 255);
  assert(long.endsWith(".mkv"));
});

Deno.test("torrent: readTorrentFile refuses oversized and missing files", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const big = `${dir}/big.torrent`;
    const file = await Deno.open(big, { create: true, write: true });
    await file.truncate(MAX_TORRENT_FILE_BYTES + 1);
    file.close();
    await assertRejects(() => readTorrentFile(big), TorrentError, "are refused");
    const missing = await assertRejects(() => readTorrentFile(`${dir}/nope.torrent`), DiskError);
    assert(missing.message.includes("no such file"), missing.message);
    assertEquals(missing.exitCode, 5);
    await assertRejects(() => readTorrentFile(dir), DiskError, "is a directory");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("torrent: readTorrentFileSync reads what readTorrentFile reads, and refuses the same files", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const good = `${dir}/good.torrent`;
    await Deno.writeFile(good, torrentBytes());
    assertEquals(readTorrentFileSync(good).infoHashHex, (await readTorrentFile(good)).infoHashHex);
    const big = `${dir}/big.torrent`;
    const file = await Deno.open(big, { create: true, write: true });
    await file.truncate(MAX_TORRENT_FILE_BYTES + 1);
    file.close();
    assertThrows(() => readTorrentFileSync(big), TorrentError, "are refused");
    const missing = assertThrows(() => readTorrentFileSync(`${dir}/nope.torrent`), DiskError);
    assert(missing.message.includes("no such file"), missing.message);
    assertThrows(() => readTorrentFileSync(dir), DiskError, "is a directory");
    const broken = `${dir}/broken.torrent`;
    await Deno.writeTextFile(broken, "d4:infoi1ee");
    assertThrows(() => readTorrentFileSync(broken), TorrentError, `${broken}: `);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("errors: each class names itself and carries its exit code", () => {
  const torrent = new TorrentError("x");
  assertEquals([torrent.name, torrent.exitCode, torrent instanceof Error], [
    "TorrentError",
    3,
    true,
  ]);
  const disk = new DiskError("y", { cause: 1 });
  assertEquals([disk.name, disk.exitCode, disk.cause], ["DiskError", 5, 1]);
});
