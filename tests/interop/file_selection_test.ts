/**
 * Choosing what to download, end to end: `--select` from a libtorrent
 * seeder (1 of 13 files, files sharing pieces with skipped neighbours,
 * empty files), selecting more later without downloading the shared bytes
 * again, deselecting (what is on disk stays), a SIGKILL and a restart that
 * keeps the selection; and, through the library, priorities changed while
 * the download runs and after it completed.
 */
import { createTorrent, readTorrentFile, type Torrent } from "../../lib/metainfo/mod.ts";
import { Session } from "../../lib/session/mod.ts";
import type { FilePriority } from "../../lib/session/mod.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import { startFakePeer } from "../helpers/fake_peer.ts";
import { startSeeder } from "../helpers/seeders.ts";
import {
  lastStatus,
  runShoal,
  shoalArgs,
  testWithPrograms,
  withTempDir,
  writeRandomFile,
} from "../helpers/tools.ts";
import { freePort } from "../helpers/trackers.ts";

/** 13 files in pieces of 32 KiB: most pieces hold the ends of several files; two are empty. */
const SIZES = [
  50_000,
  0,
  10_000,
  100_000,
  7,
  0,
  65_536,
  33_333,
  1,
  200_000,
  20_000,
  12_345,
  40_000,
];

interface SetFixture {
  torrentPath: string;
  torrent: Torrent;
  dataDir: string;
  contents: Uint8Array[];
}

async function thirteenFiles(dir: string): Promise<SetFixture> {
  const dataDir = `${dir}/data`;
  await Deno.mkdir(`${dataDir}/set`, { recursive: true });
  const contents: Uint8Array[] = [];
  for (const [i, size] of SIZES.entries()) {
    const name = `${dataDir}/set/f${String(i).padStart(2, "0")}.bin`;
    contents.push(await writeRandomFile(name, size, 300 + i));
  }
  const { bytes, torrent } = await createTorrent(`${dataDir}/set`, { pieceLength: 32 * 1024 });
  const torrentPath = `${dir}/set.torrent`;
  await Deno.writeFile(torrentPath, bytes);
  assertEquals(torrent.files.length, 13);
  return { torrentPath, torrent, dataDir, contents };
}

/** Files under `out/set` now, by index. */
async function onDisk(out: string): Promise<number[]> {
  const found: number[] = [];
  try {
    for await (const entry of Deno.readDir(`${out}/set`)) {
      found.push(Number(/^f(\d+)\.bin$/.exec(entry.name)![1]));
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return found.sort((a, b) => a - b);
}

async function assertFiles(set: SetFixture, out: string, indices: number[]): Promise<void> {
  for (const index of indices) {
    const name = `set/f${String(index).padStart(2, "0")}.bin`;
    assertEquals(await Deno.readFile(`${out}/${name}`), set.contents[index], `${name}: bytes`);
  }
}

/** Bytes of the pieces that touch any of `files`, leaving out `except`. */
function pieceBytes(torrent: Torrent, files: number[], except: Set<number> = new Set()): number {
  return [...piecesOf(torrent, files)].filter((p) => !except.has(p))
    .reduce((sum, p) => sum + torrent.pieceMap.pieceSize(p), 0);
}

/** The pieces that touch any of `files`. */
function piecesOf(torrent: Torrent, files: number[]): Set<number> {
  const pieces = new Set<number>();
  for (const file of files) {
    const range = torrent.pieceMap.pieces(file);
    for (let p = range?.first ?? 0; range && p <= range.last; p++) pieces.add(p);
  }
  return pieces;
}

testWithPrograms(
  "file selection: from a libtorrent seed, 1 of 13 files, then more, then others after a SIGKILL; skipped files never on disk",
  ["/usr/bin/python3"],
  () =>
    withTempDir(async (dir) => {
      const set = await thirteenFiles(dir);
      const seeder = await startSeeder("libtorrent", set.torrentPath, set.dataDir);
      const out = `${dir}/out`;
      const args = (flags: string[]) => [
        "download",
        set.torrentPath,
        "-d",
        out,
        "-p",
        String(freePort()),
        "--peer",
        seeder.address,
        "--json",
        ...flags,
      ];
      const download = (flags: string[]) => runShoal(args(flags));
      try {
        // File 4 (index 3) shares its first piece with files 1 and 3, its last with 5, 6 and 7.
        let result = await download(["--select", "4"]);
        assertEquals(result.code, 0, result.stderr);
        assertEquals(await onDisk(out), [3]);
        await assertFiles(set, out, [3]);
        let status = lastStatus(result.stdout);
        assertEquals(status.state, "complete");
        assertEquals(status.totalBytes, 100_000);
        assertEquals(status.filesSkipped, 12);
        const files = status.files as { number: number; priority: string; bytesDone: number }[];
        assertEquals(files[3], { ...files[3], number: 4, priority: "normal", bytesDone: 100_000 });
        assertEquals(files[9].priority, "skip");
        const parts = await Deno.stat(`${out}/.shoal/${set.torrent.infoHashHex}.parts`);
        assert(parts.size > 0, "the shared pieces' other bytes are in the part file");

        // More files: those sharing the pieces already had come out of the part file.
        result = await download(["--select", "1-4,7"]);
        assertEquals(result.code, 0, result.stderr);
        assertEquals(await onDisk(out), [0, 1, 2, 3, 6]);
        await assertFiles(set, out, [0, 1, 2, 3, 6]);
        status = lastStatus(result.stdout);
        assertEquals(
          status.downloaded,
          pieceBytes(set.torrent, [0, 1, 2, 6], piecesOf(set.torrent, [3])),
          "only pieces not had before were downloaded",
        );

        // Another selection, slowly, killed midway: the restart keeps it, with no flag.
        const child = new Deno.Command(Deno.execPath(), {
          args: shoalArgs(args(["--max-down", "60k", "--select", "10,12-13"])),
          stdout: "piped",
          stderr: "null",
        }).spawn();
        const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
        let text = "";
        while (!/"bytesDone":[1-9]/.test(text.split("\n").at(-2) ?? "")) {
          const { value, done } = await reader.read();
          if (done) break;
          text += value;
        }
        child.kill("SIGKILL");
        await child.status;
        await reader.cancel();
        result = await download([]);
        assertEquals(result.code, 0, result.stderr);
        status = lastStatus(result.stdout);
        assertEquals(status.totalBytes, 200_000 + 12_345 + 40_000, "the selection was kept");
        // The deselected files stay as they were.
        assertEquals(await onDisk(out), [0, 1, 2, 3, 6, 9, 11, 12]);
        await assertFiles(set, out, [0, 1, 2, 3, 6, 9, 11, 12]);
        const verify = await runShoal(["verify", set.torrentPath, "-d", out]);
        assertEquals(verify.code, 0, verify.stdout + verify.stderr);
      } finally {
        await seeder.stop();
      }
    }),
);

Deno.test("file selection: priorities change while downloading and after completing; the handle reports each file", () =>
  withTempDir(async (dir) => {
    const set = await thirteenFiles(dir);
    const torrent = await readTorrentFile(set.torrentPath);
    const stream = new Uint8Array(torrent.totalLength);
    for (const file of torrent.files) stream.set(set.contents[file.index], file.offset);
    const peer = startFakePeer(torrent, stream, { delayMs: 40 });
    const session = new Session({ port: 0, host: "127.0.0.1" });
    const out = `${dir}/out`;
    try {
      const only = (chosen: Record<number, FilePriority>) =>
        torrent.files.map((file) => chosen[file.index] ?? "skip");
      const handle = session.add(torrent, {
        downloadDir: out,
        peers: [{ host: "127.0.0.1", port: peer.port }],
        filePriorities: only({ 9: "normal" }),
        // Two pieces at a time: those in progress when file 10 is skipped are finished, no more.
        maxBufferedBytes: 64 * 1024,
      });
      await new Promise<void>((resolve) => handle.on("piece", () => resolve()));
      // While downloading: file 10 skipped now, 13 first, 1 too.
      await handle.setFilePriorities(only({ 12: "high", 0: "normal" }));
      assertEquals(await handle.done, "complete");
      await assertFiles(set, out, [0, 12]);
      const files = handle.files()!;
      assertEquals(files[12].bytesDone, 40_000);
      assert(files[9].bytesDone < 200_000, "file 10 was left unfinished");
      assertEquals(handle.status().totalBytes, 90_000);
      // Complete, and then everything: it downloads again and completes.
      const again = new Promise<void>((resolve) =>
        handle.on("state", (state) => state === "complete" && resolve())
      );
      await handle.setFilePriorities(torrent.files.map(() => "normal"));
      assertEquals(handle.state, "downloading");
      await again;
      await assertFiles(set, out, SIZES.map((_, i) => i));
      assertEquals(handle.status().progress, 1);
      await handle.stop();
    } finally {
      await session.close();
      await peer.stop();
    }
  }));

testWithPrograms(
  "file selection: a magnet link's so= (BEP 53) selects files once the metadata comes; a --select past the last file is a usage error",
  ["/usr/bin/python3"],
  () =>
    withTempDir(async (dir) => {
      const set = await thirteenFiles(dir);
      const seeder = await startSeeder("libtorrent", set.torrentPath, set.dataDir);
      try {
        const magnet = `magnet:?xt=urn:btih:${set.torrent.infoHashHex}&x.pe=${seeder.address}`;
        const out = `${dir}/out`;
        const result = await runShoal([
          "download",
          `${magnet}&so=7,9`,
          "-d",
          out,
          "-p",
          String(freePort()),
          "--json",
        ]);
        assertEquals(result.code, 0, result.stderr);
        assertEquals(await onDisk(out), [7, 9]);
        await assertFiles(set, out, [7, 9]);
        const bad = await runShoal([
          "download",
          magnet,
          "-d",
          `${dir}/out2`,
          "-p",
          String(freePort()),
          "--select",
          "14",
        ]);
        assertEquals(bad.code, 2, bad.stderr);
        assert(bad.stderr.includes("files 1 to 13"), bad.stderr);
        const torrentFile = await runShoal([
          "download",
          set.torrentPath,
          "-d",
          `${dir}/o3`,
          "--peer",
          seeder.address,
          "--select",
          "0",
        ]);
        assertEquals(torrentFile.code, 2, torrentFile.stderr);
      } finally {
        await seeder.stop();
      }
    }),
);
