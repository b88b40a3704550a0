/**
 * Bencode and metainfo parsing throughput: a generated 10,000-file torrent
 * and a torrent carrying a 120 MB piece-hash blob.
 *
 * @module
 */

import { decode } from "../lib/bencode/decode.ts";
import { encode } from "../lib/bencode/encode.ts";
import { MAX_PIECES } from "../lib/metainfo/limits.ts";
import { parseTorrent } from "../lib/metainfo/torrent.ts";
import { type Figure, measure } from "./measure.ts";

/** A torrent with `count` files in nested folders, each of a few KiB. */
export function manyFilesTorrent(count: number): Uint8Array {
  const files = Array.from({ length: count }, (_, i) => ({
    length: 1000 + (i % 5000),
    path: [`folder-${Math.floor(i / 100)}`, `sub-${i % 7}`, `file-${i}.dat`],
  }));
  const total = files.reduce((sum, f) => sum + f.length, 0);
  const pieceLength = 16384;
  return encode({
    announce: "http://127.0.0.1:6969/announce",
    info: {
      name: "many-files",
      "piece length": pieceLength,
      pieces: new Uint8Array(Math.ceil(total / pieceLength) * 20),
      files,
    },
  });
}

/** A single-file torrent whose `pieces` field is `bytes` long. */
export function bigPiecesTorrent(bytes: number): Uint8Array {
  const pieceLength = 16384;
  const pieces = new Uint8Array(bytes);
  return encode({
    info: { name: "big", "piece length": pieceLength, length: (bytes / 20) * pieceLength, pieces },
  });
}

/** Runs the bencode benchmarks. */
export function benchBencode(): Figure[] {
  const many = manyFilesTorrent(10_000);
  const big = bigPiecesTorrent(120_000_000);
  // The largest torrent parseTorrent accepts: MAX_PIECES (2^22) pieces.
  const largest = bigPiecesTorrent(MAX_PIECES * 20);
  const manyValue = decode(many);
  return [
    measure("bencode decode, 10,000-file torrent", many.length, () => decode(many)),
    measure("bencode encode, 10,000-file torrent", many.length, () => encode(manyValue)),
    measure(
      "parseTorrent, 10,000-file torrent (paths, map, hash)",
      many.length,
      () => parseTorrent(many),
    ),
    measure("bencode decode, 120 MB piece-hash blob", big.length, () => decode(big)),
    measure(
      "parseTorrent, 84 MB piece-hash blob (incl. info hash)",
      largest.length,
      () => parseTorrent(largest),
    ),
  ];
}
