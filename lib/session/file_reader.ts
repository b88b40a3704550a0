/**
 * Reading a torrent's file while it downloads: a stream of its bytes that
 * waits for pieces not yet here instead of failing, and gives the pieces
 * just ahead of the read position deadlines so the picker fetches them
 * first (libtorrent's `set_piece_deadline`, as its streaming users do).
 *
 * @module
 */

import { ShoalError } from "../errors.ts";
import type { Torrent } from "../metainfo/torrent.ts";

/** What a reader needs of a torrent; a `TorrentHandle` is one. */
export interface PieceSource {
  /** Whether piece `index` is verified and stored. */
  hasPiece(index: number): boolean;
  /** The bytes of a verified piece. */
  readPiece(index: number): Promise<Uint8Array>;
  /**
   * Resolves once piece `index` is verified and stored; rejects when the
   * torrent stops first, or when `signal` aborts.
   */
  waitForPiece(index: number, signal?: AbortSignal): Promise<void>;
  /** Piece `index` is needed by `at` (ms since the epoch). */
  setPieceDeadline(index: number, at: number): boolean;
  /** Piece `index` needs no deadline any more. */
  clearPieceDeadline(index: number): void;
}

/** Which bytes of a file to read, and how. */
export interface FileReadOptions {
  /** First byte (of the file). Default 0. */
  start?: number;
  /** One past the last byte. Default: the file's length. */
  end?: number;
  /** Bytes ahead of the read position whose pieces get deadlines. Default 8 MiB. */
  readAhead?: number;
  /** Ms between the deadlines of consecutive pieces ahead. Default 250. */
  deadlineStepMs?: number;
  /** Ends the stream (with an error) when aborted. */
  signal?: AbortSignal;
}

/** Thrown for a read of bytes a file does not have, or of a file that is not downloaded. */
export class FileReadError extends ShoalError {}

/**
 * A stream of bytes `start` to `end` of file `file`, read as its pieces
 * arrive. The pieces from the read position on get deadlines (the next
 * `readAhead` bytes' worth, the nearest soonest); those left when the
 * stream ends or is cancelled lose them.
 *
 * @example Read the first KiB of a torrent's first file once it is there
 * ```ts ignore
 * import { Session } from "./session.ts";
 * import { readTorrentFile } from "../metainfo/mod.ts";
 * import { readFileStream } from "./file_reader.ts";
 *
 * const session = new Session({ port: 0 });
 * const torrent = await readTorrentFile("movie.torrent");
 * const handle = session.add(torrent, { downloadDir: "downloads", sequential: true });
 * const stream = readFileStream(handle, torrent, 0, { end: 1024 });
 * const head = new Uint8Array(await new Response(stream).arrayBuffer());
 * console.log(head.length); // 1024
 * await session.close();
 * ```
 *
 * @param source The torrent's pieces (a `TorrentHandle`).
 * @param torrent Its metadata.
 * @param file The file's index in `torrent.files`.
 * @param options The byte range, read-ahead and signal.
 * @throws {FileReadError} When the file does not exist or the range is outside it.
 */
export function readFileStream(
  source: PieceSource,
  torrent: Pick<Torrent, "files" | "pieceLength" | "pieceCount">,
  file: number,
  options: FileReadOptions = {},
): ReadableStream<Uint8Array> {
  const entry = torrent.files[file];
  if (!entry) {
    throw new FileReadError(`No file ${file + 1}: the torrent has ${torrent.files.length}`);
  }
  const start = options.start ?? 0;
  const end = options.end ?? entry.length;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw new FileReadError(`Bytes ${start} to ${end} are not a range`);
  }
  if (end > entry.length) {
    throw new FileReadError(
      `Bytes ${start} to ${end} run past the end of ${
        entry.path.join("/")
      } (${entry.length} bytes)`,
    );
  }
  const pieceLength = torrent.pieceLength;
  const readAhead = Math.max(1, Math.ceil((options.readAhead ?? 8 * 1024 * 1024) / pieceLength));
  const step = options.deadlineStepMs ?? 250;
  const lastPiece = entry.length === 0
    ? 0
    : Math.floor((entry.offset + entry.length - 1) / pieceLength);
  const signal = options.signal;
  /** Pieces we gave a deadline that are not here yet. */
  const urged = new Set<number>();
  let position = entry.offset + start;
  const stop = entry.offset + end;

  const urge = (from: number) => {
    const now = Date.now();
    const until = Math.min(lastPiece, from + readAhead - 1);
    for (const piece of urged) {
      if (piece < from || source.hasPiece(piece)) {
        urged.delete(piece);
        if (piece < from) source.clearPieceDeadline(piece);
      }
    }
    for (let piece = from; piece <= until; piece++) {
      if (source.hasPiece(piece)) continue;
      if (source.setPieceDeadline(piece, now + (piece - from) * step)) urged.add(piece);
    }
  };
  const release = () => {
    for (const piece of urged) source.clearPieceDeadline(piece);
    urged.clear();
  };

  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        signal?.throwIfAborted();
        if (position >= stop) {
          release();
          controller.close();
          return;
        }
        const piece = Math.floor(position / pieceLength);
        if (!source.hasPiece(piece)) {
          urge(piece);
          await source.waitForPiece(piece, signal);
        }
        const data = await source.readPiece(piece);
        const from = position - piece * pieceLength;
        const to = Math.min(data.length, stop - piece * pieceLength);
        position += to - from;
        controller.enqueue(data.slice(from, to));
        // The next pieces are asked for while this one is read.
        if (position < stop) urge(Math.floor(position / pieceLength));
      } catch (error) {
        release();
        throw error;
      }
    },
    cancel() {
      release();
    },
  }, { highWaterMark: 0 });
}
