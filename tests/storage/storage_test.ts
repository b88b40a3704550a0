/** File storage, piece checks and resume data, on real files. */
import { readTorrentFile } from "../../lib/metainfo/mod.ts";
import { pieceHash } from "../../lib/metainfo/torrent.ts";
import { FileStore } from "../../lib/storage/file_store.ts";
import { PieceWriter } from "../../lib/storage/piece_writer.ts";
import type { PieceVerifier } from "../../lib/metainfo/piece_verifier.ts";
import { createHash } from "node:crypto";
import { checkPieces } from "../../lib/storage/piece_check.ts";
import {
  defaultStateDir,
  filesUnchanged,
  loadResume,
  resumePath,
  saveResume,
} from "../../lib/storage/resume.ts";
import { Bitfield } from "../../lib/util/bitfield.ts";
import { sha1 } from "../../lib/util/_sha1.ts";
import { assert, assertEquals, assertRejects } from "../helpers/assert.ts";
import { assertSameContent, multiFileFixture } from "../helpers/content.ts";
import { torrentBytes } from "../helpers/torrents.ts";
import { withTempDir } from "../helpers/tools.ts";
import { DiskError } from "../../lib/errors.ts";
import { type FileChange, FileChangedError, FileWatch } from "../../lib/storage/_file_watch.ts";
import { parseTorrent } from "../../lib/metainfo/torrent.ts";

Deno.test("storage: pieces written through the map land in the right files; empty files and folders exist", () =>
  withTempDir(async (dir) => {
    const fixture = await multiFileFixture(dir);
    const torrent = await readTorrentFile(fixture.torrent);
    const stream = new Uint8Array(torrent.totalLength);
    for (const file of torrent.files) {
      stream.set(await Deno.readFile(`${fixture.dataDir}/${file.path.join("/")}`), file.offset);
    }
    // One open file at a time: every piece spanning two files must evict and reopen.
    const store = new FileStore(torrent, `${dir}/out`, { maxOpenFiles: 1 });
    await store.create();
    const sizes = await store.states();
    assertEquals(
      sizes.map((s) => s?.size),
      torrent.files.map((f) => f.length),
      "sparse at final size",
    );
    for (let piece = torrent.pieceCount - 1; piece >= 0; piece--) {
      const start = piece * torrent.pieceLength;
      await store.writePiece(
        piece,
        stream.subarray(start, start + torrent.pieceMap.pieceSize(piece)),
      );
    }
    await store.close();
    await assertSameContent(fixture, `${dir}/out`);
    const check = new FileStore(torrent, `${dir}/out`, { mode: "read" });
    assertEquals((await checkPieces(torrent, check)).count, torrent.pieceCount);
    await check.close();
  }));

Deno.test("storage: padding files are never created and read as zeros; x files are executable", () =>
  withTempDir(async (dir) => {
    const data = new Uint8Array(3 * 16384).fill(1);
    data.fill(0, 10, 16384);
    const pieces = new Uint8Array(60);
    for (let i = 0; i < 3; i++) pieces.set(sha1(data.subarray(i * 16384, (i + 1) * 16384)), i * 20);
    const torrent = parseTorrent(torrentBytes({
      name: "padded",
      "piece length": 16384,
      pieces,
      files: [
        { length: 10, path: ["a"] },
        { length: 16374, path: [".pad", "16374"], attr: "p" },
        { length: 32768, path: ["b"], attr: "x" },
      ],
    }));
    const store = new FileStore(torrent, dir);
    await store.create();
    for (let i = 0; i < 3; i++) {
      await store.writePiece(i, data.subarray(i * 16384, (i + 1) * 16384));
    }
    await store.close();
    assertEquals((await Deno.readFile(`${dir}/padded/a`)).length, 10);
    assertEquals((await Deno.stat(`${dir}/padded/b`)).mode! & 0o111, 0o111, "BEP 47 x: executable");
    assertEquals((await Deno.stat(`${dir}/padded/a`)).mode! & 0o111, 0);
    await assertRejects(() => Deno.stat(`${dir}/padded/.pad`), Deno.errors.NotFound);
    const check = new FileStore(torrent, dir, { mode: "read" });
    assertEquals((await checkPieces(torrent, check)).count, 3);
    await check.close();
    assert(pieceHash(torrent, 0).length === 20);
  }));

Deno.test("storage: a missing or short file makes its pieces missing, not an error", () =>
  withTempDir(async (dir) => {
    const fixture = await multiFileFixture(dir);
    const torrent = await readTorrentFile(fixture.torrent);
    await Deno.truncate(`${fixture.dataDir}/multi/top.dat`, 1000);
    await Deno.remove(`${fixture.dataDir}/multi/z.bin`);
    const store = new FileStore(torrent, fixture.dataDir, { mode: "read" });
    const good = await checkPieces(torrent, store);
    await store.close();
    const topRange = torrent.pieceMap.pieces(
      torrent.files.findIndex((f) => f.path.at(-1) === "top.dat"),
    )!;
    for (let piece = topRange.first; piece <= topRange.last; piece++) {
      assert(!good.has(piece), `piece ${piece}`);
    }
    assert(good.has(0), "the first piece only holds nested.bin");
  }));

Deno.test("resume: saved atomically, trusted only while files are unchanged, ignored when damaged", () =>
  withTempDir(async (dir) => {
    const fixture = await multiFileFixture(dir);
    const torrent = await readTorrentFile(fixture.torrent);
    const store = new FileStore(torrent, fixture.dataDir);
    const pieces = new Bitfield(torrent.pieceCount);
    pieces.set(1);
    const path = resumePath(defaultStateDir(fixture.dataDir), torrent);
    await saveResume(path, torrent, { pieces, files: await store.states() });
    const loaded = (await loadResume(path, torrent))!;
    assertEquals([...loaded.pieces.indices()], [1]);
    assert(filesUnchanged(loaded, await store.states()));
    await Deno.utime(`${fixture.dataDir}/multi/z.bin`, new Date(), new Date(2001, 1, 1));
    assert(!filesUnchanged(loaded, await store.states()));
    await Deno.writeTextFile(path, "garbage");
    assertEquals(await loadResume(path, torrent), undefined);
    const names = [...Deno.readDirSync(`${fixture.dataDir}/.shoal`)].map((e) => e.name);
    assertEquals(names, [`${torrent.infoHashHex}.resume`], "no temporary files left");
    await store.close();
  }));

Deno.test("storage: a folder that cannot be written gives a DiskError naming the path", () =>
  withTempDir(async (dir) => {
    const fixture = await multiFileFixture(dir);
    const torrent = await readTorrentFile(fixture.torrent);
    await Deno.writeTextFile(`${dir}/blocker`, "a file where a folder should be");
    const store = new FileStore(torrent, `${dir}/blocker`);
    const error = await assertRejects(() => store.create(), DiskError);
    assert(error.message.includes(`${dir}/blocker`), error.message);
    await store.close();
  }));

Deno.test("file watch: a file changed by another program is reported once and refused before a read; our own writes are not changes", () =>
  withTempDir(async (dir) => {
    const fixture = await multiFileFixture(dir);
    const torrent = await readTorrentFile(fixture.torrent);
    const top = torrent.files.findIndex((f) => f.path.at(-1) === "top.dat");
    const changes: FileChange[] = [];
    const hook: { watch?: FileWatch } = {};
    const store = new FileStore(torrent, fixture.dataDir, {
      mode: "read",
      beforeRead: (file) => hook.watch!.beforeRead(file),
    });
    const watch = hook.watch = new FileWatch(
      torrent,
      store,
      await store.states(),
      (c) => changes.push(c),
    );
    const piece = torrent.pieceMap.pieces(top)!.first + 1;
    const data = new Uint8Array(torrent.pieceMap.pieceSize(piece));
    assertEquals(await store.readPiece(piece, data), true);
    await watch.check();
    assertEquals(changes, []);

    // Another program overwrites a byte (same size, new modification time).
    await new Promise((resolve) => setTimeout(resolve, 20));
    const path = `${fixture.dataDir}/multi/top.dat`;
    const file = await Deno.open(path, { write: true });
    await file.write(new Uint8Array([1, 2, 3]));
    file.close();
    await assertRejects(() => store.readPiece(piece, data), FileChangedError, "top.dat changed");
    assertEquals(changes.length, 1);
    assertEquals(changes[0].file, top);
    assertEquals(changes[0].path, path);
    assertEquals(changes[0].after?.size, changes[0].before?.size);
    // Reported once: the new state is the known one from now on.
    assertEquals(await store.readPiece(piece, data), true);
    await watch.check();
    assertEquals(changes.length, 1);

    // Cut short, found by the periodic look at paths.
    await Deno.truncate(path, 1000);
    await watch.check();
    assertEquals(changes.length, 2);
    assertEquals(changes[1].after?.size, 1000);
    // Gone.
    await Deno.remove(path);
    await watch.check([top]);
    assertEquals(changes[2].after, undefined);

    // Our own writes of a piece (the file created again at its size, then written in place): not
    // changes, even for a look that began before the write and ended after it.
    const writeInPlace = async (byte: number) => {
      const handle = await Deno.open(path, { write: true });
      await handle.write(new Uint8Array(100).fill(byte));
      handle.close();
    };
    watch.recreated(top);
    await Deno.writeFile(path, new Uint8Array(torrent.files[top].length));
    await watch.check([top]);
    watch.writing(piece);
    const during = watch.check([top]);
    await writeInPlace(1);
    watch.wrote(piece);
    await during;
    await watch.settled();
    await watch.check([top]);
    assertEquals(changes.length, 3, JSON.stringify(changes.slice(2)));
    // A piece that failed its check wrote nothing: another program's write right after is a change.
    watch.writing(piece);
    watch.wrote(piece, false);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await writeInPlace(2);
    await watch.check([top]);
    assertEquals(changes.length, 4);
    // Nor can a file cut short be ours, whatever we wrote.
    watch.writing(piece);
    await Deno.truncate(path, 10);
    await watch.check([top]);
    watch.wrote(piece);
    assertEquals(changes.length, 5);
    await store.close();
  }));

Deno.test("storage: checking a few pieces again states only their files; recreate brings a deleted file back at its size", () =>
  withTempDir(async (dir) => {
    const fixture = await multiFileFixture(dir);
    const torrent = await readTorrentFile(fixture.torrent);
    const top = torrent.files.findIndex((f) => f.path.at(-1) === "top.dat");
    const range = torrent.pieceMap.pieces(top)!;
    const store = new FileStore(torrent, fixture.dataDir);
    const pieces = [range.first + 1, 0];
    const good = await checkPieces(torrent, store, { pieces });
    assertEquals([...good.indices()], [0, range.first + 1]);
    await Deno.remove(`${fixture.dataDir}/multi`, { recursive: true });
    await store.recreate(top);
    assertEquals(
      (await Deno.stat(`${fixture.dataDir}/multi/top.dat`)).size,
      torrent.files[top].length,
    );
    assertEquals((await checkPieces(torrent, store, { pieces })).count, 0);
    await store.close();
  }));

Deno.test("piece verifier: checks and the piece writer's worker both use the one given (a SHA-256 one here, as v2 will be)", () =>
  withTempDir(async (dir) => {
    const fixture = await multiFileFixture(dir);
    const torrent = await readTorrentFile(fixture.torrent);
    const original = new FileStore(torrent, fixture.dataDir, { mode: "read" });
    const pieces: Uint8Array[] = [];
    for (let piece = 0; piece < torrent.pieceCount; piece++) {
      const data = new Uint8Array(torrent.pieceMap.pieceSize(piece));
      await original.readPiece(piece, data);
      pieces.push(data);
    }
    await original.close();
    const digests = pieces.map((data) => createHash("sha256").update(data).digest());
    const verifier: PieceVerifier = {
      verify: (index, data) => createHash("sha256").update(data).digest().equals(digests[index]),
      expected: (index) => ({ algorithm: "sha256", digest: new Uint8Array(digests[index]) }),
    };
    const store = new FileStore(torrent, `${dir}/copy`);
    await store.create();
    const writer = new PieceWriter(torrent, store, verifier);
    for (const [index, data] of pieces.entries()) {
      assertEquals(
        (await writer.verifyAndWrite(index, data.slice())).valid,
        true,
        `piece ${index}`,
      );
    }
    assertEquals((await writer.verifyAndWrite(0, new Uint8Array(pieces[0].length))).valid, false);
    await writer.close();
    assertEquals((await checkPieces(torrent, store, { verifier })).count, torrent.pieceCount);
    await store.close();
    await assertSameContent(fixture, `${dir}/copy`);
  }));
