/** File selection in storage: skipped files are not created, shared bytes go to the part file. */
import { readTorrentFile } from "../../lib/metainfo/mod.ts";
import { piecePriorities } from "../../lib/metainfo/file_priority.ts";
import type { Torrent } from "../../lib/metainfo/torrent.ts";
import { FileStore } from "../../lib/storage/file_store.ts";
import { PartFile } from "../../lib/storage/part_file.ts";
import { PieceWriter } from "../../lib/storage/piece_writer.ts";
import { checkPieces } from "../../lib/storage/piece_check.ts";
import { loadResume, saveResume } from "../../lib/storage/resume.ts";
import { Bitfield } from "../../lib/util/bitfield.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import { multiFileFixture } from "../helpers/content.ts";
import { withTempDir } from "../helpers/tools.ts";

async function byteStream(torrent: Torrent, dataDir: string): Promise<Uint8Array> {
  const stream = new Uint8Array(torrent.totalLength);
  for (const file of torrent.files) {
    stream.set(await Deno.readFile(`${dataDir}/${file.path.join("/")}`), file.offset);
  }
  return stream;
}

function piece(torrent: Torrent, stream: Uint8Array, index: number): Uint8Array {
  const start = index * torrent.pieceLength;
  return stream.slice(start, start + torrent.pieceMap.pieceSize(index));
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

Deno.test("file selection: a piece shared with skipped files is kept whole; selecting them later completes them from the part file", () =>
  withTempDir(async (dir) => {
    const fixture = await multiFileFixture(dir);
    const torrent = await readTorrentFile(fixture.torrent);
    const stream = await byteStream(torrent, fixture.dataDir);
    const names = torrent.files.map((file) => file.path.join("/"));
    assertEquals(names[1], "multi/c/d/e/deep.txt");
    // deep.txt alone: its 1,234 bytes lie in piece 1, with the end of nested.bin and the start of top.dat.
    const selected = torrent.files.map((file) => file.index === 1);
    assertEquals([...piecePriorities(torrent, selected.map((on) => on ? "normal" : "skip"))], [
      0,
      2,
      0,
      0,
    ]);
    const out = `${dir}/out`;
    const partPath = `${dir}/state/x.parts`;
    await Deno.mkdir(`${dir}/state`);
    const store = new FileStore(torrent, out, { partFile: partPath, selected });
    await store.create();
    const writer = new PieceWriter(torrent, store);
    assert((await writer.verifyAndWrite(1, piece(torrent, stream, 1))).valid);
    await writer.close();
    for (const [i, name] of names.entries()) {
      assertEquals(await exists(`${out}/${name}`), i === 1, `${name} on disk`);
    }
    assertEquals(await Deno.readFile(`${out}/${names[1]}`), stream.slice(1_300_001, 1_301_235));
    assertEquals(store.partFile!.pieces, 1);
    // The piece reads back whole (for checks and uploads), through the part file.
    const back = new Uint8Array(torrent.pieceMap.pieceSize(1));
    assert(await store.readPiece(1, back));
    assertEquals(back, piece(torrent, stream, 1));
    assert(!(await store.readPiece(0, new Uint8Array(torrent.pieceLength))), "never downloaded");
    const have = await checkPieces(torrent, store);
    assertEquals([...have.indices()], [1]);
    // nested.bin selected now: its tail comes out of the part file; top.dat still needs the slot.
    await store.select(torrent.files.map((file) => file.index <= 1));
    const nested = await Deno.readFile(`${out}/${names[0]}`);
    assertEquals(nested.length, 1_300_001);
    assertEquals(nested.slice(1024 * 1024), stream.slice(1024 * 1024, 1_300_001));
    assertEquals(store.partFile!.pieces, 1);
    // Everything selected: the slot is freed; the empty file is created.
    await store.select(torrent.files.map(() => true));
    assertEquals(store.partFile!.pieces, 0);
    assert(await exists(`${out}/multi/empty.txt`));
    const top = await Deno.readFile(`${out}/${names[3]}`);
    assertEquals(
      top.slice(0, 2 * 1024 * 1024 - 1_301_235),
      stream.slice(1_301_235, 2 * 1024 * 1024),
    );
    assert(await store.readPiece(1, back));
    assertEquals(back, piece(torrent, stream, 1));
    await store.close();
  }));

Deno.test("file selection: deselecting keeps what is on disk; the part file is read back after a restart and saved with the resume data", () =>
  withTempDir(async (dir) => {
    const fixture = await multiFileFixture(dir);
    const torrent = await readTorrentFile(fixture.torrent);
    const stream = await byteStream(torrent, fixture.dataDir);
    const out = `${dir}/out`;
    const partPath = `${dir}/x.parts`;
    const onlyTop = torrent.files.map((file) => file.index === 3);
    const store = new FileStore(torrent, out, { partFile: partPath, selected: onlyTop });
    await store.create();
    for (const index of [1, 2, 3]) await store.writePiece(index, piece(torrent, stream, index));
    // Pieces 3 and 2 are top.dat's and z.bin's; piece 1 is shared with three skipped files.
    assertEquals(store.partFile!.pieces, 2);
    const states = await store.states();
    await store.close();
    await saveResume(`${dir}/x.resume`, torrent, {
      pieces: new Bitfield(torrent.pieceCount),
      files: states,
      partFile: store.partFile!.state(),
      priorities: torrent.files.map((file) => file.index === 3 ? "high" : "skip"),
    });
    const resume = await loadResume(`${dir}/x.resume`, torrent);
    assertEquals(resume?.priorities, ["skip", "skip", "skip", "high", "skip"]);
    assert(resume?.partFile !== undefined);
    // A new store (a restart) deselects top.dat: its bytes stay in its file, the others' in the part file.
    const again = new FileStore(torrent, out, {
      partFile: partPath,
      selected: torrent.files.map(() => false),
    });
    await again.states();
    await again.create();
    assert(again.inFile(3) && !again.inFile(0));
    assertEquals([...(await checkPieces(torrent, again)).indices()], [1, 2, 3]);
    await again.delete();
    assert(!(await exists(partPath)), "the part file is deleted with the data");
    await again.close();
  }));

Deno.test("part file: one that does not match the torrent, or whose table is damaged, counts as empty", () =>
  withTempDir(async (dir) => {
    const path = `${dir}/x.parts`;
    const part = new PartFile(path, 16384, 10, "write");
    part.writeBytes(4, 0, new Uint8Array(100).fill(7));
    part.writeBytes(7, 16000, new Uint8Array(384).fill(8));
    part.close();
    const reread = new PartFile(path, 16384, 10, "read");
    const into = new Uint8Array(100);
    assert(reread.read(4, 0, into) && into.every((byte) => byte === 7));
    assert(reread.has(7) && !reread.has(5));
    assert(!new PartFile(path, 32768, 10, "read").has(4), "another piece length");
    assert(!new PartFile(path, 16384, 11, "read").has(4), "another piece count");
    const bytes = await Deno.readFile(path);
    new DataView(bytes.buffer).setUint32(20 + 7 * 4, 1, true); // piece 7 given piece 4's slot
    await Deno.writeFile(path, bytes);
    const damaged = new PartFile(path, 16384, 10, "read");
    assert(!damaged.has(4) && !damaged.has(7));
    assert(!new PartFile(`${dir}/none.parts`, 16384, 10, "read").has(0));
  }));
