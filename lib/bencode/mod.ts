/**
 * Bencode, the serialization of torrent files, tracker replies and
 * extension messages (BEP 3).
 *
 * ```ts
 * import { decode, encode } from "./mod.ts";
 * const bytes = encode({ name: "shoal", size: 3 });
 * console.assert((decode(bytes) as Map<string, unknown>).get("size") === 3);
 * ```
 *
 * @module
 */

export * from "./types.ts";
export * from "./errors.ts";
export * from "./decode.ts";
export * from "./encode.ts";
export * from "./read.ts";
