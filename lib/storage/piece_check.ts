/**
 * Checks data already on disk against the torrent's piece hashes, streaming
 * one piece at a time through native SHA-1 (the next piece is read while
 * the current one is hashed).
 *
 * @module
 */

import type { FileSpan } from "../metainfo/piece_map.ts";
import type { Torrent } from "../metainfo/torrent.ts";
import { Bitfield } from "../util/bitfield.ts";
import type { FileState, Storage } from "./storage.ts";
import { type PieceVerifier, v1Verifier } from "../metainfo/piece_verifier.ts";

/** Options of {@linkcode checkPieces}. */
export interface CheckOptions {
  /** Called after each piece with the number checked so far and the total to check. */
  onProgress?: (checked: number, total: number) => void;
  /** Stops the check early; pieces not checked count as missing. */
  signal?: AbortSignal;
  /** Check only these pieces (in this order). Default: every piece. */
  pieces?: readonly number[];
  /** How a piece is checked. Default: the torrent's v1 SHA-1 hashes. */
  verifier?: PieceVerifier;
}

/**
 * Finds which pieces are complete and correct on disk. Pieces with bytes
 * past the end of a file (missing, or cut short) are not read at all.
 *
 * @param torrent The torrent.
 * @param store Its files.
 * @param options Progress and cancellation.
 * @returns The verified pieces.
 * @throws {DiskError} On read errors other than a missing file.
 *
 * @example Finding the damaged piece
 * ```ts
 * import { createTorrent } from "../metainfo/mod.ts";
 * import { checkPieces, FileStore } from "./mod.ts";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.writeFile(`${dir}/data.bin`, new Uint8Array(50_000));
 * const { torrent } = await createTorrent(`${dir}/data.bin`, { pieceLength: 16384 });
 * const file = await Deno.open(`${dir}/data.bin`, { write: true });
 * await file.seek(20_000, Deno.SeekMode.Start);
 * await file.write(new Uint8Array([1])); // a byte of piece 1 changes
 * file.close();
 * const store = new FileStore(torrent, dir, { mode: "read" });
 * const good = await checkPieces(torrent, store, {
 *   onProgress: (checked, total) => console.log(`${checked}/${total}`),
 * });
 * await store.close();
 * console.log(good.has(0), good.has(1), good.count); // true false 3
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function checkPieces(
  torrent: Torrent,
  store: Storage,
  options: CheckOptions = {},
): Promise<Bitfield> {
  const result = new Bitfield(torrent.pieceCount);
  const verifier = options.verifier ?? v1Verifier(torrent);
  const candidates = await piecesWithFiles(torrent, store, options.pieces);
  const total = candidates.length;
  let buffers = [new Uint8Array(torrent.pieceLength), new Uint8Array(torrent.pieceLength)];
  const read = (piece: number, buffer: Uint8Array) => {
    const view = buffer.subarray(0, torrent.pieceMap.pieceSize(piece));
    return store.readPiece(piece, view).then((ok) => ok ? view : undefined);
  };
  let next = total > 0 ? read(candidates[0], buffers[0]) : undefined;
  for (let i = 0; i < total; i++) {
    if (options.signal?.aborted) break;
    const data = await next!;
    buffers = [buffers[1], buffers[0]];
    next = i + 1 < total ? read(candidates[i + 1], buffers[0]) : undefined;
    if (data && verifier.verify(candidates[i], data)) {
      result.set(candidates[i]);
    }
    options.onProgress?.(i + 1, total);
  }
  await next?.catch(() => {});
  return result;
}

/** Pieces (of `only`, or all) whose bytes are all in files on disk. */
async function piecesWithFiles(
  torrent: Torrent,
  store: Storage,
  only?: readonly number[],
): Promise<number[]> {
  let states: (FileState | undefined)[];
  if (only) {
    // A few pieces: state only their files (a torrent may have a million).
    const files = new Set(
      only.flatMap((piece) => torrent.pieceMap.spans(piece).map((s) => s.file)),
    );
    states = [];
    for (const file of files) states[file] = await store.state(file);
  } else {
    states = await store.states();
  }
  // A file cut short still holds the pieces before the cut.
  const holds = (span: FileSpan) =>
    !store.stored(span.file) || (states[span.file]?.size ?? -1) >= span.fileOffset + span.length;
  const pieces: number[] = [];
  const each = only ?? Array.from({ length: torrent.pieceCount }, (_, i) => i);
  for (const piece of each) {
    const spans = torrent.pieceMap.spans(piece);
    if (spans.every((span) => holds(span) || store.heldElsewhere?.(piece, span.file))) {
      pieces.push(piece);
    }
  }
  return pieces;
}
