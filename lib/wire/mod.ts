/**
 * The peer wire protocol: the handshake (BEP 3) with the fast extension
 * (BEP 6) and the extension protocol (BEP 10), message encoding and the
 * bounded message reader, message stream encryption, and one connection to
 * a peer (dialled or accepted) with its write queue and liveness rules.
 *
 * @example Encoding a message and reading it back
 * ```ts
 * import { decodeMessage, encodeMessage } from "./mod.ts";
 *
 * const bytes = encodeMessage({ type: "request", index: 3, begin: 16384, length: 16384 });
 * // 4 bytes of length, then the message id and its body.
 * const message = decodeMessage(bytes.subarray(4), 10);
 * console.log(message); // { type: "request", index: 3, begin: 16384, length: 16384 }
 * ```
 *
 * @module
 */

export * from "./connection.ts";
export * from "./errors.ts";
export type { Handshake, HandshakeFeatures } from "./handshake.ts";
export {
  decodeExtensionHandshake,
  encodeExtensionHandshake,
  type ExtensionHandshake,
} from "./extension_handshake.ts";
export { ExtensionRegistry, type PeerExtension } from "./extension_registry.ts";
export { BLOCK_SIZE, type BlockAddress, encodeMessage, type PeerMessage } from "./messages.ts";
export {
  type ByteSource,
  decodeMessage,
  MessageReader,
  type MessageReaderOptions,
  type ReceivedMessage,
} from "./message_reader.ts";
export {
  answerEncryptedHandshake,
  type EncryptedHandshake,
  type EncryptionPreference,
  openEncryptedHandshake,
} from "./mse.ts";
export type { PeerStream } from "./stream.ts";
export {
  dialFrom,
  type IncomingStream,
  listenTcp,
  type PeerListener,
  tcpTransport,
  type Transport,
} from "./transport.ts";
