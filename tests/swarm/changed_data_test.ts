/**
 * Seed data that changes under a seed while it uploads: a file cut short,
 * a file overwritten, with real leechers (libtorrent, a second shoal) and a
 * real seeder (aria2c) to repair from. Each test prints what the leecher
 * got and how long the seed took to notice.
 */
import { createTorrent } from "../../lib/metainfo/create.ts";
import type { Torrent } from "../../lib/metainfo/torrent.ts";
import { Session } from "../../lib/session/session.ts";
import type { AddTorrentOptions, TorrentHandle } from "../../lib/session/torrent_handle.ts";
import { assert, assertEquals, assertStringIncludes } from "../helpers/assert.ts";
import { until } from "../helpers/until.ts";
import { LEECHER_PROGRAMS, startLeecher } from "../helpers/leechers.ts";
import { startSeeder } from "../helpers/seeders.ts";
import { connectFakeLeecher } from "../helpers/fake_leecher.ts";
import { testWithPrograms, withTempDir, writeRandomFile } from "../helpers/tools.ts";

const PIECE = 32 * 1024;
const FILE = 2 * 1024 * 1024;

interface Content {
  torrent: Torrent;
  torrentPath: string;
  dataDir: string;
  /** Original bytes of each file, by name. */
  files: Map<string, Uint8Array>;
}

/** A folder `data/content/` of files of 2 MiB, in 32 KiB pieces. */
async function makeContent(dir: string, names: string[]): Promise<Content> {
  const dataDir = `${dir}/data`;
  await Deno.mkdir(`${dataDir}/content`, { recursive: true });
  const files = new Map<string, Uint8Array>();
  for (const [i, name] of names.entries()) {
    files.set(name, await writeRandomFile(`${dataDir}/content/${name}`, FILE, 40 + i));
  }
  const { torrent, bytes } = await createTorrent(`${dataDir}/content`, { pieceLength: PIECE });
  await Deno.writeFile(`${dir}/content.torrent`, bytes);
  return { torrent, torrentPath: `${dir}/content.torrent`, dataDir, files };
}

/** A shoal seed, uploading at 1 MiB/s so a transfer is under way when its data changes. */
async function startSeed(content: Content, options: Partial<AddTorrentOptions> = {}) {
  const session = new Session({ port: 0, host: "127.0.0.1", maxUploadRate: 1024 * 1024 });
  const handle = session.add(content.torrent, {
    downloadDir: content.dataDir,
    seed: true,
    requireComplete: true,
    fileCheckIntervalMs: 100,
    ...options,
  });
  assertEquals(await handle.done, "complete");
  return { session, handle };
}

function progressOf(handle: TorrentHandle): string {
  const s = handle.status();
  return `${s.piecesDone}/${s.pieceCount} pieces, ${s.hashFailures} hash failures`;
}

testWithPrograms(
  "changed data: a file cut short under a seed loses only its missing pieces; libtorrent still gets every intact one",
  LEECHER_PROGRAMS.libtorrent,
  () =>
    withTempDir(async (dir) => {
      const content = await makeContent(dir, ["a.bin", "b.bin"]);
      const { session, handle } = await startSeed(content);
      const leecher = await startLeecher(
        "libtorrent",
        content.torrentPath,
        `${dir}/leech`,
        `127.0.0.1:${session.port}`,
        { timeoutMs: 60_000 },
      );
      try {
        const leecherProgress = () => handle.peers()[0]?.progress ?? 0;
        await until(() => leecherProgress() >= 0.1, () => `leecher at ${leecherProgress()}`);
        // b.bin (pieces 64–127) cut to 512 KiB: pieces 64–79 are intact, 80–127 are gone.
        const cutAt = Date.now();
        await Deno.truncate(`${content.dataDir}/content/b.bin`, 512 * 1024);
        await until(() => handle.status().fileError !== undefined, () => progressOf(handle));
        const noticedMs = Date.now() - cutAt;
        const status = handle.status();
        assertStringIncludes(status.fileError!, "b.bin was cut from 2097152 to 524288 bytes");
        assertStringIncludes(status.fileError!, "48 of its 64 pieces no longer match");
        assertEquals(status.piecesDone, 80);
        assertEquals(status.state, "seeding");
        // libtorrent hears of it (lt_donthave) and takes every piece still offered.
        await until(() => leecherProgress() >= 80 / 128, () => `leecher at ${leecherProgress()}`);
        const tookMs = Date.now() - cutAt;
        assertEquals(handle.peers().length, 1, "the leecher stays connected");
        console.log(
          `  noticed the cut in ${noticedMs} ms; libtorrent had all 80 intact pieces ${tookMs} ms after it`,
        );
      } finally {
        await leecher.stop();
      }

      // A leecher that comes now is told of the intact pieces only, and gets all of them.
      const late = new Session({ port: 0, host: "127.0.0.1" });
      try {
        const leech = late.add(content.torrent, {
          downloadDir: `${dir}/late`,
          peers: [{ host: "127.0.0.1", port: session.port }],
        });
        await until(() => leech.status().piecesDone === 80, () => progressOf(leech));
        assertEquals(leech.peers()[0]?.progress, 80 / 128);
        assertEquals(leech.status().hashFailures, 0);
        assertEquals(
          await Deno.readFile(`${dir}/late/content/a.bin`),
          content.files.get("a.bin"),
          "a.bin complete and exact",
        );
      } finally {
        await late.close();
        await session.close();
      }
    }),
);

Deno.test("changed data: a file overwritten under a seed is checked again before it is served; the leecher gets no bad piece and keeps the seed", () =>
  withTempDir(async (dir) => {
    const content = await makeContent(dir, ["only.bin"]);
    const { session, handle } = await startSeed(content);
    const leechSession = new Session({ port: 0, host: "127.0.0.1" });
    try {
      const leech = leechSession.add(content.torrent, {
        downloadDir: `${dir}/leech`,
        peers: [{ host: "127.0.0.1", port: session.port }],
      });
      await until(() => leech.status().piecesDone >= 8, () => progressOf(leech));
      // Overwrite bytes in the middle of a piece the leecher does not have yet.
      const copy = await Deno.readFile(`${dir}/leech/content/only.bin`);
      const original = content.files.get("only.bin")!;
      let target = -1;
      for (let piece = 63; piece >= 0 && target < 0; piece--) {
        const at = piece * PIECE + 1000;
        if (copy[at] !== original[at]) target = piece;
      }
      assert(target >= 0, "a piece the leecher does not have");
      const file = await Deno.open(`${content.dataDir}/content/only.bin`, { write: true });
      await file.seek(target * PIECE + 1000, Deno.SeekMode.Start);
      await file.write(new Uint8Array(100).fill(0xee));
      file.close();
      const changedAt = Date.now();
      await until(() => handle.status().fileError !== undefined, () => progressOf(handle));
      const noticedMs = Date.now() - changedAt;
      assertStringIncludes(handle.status().fileError!, "only.bin was changed on disk");
      assertStringIncludes(handle.status().fileError!, "1 of its 64 pieces no longer match");
      assertEquals(handle.status().piecesDone, 63);
      // The leecher heard it (lt_donthave): the seed no longer counts as having that piece.
      await until(
        () => leech.peers()[0]?.progress === 63 / 64,
        () => `seed seen at ${leech.peers()[0]?.progress}`,
      );
      // Every other piece arrives (the changed one may have been on its way before the change).
      const others = (got: Uint8Array) =>
        Array.from({ length: 64 }, (_, piece) => piece).filter((piece) => {
          const range = [piece * PIECE, (piece + 1) * PIECE] as const;
          return piece !== target &&
            !got.subarray(...range).every((byte, i) => byte === original[range[0] + i]);
        });
      let wrong: number[] = [];
      await until(() => {
        wrong = others(Deno.readFileSync(`${dir}/leech/content/only.bin`));
        return wrong.length === 0 && leech.status().piecesDone >= 63;
      }, () => `${progressOf(leech)}, pieces still wrong: ${wrong}`);
      const status = leech.status();
      assertEquals(status.hashFailures, 0, "no bad piece was served");
      assertEquals(status.peersBanned, 0);
      assertEquals(leech.peers().length, 1, "the seed is still a peer");
      console.log(`  noticed the change to piece ${target} in ${noticedMs} ms`);
      // The file put back as it was: its piece is served again, and the leecher completes.
      await new Promise((resolve) => setTimeout(resolve, 20));
      await Deno.writeFile(`${content.dataDir}/content/only.bin`, original);
      await until(() => handle.status().piecesDone === 64, () => progressOf(handle));
      assertEquals(handle.status().fileError, undefined, "cleared once whole again");
      await until(() => leech.status().piecesDone === 64, () => progressOf(leech));
      assertEquals(await Deno.readFile(`${dir}/leech/content/only.bin`), original);
    } finally {
      await leechSession.close();
      await session.close();
    }
  }));

Deno.test("changed data: a read from a file cut since it was opened is refused at once, long before the periodic look", () =>
  withTempDir(async (dir) => {
    const content = await makeContent(dir, ["only.bin"]);
    const { session, handle } = await startSeed(content, { fileCheckIntervalMs: 600_000 });
    const leecher = await connectFakeLeecher(session.port, content.torrent.infoHash);
    assert(leecher, "connected");
    try {
      leecher.startReading();
      await leecher.until((c) => c.unchoked);
      await leecher.request(0, 0, 16384);
      await leecher.until((c) => c.pieces === 1);
      await Deno.truncate(`${content.dataDir}/content/only.bin`, 512 * 1024);
      await leecher.request(40, 0, 16384);
      await leecher.until((c) => c.rejects === 1);
      await until(() => handle.status().fileError !== undefined, () => progressOf(handle));
      assertStringIncludes(handle.status().fileError!, "only.bin was cut from 2097152 to 524288");
      assertEquals(handle.status().piecesDone, 16);
      // What is left is served.
      await leecher.request(3, 16384, 16384);
      await leecher.until((c) => c.pieces === 2);
    } finally {
      leecher.close();
      await session.close();
    }
  }));

testWithPrograms(
  "changed data: a seed that may write downloads an overwritten piece again from aria2c and is whole again",
  ["aria2c"],
  () =>
    withTempDir(async (dir) => {
      const content = await makeContent(dir, ["only.bin"]);
      await Deno.mkdir(`${dir}/aria2/content`, { recursive: true });
      await Deno.copyFile(
        `${content.dataDir}/content/only.bin`,
        `${dir}/aria2/content/only.bin`,
      );
      const aria2 = await startSeeder("aria2", content.torrentPath, `${dir}/aria2`);
      const session = new Session({ port: 0, host: "127.0.0.1" });
      try {
        const handle = session.add(content.torrent, {
          downloadDir: content.dataDir,
          seed: true,
          fileCheckIntervalMs: 100,
          peers: [{ host: "127.0.0.1", port: aria2.port }],
        });
        assertEquals(await handle.done, "complete");
        const states: string[] = [];
        handle.on("state", (state) => states.push(state));
        const path = `${content.dataDir}/content/only.bin`;
        let pieceEvents = 0;
        handle.on("piece", () => pieceEvents++);
        const whole = async (what: string, changedAt: number) => {
          // The change is seen: its pieces are taken back and checked (each good one is a
          // piece event), and the bad ones are reported. A bad piece downloaded again while
          // the others are checked is good by the end of the check, and then none is reported.
          const eventsBefore = pieceEvents;
          let damage: string | undefined;
          await until(() => {
            damage ??= handle.status().fileError;
            return damage !== undefined || pieceEvents > eventsBefore;
          }, () => progressOf(handle));
          if (damage !== undefined) assertStringIncludes(damage, "downloading them again");
          await until(
            () => handle.status().piecesDone === 64 && handle.status().fileError === undefined,
            () => `${progressOf(handle)}, ${handle.status().fileError}`,
          );
          console.log(`  ${what}: whole again ${Date.now() - changedAt} ms after the change`);
          assertEquals(await Deno.readFile(path), content.files.get("only.bin"));
          assertEquals(handle.status().bytesDone, FILE);
        };
        // A few bytes overwritten: that piece is downloaded again.
        const file = await Deno.open(path, { write: true });
        await file.seek(5 * PIECE + 7, Deno.SeekMode.Start);
        await file.write(new Uint8Array(10).fill(1));
        file.close();
        await whole("one piece overwritten", Date.now());
        // Deleted, once the piece writer has it open: created again and downloaded in full.
        await Deno.remove(path);
        await whole("the file deleted", Date.now());
        assertEquals(states, [], "seeding all along");
        assertEquals(handle.state, "seeding");
      } finally {
        await session.close();
        await aria2.stop();
      }
    }),
);
