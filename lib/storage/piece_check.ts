/**
 * Checks data already on disk against the torrent's piece hashes, streaming
 * one piece at a time through native SHA-1 (the next piece is read while
 * the current one is hashed).
 *
 * @module
 */

import { pieceHash, type Torrent } from "../metainfo/torrent.ts";
import { Bitfield } from "../util/bitfield.ts";
import { bytesEqual } from "../util/_bytes.ts";
import { sha1 } from "../util/_sha1.ts";
import type { FileState, FileStore } from "./file_store.ts";

/** Options of {@linkcode checkPieces}. */
export interface CheckOptions {
  /** Called after each piece with the number checked so far and the total to check. */
  onProgress?: (checked: number, total: number) => void;
  /** Stops the check early; pieces not checked count as missing. */
  signal?: AbortSignal;
}

/**
 * Finds which pieces are complete and correct on disk. Pieces touching a
 * file that is missing or has the wrong size are not read at all.
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
  store: FileStore,
  options: CheckOptions = {},
): Promise<Bitfield> {
  const result = new Bitfield(torrent.pieceCount);
  const states = await store.states();
  const candidates = piecesWithFiles(torrent, store, states);
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
    if (data && bytesEqual(sha1(data), pieceHash(torrent, candidates[i]))) {
      result.set(candidates[i]);
    }
    options.onProgress?.(i + 1, total);
  }
  await next?.catch(() => {});
  return result;
}

/** Pieces all of whose stored files exist at their full size. */
function piecesWithFiles(
  torrent: Torrent,
  store: FileStore,
  states: (FileState | undefined)[],
): number[] {
  const usable = torrent.files.map((file, i) =>
    !store.stored(i) || (states[i] !== undefined && states[i]!.size >= file.length)
  );
  const pieces: number[] = [];
  for (let piece = 0; piece < torrent.pieceCount; piece++) {
    if (torrent.pieceMap.spans(piece).every((span) => usable[span.file])) pieces.push(piece);
  }
  return pieces;
}
