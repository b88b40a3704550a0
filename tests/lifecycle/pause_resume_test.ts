/**
 * A torrent's life in a session: added paused, resumed, paused in the middle
 * of a download from a real seeder (libtorrent) and resumed, and removed
 * with its data.
 */
import { parseMagnet, readTorrentFile } from "../../lib/metainfo/mod.ts";
import { memoryStorage, type MemoryStore } from "../../lib/storage/memory_store.ts";
import { bytesEqual } from "../../lib/util/_bytes.ts";
import { StateLockedError } from "../../lib/storage/state_lock.ts";
import { Session } from "../../lib/session/session.ts";
import type { TorrentState } from "../../lib/session/torrent_handle.ts";
import { assert, assertEquals, assertRejects } from "../helpers/assert.ts";
import { until } from "../helpers/until.ts";
import { assertSameContent, multiFileFixture, singleFileFixture } from "../helpers/content.ts";
import { startSeeder } from "../helpers/seeders.ts";
import { testWithPrograms, withTempDir } from "../helpers/tools.ts";

async function entries(dir: string): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) names.push(entry.name);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return names.sort();
}

testWithPrograms(
  "lifecycle: added paused it does nothing; paused mid-download it keeps its pieces; resumed it completes byte for byte",
  ["python3-libtorrent"],
  () =>
    withTempDir(async (dir) => {
      const fixture = await singleFileFixture(dir, 6 * 1024 * 1024 + 1234);
      const torrent = await readTorrentFile(fixture.torrent);
      const seeder = await startSeeder("libtorrent", fixture.torrent, fixture.dataDir);
      // Slow enough (about 3 s) that the pause lands in the middle.
      const session = new Session({ port: 0, host: "127.0.0.1", maxDownloadRate: 2 * 1024 * 1024 });
      try {
        const handle = session.add(torrent, {
          downloadDir: `${dir}/down`,
          paused: true,
          peers: [{ host: "127.0.0.1", port: seeder.port }],
        });
        const states: TorrentState[] = [];
        handle.on("state", (state) => states.push(state));
        assertEquals(handle.state, "paused");
        await new Promise((resolve) => setTimeout(resolve, 1500));
        assertEquals(handle.state, "paused");
        assertEquals(handle.status().peersConnected, 0);
        assertEquals(await entries(`${dir}/down`), [], "a paused torrent creates nothing");

        handle.resume();
        await until(
          () => handle.status().piecesDone > torrent.pieceCount / 3,
          "a third of the pieces",
        );
        await handle.pause();
        assertEquals(handle.state, "paused");
        assertEquals(handle.peers(), []);
        const done = handle.status().piecesDone;
        assert(done < torrent.pieceCount, "paused before the end");
        await new Promise((resolve) => setTimeout(resolve, 1200));
        assertEquals(handle.status().piecesDone, done, "nothing arrives while paused");
        assertEquals(handle.status().peersConnected, 0);

        handle.resume();
        assertEquals(await handle.done, "complete");
        assert(
          handle.status().bytesAtStart > 0,
          "the second run starts from the first run's pieces",
        );
        assert(handle.status().downloaded >= torrent.totalLength - handle.status().bytesAtStart);
        await assertSameContent(fixture, `${dir}/down`);
        assertEquals(states.slice(0, 3), ["checking", "downloading", "paused"]);
        assertEquals(states.slice(3, 5), ["checking", "downloading"]);
        assertEquals(states.at(-1), "complete");
      } finally {
        await session.close();
        await seeder.stop();
      }
    }),
);

Deno.test("lifecycle: a torrent added paused shows its trackers, idle, before it ever runs and once its data is restored; none with announce off", () =>
  withTempDir(async (dir) => {
    const trackers = [["http://127.0.0.1:9/announce"], ["udp://127.0.0.1:9/announce"]];
    const fixture = await singleFileFixture(dir, 100_000, trackers);
    const torrent = await readTorrentFile(fixture.torrent);
    const session = new Session({ port: 0, host: "127.0.0.1" });
    try {
      const handle = session.add(torrent, { downloadDir: fixture.dataDir, paused: true });
      const shown = () => handle.status().trackers.map((t) => `${t.tier} ${t.url} ${t.state}`);
      const idle = ["1 http://127.0.0.1:9/announce idle", "2 udp://127.0.0.1:9/announce idle"];
      assertEquals(shown(), idle, "before any run");
      await handle.restore();
      assertEquals(handle.status().progress, 1, "its data found complete");
      assertEquals(shown(), idle, "after the check, which announces nothing");
    } finally {
      await session.close();
    }
    const quiet = new Session({ port: 0, host: "127.0.0.1" });
    try {
      const handle = quiet.add(torrent, {
        downloadDir: fixture.dataDir,
        paused: true,
        announce: false,
      });
      assertEquals(handle.status().trackers, []);
    } finally {
      await quiet.close();
    }
  }));

Deno.test("lifecycle: restore() of a paused torrent finds its pieces and files' progress, keeps them while paused, and a resume goes on from them", () =>
  withTempDir(async (dir) => {
    // 7 pieces of 16 KiB; the last one damaged on disk.
    const fixture = await singleFileFixture(dir, 100_000);
    const data = `${fixture.dataDir}/single.bin`;
    const file = await Deno.open(data, { write: true });
    await file.seek(99_000, Deno.SeekMode.Start);
    await file.write(new Uint8Array(1000));
    file.close();
    const torrent = await readTorrentFile(fixture.torrent);
    const session = new Session({ port: 0, host: "127.0.0.1" });
    try {
      const handle = session.add(torrent, { downloadDir: fixture.dataDir, paused: true });
      assertEquals(handle.files(), undefined, "unknown before");
      await handle.restore();
      const pieces = () => Array.from({ length: torrent.pieceCount }, (_, i) => handle.hasPiece(i));
      const known = () => {
        const status = handle.status();
        assertEquals(status.state, "paused");
        assertEquals(status.piecesDone, 6);
        assertEquals(status.bytesDone, 6 * 16384);
        assertEquals(status.totalBytes, 100_000);
        assertEquals(pieces(), [true, true, true, true, true, true, false]);
        assertEquals(handle.files()?.map((f) => [f.path, f.bytesDone, f.priority]), [
          ["single.bin", 6 * 16384, "normal"],
        ]);
      };
      known();
      await new Promise((resolve) => setTimeout(resolve, 100));
      known();
      // Asked for while paused: shown now, taken by the next run.
      await handle.setFilePriorities(["high"]);
      assertEquals(handle.files()?.map((f) => f.priority), ["high"]);
      assertEquals(handle.filePriorities, ["high"]);
      handle.resume();
      // No peer has the last piece: the run restores the same six and waits for it.
      await until(() => handle.state === "downloading", () => handle.state);
      assertEquals(handle.status().piecesDone, 6);
      assertEquals(handle.files()?.map((f) => f.priority), ["high"]);
      assertEquals(pieces(), [true, true, true, true, true, true, false]);
    } finally {
      await session.close();
    }
  }));

Deno.test("lifecycle: verify() while a paused torrent's restore runs checks it again and leaves it paused", () =>
  withTempDir(async (dir) => {
    const fixture = await singleFileFixture(dir, 100_000, [["http://127.0.0.1:9/announce"]]);
    const torrent = await readTorrentFile(fixture.torrent);
    const session = new Session({ port: 0, host: "127.0.0.1" });
    try {
      const handle = session.add(torrent, { downloadDir: fixture.dataDir, paused: true });
      const states: TorrentState[] = [];
      handle.on("state", (state) => states.push(state));
      const restoring = handle.restore();
      assertEquals(handle.state, "checking");
      await handle.verify();
      await restoring;
      await until(
        () => handle.state === "paused" && handle.status().progress === 1,
        () => `${handle.state} ${handle.status().progress}`,
      );
      await new Promise((resolve) => setTimeout(resolve, 200));
      assertEquals(handle.state, "paused", states.join(" "));
      assert(!states.includes("seeding"), `it never ran: ${states.join(" ")}`);
      assertEquals(handle.status().trackers.map((t) => t.state), ["idle"], "nothing announced");
    } finally {
      await session.close();
    }
  }));

Deno.test("lifecycle: a paused torrent that is stopped settles as stopped; resume after stop does nothing", () =>
  withTempDir(async (dir) => {
    const fixture = await singleFileFixture(dir, 100_000);
    const torrent = await readTorrentFile(fixture.torrent);
    const session = new Session({ port: 0, host: "127.0.0.1" });
    try {
      const handle = session.add(torrent, { downloadDir: `${dir}/down`, paused: true });
      await handle.stop();
      assertEquals(await handle.done, "stopped");
      assertEquals(handle.state, "stopped");
      handle.resume();
      assertEquals(handle.state, "stopped");
    } finally {
      await session.close();
    }
  }));

Deno.test("lifecycle: Session.remove takes the torrent out; with deleteData its files go and nothing else", () =>
  withTempDir(async (dir) => {
    const fixture = await multiFileFixture(dir);
    const torrent = await readTorrentFile(fixture.torrent);
    const session = new Session({ port: 0, host: "127.0.0.1" });
    try {
      // A complete copy, seeded; beside it, a file of the user's in the same folders.
      const handle = session.add(torrent, { downloadDir: fixture.dataDir, seed: true });
      assertEquals(await handle.done, "complete");
      await Deno.writeTextFile(`${fixture.dataDir}/multi/a/mine.txt`, "keep me");
      await Deno.writeTextFile(`${fixture.dataDir}/also-mine.txt`, "keep me too");
      await assertRejects(() => session.remove("00".repeat(20)), Error, "not in this session");
      await session.remove(torrent.infoHashHex.toUpperCase(), { deleteData: true });
      assertEquals(session.torrents(), []);
      assertEquals(handle.state, "complete");
      assertEquals(await entries(fixture.dataDir), [".shoal", "also-mine.txt", "multi"]);
      assertEquals(await entries(`${fixture.dataDir}/multi`), ["a"], "folders left empty go");
      assertEquals(await entries(`${fixture.dataDir}/multi/a`), ["mine.txt"]);
      assertEquals(
        await entries(`${fixture.dataDir}/.shoal`).then((names) =>
          names.filter((name) => name.endsWith(".resume"))
        ),
        [],
      );
      // The torrent can be added again: it is not in the session any more.
      const again = session.add(torrent, { downloadDir: `${dir}/again`, paused: true });
      assertEquals(again.state, "paused");
    } finally {
      await session.close();
    }
  }));

testWithPrograms(
  "lifecycle: a magnet link without peers waits in the metadata state; given its metadata it downloads (into memory storage)",
  ["python3-libtorrent"],
  () =>
    withTempDir(async (dir) => {
      const fixture = await singleFileFixture(dir, 500_000);
      const torrent = await readTorrentFile(fixture.torrent);
      const seeder = await startSeeder("libtorrent", fixture.torrent, fixture.dataDir);
      const session = new Session({ port: 0, host: "127.0.0.1" });
      const stores: MemoryStore[] = [];
      try {
        const magnet = parseMagnet(
          `magnet:?xt=urn:btih:${torrent.infoHashHex}&dn=From%20a%20link`,
        );
        const handle = session.add(magnet, {
          downloadDir: `${dir}/down`,
          storage: memoryStorage(undefined, (store) => stores.push(store)),
        });
        assertEquals(handle.state, "metadata");
        assertEquals(handle.torrent, undefined);
        const status = handle.status();
        assertEquals([status.name, status.infoHash, status.progress], [
          "From a link",
          torrent.infoHashHex,
          0,
        ]);
        await handle.pause();
        assertEquals(handle.state, "paused");
        handle.resume();
        assertEquals(handle.state, "metadata");
        const other = await readTorrentFile(
          (await singleFileFixture(`${dir}/other`, 1000)).torrent,
        );
        let refused = false;
        try {
          handle.setMetadata(other);
        } catch (error) {
          refused = (error as Error).message.includes("not for");
        }
        assert(refused, "metadata of another torrent is refused");
        // No peer to fetch it from: the torrent file gives it, then the seed is added.
        handle.setMetadata(torrent);
        await until(() => handle.torrent === torrent, "the torrent taken");
        handle.addPeers([{ host: "127.0.0.1", port: seeder.port }]);
        assertEquals(await handle.done, "complete");
        assertEquals(stores.length, 1);
        const source = await Deno.readFile(`${fixture.dataDir}/${fixture.files[0].path}`);
        const copy = new Uint8Array(torrent.totalLength);
        for (let index = 0; index < torrent.pieceCount; index++) {
          const piece = new Uint8Array(torrent.pieceMap.pieceSize(index));
          assert(await stores[0].readPiece(index, piece));
          copy.set(piece, index * torrent.pieceLength);
        }
        assert(bytesEqual(copy, source), "the bytes in memory are the torrent's");
      } finally {
        await session.close();
        await seeder.stop();
      }
    }),
);

Deno.test("lifecycle: data another shoal holds, or data seeded read-only, is never deleted by remove", () =>
  withTempDir(async (dir) => {
    const fixture = await singleFileFixture(dir, 100_000);
    const torrent = await readTorrentFile(fixture.torrent);
    const path = `${fixture.dataDir}/${fixture.files[0].path}`;
    const owner = new Session({ port: 0, host: "127.0.0.1" });
    const other = new Session({ port: 0, host: "127.0.0.1" });
    try {
      const seeding = owner.add(torrent, { downloadDir: fixture.dataDir, seed: true });
      assertEquals(await seeding.done, "complete");
      // The same data added elsewhere, never started: removing it with its data must not
      // delete what the first one is seeding.
      other.add(torrent, { downloadDir: fixture.dataDir, paused: true });
      await assertRejects(
        () => other.remove(torrent.infoHashHex, { deleteData: true }),
        StateLockedError,
      );
      assertEquals((await Deno.stat(path)).size, 100_000);
      await owner.remove(torrent.infoHashHex);
      // Seeded read-only (as shoal seed does): never deleted.
      const readOnly = owner.add(torrent, {
        downloadDir: fixture.dataDir,
        seed: true,
        requireComplete: true,
      });
      assertEquals(await readOnly.done, "complete");
      await assertRejects(
        () => owner.remove(torrent.infoHashHex, { deleteData: true }),
        Error,
        "only reads",
      );
      assertEquals((await Deno.stat(path)).size, 100_000);
    } finally {
      await owner.close();
      await other.close();
    }
  }));

Deno.test("lifecycle: a resume during a pause takes effect once the pause is over", () =>
  withTempDir(async (dir) => {
    const fixture = await singleFileFixture(dir, 100_000);
    const torrent = await readTorrentFile(fixture.torrent);
    const session = new Session({ port: 0, host: "127.0.0.1" });
    try {
      const handle = session.add(torrent, { downloadDir: fixture.dataDir, seed: true });
      assertEquals(await handle.done, "complete");
      const pausing = handle.pause();
      handle.resume();
      await pausing;
      await until(() => handle.state === "seeding", "seeding again", 5000);
    } finally {
      await session.close();
    }
  }));

Deno.test("lifecycle: metadata given while a magnet-added torrent is being paused waits for resume()", () =>
  withTempDir(async (dir) => {
    const fixture = await singleFileFixture(dir, 100_000);
    const torrent = await readTorrentFile(fixture.torrent);
    const session = new Session({ port: 0, host: "127.0.0.1" });
    try {
      const handle = session.add(parseMagnet(`magnet:?xt=urn:btih:${torrent.infoHashHex}`), {
        downloadDir: fixture.dataDir,
      });
      assertEquals(handle.state, "metadata");
      const pausing = handle.pause();
      handle.setMetadata(torrent);
      await pausing;
      assertEquals(handle.state, "paused");
      await new Promise((resolve) => setTimeout(resolve, 200));
      assertEquals(handle.state, "paused", "nothing started behind the pause");
      handle.resume();
      assertEquals(await handle.done, "complete"); // the data is all there already
    } finally {
      await session.close();
    }
  }));
