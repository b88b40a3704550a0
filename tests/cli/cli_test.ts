/** The command line, run as a real process: help, exit codes, info and create. */
import { assert, assertEquals, assertMatch, assertStringIncludes } from "../helpers/assert.ts";
import { VERSION } from "../../lib/version.ts";
import { CONFORMANCE_DIR } from "../helpers/paths.ts";
import { run, runShoal, testWithPrograms, withTempDir, writeRandomFile } from "../helpers/tools.ts";

Deno.test("cli: --help lists every command and the exit codes", async () => {
  const result = await runShoal(["--help"]);
  assertEquals(result.code, 0);
  for (
    const command of ["download", "seed", "create", "info", "verify", "tracker", "demo", "help"]
  ) {
    assertMatch(result.stdout, new RegExp(`^\\s+${command}\\b`, "m"));
  }
  assertStringIncludes(result.stdout, "Exit codes:");
});

Deno.test("cli: --version and help <command>", async () => {
  const version = await runShoal(["--version"]);
  assertEquals([version.code, version.stdout.trim()], [0, `shoal ${VERSION}`]);
  const help = await runShoal(["help", "create"]);
  assertEquals(help.code, 0);
  assertStringIncludes(help.stdout, "--piece-size <size>");
  assertStringIncludes(help.stdout, "Examples:");
  // No command at all is a usage error: help goes to stderr, exit 2.
  const noArgs = await runShoal([]);
  assertEquals(noArgs.code, 2);
  assertStringIncludes(noArgs.stderr, "Usage: shoal");
});

Deno.test("cli: unknown commands and flags are usage errors (exit 2)", async () => {
  const command = await runShoal(["frobnicate"]);
  assertEquals(command.code, 2);
  assertStringIncludes(command.stderr, "unknown command 'frobnicate'");
  const flag = await runShoal(["info", "--bogus", "x.torrent"]);
  assertEquals(flag.code, 2);
  assertStringIncludes(flag.stderr, "unknown option '--bogus'");
  const missing = await runShoal(["info"]);
  assertEquals(missing.code, 2);
  assertStringIncludes(missing.stderr, "missing required argument");
  const size = await runShoal(["create", ".", "--piece-size", "huge"]);
  assertEquals(size.code, 2);
  assertStringIncludes(size.stderr, "256k");
  const typo = await runShoal(["inof"]);
  assertStringIncludes(typo.stderr, "Did you mean info?");
});

Deno.test("cli: info reports bad torrents (exit 3) and missing files (exit 5)", async () => {
  const bad = await runShoal(["info", `${CONFORMANCE_DIR}/negative_piece_len.torrent`]);
  assertEquals(bad.code, 3);
  assertMatch(bad.stderr, /^shoal: .*negative_piece_len.torrent: "piece length" must be positive/);
  const missing = await runShoal(["info", "/nonexistent/x.torrent"]);
  assertEquals(missing.code, 5);
  assertStringIncludes(missing.stderr, "no such file");
  const magnet = await runShoal(["info", "magnet:?xt=urn:btih:zzz"]);
  assertEquals(magnet.code, 3);
});

Deno.test("cli: info prints a torrent for people and as stable JSON", async () => {
  const path = `${CONFORMANCE_DIR}/sample.torrent`;
  const human = await runShoal(["info", path]);
  assertEquals(human.code, 0, human.stderr);
  assertMatch(human.stdout, /^Name: +sample$/m);
  assertMatch(human.stdout, /^Info hash: +[0-9a-f]{40}$/m);
  assertStringIncludes(human.stdout, "Tier 1: udp://tracker.opentracker.com:80/announce");
  assertStringIncludes(human.stdout, "(and 1 padding files, not written)");
  assertMatch(human.stdout, /^ {4}text_file\.txt +20 B {2}3$/m, "numbered as --select takes it");
  const json = await runShoal(["info", "--json", path]);
  assertEquals(json.code, 0);
  const parsed = JSON.parse(json.stdout);
  assertEquals(Object.keys(parsed), [
    "type",
    "name",
    "infoHash",
    "infoHashBase32",
    "magnet",
    "totalSize",
    "pieceLength",
    "pieceCount",
    "private",
    "multiFile",
    "trackers",
    "webSeeds",
    "httpSeeds",
    "creationDate",
    "comment",
    "createdBy",
    "source",
    "files",
    "warnings",
  ]);
  assertEquals(parsed.files[1], {
    number: 2,
    path: "sample/.pad/16359",
    size: 16359,
    attributes: ["padding"],
  });
  assertEquals(parsed.comment, "sample comment");
});

Deno.test("cli: info on a magnet link and a bare info hash", async () => {
  const hash = "c12fe1c06bba254a9dc9f519b335aa7c1367a88a";
  const link = await runShoal([
    "info",
    "--json",
    `magnet:?xt=urn:btih:${hash}&dn=x&tr=http://t/a&x.pe=[::1]:5`,
  ]);
  assertEquals(link.code, 0, link.stderr);
  assertEquals(JSON.parse(link.stdout), {
    type: "magnet",
    infoHash: hash,
    name: "x",
    trackers: ["http://t/a"],
    webSeeds: [],
    peers: ["[::1]:5"],
    selectOnly: null,
  });
  const bare = await runShoal(["info", hash.toUpperCase()]);
  assertEquals(bare.code, 0);
  assertMatch(bare.stdout, new RegExp(`^Info hash: +${hash}$`, "m"));
});

Deno.test("cli: create writes a torrent, refuses to overwrite, --force replaces", () =>
  withTempDir(async (dir) => {
    await Deno.mkdir(`${dir}/data`);
    await writeRandomFile(`${dir}/data/a`, 40_000);
    const first = await runShoal([
      "create",
      "data",
      "-t",
      "http://127.0.0.1:1/announce",
      "--no-date",
    ], { cwd: dir });
    assertEquals(first.code, 0, first.stderr);
    assertStringIncludes(first.stdout, "Created data.torrent");
    assertEquals(first.stderr, "");
    const again = await runShoal(["create", "data"], { cwd: dir });
    assertEquals(again.code, 1);
    assertStringIncludes(again.stderr, "data.torrent already exists; pass --force");
    const forced = await runShoal(
      ["create", "data", "--force", "--no-date", "--piece-size", "16k"],
      { cwd: dir },
    );
    assertEquals(forced.code, 0, forced.stderr);
    const info = JSON.parse(
      (await runShoal(["info", "--json", "data.torrent"], { cwd: dir })).stdout,
    );
    assertEquals([info.pieceLength, info.creationDate, info.trackers], [16384, null, []]);
    const bad = await runShoal(["create", "data", "-o", "x.torrent", "-t", "gopher://x"], {
      cwd: dir,
    });
    assertEquals(bad.code, 2);
    const gone = await runShoal(["create", "nothing-here"], { cwd: dir });
    assertEquals(gone.code, 5);
  }));

Deno.test("cli: shoal <torrent> routes to download", () =>
  withTempDir(async (dir) => {
    await writeRandomFile(`${dir}/f`, 100);
    await runShoal(["create", "f", "-o", "f.torrent"], { cwd: dir });
    for (const args of [["f.torrent"], ["f.torrent", "-d", "out"], ["download", "f.torrent"]]) {
      const result = await runShoal(args, { cwd: dir });
      assertEquals(result.code, 4, args.join(" "));
      assertStringIncludes(
        result.stderr,
        "f lists no trackers and no web seeds; name peers to connect to with --peer",
      );
    }
    const magnet = await runShoal([`magnet:?xt=urn:btih:${"a".repeat(40)}`]);
    assertStringIncludes(magnet.stderr, "magnet link");
    assert(!magnet.stderr.includes("unknown command"));
  }));

testWithPrograms(
  "cli: create redraws hashing progress in place on a terminal",
  ["script"],
  () =>
    withTempDir(async (dir) => {
      await writeRandomFile(`${dir}/f`, 4 * 1024 * 1024);
      const cli = new URL("../../cli.ts", import.meta.url).pathname;
      const command = `${Deno.execPath()} run --quiet -A ${cli} create f -o f.torrent`;
      const result = await run("script", ["-qec", command, "/dev/null"], { cwd: dir });
      assertEquals(result.code, 0, result.stdout);
      const redraw = "\r\u001b[2K";
      assertStringIncludes(result.stdout, `${redraw}Hashing 100.0%  4 MiB / 4 MiB`);
      assertStringIncludes(result.stdout, `${redraw}Created f.torrent`);
    }),
);
