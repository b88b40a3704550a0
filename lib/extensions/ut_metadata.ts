/**
 * ut_metadata (BEP 9): the info dictionary passed between peers in pieces
 * of 16 KiB, so that a magnet link needs nothing but the info hash. Each
 * message is a bencoded dictionary (`msg_type` 0 request, 1 data, 2
 * reject; `piece`; `total_size` in data), and a data message carries the
 * piece's bytes after the dictionary.
 *
 * @module
 */

import { decodeWithDetails } from "../bencode/decode.ts";
import { encode } from "../bencode/encode.ts";
import { isDict, isInteger } from "../bencode/read.ts";
import type { BencodeValue } from "../bencode/types.ts";
import { concatBytes } from "../util/_bytes.ts";
import { PeerError } from "../wire/errors.ts";
import type { PeerExtension } from "../wire/extension_registry.ts";

/** The extension's name in the BEP 10 handshake. */
export const UT_METADATA = "ut_metadata";
/** Bytes per metadata piece (BEP 9); the last piece may be shorter. */
export const METADATA_PIECE_SIZE = 16 * 1024;
/** Longest bencoded header of a ut_metadata message accepted. */
const MAX_HEADER_BYTES = 512;

/** One ut_metadata message. */
export type MetadataMessage =
  | { type: "request"; piece: number }
  | { type: "data"; piece: number; totalSize: number; data: Uint8Array }
  | { type: "reject"; piece: number };

const TYPES = ["request", "data", "reject"] as const;

/** The number of pieces of an info dictionary of `size` bytes. */
export function metadataPieceCount(size: number): number {
  return Math.ceil(size / METADATA_PIECE_SIZE);
}

/** The length of piece `piece` of an info dictionary of `size` bytes. */
export function metadataPieceLength(size: number, piece: number): number {
  return Math.min(METADATA_PIECE_SIZE, size - piece * METADATA_PIECE_SIZE);
}

/** The payload of a ut_metadata message (after the extended message id). */
export function encodeMetadataMessage(message: MetadataMessage): Uint8Array {
  const header = new Map<string, BencodeValue>([
    ["msg_type", TYPES.indexOf(message.type)],
    ["piece", message.piece],
  ]);
  if (message.type !== "data") return encode(header);
  header.set("total_size", message.totalSize);
  return concatBytes([encode(header), message.data]);
}

function malformed(what: string): PeerError {
  return new PeerError("protocol", `The peer sent a malformed ut_metadata message: ${what}`);
}

/**
 * Decodes a ut_metadata payload. The data of a `data` message is a view
 * into `payload`, valid as long as it is.
 *
 * @returns The message, or `undefined` for an unknown `msg_type` (BEP 9: ignored).
 * @throws {PeerError} When the header is not a dictionary with integer `msg_type` and `piece`, or data is longer than a piece.
 */
export function decodeMetadataMessage(payload: Uint8Array): MetadataMessage | undefined {
  let value: BencodeValue;
  let end: number;
  try {
    ({ value, end } = decodeWithDetails(payload.subarray(0, MAX_HEADER_BYTES), {
      mode: "lenient",
      allowTrailing: true,
      maxDepth: 4,
    }));
  } catch (error) {
    throw malformed((error as Error).message);
  }
  if (!isDict(value)) throw malformed("the header is not a dictionary");
  const type = value.get("msg_type");
  const piece = value.get("piece");
  if (!isInteger(type) || !isInteger(piece) || piece < 0 || piece > 0xffff_ffff) {
    throw malformed("msg_type and piece must be integers");
  }
  switch (type) {
    case 0:
      return { type: "request", piece };
    case 2:
      return { type: "reject", piece };
    case 1: {
      const totalSize = value.get("total_size");
      if (!isInteger(totalSize) || totalSize < 0) {
        throw malformed("a data message without total_size");
      }
      const data = payload.subarray(end);
      if (data.length > METADATA_PIECE_SIZE) {
        throw malformed(`a piece of ${data.length} bytes (at most ${METADATA_PIECE_SIZE})`);
      }
      return { type: "data", piece, totalSize, data };
    }
    default:
      return undefined;
  }
}

/**
 * The ut_metadata extension: decodes each message for `onMessage`, and
 * announces `metadata_size` in our handshake while `size()` says one.
 *
 * @param size The size of the info dictionary we can serve, if we have it.
 * @param onMessage Called with each decoded message.
 *
 * @example Registering it, and the request a peer sends
 * ```ts
 * import { ExtensionRegistry } from "../wire/extension_registry.ts";
 * import { encodeMetadataMessage, utMetadata } from "./ut_metadata.ts";
 *
 * const registry = new ExtensionRegistry<string>([
 *   utMetadata(() => 31_337, (peer, message) => console.log(peer, message.type, message.piece)),
 * ]);
 * console.log(registry.handshakeFields()); // Map(1) { "metadata_size" => 31337 }
 * registry.route("peer A", 1, encodeMetadataMessage({ type: "request", piece: 1 })); // peer A request 1
 * ```
 */
export function utMetadata<P>(
  size: () => number | undefined,
  onMessage: (peer: P, message: MetadataMessage) => void,
): PeerExtension<P> {
  return {
    name: UT_METADATA,
    handshakeFields: () => {
      const known = size();
      return new Map(known === undefined ? [] : [["metadata_size", known]]);
    },
    onMessage: (peer, payload) => {
      const message = decodeMetadataMessage(payload);
      if (message) onMessage(peer, message);
    },
  };
}
