/**
 * The mapping between pieces and files: which byte ranges of which files make
 * up piece N, and which pieces touch file F. Built once in O(files + pieces).
 *
 * @module
 */

/** The part of one file that lies inside one piece. */
export interface FileSpan {
  /** Index of the file in the torrent's file list. */
  file: number;
  /** Offset of the span inside the file. */
  fileOffset: number;
  /** Offset of the span inside the piece. */
  pieceOffset: number;
  /** Length of the span in bytes (never 0). */
  length: number;
}

/** A file's position in the torrent's byte stream. */
export interface FileExtent {
  /** Offset of the file's first byte in the concatenation of all files. */
  offset: number;
  /** Length in bytes. */
  length: number;
}

/** An inclusive range of piece indices. */
export interface PieceRange {
  /** First piece touching the file. */
  first: number;
  /** Last piece touching the file. */
  last: number;
}

/**
 * Answers which file ranges make up a piece and which pieces cover a file.
 *
 * @example Which bytes of which files a piece holds
 * ```ts
 * import { PieceMap } from "./mod.ts";
 *
 * // Two files of 10 and 30 bytes, in pieces of 16 bytes.
 * const map = new PieceMap([{ offset: 0, length: 10 }, { offset: 10, length: 30 }], 16);
 * console.log(map.pieceSize(2)); // 8: the last piece is shorter
 * console.log(map.spans(0)); // file 0 bytes 0–9, then file 1 bytes 0–5
 * console.log(map.pieces(1)); // { first: 0, last: 2 }
 * ```
 */
export class PieceMap {
  /** Bytes per piece (the last piece may be shorter). */
  readonly pieceLength: number;
  /** Total bytes of all files. */
  readonly totalLength: number;
  /** Number of pieces. */
  readonly pieceCount: number;
  readonly #files: readonly FileExtent[];
  /** For each piece, the index of the first non-empty file overlapping it. */
  readonly #firstFile: Uint32Array;

  /**
   * Builds the map in one pass over files and pieces.
   *
   * @param files Every file, in torrent order, with offsets that tile the
   *   byte stream without gaps.
   * @param pieceLength Bytes per piece.
   */
  constructor(files: readonly FileExtent[], pieceLength: number) {
    this.#files = files;
    this.pieceLength = pieceLength;
    const last = files[files.length - 1];
    this.totalLength = last ? last.offset + last.length : 0;
    this.pieceCount = Math.ceil(this.totalLength / pieceLength);
    this.#firstFile = new Uint32Array(this.pieceCount);
    let file = 0;
    for (let piece = 0; piece < this.pieceCount; piece++) {
      const start = piece * pieceLength;
      while (
        file < files.length - 1 &&
        (files[file].offset + files[file].length <= start || files[file].length === 0)
      ) file++;
      this.#firstFile[piece] = file;
    }
  }

  /** Length of piece `piece` in bytes. */
  pieceSize(piece: number): number {
    this.#checkPiece(piece);
    return Math.min(this.pieceLength, this.totalLength - piece * this.pieceLength);
  }

  /**
   * The file ranges that make up a piece, in order.
   *
   * @param piece A piece index.
   * @returns Spans whose lengths add up to the piece's size.
   */
  spans(piece: number): FileSpan[] {
    const size = this.pieceSize(piece);
    const pieceStart = piece * this.pieceLength;
    const out: FileSpan[] = [];
    let covered = 0;
    for (let file = this.#firstFile[piece]; covered < size && file < this.#files.length; file++) {
      const extent = this.#files[file];
      if (extent.length === 0) continue;
      const start = pieceStart + covered;
      const fileOffset = start - extent.offset;
      const length = Math.min(extent.length - fileOffset, size - covered);
      out.push({ file, fileOffset, pieceOffset: covered, length });
      covered += length;
    }
    return out;
  }

  /**
   * The pieces that hold any byte of a file.
   *
   * @param file A file index.
   * @returns The inclusive piece range, or `undefined` for an empty file.
   */
  pieces(file: number): PieceRange | undefined {
    const extent = this.#files[file];
    if (extent === undefined) throw new RangeError(`No file ${file}`);
    if (extent.length === 0) return undefined;
    return {
      first: Math.floor(extent.offset / this.pieceLength),
      last: Math.floor((extent.offset + extent.length - 1) / this.pieceLength),
    };
  }

  #checkPiece(piece: number): void {
    if (!Number.isInteger(piece) || piece < 0 || piece >= this.pieceCount) {
      throw new RangeError(`No piece ${piece}: the torrent has ${this.pieceCount} pieces`);
    }
  }
}
