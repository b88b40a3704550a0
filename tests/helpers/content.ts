/**
 * Content for download tests: a single odd-sized file with 16 KiB pieces and
 * a folder with nested folders, an empty file and odd sizes with 1 MiB
 * pieces; torrents made for both; and a byte-for-byte comparison of a
 * download with the original.
 *
 * @module
 */

import { createTorrent } from "../../lib/metainfo/create.ts";
import { readTorrentFile, type Torrent } from "../../lib/metainfo/torrent.ts";
import { type FakePeer, type FakePeerBehaviour, startFakePeer } from "./fake_peer.ts";
import { assert, assertEquals } from "./assert.ts";
import { writeRandomFile } from "./tools.ts";

/** A torrent and the folder that holds its content (as a download folder). */
export interface Fixture {
  /** Path of the .torrent file. */
  torrent: string;
  /** Folder holding the content, as a seeder's download folder. */
  dataDir: string;
  /** Paths of the content's files relative to `dataDir`, with their lengths. */
  files: { path: string; length: number }[];
}

/**
 * Makes a single-file torrent (16 KiB pieces unless told, size not a
 * multiple of the piece size) in `dir`.
 */
export async function singleFileFixture(
  dir: string,
  length = 1_000_003,
  trackers: string[][] = [],
  pieceLength = 16 * 1024,
): Promise<Fixture> {
  const dataDir = `${dir}/single-data`;
  await Deno.mkdir(dataDir, { recursive: true });
  await writeRandomFile(`${dataDir}/single.bin`, length, 11);
  const { bytes } = await createTorrent(`${dataDir}/single.bin`, {
    pieceLength,
    trackers,
  });
  await Deno.writeFile(`${dir}/single.torrent`, bytes);
  return { torrent: `${dir}/single.torrent`, dataDir, files: [{ path: "single.bin", length }] };
}

/** Makes a multi-file torrent (1 MiB pieces; nested folders, an empty file, odd sizes) in `dir`. */
export async function multiFileFixture(dir: string, trackers: string[][] = []): Promise<Fixture> {
  const dataDir = `${dir}/multi-data`;
  const root = `${dataDir}/multi`;
  await Deno.mkdir(`${root}/a/b`, { recursive: true });
  await Deno.mkdir(`${root}/c/d/e`, { recursive: true });
  const files = [
    { path: "multi/a/b/nested.bin", length: 1_300_001 },
    { path: "multi/c/d/e/deep.txt", length: 1_234 },
    { path: "multi/empty.txt", length: 0 },
    { path: "multi/top.dat", length: 2 * 1024 * 1024 + 7 },
    { path: "multi/z.bin", length: 65_537 },
  ];
  for (const [i, file] of files.entries()) {
    await writeRandomFile(`${dataDir}/${file.path}`, file.length, 100 + i);
  }
  const { bytes } = await createTorrent(root, { pieceLength: 1024 * 1024, trackers });
  await Deno.writeFile(`${dir}/multi.torrent`, bytes);
  return { torrent: `${dir}/multi.torrent`, dataDir, files };
}

/** Copies a fixture's content into a fresh folder (each seeder gets its own). */
export async function copyContent(fixture: Fixture, to: string): Promise<string> {
  for (const file of fixture.files) {
    const target = `${to}/${file.path}`;
    await Deno.mkdir(target.slice(0, target.lastIndexOf("/")), { recursive: true });
    await Deno.copyFile(`${fixture.dataDir}/${file.path}`, target);
  }
  return to;
}

/** Asserts that `downloadDir` holds exactly the fixture's bytes. */
export async function assertSameContent(fixture: Fixture, downloadDir: string): Promise<void> {
  for (const file of fixture.files) {
    const expected = await Deno.readFile(`${fixture.dataDir}/${file.path}`);
    let actual: Uint8Array;
    try {
      actual = await Deno.readFile(`${downloadDir}/${file.path}`);
    } catch (error) {
      throw new Error(`${file.path} was not downloaded: ${(error as Error).message}`);
    }
    assertEquals(actual.length, expected.length, `${file.path}: size`);
    let same = true;
    for (let i = 0; i < expected.length; i++) {
      if (actual[i] !== expected[i]) {
        same = false;
        break;
      }
    }
    assert(same, `${file.path}: bytes differ`);
  }
}

/** A single-file fixture and a fake peer (in this process) that seeds it. */
export interface SeededFixture {
  fixture: Fixture;
  torrent: Torrent;
  peer: FakePeer;
}

/**
 * Makes a single-file fixture of `length` bytes (with `trackers`) and starts
 * a fake peer that seeds it, behaving as told.
 */
export async function seededFixture(
  dir: string,
  length: number,
  behaviour: FakePeerBehaviour = {},
  trackers: string[][] = [],
): Promise<SeededFixture> {
  const fixture = await singleFileFixture(dir, length, trackers);
  const torrent = await readTorrentFile(fixture.torrent);
  const peer = startFakePeer(
    torrent,
    await Deno.readFile(`${fixture.dataDir}/single.bin`),
    behaviour,
  );
  return { fixture, torrent, peer };
}
