import fc from "fast-check";
import { assertEquals, assertThrows } from "../helpers/assert.ts";
import { type FileExtent, type FileSpan, PieceMap } from "../../lib/metainfo/mod.ts";

function extents(lengths: number[]): FileExtent[] {
  let offset = 0;
  return lengths.map((length) => {
    const extent = { offset, length };
    offset += length;
    return extent;
  });
}

/** Byte-by-byte reference: which file holds each byte of the piece. */
function naiveSpans(
  files: FileExtent[],
  pieceLength: number,
  piece: number,
  total: number,
): FileSpan[] {
  const out: FileSpan[] = [];
  const start = piece * pieceLength;
  const end = Math.min(start + pieceLength, total);
  for (let file = 0; file < files.length; file++) {
    const f = files[file];
    const from = Math.max(start, f.offset);
    const to = Math.min(end, f.offset + f.length);
    if (to > from) {
      out.push({ file, fileOffset: from - f.offset, pieceOffset: from - start, length: to - from });
    }
  }
  return out;
}

Deno.test("piece map: spans across files, empty files skipped", () => {
  const map = new PieceMap(extents([10, 0, 5, 17]), 8);
  assertEquals(map.pieceCount, 4);
  assertEquals(map.totalLength, 32);
  assertEquals(map.spans(0), [{ file: 0, fileOffset: 0, pieceOffset: 0, length: 8 }]);
  assertEquals(map.spans(1), [
    { file: 0, fileOffset: 8, pieceOffset: 0, length: 2 },
    { file: 2, fileOffset: 0, pieceOffset: 2, length: 5 },
    { file: 3, fileOffset: 0, pieceOffset: 7, length: 1 },
  ]);
  assertEquals(map.spans(3), [{ file: 3, fileOffset: 9, pieceOffset: 0, length: 8 }]);
  assertEquals(map.pieces(0), { first: 0, last: 1 });
  assertEquals(map.pieces(1), undefined);
  assertEquals(map.pieces(2), { first: 1, last: 1 });
  assertEquals(map.pieces(3), { first: 1, last: 3 });
  assertEquals(map.pieceSize(3), 8);
  assertThrows(() => map.spans(4), RangeError);
  assertThrows(() => map.pieces(9), RangeError);
});

Deno.test("piece map: last piece is short", () => {
  const map = new PieceMap(extents([20]), 16);
  assertEquals(map.pieceSize(1), 4);
  assertEquals(map.spans(1), [{ file: 0, fileOffset: 16, pieceOffset: 0, length: 4 }]);
});

Deno.test("property: piece map agrees with a byte-by-byte reference", () => {
  fc.assert(
    fc.property(
      fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 100 })), {
        minLength: 1,
        maxLength: 12,
      }),
      fc.integer({ min: 1, max: 64 }),
      (lengths, pieceLength) => {
        const files = extents(lengths);
        const total = lengths.reduce((a, b) => a + b, 0);
        if (total === 0) return;
        const map = new PieceMap(files, pieceLength);
        for (let piece = 0; piece < map.pieceCount; piece++) {
          assertEquals(map.spans(piece), naiveSpans(files, pieceLength, piece, total));
        }
        for (let file = 0; file < files.length; file++) {
          const range = map.pieces(file);
          const touching = [...Array(map.pieceCount).keys()].filter((p) =>
            naiveSpans(files, pieceLength, p, total).some((s) => s.file === file)
          );
          assertEquals(
            range,
            touching.length ? { first: touching[0], last: touching.at(-1) } : undefined,
          );
        }
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("piece map: 100,000 pieces and 10,000 files build quickly in linear time", () => {
  const map = new PieceMap(
    extents(Array.from({ length: 10_000 }, (_, i) => 16384 * 10 + i)),
    16384,
  );
  assertEquals(map.pieceCount > 100_000, true);
  let covered = 0;
  for (let piece = 0; piece < map.pieceCount; piece++) {
    for (const span of map.spans(piece)) covered += span.length;
  }
  assertEquals(covered, map.totalLength);
});
