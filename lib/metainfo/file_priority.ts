/**
 * File priorities: which of a torrent's files are downloaded, and which
 * first. A file is `skip` (not downloaded, never created on disk), `low`,
 * `normal` or `high` (Transmission's and qBittorrent's levels). A piece
 * takes the highest priority of the files it holds bytes of, so a piece
 * shared by a wanted file and a skipped one is downloaded whole.
 *
 * @module
 */

import { UsageError } from "../errors.ts";
import type { IndexRange } from "./magnet.ts";
import type { Torrent } from "./torrent.ts";

/** How much a file is wanted. */
export type FilePriority = "skip" | "low" | "normal" | "high";

/** The priorities, lowest first. */
export const FILE_PRIORITIES: readonly FilePriority[] = ["skip", "low", "normal", "high"];

/** A piece priority as the picker takes it: 0 (not wanted) to 3 (high). */
export function priorityLevel(priority: FilePriority): number {
  return FILE_PRIORITIES.indexOf(priority);
}

/** The file priority of a level given by {@linkcode priorityLevel}. */
export function priorityOfLevel(level: number): FilePriority {
  return FILE_PRIORITIES[level] ?? "normal";
}

/**
 * Each piece's priority level: the highest of the files it holds bytes of
 * (padding files do not count).
 *
 * @example A piece shared by a wanted and a skipped file
 * ```ts
 * import { createTorrent, piecePriorities } from "./mod.ts";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/set`);
 * await Deno.writeFile(`${dir}/set/a.bin`, new Uint8Array(20_000));
 * await Deno.writeFile(`${dir}/set/b.bin`, new Uint8Array(20_000));
 * const { torrent } = await createTorrent(`${dir}/set`, { pieceLength: 16384 });
 * console.log(piecePriorities(torrent, ["high", "skip"])); // Uint8Array [3, 3, 0]
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function piecePriorities(
  torrent: Pick<Torrent, "files" | "pieceMap" | "pieceCount">,
  priorities: readonly FilePriority[],
): Uint8Array {
  const levels = new Uint8Array(torrent.pieceCount);
  for (const file of torrent.files) {
    if (file.padding) continue;
    const level = priorityLevel(priorities[file.index] ?? "normal");
    const range = torrent.pieceMap.pieces(file.index);
    if (!range || level === 0) continue;
    for (let piece = range.first; piece <= range.last; piece++) {
      if (levels[piece] < level) levels[piece] = level;
    }
  }
  return levels;
}

/**
 * The first and last piece of each selected file, in file order: what a
 * sequential download fetches first (players read a file's header, and
 * often its end, before playing).
 */
export function filePieceEnds(
  torrent: Pick<Torrent, "files" | "pieceMap">,
  priorities: readonly FilePriority[],
): number[] {
  const ends: number[] = [];
  for (const file of torrent.files) {
    if (file.padding || (priorities[file.index] ?? "normal") === "skip") continue;
    const range = torrent.pieceMap.pieces(file.index);
    if (!range) continue;
    ends.push(range.first);
    if (range.last !== range.first) ends.push(range.last);
  }
  return ends;
}

/**
 * Priorities from a magnet link's `so` (BEP 53, 0-based file indices):
 * the files named are `normal`, the others `skip`. Indices past the last
 * file are ignored.
 */
export function prioritiesFromSelectOnly(
  fileCount: number,
  ranges: readonly IndexRange[],
): FilePriority[] {
  const priorities = new Array<FilePriority>(fileCount).fill("skip");
  for (const { start, end } of ranges) {
    for (let index = start; index <= Math.min(end, fileCount - 1); index++) {
      priorities[index] = "normal";
    }
  }
  return priorities;
}

/** A list of file numbers that names no file of the torrent, or is not a list. Exit code 2. */
export class FileSelectionError extends UsageError {}

/**
 * Reads a list of 1-based file numbers as `shoal info` shows them (`1,3-5`)
 * into 0-based file indices.
 *
 * @param text The list: numbers and inclusive ranges, separated by commas.
 * @param fileCount How many files the torrent has.
 * @throws {FileSelectionError} When an entry is not a number or range, or names no file.
 */
export function parseFileNumbers(text: string, fileCount: number): number[] {
  const indices = new Set<number>();
  for (const part of text.split(",")) {
    const match = /^\s*(\d{1,9})\s*(?:-\s*(\d{1,9})\s*)?$/.exec(part);
    if (!match) {
      throw new FileSelectionError(
        `"${part}" is not a file number or range such as 3 or 4-6 (shoal info numbers the files)`,
      );
    }
    const first = Number(match[1]);
    const last = match[2] === undefined ? first : Number(match[2]);
    if (last < first) throw new FileSelectionError(`The range "${part.trim()}" runs backwards`);
    if (first < 1 || last > fileCount) {
      throw new FileSelectionError(
        `There is no file ${
          first < 1 ? first : last
        }: the torrent has files 1 to ${fileCount} (shoal info numbers them)`,
      );
    }
    for (let number = first; number <= last; number++) indices.add(number - 1);
  }
  return [...indices].sort((a, b) => a - b);
}
