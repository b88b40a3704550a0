/**
 * The piece workers are shared by the torrents of a process: many piece
 * writers at once write their own files through a few workers, one
 * writer's close leaves the others' files open, and the workers stop with
 * the last writer (the test's sanitizers would catch one left running) or
 * when they have had nothing to do for a while.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { createTorrent } from "../../lib/metainfo/create.ts";
import { FileStore } from "../../lib/storage/file_store.ts";
import { PieceWriter } from "../../lib/storage/piece_writer.ts";
import { poolTiming, runningWorkers } from "../../lib/storage/_piece_worker_pool.ts";
import { withTempDir } from "../helpers/tools.ts";
import { until } from "../helpers/until.ts";

Deno.test("piece writers of eight torrents share the workers; closing one leaves the others writing", () =>
  withTempDir(async (dir) => {
    const torrents: { content: Uint8Array; store: FileStore; writer: PieceWriter }[] = [];
    for (let i = 0; i < 8; i++) {
      const content = crypto.getRandomValues(new Uint8Array(3 * 16384 + i));
      await Deno.writeFile(`${dir}/original-${i}.bin`, content);
      const { torrent } = await createTorrent(`${dir}/original-${i}.bin`, { pieceLength: 16384 });
      const store = new FileStore(torrent, `${dir}/copy-${i}`);
      await store.create();
      torrents.push({ content, store, writer: new PieceWriter(torrent, store) });
    }
    const piece = (t: (typeof torrents)[number], index: number) =>
      t.content.slice(index * 16384, Math.min(t.content.length, (index + 1) * 16384));
    // Piece 0 of each, all at once.
    const first = await Promise.all(torrents.map((t) => t.writer.verifyAndWrite(0, piece(t, 0))));
    assert(first.every((p) => p.valid));
    // One closes; the others go on (their files stay open in the shared workers).
    await torrents[0].writer.close();
    const rest = torrents.slice(1);
    for (const index of [1, 2, 3]) {
      const written = await Promise.all(
        rest.map((t) => t.writer.verifyAndWrite(index, piece(t, index))),
      );
      assert(written.every((p) => p.valid), `piece ${index}`);
    }
    assertEquals((await rest[0].writer.verifyAndWrite(1, new Uint8Array(16384))).valid, false);
    for (const t of rest) await t.writer.close();
    for (const t of torrents) await t.store.close();
    for (const [i, t] of rest.entries()) {
      assertEquals(
        await Deno.readFile(`${dir}/copy-${i + 1}/original-${i + 1}.bin`),
        t.content,
        `torrent ${i + 1}'s file`,
      );
    }
  }));

Deno.test("a piece worker with nothing to do stops, and starts again for the next piece", () =>
  withTempDir(async (dir) => {
    const content = crypto.getRandomValues(new Uint8Array(4 * 16384));
    await Deno.writeFile(`${dir}/original.bin`, content);
    const { torrent } = await createTorrent(`${dir}/original.bin`, { pieceLength: 16384 });
    const store = new FileStore(torrent, `${dir}/copy`);
    await store.create();
    const writer = new PieceWriter(torrent, store);
    const before = poolTiming.idleStopMs;
    poolTiming.idleStopMs = 50;
    try {
      const piece = (index: number) => content.slice(index * 16384, (index + 1) * 16384);
      assert((await writer.verifyAndWrite(0, piece(0))).valid);
      assertEquals(runningWorkers(), 1);
      // Idle: the worker stops (and its isolate's memory goes with it).
      await until(() => runningWorkers() === 0, () => `${runningWorkers()} workers running`);
      for (const index of [1, 2, 3]) {
        assert((await writer.verifyAndWrite(index, piece(index))).valid);
      }
      assertEquals((await writer.verifyAndWrite(1, new Uint8Array(16384))).valid, false);
      await writer.close();
      assertEquals(runningWorkers(), 0);
      await store.close();
      assertEquals(await Deno.readFile(`${dir}/copy/original.bin`), content);
    } finally {
      poolTiming.idleStopMs = before;
    }
  }));
