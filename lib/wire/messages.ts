/**
 * Peer wire messages (BEP 3), the fast extension (BEP 6) and the extension
 * protocol envelope (BEP 10): their types, their encoding, and the size
 * limits a received message must respect.
 *
 * @module
 */

/** Message ids on the wire. */
export const MessageId = {
  Choke: 0,
  Unchoke: 1,
  Interested: 2,
  NotInterested: 3,
  Have: 4,
  Bitfield: 5,
  Request: 6,
  Piece: 7,
  Cancel: 8,
  Port: 9,
  Suggest: 0x0d,
  HaveAll: 0x0e,
  HaveNone: 0x0f,
  Reject: 0x10,
  AllowedFast: 0x11,
  Extended: 20,
} as const;

/** The standard block size: every request asks for at most this many bytes. */
export const BLOCK_SIZE = 16 * 1024;
/** The largest extension message accepted (BEP 10 payloads such as metadata pieces fit). */
export const MAX_EXTENDED_MESSAGE = 64 * 1024;

/** A block address: piece index, offset in the piece, length. */
export interface BlockAddress {
  /** Piece index. */
  index: number;
  /** Byte offset inside the piece. */
  begin: number;
  /** Bytes. */
  length: number;
}

/** A message received from or sent to a peer. */
export type PeerMessage =
  | { type: "keep-alive" }
  | { type: "choke" }
  | { type: "unchoke" }
  | { type: "interested" }
  | { type: "not-interested" }
  | { type: "have"; index: number }
  | { type: "bitfield"; bytes: Uint8Array }
  | { type: "request" } & BlockAddress
  | {
    type: "piece";
    index: number;
    begin: number;
    /** The block; when received, a view valid only until the handler returns. */
    block: Uint8Array;
  }
  | { type: "cancel" } & BlockAddress
  | { type: "port"; port: number }
  | { type: "suggest"; index: number }
  | { type: "have-all" }
  | { type: "have-none" }
  | { type: "reject" } & BlockAddress
  | { type: "allowed-fast"; index: number }
  | { type: "extended"; id: number; payload: Uint8Array }
  | { type: "unknown"; id: number; payload: Uint8Array };

/**
 * The largest payload (bytes after the length prefix) a message with this id
 * may have, or `undefined` for ids that are not known.
 *
 * @param id The message id.
 * @param pieceCount The torrent's piece count, which fixes the bitfield size.
 */
export function maxMessageLength(id: number, pieceCount: number): number {
  switch (id) {
    case MessageId.Choke:
    case MessageId.Unchoke:
    case MessageId.Interested:
    case MessageId.NotInterested:
    case MessageId.HaveAll:
    case MessageId.HaveNone:
      return 1;
    case MessageId.Have:
    case MessageId.Suggest:
    case MessageId.AllowedFast:
      return 5;
    case MessageId.Bitfield:
      return 1 + Math.ceil(pieceCount / 8);
    case MessageId.Request:
    case MessageId.Cancel:
    case MessageId.Reject:
      return 13;
    case MessageId.Piece:
      return 9 + BLOCK_SIZE;
    case MessageId.Port:
      return 3;
    default:
      return MAX_EXTENDED_MESSAGE;
  }
}

function frame(id: number, payloadLength: number): { bytes: Uint8Array; view: DataView } {
  const bytes = new Uint8Array(5 + payloadLength);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, 1 + payloadLength);
  bytes[4] = id;
  return { bytes, view };
}

function blockMessage(id: number, { index, begin, length }: BlockAddress): Uint8Array {
  const { bytes, view } = frame(id, 12);
  view.setUint32(5, index);
  view.setUint32(9, begin);
  view.setUint32(13, length);
  return bytes;
}

function indexMessage(id: number, index: number): Uint8Array {
  const { bytes, view } = frame(id, 4);
  view.setUint32(5, index);
  return bytes;
}

/**
 * Encodes a message with its length prefix.
 *
 * @example Encoding a message
 * ```ts
 * import { encodeMessage } from "./messages.ts";
 * console.assert(encodeMessage({ type: "interested" }).join() === "0,0,0,1,2");
 * ```
 */
export function encodeMessage(message: PeerMessage): Uint8Array {
  switch (message.type) {
    case "keep-alive":
      return new Uint8Array(4);
    case "choke":
      return frame(MessageId.Choke, 0).bytes;
    case "unchoke":
      return frame(MessageId.Unchoke, 0).bytes;
    case "interested":
      return frame(MessageId.Interested, 0).bytes;
    case "not-interested":
      return frame(MessageId.NotInterested, 0).bytes;
    case "have-all":
      return frame(MessageId.HaveAll, 0).bytes;
    case "have-none":
      return frame(MessageId.HaveNone, 0).bytes;
    case "have":
      return indexMessage(MessageId.Have, message.index);
    case "suggest":
      return indexMessage(MessageId.Suggest, message.index);
    case "allowed-fast":
      return indexMessage(MessageId.AllowedFast, message.index);
    case "bitfield": {
      const { bytes } = frame(MessageId.Bitfield, message.bytes.length);
      bytes.set(message.bytes, 5);
      return bytes;
    }
    case "request":
      return blockMessage(MessageId.Request, message);
    case "cancel":
      return blockMessage(MessageId.Cancel, message);
    case "reject":
      return blockMessage(MessageId.Reject, message);
    case "piece": {
      const { bytes, view } = frame(MessageId.Piece, 8 + message.block.length);
      view.setUint32(5, message.index);
      view.setUint32(9, message.begin);
      bytes.set(message.block, 13);
      return bytes;
    }
    case "port": {
      const { bytes, view } = frame(MessageId.Port, 2);
      view.setUint16(5, message.port);
      return bytes;
    }
    case "extended": {
      const { bytes } = frame(MessageId.Extended, 1 + message.payload.length);
      bytes[5] = message.id;
      bytes.set(message.payload, 6);
      return bytes;
    }
    case "unknown": {
      const { bytes } = frame(message.id, message.payload.length);
      bytes.set(message.payload, 5);
      return bytes;
    }
  }
}
