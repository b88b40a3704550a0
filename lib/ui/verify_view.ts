/**
 * The report of `shoal verify`: each file's state and the pieces that are
 * missing or damaged, as text or JSON.
 *
 * @module
 */

import type { Torrent } from "../metainfo/torrent.ts";
import type { FileState } from "../storage/file_store.ts";
import type { Bitfield } from "../util/bitfield.ts";
import { formatBytes, formatCount } from "../util/size.ts";

/** A file's state after a check. */
export type FileVerdict = "complete" | "incomplete" | "missing";

function fileVerdicts(torrent: Torrent, pieces: Bitfield, states: (FileState | undefined)[]) {
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
    const verdict: FileVerdict = file.length > 0 && states[file.index] === undefined
      ? "missing"
      : good === total
      ? "complete"
      : "incomplete";
    return { file, verdict, good, total };
  });
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
): string {
  const lines = [`Verified ${torrent.name} in ${directory} (${seconds.toFixed(1)} s)`];
  for (const { file, verdict, good, total } of fileVerdicts(torrent, pieces, states)) {
    const detail = verdict === "incomplete" ? ` (${good}/${total} pieces good)` : "";
    lines.push(
      `  ${verdict.padEnd(10)} ${file.path.join("/")}  ${formatBytes(file.length)}${detail}`,
    );
  }
  const bad = torrent.pieceCount - pieces.count;
  lines.push(
    bad === 0
      ? `All ${formatCount(torrent.pieceCount)} pieces are good.`
      : `${formatCount(pieces.count)} of ${
        formatCount(torrent.pieceCount)
      } pieces are good; missing or damaged: ${formatPieceRanges(pieces)}`,
  );
  return lines.join("\n");
}

/** The `--json` form. */
export function verifyToJson(
  torrent: Torrent,
  pieces: Bitfield,
  states: (FileState | undefined)[],
): Record<string, unknown> {
  const bad: number[] = [];
  for (let piece = 0; piece < torrent.pieceCount; piece++) if (!pieces.has(piece)) bad.push(piece);
  return {
    name: torrent.name,
    infoHash: torrent.infoHashHex,
    complete: bad.length === 0,
    pieceCount: torrent.pieceCount,
    piecesGood: pieces.count,
    badPieces: bad,
    files: fileVerdicts(torrent, pieces, states).map(({ file, verdict, good, total }) => ({
      path: file.path.join("/"),
      length: file.length,
      state: verdict,
      piecesGood: good,
      pieceCount: total,
    })),
  };
}
