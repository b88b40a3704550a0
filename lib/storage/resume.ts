/**
 * Resume data: which pieces were verified, saved in
 * `<download-dir>/.shoal/<info-hash>.resume` together with each file's size
 * and modification time at the moment of saving. At the next start the
 * pieces are trusted only if every file still has that size and time;
 * otherwise the data is checked again. It also keeps the files' priorities
 * (the selection), and the part file's state. The file is replaced atomically
 * (written to a temporary name, then renamed), so a crash leaves either the
 * old or the new version.
 *
 * @module
 */

import { type BencodeValue } from "../bencode/types.ts";
import { decode } from "../bencode/decode.ts";
import { encode } from "../bencode/encode.ts";
import { isBytes, isDict, isInteger, isList } from "../bencode/read.ts";
import { writeAtomically } from "./_atomic_write.ts";
import type { Torrent } from "../metainfo/torrent.ts";
import { Bitfield } from "../util/bitfield.ts";
import { bytesEqual } from "../util/_bytes.ts";
import type { FileState } from "./file_store.ts";
import { FILE_PRIORITIES, type FilePriority } from "../metainfo/file_priority.ts";

/** The folder inside the download directory where shoal keeps its state by default. */
export const STATE_FOLDER = ".shoal";

/** The state directory used when none is named: `<download-dir>/.shoal`. */
export function defaultStateDir(downloadDir: string): string {
  return `${downloadDir}/${STATE_FOLDER}`;
}

/** What a resume file holds. */
export interface ResumeData {
  /** Verified pieces. */
  pieces: Bitfield;
  /** Each file's state when the pieces were saved (`undefined` for files not on disk). */
  files: (FileState | undefined)[];
  /** The part file's state (`undefined` when there is none). */
  partFile?: FileState;
  /** Each file's priority, when they were chosen (default: every file normal). */
  priorities?: readonly FilePriority[];
}

/** The resume file's path for a torrent in a state directory. */
export function resumePath(stateDir: string, torrent: Pick<Torrent, "infoHashHex">): string {
  return `${stateDir}/${torrent.infoHashHex}.resume`;
}

/**
 * Reads a resume file. A missing, unreadable or mismatched file gives
 * `undefined`: the data is then checked instead, so a bad resume file costs
 * time, never correctness.
 */
export async function loadResume(path: string, torrent: Torrent): Promise<ResumeData | undefined> {
  let value: BencodeValue;
  try {
    const bytes = await Deno.readFile(path);
    if (bytes.length > 16 * 1024 * 1024) return undefined;
    value = decode(bytes);
  } catch {
    return undefined;
  }
  if (!isDict(value)) return undefined;
  const infoHash = value.get("info-hash");
  const pieces = value.get("pieces");
  const files = value.get("files");
  if (!isBytes(infoHash) || !bytesEqual(infoHash, torrent.infoHash)) return undefined;
  if (!isBytes(pieces) || pieces.length !== Bitfield.byteLength(torrent.pieceCount)) {
    return undefined;
  }
  if (Bitfield.hasSpareBits(torrent.pieceCount, pieces)) return undefined;
  if (!isList(files) || files.length !== torrent.files.length) return undefined;
  const states: (FileState | undefined)[] = [];
  for (const entry of files) {
    if (isList(entry) && entry.length === 2 && isInteger(entry[0]) && isInteger(entry[1])) {
      states.push({ size: entry[0], mtimeMs: entry[1] / 1000 });
    } else if (isList(entry) && entry.length === 0) {
      states.push(undefined);
    } else {
      return undefined;
    }
  }
  const partFile = value.get("part-file");
  const priorities = value.get("priorities");
  return {
    pieces: new Bitfield(torrent.pieceCount, pieces),
    files: states,
    partFile: isList(partFile) && partFile.length === 2 && isInteger(partFile[0]) &&
        isInteger(partFile[1])
      ? { size: partFile[0], mtimeMs: partFile[1] / 1000 }
      : undefined,
    priorities: isBytes(priorities) && priorities.length === torrent.files.length &&
        priorities.every((level) => level < FILE_PRIORITIES.length)
      ? [...priorities].map((level) => FILE_PRIORITIES[level])
      : undefined,
  };
}

/**
 * Writes a resume file atomically.
 *
 * @throws {DiskError} When it cannot be written.
 */
export async function saveResume(path: string, torrent: Torrent, data: ResumeData): Promise<void> {
  const stateOf = (state: FileState | undefined): BencodeValue =>
    state ? [state.size, Math.round(state.mtimeMs * 1000)] : [];
  const entries: [string, BencodeValue][] = [
    ["files", data.files.map(stateOf)],
    ["info-hash", torrent.infoHash],
  ];
  if (data.partFile) entries.push(["part-file", stateOf(data.partFile)]);
  entries.push(["pieces", data.pieces.bytes]);
  if (data.priorities) {
    const levels = data.priorities.map((priority) => FILE_PRIORITIES.indexOf(priority));
    entries.push(["priorities", Uint8Array.from(levels)]);
  }
  const bytes = encode(new Map<string, BencodeValue>(entries));
  await writeAtomically(path, bytes, "save resume data to");
}

/** Whether the files on disk are exactly as they were when `data` was saved. */
export function filesUnchanged(
  data: ResumeData,
  now: (FileState | undefined)[],
  partFile?: FileState,
): boolean {
  return data.files.length === now.length && data.files.every((saved, i) => same(saved, now[i])) &&
    same(data.partFile, partFile);
}

function same(saved: FileState | undefined, current: FileState | undefined): boolean {
  if (saved === undefined || current === undefined) return saved === current;
  return saved.size === current.size && Math.abs(saved.mtimeMs - current.mtimeMs) < 0.001;
}
