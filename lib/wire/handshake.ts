/**
 * The BitTorrent handshake (BEP 3): protocol string, reserved bits, info
 * hash, peer id. shoal sets the reserved bits of the fast extension (BEP 6)
 * and the extension protocol (BEP 10).
 *
 * @module
 */

import { bytesEqual } from "../util/_bytes.ts";
import { PeerError } from "./errors.ts";
import type { ByteSource } from "./message_reader.ts";

const PROTOCOL = new TextEncoder().encode("BitTorrent protocol");
/** Length of a handshake in bytes. */
export const HANDSHAKE_LENGTH = 68;

/** What a handshake says. */
export interface Handshake {
  /** The 8 reserved bytes (feature bits). */
  reserved: Uint8Array;
  /** The torrent's info hash. */
  infoHash: Uint8Array;
  /** The sender's peer id. */
  peerId: Uint8Array;
}

/** Features a handshake's reserved bits announce. */
export interface HandshakeFeatures {
  /** BEP 6 fast extension (reserved byte 7, bit 0x04). */
  fast: boolean;
  /** BEP 10 extension protocol (reserved byte 5, bit 0x10). */
  extensions: boolean;
  /** BEP 5 DHT (reserved byte 7, bit 0x01). */
  dht: boolean;
}

/**
 * The reserved bytes shoal sends: fast extension and extension protocol,
 * and the DHT bit when `options.dht` (we run a DHT node for this torrent).
 */
export function ourReservedBytes(options: { dht?: boolean } = {}): Uint8Array {
  const reserved = new Uint8Array(8);
  reserved[5] |= 0x10;
  reserved[7] |= 0x04;
  if (options.dht) reserved[7] |= 0x01;
  return reserved;
}

/** Reads the feature bits of a handshake. */
export function handshakeFeatures(reserved: Uint8Array): HandshakeFeatures {
  return {
    fast: (reserved[7] & 0x04) !== 0,
    extensions: (reserved[5] & 0x10) !== 0,
    dht: (reserved[7] & 0x01) !== 0,
  };
}

/**
 * Encodes a handshake.
 *
 * @example What a peer announces
 * ```ts
 * import { encodeHandshake, ourReservedBytes } from "./handshake.ts";
 * const bytes = encodeHandshake({
 *   reserved: ourReservedBytes(),
 *   infoHash: new Uint8Array(20),
 *   peerId: new Uint8Array(20),
 * });
 * console.assert(bytes.length === 68 && bytes[0] === 19);
 * ```
 */
export function encodeHandshake(handshake: Handshake): Uint8Array {
  const bytes = new Uint8Array(HANDSHAKE_LENGTH);
  bytes[0] = PROTOCOL.length;
  bytes.set(PROTOCOL, 1);
  bytes.set(handshake.reserved, 20);
  bytes.set(handshake.infoHash, 28);
  bytes.set(handshake.peerId, 48);
  return bytes;
}

/**
 * Reads a handshake from a stream.
 *
 * @param source The connection.
 * @param expectedInfoHash When given, a handshake for another torrent is refused.
 * @returns The handshake and any bytes read past it (the start of the first messages).
 */
export async function readHandshake(
  source: ByteSource,
  expectedInfoHash?: Uint8Array,
): Promise<{ handshake: Handshake; rest: Uint8Array }> {
  const buffer = new Uint8Array(4096);
  let filled = 0;
  while (filled < HANDSHAKE_LENGTH) {
    const n = await source.read(buffer.subarray(filled));
    if (n === null) {
      throw new PeerError("handshake", "The peer closed the connection during the handshake");
    }
    filled += n;
    if (
      filled >= 20 &&
      (buffer[0] !== PROTOCOL.length || !bytesEqual(buffer.subarray(1, 20), PROTOCOL))
    ) {
      throw new PeerError("handshake", "The peer does not speak the BitTorrent protocol");
    }
  }
  const handshake = {
    reserved: buffer.slice(20, 28),
    infoHash: buffer.slice(28, 48),
    peerId: buffer.slice(48, 68),
  };
  if (expectedInfoHash && !bytesEqual(handshake.infoHash, expectedInfoHash)) {
    throw new PeerError(
      "handshake",
      "The peer answered for a different torrent (info hash mismatch)",
    );
  }
  return { handshake, rest: buffer.slice(HANDSHAKE_LENGTH, filled) };
}
