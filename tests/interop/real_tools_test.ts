/**
 * Cross-checks with real torrent tools from Debian: torrents they make parse
 * to the info hash they print, and torrents shoal makes are accepted by them
 * with the same info hash and file list.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { readTorrentFile } from "../../lib/metainfo/mod.ts";
import { run, runShoal, testWithPrograms, withTempDir, writeRandomFile } from "../helpers/tools.ts";
import { CONFORMANCE_DIR } from "../helpers/paths.ts";

/** A folder with odd sizes, an empty file, nested folders and a non-ASCII name. */
async function makeContent(dir: string): Promise<string> {
  const root = `${dir}/content`;
  await Deno.mkdir(`${root}/sub/deeper`, { recursive: true });
  await writeRandomFile(`${root}/a.bin`, 100_003, 1);
  await writeRandomFile(`${root}/sub/b.bin`, 16_384, 2);
  await writeRandomFile(`${root}/sub/deeper/c d.txt`, 7, 3);
  await writeRandomFile(`${root}/sub/Ünïcode.dat`, 40_000, 4);
  await Deno.writeFile(`${root}/empty.txt`, new Uint8Array());
  return root;
}

async function transmissionShow(path: string): Promise<{ hash: string; files: string[] }> {
  const result = await run("transmission-show", [path]);
  assertEquals(result.code, 0, result.stderr);
  const hash = /^\s*Hash: ([0-9a-f]{40})$/m.exec(result.stdout)?.[1];
  assert(hash, result.stdout);
  const filesSection = result.stdout.split(/^FILES$/m)[1] ?? "";
  const files = [...filesSection.matchAll(/^\s+(.+) \([\d.,]+ [kMGT]?B\)$/gm)].map((m) => m[1]);
  return { hash, files };
}

async function shoalInfoHash(path: string): Promise<string> {
  return (await readTorrentFile(path)).infoHashHex;
}

testWithPrograms("interop: mktorrent torrents parse to transmission-show's info hash", [
  "mktorrent",
  "transmission-show",
], () =>
  withTempDir(async (dir) => {
    const content = await makeContent(dir);
    const cases: string[][] = [
      ["-a", "http://127.0.0.1:6969/announce", "-l", "15"],
      [
        "-a",
        "http://127.0.0.1:1/a,udp://127.0.0.1:2",
        "-a",
        "http://127.0.0.1:3/b",
        "-p",
        "-c",
        "comment",
        "-l",
        "18",
      ],
      ["-a", "http://127.0.0.1:1/a", "-s", "SOURCE", "-w", "http://127.0.0.1:8/ws", "-l", "15"],
    ];
    for (const [i, flags] of cases.entries()) {
      for (const target of [content, `${content}/a.bin`]) {
        const out = `${dir}/mk-${i}-${target.length}.torrent`;
        const made = await run("mktorrent", [...flags, "-o", out, target]);
        assertEquals(made.code, 0, made.stderr);
        const shown = await transmissionShow(out);
        const torrent = await readTorrentFile(out);
        assertEquals(torrent.infoHashHex, shown.hash, `mktorrent ${flags.join(" ")}`);
        assertEquals(torrent.files.map((f) => f.path.join("/")).sort(), shown.files.sort());
        if (flags.includes("-p")) assert(torrent.private);
        if (flags.includes("-s")) assertEquals(torrent.source, "SOURCE");
      }
    }
  }));

testWithPrograms("interop: transmission-create torrents parse to transmission-show's info hash", [
  "transmission-create",
  "transmission-show",
], () =>
  withTempDir(async (dir) => {
    const content = await makeContent(dir);
    for (
      const [i, flags] of [["-t", "http://127.0.0.1:6969/announce"], [
        "-p",
        "-t",
        "udp://127.0.0.1:1",
        "-s",
        "32",
        "-c",
        "hi",
      ]].entries()
    ) {
      const out = `${dir}/tc-${i}.torrent`;
      const made = await run("transmission-create", [...flags, "-o", out, content]);
      assertEquals(made.code, 0, made.stderr);
      const shown = await transmissionShow(out);
      assertEquals(await shoalInfoHash(out), shown.hash);
    }
  }));

testWithPrograms("interop: torrents from shoal create are accepted by transmission-show", [
  "transmission-show",
], () =>
  withTempDir(async (dir) => {
    const content = await makeContent(dir);
    for (const [i, target] of [content, `${content}/a.bin`].entries()) {
      const out = `${dir}/shoal-${i}.torrent`;
      const made = await runShoal([
        "create",
        target,
        "-o",
        out,
        "-t",
        "http://127.0.0.1:6969/announce",
        "-t",
        "udp://127.0.0.1:6969,http://127.0.0.1:7070/announce",
        "--web-seed",
        "http://127.0.0.1:8080/",
        "--comment",
        "made by shoal",
        "--piece-size",
        "16k",
      ]);
      assertEquals(made.code, 0, made.stderr);
      const torrent = await readTorrentFile(out);
      const shown = await transmissionShow(out);
      assertEquals(shown.hash, torrent.infoHashHex);
      assertEquals(shown.files.sort(), torrent.files.map((f) => f.path.join("/")).sort());
    }
  }));

testWithPrograms("interop: torrents from shoal create are accepted by aria2c --show-files", [
  "aria2c",
], () =>
  withTempDir(async (dir) => {
    const content = await makeContent(dir);
    const out = `${dir}/shoal.torrent`;
    const made = await runShoal([
      "create",
      content,
      "-o",
      out,
      "-t",
      "http://127.0.0.1:6969/announce",
      "--private",
    ]);
    assertEquals(made.code, 0, made.stderr);
    const torrent = await readTorrentFile(out);
    const shown = await run("aria2c", ["--show-files=true", out]);
    assertEquals(shown.code, 0, shown.stdout + shown.stderr);
    assertEquals(/^Info Hash: ([0-9a-f]{40})$/m.exec(shown.stdout)?.[1], torrent.infoHashHex);
    const files = [...shown.stdout.matchAll(/^\s*\d+\|\.\/(.+)$/gm)].map((m) => m[1]);
    assertEquals(files, torrent.files.map((f) => f.path.join("/")));
    assertEquals(
      /^Total Length: .*\(([\d,]+)\)$/m.exec(shown.stdout)?.[1]?.replaceAll(",", ""),
      String(torrent.totalLength),
    );
  }));

testWithPrograms(
  "interop: shoal info prints the info hash transmission-show prints for the corpus",
  [
    "transmission-show",
  ],
  async () => {
    // Not "unordered": Transmission 3.00 hashes a sorted re-encoding of the info
    // dictionary, while BEP 3 (and libtorrent, and shoal) hash the bytes as found
    // in the file; tests/metainfo/torrent_test.ts pins shoal's behaviour.
    for (const name of ["base", "sample", "url_seed_multi", "symlink2", "large"]) {
      const shown = await transmissionShow(`${CONFORMANCE_DIR}/${name}.torrent`);
      const info = await runShoal(["info", "--json", `${CONFORMANCE_DIR}/${name}.torrent`]);
      assertEquals(info.code, 0, info.stderr);
      assertEquals(JSON.parse(info.stdout).infoHash, shown.hash, name);
    }
  },
);
