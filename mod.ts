/**
 * shoal: a BitTorrent client library for Deno.
 *
 * Everything the `shoal` command does is available here: bencode, torrent
 * metainfo and magnet links, making torrents, HTTP and UDP trackers and the
 * announcer, the peer wire protocol, and the download engine (a
 * {@linkcode Session} to which torrents are added).
 *
 * ```ts ignore
 * import { createTorrent, magnetFromTorrent, readTorrentFile } from "jsr:@shoal/shoal";
 *
 * const torrent = await readTorrentFile("example.torrent");
 * console.log(torrent.name, torrent.infoHashHex, torrent.files.length);
 * console.log(magnetFromTorrent(torrent));
 *
 * const { bytes } = await createTorrent("./photos", { trackers: [["udp://tracker.example:6969"]] });
 * await Deno.writeFile("photos.torrent", bytes);
 * ```
 *
 * Downloading, with progress and a clean stop on Ctrl-C:
 *
 * ```ts ignore
 * import { readTorrentFile, Session } from "jsr:@shoal/shoal";
 *
 * const session = new Session({ port: 6881 });
 * const handle = session.add(await readTorrentFile("example.torrent"), {
 *   downloadDir: "./downloads",
 *   peers: [{ host: "127.0.0.1", port: 51413 }], // optional, besides the trackers
 * });
 * const timer = setInterval(() => {
 *   const s = handle.status();
 *   console.log(`${(s.progress * 100).toFixed(1)}% ${s.peersConnected} peers`);
 * }, 1000);
 * Deno.addSignalListener("SIGINT", () => handle.stop());
 * console.log(await handle.done); // "complete", or "stopped" after Ctrl-C
 * clearInterval(timer);
 * await session.close();
 * ```
 *
 * @module
 */

export * from "./lib/bencode/mod.ts";
export * from "./lib/metainfo/mod.ts";
export * from "./lib/tracker/mod.ts";
export { randomPeerId } from "./lib/peer_id.ts";
export { ListenError, Session, type SessionOptions } from "./lib/session/session.ts";
export {
  type AddTorrentOptions,
  type SessionContext,
  type TorrentEvents,
  TorrentHandle,
  type TorrentState,
  type TorrentStatus,
} from "./lib/session/torrent_handle.ts";
export type { PeerSummary, SwarmStats } from "./lib/swarm/swarm.ts";
export type { PipelineOptions } from "./lib/swarm/peer.ts";
export { RateLimiter } from "./lib/swarm/rate_limiter.ts";
export {
  choke,
  type ChokeDecision,
  type ChokerOptions,
  type ChokerPeer,
  type ChokerState,
} from "./lib/swarm/choker.ts";
export { type FileState, FileStore, type FileStoreOptions } from "./lib/storage/file_store.ts";
export { type CheckOptions, checkPieces } from "./lib/storage/piece_check.ts";
export {
  type AcceptOptions,
  acceptPeer,
  connectToPeer,
  type HandshakeOptions,
  PeerConnection,
  type PeerEncryption,
  type PeerHandlers,
  type PeerTimeouts,
} from "./lib/peer/connection.ts";
export {
  answerEncryptedHandshake,
  type EncryptedHandshake,
  type EncryptionPreference,
  openEncryptedHandshake,
} from "./lib/peer/mse.ts";
export { Rc4 } from "./lib/peer/rc4.ts";
export { EncryptedStream, type PeerStream, PrefixedStream } from "./lib/peer/stream.ts";
export { PeerError, type PeerErrorKind } from "./lib/peer/errors.ts";
export type { Handshake, HandshakeFeatures } from "./lib/peer/handshake.ts";
export {
  BLOCK_SIZE,
  type BlockAddress,
  encodeMessage,
  type PeerMessage,
} from "./lib/peer/messages.ts";
export {
  type ByteSource,
  decodeMessage,
  MessageReader,
  type MessageReaderOptions,
  type ReceivedMessage,
} from "./lib/peer/message_reader.ts";
export { Bitfield } from "./lib/util/bitfield.ts";
export { Emitter, type EventMap } from "./lib/util/emitter.ts";
export {
  FileLogger,
  type FileLoggerOptions,
  type Logger,
  type LogLevel,
  silentLogger,
} from "./lib/util/log.ts";
export {
  DiskError,
  diskError,
  ExitCode,
  InterruptedError,
  NetworkError,
  ShoalError,
  type ShoalErrorOptions,
  UsageError,
} from "./lib/errors.ts";
export { CREATED_BY, PEER_ID_PREFIX, VERSION } from "./lib/version.ts";
export {
  binaryToBytes,
  bytesToBinary,
  fromBase32,
  fromHex,
  toBase32,
  toHex,
} from "./lib/util/bytes.ts";
export { formatBytes, parseSize } from "./lib/util/size.ts";
export { runCli } from "./lib/cli/program.ts";
