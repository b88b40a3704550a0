/**
 * The report of `shoal verify`: each file's state and the pieces that are
 * missing or damaged, as text or JSON.
 *
 * @module
 */

import type { Torrent } from "../metainfo/torrent.ts";
import type { FileState } from "../storage/file_store.ts";
import { Bitfield } from "../util/bitfield.ts";
import { piecePriorities } from "../metainfo/file_priority.ts";
import { formatBytes, formatCount } from "../util/size.ts";

/** A file's state after a check. */
export type FileVerdict = "complete" | "incomplete" | "missing" | "skipped";

/**
 * Which files a download chose (from its resume data): per file, whether it
 * is skipped. Without one, every file is wanted.
 */
export type Skipped = readonly boolean[] | undefined;

/** The pieces that must be good: those of files not skipped. */
export function wantedPieces(torrent: Torrent, skipped: Skipped): Bitfield {
  const wanted = new Bitfield(torrent.pieceCount);
  const priorities = torrent.files.map((file) => skipped?.[file.index] ? "skip" : "normal");
  piecePriorities(torrent, priorities).forEach((level, piece) => level > 0 && wanted.set(piece));
  return wanted;
}

/** Wanted pieces that are missing or damaged. */
function badPieces(torrent: Torrent, pieces: Bitfield, skipped: Skipped): Bitfield {
  const bad = wantedPieces(torrent, skipped);
  for (const piece of pieces.indices()) bad.clear(piece);
  return bad;
}

function fileVerdicts(
  torrent: Torrent,
  pieces: Bitfield,
  states: (FileState | undefined)[],
  skipped: Skipped,
) {
  return torrent.files.filter((file) => !file.padding).map((file) => {
    const range = torrent.pieceMap.pieces(file.index);
    let good = 0;
    let total = 0;
    if (range) {
      for (let piece = range.first; piece <= range.last; piece++) {
        total++;
        if (pieces.has(piece)) good++;
      }
    }
    const absent = file.length > 0 && states[file.index] === undefined;
    const verdict: FileVerdict = skipped?.[file.index] && (good < total || absent)
      ? "skipped"
      : absent
      ? "missing"
      : good === total
      ? "complete"
      : "incomplete";
    return { file, verdict, good, total };
  });
}

function invert(bits: Bitfield): Bitfield {
  const out = new Bitfield(bits.size);
  out.setAll();
  for (const piece of bits.indices()) out.clear(piece);
  return out;
}

/** Missing piece indices as ranges: `3, 7-9, 12`. At most `limit` ranges, then `…`. */
export function formatPieceRanges(pieces: Bitfield, limit = 20): string {
  const ranges: string[] = [];
  let start = -1;
  for (let piece = 0; piece <= pieces.size; piece++) {
    const missing = piece < pieces.size && !pieces.has(piece);
    if (missing && start < 0) start = piece;
    if (!missing && start >= 0) {
      if (ranges.length === limit) {
        ranges.push("…");
        break;
      }
      ranges.push(piece - 1 === start ? `${start}` : `${start}-${piece - 1}`);
      start = -1;
    }
  }
  return ranges.join(", ");
}

/** The human-readable report. */
export function formatVerifyReport(
  torrent: Torrent,
  pieces: Bitfield,
  states: (FileState | undefined)[],
  directory: string,
  seconds: number,
  skipped?: Skipped,
): string {
  const lines = [`Verified ${torrent.name} in ${directory} (${seconds.toFixed(1)} s)`];
  for (const { file, verdict, good, total } of fileVerdicts(torrent, pieces, states, skipped)) {
    const detail = verdict === "incomplete" ? ` (${good}/${total} pieces good)` : "";
    lines.push(
      `  ${verdict.padEnd(10)} ${file.path.join("/")}  ${formatBytes(file.length)}${detail}`,
    );
  }
  const bad = badPieces(torrent, pieces, skipped);
  const wanted = wantedPieces(torrent, skipped).count;
  const of = wanted === torrent.pieceCount ? "" : " of the selected files";
  lines.push(
    bad.count === 0
      ? `All ${formatCount(wanted)} pieces${of} are good.`
      : `${formatCount(wanted - bad.count)} of ${
        formatCount(wanted)
      } pieces${of} are good; missing or damaged: ${formatPieceRanges(invert(bad))}`,
  );
  return lines.join("\n");
}

/** The `--json` form. */
export function verifyToJson(
  torrent: Torrent,
  pieces: Bitfield,
  states: (FileState | undefined)[],
  skipped?: Skipped,
): Record<string, unknown> {
  const bad = [...badPieces(torrent, pieces, skipped).indices()];
  return {
    name: torrent.name,
    infoHash: torrent.infoHashHex,
    complete: bad.length === 0,
    pieceCount: torrent.pieceCount,
    piecesGood: pieces.count,
    badPieces: bad,
    files: fileVerdicts(torrent, pieces, states, skipped).map(({ file, verdict, good, total }) => ({
      path: file.path.join("/"),
      length: file.length,
      state: verdict,
      piecesGood: good,
      pieceCount: total,
    })),
  };
}
