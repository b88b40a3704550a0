/**
 * How a piece is known to be right: the one place that says which hash a
 * piece must have and checks it. BitTorrent v1 pieces are checked with
 * SHA-1 against the torrent's `pieces` (BEP 3); v2 will check SHA-256
 * merkle roots (BEP 52) behind the same interface. The piece writer's
 * worker, which must stay self-contained, hashes with the algorithm and
 * digest this gives it.
 *
 * @module
 */

import { pieceHash, type Torrent } from "./torrent.ts";
import { bytesEqual } from "../util/_bytes.ts";
import { sha1 } from "../util/_sha1.ts";

/** A hash a piece must have: the algorithm (a `node:crypto` name) and the digest. */
export interface ExpectedHash {
  /** `sha1` for v1 pieces. */
  algorithm: "sha1" | "sha256";
  /** The digest the piece's bytes must hash to. */
  digest: Uint8Array;
}

/** Checks pieces against what the torrent says they are. */
export interface PieceVerifier {
  /** Whether `data` is piece `index`. */
  verify(index: number, data: Uint8Array): boolean;
  /** The hash piece `index` must have, for a check elsewhere (the piece writer's worker). */
  expected(index: number): ExpectedHash;
}

/**
 * The verifier of a v1 torrent: SHA-1 of each piece against `pieces`.
 *
 * @example Checking a piece
 * ```ts
 * import { createTorrent, v1Verifier } from "./mod.ts";
 *
 * const dir = await Deno.makeTempDir();
 * const content = new Uint8Array(20_000).fill(1);
 * await Deno.writeFile(`${dir}/data.bin`, content);
 * const { torrent } = await createTorrent(`${dir}/data.bin`, { pieceLength: 16384 });
 * const verifier = v1Verifier(torrent);
 * console.log(verifier.verify(0, content.subarray(0, 16384))); // true
 * console.log(verifier.verify(1, new Uint8Array(3616))); // false
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function v1Verifier(torrent: Torrent): PieceVerifier {
  return {
    verify: (index, data) => bytesEqual(sha1(data), pieceHash(torrent, index)),
    expected: (index) => ({ algorithm: "sha1", digest: pieceHash(torrent, index).slice() }),
  };
}
