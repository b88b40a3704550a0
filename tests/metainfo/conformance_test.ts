/**
 * libtorrent's corpus of odd and hostile torrent files, with the outcome the
 * corpus README requires for each (tests/fixtures/libtorrent-test-torrents/CORPUS.md).
 */
import { assert, assertEquals, assertRejects } from "../helpers/assert.ts";
import { joinInside } from "../../lib/metainfo/_safe_path.ts";
import { readTorrentFile, type Torrent } from "../../lib/metainfo/torrent.ts";
import { TorrentError } from "../../lib/metainfo/errors.ts";
import { CONFORMANCE_DIR } from "../helpers/paths.ts";

const MUST_REJECT = [
  "missing_piece_len",
  "invalid_piece_len",
  "negative_piece_len",
  "no_name",
  "bad_name",
  "invalid_name",
  "invalid_info",
  "string",
  "negative_size",
  "negative_file_size",
  "invalid_path_list",
  "missing_path_list",
  "invalid_pieces",
  "unaligned_pieces",
  "invalid_file_size",
  "invalid_symlink",
  "many_pieces",
  "no_files",
  "zero",
  "zero2",
  "duplicate_files2",
  "v2_deep_recursion",
];

const MUST_LOAD = [
  "base",
  "empty_path",
  "parent_path",
  "hidden_parent_path",
  "single_multi_file",
  "slash_path",
  "slash_path2",
  "slash_path3",
  "backslash_path",
  "url_list",
  "url_list2",
  "url_list3",
  "httpseed",
  "empty_httpseed",
  "long_name",
  "whitespace_url",
  "duplicate_files",
  "pad_file",
  "creation_date",
  "no_creation_date",
  "url_seed",
  "url_seed_multi",
  "url_seed_multi_single_file",
  "url_seed_multi_space",
  "url_seed_multi_space_nolist",
  "empty_path_multi",
  "duplicate_web_seeds",
  "invalid_name2",
  "invalid_name3",
  "symlink1",
  "symlink2",
  "symlink_filtered_path",
  "symlink_zero_size",
  "unordered",
  "pad_file_no_path",
  "large",
  "absolute_filename",
  "invalid_filename",
  "invalid_filename2",
  "overlapping_symlinks",
  "invalid_directory_name",
  "similar",
  "similar2",
  "collection",
  "collection2",
  "dht_nodes",
  "large_piece_size",
  "sample",
  "v2",
  "v2_multipiece_file",
  "v2_hybrid",
  "empty-files-1",
  "empty-files-2",
  "empty-files-3",
  "empty-files-4",
  "empty-files-5",
];

function load(name: string): Promise<Torrent> {
  return readTorrentFile(`${CONFORMANCE_DIR}/${name}.torrent`, { platform: "linux" });
}

function paths(torrent: Torrent): string[] {
  return torrent.files.filter((f) => !f.padding).map((f) => f.path.join("/"));
}

/** Every path lands inside the download directory, and no two files share one. */
function assertSafe(torrent: Torrent): void {
  const base = "/downloads";
  const seen = new Set<string>();
  for (const file of torrent.files.filter((f) => !f.padding)) {
    const joined = joinInside(base, file.path);
    assert(joined.startsWith(`${base}/`), joined);
    for (const component of file.path) {
      assert(component !== "" && component !== "." && component !== "..", joined);
      assert(!/[/\\\0]/.test(component), joined);
      assert(new TextEncoder().encode(component).length <= 255, joined);
    }
    assert(!seen.has(joined), `two files share the path ${joined}`);
    seen.add(joined);
  }
}

for (const name of MUST_REJECT) {
  Deno.test(`conformance: ${name} is rejected as a bad torrent`, async () => {
    const error = await assertRejects(() => load(name), TorrentError);
    assert(error.message.includes(`${name}.torrent`), error.message);
    assertEquals(error.exitCode, 3);
  });
}

for (const name of MUST_LOAD) {
  Deno.test(`conformance: ${name} loads with every path inside the download directory`, async () => {
    assertSafe(await load(name));
  });
}

Deno.test("conformance: every corpus file is classified by this test", async () => {
  const unclassified: string[] = [];
  for await (const entry of Deno.readDir(CONFORMANCE_DIR)) {
    const name = entry.name.replace(/\.torrent$/, "");
    if (!entry.name.endsWith(".torrent") || name.startsWith("v2_")) continue;
    if (!MUST_LOAD.includes(name) && !MUST_REJECT.includes(name)) unclassified.push(name);
  }
  assertEquals(unclassified, []);
});

Deno.test("conformance: v2 files libtorrent rejects never crash the parser", async () => {
  for await (const entry of Deno.readDir(CONFORMANCE_DIR)) {
    if (!entry.name.startsWith("v2_")) continue;
    try {
      assertSafe(await readTorrentFile(`${CONFORMANCE_DIR}/${entry.name}`));
    } catch (error) {
      assert(error instanceof TorrentError, `${entry.name}: ${error}`);
    }
  }
});

Deno.test("conformance: sanitized paths are deterministic and as libtorrent's where it names them", async () => {
  assertEquals(paths(await load("slash_path")), ["temp/_/_/bar"]);
  assertEquals(paths(await load("slash_path2")), ["temp/abc....def/_/bar"]);
  assertEquals(paths(await load("slash_path3")), ["temp....abc"]);
  assertEquals(paths(await load("backslash_path")), ["temp/_/_/bar"]);
  assertEquals(paths(await load("absolute_filename")), ["temp/abcde", "temp/foobar"]);
  assertEquals(paths(await load("invalid_directory_name")), ["test2/_/foo", "test2/_/foo.1"]);
  assertEquals(paths(await load("parent_path")), ["temp/bar"]);
  assertEquals(paths(await load("hidden_parent_path")), ["temp/foo......bar/bar"]);
  assertEquals(paths(await load("empty_path")), ["temp/_"]);
  assertEquals(paths(await load("empty_path_multi")), ["temp/abcde", "temp/_", "temp/_.1"]);
  assertEquals(paths(await load("duplicate_files")), ["temp/foo/bar.txt", "temp/foo/bar.1.txt"]);
  assertEquals(paths(await load("invalid_filename")), ["est2/f", "est2/_"]);
  assertEquals(paths(await load("invalid_filename2")), ["est2/f", "est2/_", "est2/_.1"]);
  assertEquals(paths(await load("symlink_filtered_path")), ["temp/a/_/bar", "temp/a/_/foo"]);
});

Deno.test("conformance: field details match the corpus README", async () => {
  const invalidName2 = await load("invalid_name2");
  assertEquals(invalidName2.name, invalidName2.infoHashHex);
  assertEquals(paths(invalidName2)[0], `${invalidName2.infoHashHex}/foo/bar.txt`);

  assertEquals((await load("whitespace_url")).trackers, [["udp://test.com/announce"]]);
  assertEquals((await load("creation_date")).creationDate?.getTime(), 1234567 * 1000);
  assertEquals((await load("no_creation_date")).creationDate, undefined);
  assertEquals((await load("dht_nodes")).dhtNodes, [
    { host: "127.0.0.1", port: 6881 },
    { host: "192.168.1.1", port: 6881 },
  ]);
  assertEquals((await load("large_piece_size")).pieceLength, 32767 * 16384);
  assert((await load("large_piece_size")).warnings.some((w) => w.includes("Ignored 1 byte after")));
  assert((await load("large_piece_size")).warnings.some((w) => w.includes("power of two")));
  assertEquals((await load("duplicate_web_seeds")).webSeeds, [
    "http://foobar.com/foo",
    "http://foobar.com/foobar",
    "http://foobar.com/bar",
  ]);
  assertEquals((await load("url_list")).webSeeds, []);
  assertEquals((await load("url_list3")).webSeeds, []);
  assertEquals((await load("httpseed")).httpSeeds, ["http://foobar.com/"]);
  assertEquals((await load("url_seed_multi_space")).webSeeds, [
    "http://test.com/test file/foo bar",
  ]);

  const padFile = await load("pad_file");
  assertEquals(padFile.files.map((f) => f.padding), [false, true]);
  assertEquals((await load("pad_file_no_path")).files.map((f) => f.padding), [false, true]);
  const sample = await load("sample");
  assertEquals(sample.files.map((f) => f.padding), [false, true, false]);
  assertEquals(sample.files[2].offset, 16384);

  const unordered = await load("unordered");
  assert(unordered.warnings.some((w) => w.includes("not sorted")));

  const symlink = await load("symlink1");
  assertEquals(symlink.files[1].symlinkTarget, ["a", "b", "bar"]);
  assertEquals(symlink.files[1].length, 0);
  assertEquals(symlink.totalLength, 425);
  assertEquals((await load("symlink_zero_size")).files[1].symlinkTarget, ["a", "b", "bar"]);

  const long = await load("long_name");
  assertEquals(new TextEncoder().encode(long.name).length, 255);

  const large = await load("large");
  assertEquals(large.totalLength, 5242880000);
  assertEquals(large.pieceCount, 5000);
});

Deno.test("conformance: v2-only torrents get a clear message", async () => {
  const error = await assertRejects(
    () => readTorrentFile(`${CONFORMANCE_DIR}/v2_only.torrent`),
    TorrentError,
  );
  assert(error.message.includes("v2-only"), error.message);
});

Deno.test("conformance: v2_deep_recursion fails on the nesting limit", async () => {
  const error = await assertRejects(() => load("v2_deep_recursion"), TorrentError);
  assert(error.message.includes("deeper than the limit"), error.message);
});

Deno.test("conformance: hybrid torrents load as v1 with their v1 info hash", async () => {
  const torrent = await load("v2_hybrid");
  assertEquals(torrent.infoHash.length, 20);
  assert(torrent.files.some((f) => f.padding));
});
