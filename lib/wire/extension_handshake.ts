/**
 * The extension protocol handshake (BEP 10): extended message 0, a bencoded
 * dictionary naming the extensions each side supports and a few facts about
 * the sender (client name, request queue size, listen port).
 *
 * @module
 */

import { type BencodeValue } from "../bencode/types.ts";
import { decodeWithDetails } from "../bencode/decode.ts";
import { encode } from "../bencode/encode.ts";
import { isBytes, isDict, isInteger } from "../bencode/read.ts";
import { decodeUtf8Lenient } from "../util/_bytes.ts";
import { PeerError } from "./errors.ts";

/** What a peer's extension handshake says. */
export interface ExtensionHandshake {
  /** Extension names mapped to the message ids the sender wants to receive them under. */
  extensions: Map<string, number>;
  /** Client name and version (`v`). */
  client?: string;
  /** How many outstanding requests the peer queues (`reqq`). */
  requestQueue?: number;
  /** The peer's listen port (`p`). */
  listenPort?: number;
  /** Size of the info dictionary, for metadata exchange (`metadata_size`). */
  metadataSize?: number;
}

/** Largest `reqq` believed; a peer claiming more is capped to this. */
const MAX_REQUEST_QUEUE = 2048;

/**
 * Encodes our extension handshake payload (without the extended message id).
 *
 * @param fields What to announce.
 * @param extra Fields the extensions add (their keys must not be the ones above).
 */
export function encodeExtensionHandshake(
  fields: ExtensionHandshake,
  extra: ReadonlyMap<string, BencodeValue> = new Map(),
): Uint8Array {
  const m = new Map<string, BencodeValue>();
  for (const [name, id] of [...fields.extensions].sort(([a], [b]) => a < b ? -1 : 1)) {
    m.set(name, id);
  }
  const dict = new Map<string, BencodeValue>([...extra, ["m", m]]);
  if (fields.metadataSize !== undefined) dict.set("metadata_size", fields.metadataSize);
  if (fields.listenPort !== undefined) dict.set("p", fields.listenPort);
  if (fields.requestQueue !== undefined) dict.set("reqq", fields.requestQueue);
  if (fields.client !== undefined) dict.set("v", new TextEncoder().encode(fields.client));
  return encode(dict);
}

function smallInteger(value: BencodeValue | undefined, max: number): number | undefined {
  return isInteger(value) && value >= 0 && value <= max ? value : undefined;
}

/**
 * Decodes a peer's extension handshake. Unknown and malformed optional
 * fields are ignored, as BEP 10 asks; a payload that is not a dictionary is a
 * protocol error.
 *
 * @param payload The extended message payload (after the extended id 0).
 */
export function decodeExtensionHandshake(payload: Uint8Array): ExtensionHandshake {
  let value: BencodeValue;
  try {
    value = decodeWithDetails(payload, { mode: "lenient", allowTrailing: true }).value;
  } catch (error) {
    throw new PeerError("protocol", "The peer sent a malformed extension handshake", {
      cause: error,
    });
  }
  if (!isDict(value)) {
    throw new PeerError("protocol", "The peer's extension handshake is not a dictionary");
  }
  const extensions = new Map<string, number>();
  const m = value.get("m");
  if (isDict(m)) {
    for (const [name, id] of m) {
      if (isInteger(id) && id >= 0 && id <= 255) extensions.set(name, id);
    }
  }
  const v = value.get("v");
  const reqq = smallInteger(value.get("reqq"), Number.MAX_SAFE_INTEGER);
  return {
    extensions,
    client: isBytes(v) ? decodeUtf8Lenient(v.subarray(0, 100)) : undefined,
    requestQueue: reqq === undefined ? undefined : Math.min(Math.max(reqq, 1), MAX_REQUEST_QUEUE),
    listenPort: smallInteger(value.get("p"), 65535) || undefined,
    metadataSize: smallInteger(value.get("metadata_size"), 64 * 1024 * 1024),
  };
}
