/** Builds torrent files for tests. */

import { type BencodeInput, encode } from "../../lib/bencode/mod.ts";

/** Fields of an info dictionary; anything may be overridden or removed (undefined). */
export type InfoFields = Record<string, BencodeInput | undefined>;

/** Encodes a torrent with a valid single-file info dictionary, overridden by `info` and `root`. */
export function torrentBytes(
  info: InfoFields = {},
  root: Record<string, BencodeInput | undefined> = {},
): Uint8Array {
  return encode({
    info: {
      name: "file.bin",
      "piece length": 16384,
      length: 20000,
      pieces: new Uint8Array(40),
      ...info,
    },
    ...root,
  });
}
