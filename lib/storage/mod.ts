/**
 * A torrent's files on disk: creating them sparse, writing verified pieces
 * and reading them back through the piece ↔ file map, checking existing data
 * against the piece hashes (what `shoal verify` runs), and resume data.
 *
 * @example Checking which pieces of a download are on disk
 * ```ts
 * import { createTorrent } from "../metainfo/mod.ts";
 * import { checkPieces, FileStore } from "./mod.ts";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.writeFile(`${dir}/data.bin`, new Uint8Array(100_000).fill(7));
 * const { torrent } = await createTorrent(`${dir}/data.bin`, { pieceLength: 16384 });
 * const store = new FileStore(torrent, dir, { mode: "read" });
 * const good = await checkPieces(torrent, store);
 * await store.close();
 * console.log(`${good.count} of ${torrent.pieceCount} pieces are good`); // 7 of 7
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @module
 */

export * from "./storage.ts";
export * from "./file_store.ts";
export * from "./memory_store.ts";
export * from "./piece_check.ts";
export * from "./resume.ts";
export * from "./state_lock.ts";
export * from "./piece_writer.ts";
export { Bitfield } from "../util/bitfield.ts";
export * from "./part_file.ts";
