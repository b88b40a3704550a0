/** AddTorrentOptions.storage: a torrent downloads into the storage it is given, not into files. */
import { readTorrentFile } from "../../lib/metainfo/torrent.ts";
import { Session } from "../../lib/session/session.ts";
import { FileStore } from "../../lib/storage/file_store.ts";
import { memoryStorage, type MemoryStore } from "../../lib/storage/memory_store.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import { multiFileFixture } from "../helpers/content.ts";
import { startSeeder } from "../helpers/seeders.ts";
import { testWithPrograms, withTempDir } from "../helpers/tools.ts";
import { bytesEqual } from "../../lib/util/_bytes.ts";

testWithPrograms(
  "storage: a download from libtorrent into memory storage is byte for byte, and no data file is written",
  ["python3-libtorrent"],
  () =>
    withTempDir(async (dir) => {
      const fixture = await multiFileFixture(dir);
      const torrent = await readTorrentFile(fixture.torrent);
      const seeder = await startSeeder("libtorrent", fixture.torrent, fixture.dataDir);
      const session = new Session({ port: 0, host: "127.0.0.1" });
      const stores: MemoryStore[] = [];
      try {
        const handle = session.add(torrent, {
          downloadDir: `${dir}/down`,
          storage: memoryStorage(undefined, (store) => stores.push(store)),
          peers: [{ host: "127.0.0.1", port: seeder.port }],
        });
        assertEquals(await handle.done, "complete");
        assertEquals(stores.length, 1);
        const source = new FileStore(torrent, fixture.dataDir, { mode: "read" });
        try {
          for (let index = 0; index < torrent.pieceCount; index++) {
            const size = torrent.pieceMap.pieceSize(index);
            const [ours, theirs] = [new Uint8Array(size), new Uint8Array(size)];
            assert(await stores[0].readPiece(index, ours), `piece ${index} is missing`);
            assert(await source.readPiece(index, theirs));
            assert(bytesEqual(ours, theirs), `piece ${index} differs`);
          }
        } finally {
          await source.close();
        }
        // Only the state folder (resume data, lock) is on disk: the data is in memory.
        const entries = [];
        for await (const entry of Deno.readDir(`${dir}/down`)) entries.push(entry.name);
        assertEquals(entries, [".shoal"]);
      } finally {
        await session.close();
        await seeder.stop();
      }
    }),
);
