import { readTorrentFile } from "../../lib/metainfo/mod.ts";
import { DiskError } from "../../lib/errors.ts";
import {
  checkPieces,
  FileStore,
  memoryStorage,
  MemoryStore,
  type Storage,
} from "../../lib/storage/mod.ts";
import { createTorrent } from "../../lib/metainfo/create.ts";
import { PieceReadCache } from "../../lib/storage/_read_cache.ts";
import { assert, assertEquals, assertRejects, assertThrows } from "../helpers/assert.ts";
import { multiFileFixture } from "../helpers/content.ts";
import { withTempDir } from "../helpers/tools.ts";

Deno.test("memory store: the storage interface in memory; checks and the read cache work on it as on files", () =>
  withTempDir(async (dir) => {
    const fixture = await multiFileFixture(dir);
    const torrent = await readTorrentFile(fixture.torrent);
    const files: Storage = new FileStore(torrent, fixture.dataDir, { mode: "read" });
    const memory: Storage = new MemoryStore(torrent);
    assertEquals(await memory.readPiece(0, new Uint8Array(torrent.pieceMap.pieceSize(0))), false);
    assertEquals((await memory.states()).every((state) => state === undefined), true);
    await memory.create();
    assertEquals((await checkPieces(torrent, memory)).count, 0, "zeros match no piece");
    for (let piece = 0; piece < torrent.pieceCount; piece++) {
      const data = new Uint8Array(torrent.pieceMap.pieceSize(piece));
      assert(await files.readPiece(piece, data));
      await memory.writePiece(piece, data);
    }
    assertEquals((await checkPieces(torrent, memory)).count, torrent.pieceCount);
    const states = await memory.states();
    for (const file of torrent.files) {
      assertEquals(states[file.index]?.size, memory.stored(file.index) ? file.length : undefined);
    }
    const cache = new PieceReadCache(memory, (index) => torrent.pieceMap.pieceSize(index));
    const last = torrent.pieceCount - 1;
    const expected = new Uint8Array(torrent.pieceMap.pieceSize(last));
    await files.readPiece(last, expected);
    assertEquals(await cache.read(last), expected);
    await files.close();
    await memory.close();
    await memory.delete(); // Closing keeps the data (a paused torrent resumes with it); deleting drops it.
    await assertRejects(() => new PieceReadCache(memory, () => 16).read(0), DiskError);
  }));

Deno.test("memory store: a torrent larger than its limit is refused with a DiskError that says so", () =>
  withTempDir(async (dir) => {
    const torrent = await readTorrentFile((await multiFileFixture(dir)).torrent);
    assertThrows(() => new MemoryStore(torrent, 1000), DiskError, "more than a memory store takes");
  }));

Deno.test("memory storage: one store per torrent, given back with its data (a paused torrent resumes with it)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(`${dir}/a.bin`, new Uint8Array(20_000).fill(3));
    const { torrent } = await createTorrent(`${dir}/a.bin`, { pieceLength: 16384 });
    const made: MemoryStore[] = [];
    const factory = memoryStorage(undefined, (store) => made.push(store));
    const request = { downloadDir: dir, mode: "write" as const };
    const store = factory(torrent, request);
    await store.create();
    await store.writePiece(0, new Uint8Array(16384).fill(3));
    await store.close();
    assertEquals(factory(torrent, request), store);
    assertEquals(made.length, 1);
    assertEquals((await checkPieces(torrent, store)).count, 1, "closing keeps the data");
    await store.delete();
    assertEquals((await checkPieces(torrent, store)).count, 0, "deleting drops it");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
