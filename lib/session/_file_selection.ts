/**
 * A torrent's file priorities and what they mean for its progress: the
 * pieces' priorities for the picker, which files the storage keeps, and
 * the bytes of each file in verified pieces (progress, ETA and `left`
 * count the selected files only).
 *
 * @module
 */

import {
  type FilePriority,
  piecePriorities,
  prioritiesFromSelectOnly,
} from "../metainfo/file_priority.ts";
import type { IndexRange } from "../metainfo/magnet.ts";
import type { Torrent } from "../metainfo/torrent.ts";
import type { Bitfield } from "../util/bitfield.ts";

/** One file's progress. */
export interface FileProgress {
  /** Index in the torrent's file list (`shoal info` shows it + 1). */
  index: number;
  /** Path under the download directory, with `/` between the parts. */
  path: string;
  /** Size in bytes. */
  length: number;
  /** Its priority. */
  priority: FilePriority;
  /** Its bytes in verified pieces. */
  bytesDone: number;
  /** A BEP 47 padding file (never shown or stored). */
  padding: boolean;
}

/** Whether two priority lists are the same (an absent one never is). */
export function samePriorities(
  a: readonly FilePriority[] | undefined,
  b: readonly FilePriority[],
): boolean {
  return a?.length === b.length && a.every((priority, i) => priority === b[i]);
}

/**
 * The priorities a torrent starts with: those given, else those saved
 * with its resume data, else a magnet link's `so` (BEP 53), else every
 * file normal. A list of another length than the torrent's files is not used.
 */
export function startingPriorities(
  torrent: Torrent,
  given?: readonly FilePriority[],
  saved?: readonly FilePriority[],
  selectOnly?: readonly IndexRange[],
): FilePriority[] {
  const count = torrent.files.length;
  if (given?.length === count) return [...given];
  if (saved?.length === count) return [...saved];
  if (selectOnly) return prioritiesFromSelectOnly(count, selectOnly);
  return new Array<FilePriority>(count).fill("normal");
}

/** File priorities, and the bytes of each file in verified pieces. */
export class FileSelection {
  readonly #torrent: Torrent;
  #priorities: FilePriority[];
  readonly #done: Float64Array;

  /**
   * @param torrent The torrent.
   * @param priorities One per file.
   * @param have The verified pieces now.
   */
  constructor(torrent: Torrent, priorities: readonly FilePriority[], have: Bitfield) {
    this.#torrent = torrent;
    this.#priorities = [...priorities];
    this.#done = new Float64Array(torrent.files.length);
    for (const piece of have.indices()) this.piece(piece, 1);
  }

  /** The priorities, one per file. */
  get priorities(): readonly FilePriority[] {
    return this.#priorities;
  }

  /** Sets new priorities (one per file). */
  set(priorities: readonly FilePriority[]): void {
    this.#priorities = [...priorities];
  }

  /** Whether any file is skipped. */
  get partial(): boolean {
    return this.#priorities.some((priority, i) =>
      priority === "skip" && !this.#torrent.files[i].padding
    );
  }

  /** Each piece's priority level (0, not wanted, to 3) for the picker. */
  levels(): Uint8Array {
    return piecePriorities(this.#torrent, this.#priorities);
  }

  /** Per file: whether it is selected (the storage creates only those). */
  selected(): boolean[] {
    return this.#priorities.map((priority) => priority !== "skip");
  }

  /** A piece was verified (`+1`) or lost (`-1`): its files' counts follow. */
  piece(index: number, sign: 1 | -1): void {
    for (const span of this.#torrent.pieceMap.spans(index)) {
      this.#done[span.file] += sign * span.length;
    }
  }

  /** Bytes of the selected files, and of those in verified pieces. */
  wanted(): { bytes: number; done: number } {
    let bytes = 0;
    let done = 0;
    for (const file of this.#torrent.files) {
      if (file.padding || this.#priorities[file.index] === "skip") continue;
      bytes += file.length;
      done += this.#done[file.index];
    }
    return { bytes, done };
  }

  /** Every file's progress. */
  files(): FileProgress[] {
    return this.#torrent.files.map((file) => ({
      index: file.index,
      path: file.path.join("/"),
      length: file.length,
      priority: this.#priorities[file.index],
      bytesDone: this.#done[file.index],
      padding: file.padding,
    }));
  }
}
