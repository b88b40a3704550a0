/**
 * BEP 47 symlinks end to end: a torrent made by libtorrent from a folder
 * with symbolic links (libtorrent writes each target from the link's own
 * folder) is downloaded from a libtorrent seeder; the links are created in
 * the download directory with the targets libtorrent itself creates, and the
 * files read through them are the seeder's. Under path-scoped
 * permissions Deno cannot create symlinks: the download completes and says
 * so. Hostile links (targets that leave the folder, a place taken by a
 * file) are refused by the storage, not created.
 */
import { assert, assertEquals, assertStringIncludes } from "../helpers/assert.ts";
import { startSeeder } from "../helpers/seeders.ts";
import {
  run,
  runShoal,
  SHOAL_CLI,
  testWithPrograms,
  withoutDiscovery,
  withTempDir,
} from "../helpers/tools.ts";
import { freePort } from "../helpers/trackers.ts";
import { parseTorrent } from "../../lib/metainfo/mod.ts";
import { FileStore } from "../../lib/storage/mod.ts";
import { torrentBytes } from "../helpers/torrents.ts";

const MAKE_TORRENT = `
import sys, libtorrent as lt
fs = lt.file_storage()
lt.add_files(fs, sys.argv[1], flags=lt.create_torrent.symlinks)
ct = lt.create_torrent(fs, 16384, flags=lt.create_torrent.symlinks)
lt.set_piece_hashes(ct, sys.argv[2])
open(sys.argv[3], "wb").write(lt.bencode(ct.generate()))
`;

testWithPrograms(
  "symlinks: a libtorrent torrent with symlinks downloads from a libtorrent seeder with its links, and without them under scoped permissions",
  ["python3-libtorrent"],
  () =>
    withTempDir(async (dir) => {
      const data = `${dir}/data`;
      await Deno.mkdir(`${data}/album/cd1`, { recursive: true });
      const bytes = new Uint8Array(50_000).map((_, i) => (i * 7) % 256);
      await Deno.writeFile(`${data}/album/cd1/01.flac`, bytes);
      await Deno.symlink("cd1/01.flac", `${data}/album/latest.flac`);
      await Deno.symlink("../cd1/01.flac", `${data}/album/cd1/again.flac`);
      await Deno.symlink("cd1", `${data}/album/current`);
      const torrent = `${dir}/album.torrent`;
      const made = await run("/usr/bin/python3", [
        "-c",
        MAKE_TORRENT,
        `${data}/album`,
        data,
        torrent,
      ]);
      assertEquals(made.code, 0, made.stderr);
      // The seeder's folder has only the file: libtorrent makes the links (it fails on links
      // that are there already), and shoal's are compared with libtorrent's.
      const seed = `${dir}/seed`;
      await Deno.mkdir(`${seed}/album/cd1`, { recursive: true });
      await Deno.copyFile(`${data}/album/cd1/01.flac`, `${seed}/album/cd1/01.flac`);
      const seeder = await startSeeder("libtorrent", torrent, seed);
      try {
        const links = ["album/latest.flac", "album/cd1/again.flac", "album/current"];
        const libtorrents = await Promise.all(
          links.map((link) => Deno.readLink(`${seed}/${link}`)),
        );
        assertEquals(libtorrents, ["cd1/01.flac", "01.flac", "cd1"]);
        const out = `${dir}/out`;
        const result = await runShoal(["download", torrent, "-d", out, "--peer", seeder.address]);
        assertEquals(result.code, 0, result.stderr);
        assertEquals(await Deno.readFile(`${out}/album/cd1/01.flac`), bytes);
        const ours = await Promise.all(links.map((link) => Deno.readLink(`${out}/${link}`)));
        assertEquals(ours, libtorrents);
        assertEquals(await Deno.readFile(`${out}/album/current/again.flac`), bytes);

        // Path-scoped permissions: no symlink, and a warning that says why (in the log; -v shows it).
        const narrow = `${dir}/narrow`;
        const scoped = await run(Deno.execPath(), [
          "run",
          "--quiet",
          "--no-prompt",
          `--allow-read=${torrent},${narrow}`,
          `--allow-write=${narrow}`,
          "--allow-net=127.0.0.1",
          "--unstable-net",
          SHOAL_CLI,
          ...withoutDiscovery([
            "download",
            torrent,
            "-d",
            narrow,
            "--bind",
            "127.0.0.1",
            "-p",
            String(freePort()),
            "--peer",
            seeder.address,
            "-v",
          ]),
        ], { env: { NO_COLOR: "1", XDG_STATE_HOME: `${narrow}/state` } });
        assertEquals(scoped.code, 0, scoped.stderr);
        assertEquals(await Deno.readFile(`${narrow}/album/cd1/01.flac`), bytes);
        assertStringIncludes(
          scoped.stdout + scoped.stderr,
          "3 symlink(s) of the torrent not created: Deno creates symlinks only with unscoped --allow-read and --allow-write",
        );
        const missing = await Deno.lstat(`${narrow}/album/latest.flac`).catch(() => undefined);
        assertEquals(missing, undefined);
      } finally {
        await seeder.stop();
      }
    }),
);

Deno.test("symlinks: hostile links are not created; a file in a link's place is left alone", () =>
  withTempDir(async (dir) => {
    const torrent = parseTorrent(
      torrentBytes({
        name: "t",
        length: undefined,
        files: [
          { length: 100, path: ["file"] },
          { attr: "l", length: 0, path: ["good"], "symlink path": ["file"] },
          { attr: "l", length: 0, path: ["up"], "symlink path": ["..", ".."] },
          { attr: "l", length: 0, path: ["a", "passwd"], "symlink path": ["..", "..", "etc"] },
          { attr: "l", length: 0, path: ["taken"], "symlink path": ["file"] },
        ],
        pieces: new Uint8Array(20),
      }),
      { platform: "linux" },
    );
    await Deno.mkdir(`${dir}/t`, { recursive: true });
    await Deno.writeTextFile(`${dir}/t/taken`, "mine");
    const warnings: string[] = [];
    const store = new FileStore(torrent, dir, { warn: (message) => warnings.push(message) });
    try {
      await store.create();
    } finally {
      await store.close();
    }
    assertEquals(await Deno.readLink(`${dir}/t/good`), "file");
    assertEquals(await Deno.lstat(`${dir}/t/up`).catch(() => undefined), undefined);
    assertEquals(await Deno.lstat(`${dir}/t/a/passwd`).catch(() => undefined), undefined);
    assertEquals(await Deno.readTextFile(`${dir}/t/taken`), "mine");
    assertEquals(warnings.toSorted(), [
      "symlink t/a/passwd not created: its target leaves the torrent's folder",
      "symlink t/taken not created: a file or folder is there already, and is left alone",
      "symlink t/up not created: its target leaves the torrent's folder",
    ]);
    // Made again (a second run): the links there are kept, nothing is said about them.
    const again = new FileStore(torrent, dir, { warn: (message) => warnings.push(message) });
    await again.create();
    await again.close();
    assertEquals(await Deno.readLink(`${dir}/t/good`), "file");
    assert(warnings.length === 6, warnings.join("\n"));
  }));
