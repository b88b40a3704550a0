/**
 * The messages between the piece writer and its worker.
 *
 * @module
 */

import type { ExpectedHash } from "../metainfo/piece_verifier.ts";

/** Where one part of a piece goes. */
export interface JobSpan {
  /** The file's path. */
  path: string;
  /** Offset in the file. */
  fileOffset: number;
  /** Offset in the piece. */
  pieceOffset: number;
  /** Bytes. */
  length: number;
}

/** A finished piece to check and write. */
export interface PieceJob {
  /** Matches the outcome to the job. */
  id: number;
  /** The piece's bytes (transferred; `length` of them are the piece). */
  buffer: ArrayBuffer;
  /** The piece's length. */
  length: number;
  /** The hash it must have (algorithm and digest), from the torrent's verifier. */
  hash: ExpectedHash;
  /** Where its bytes go (padding files left out). */
  spans: JobSpan[];
}

/** What became of a piece. */
export interface PieceOutcome {
  /** The job's id. */
  id: number;
  /** Whether the hash matched (the piece is written only then). */
  valid: boolean;
  /** The bytes, handed back. */
  buffer: ArrayBuffer;
  /** Why writing failed, when it did. */
  error?: { name: string; message: string; path: string };
}
