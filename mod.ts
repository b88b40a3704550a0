/**
 * shoal: a BitTorrent client library for Deno.
 *
 * This module gathers what most programs need: reading and making torrents
 * and magnet links, bencode, trackers, and the download engine (a
 * {@linkcode Session} to which torrents are added). Each layer has an entry
 * point of its own with the rest of its API: `lib/bencode/mod.ts`,
 * `lib/net/mod.ts`, `lib/metainfo/mod.ts`, `lib/tracker/mod.ts`,
 * `lib/wire/mod.ts`, `lib/extensions/mod.ts`, `lib/discovery/mod.ts`,
 * `lib/swarm/mod.ts`, `lib/storage/mod.ts` and `lib/session/mod.ts` (as a
 * package: `./bencode`, `./net`, `./metainfo`, `./tracker`, `./wire`,
 * `./extensions`, `./discovery`, `./swarm`, `./storage`, `./session`). Files whose names begin with `_` are internal.
 *
 * @example Making a torrent, reading it, and its magnet link
 * ```ts
 * import { createTorrent, magnetFromTorrent, readTorrentFile } from "./mod.ts";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/photos`);
 * await Deno.writeFile(`${dir}/photos/a.jpg`, new Uint8Array(40_000));
 * await Deno.writeFile(`${dir}/photos/b.jpg`, new Uint8Array(70_000));
 * const { bytes } = await createTorrent(`${dir}/photos`, {
 *   trackers: [["udp://tracker.example:6969/announce"]],
 * });
 * await Deno.writeFile(`${dir}/photos.torrent`, bytes);
 *
 * const torrent = await readTorrentFile(`${dir}/photos.torrent`);
 * console.log(torrent.name, torrent.infoHashHex, torrent.totalLength); // photos … 110000
 * for (const file of torrent.files) console.log(file.path.join("/"), file.length);
 * console.log(magnetFromTorrent(torrent));
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @example Downloading, with progress, from a peer on this machine
 * ```ts
 * import { createTorrent, Session } from "./mod.ts";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/seed`);
 * await Deno.writeFile(`${dir}/seed/film.mkv`, crypto.getRandomValues(new Uint8Array(50_000)));
 * const { torrent } = await createTorrent(`${dir}/seed/film.mkv`);
 * const seeder = new Session({ port: 0, host: "127.0.0.1" });
 * await seeder.add(torrent, { downloadDir: `${dir}/seed`, seed: true }).done;
 *
 * const session = new Session({ port: 0, host: "127.0.0.1" });
 * const handle = session.add(torrent, {
 *   downloadDir: `${dir}/downloads`,
 *   peers: [{ host: "127.0.0.1", port: seeder.port }], // besides the trackers' peers
 * });
 * const timer = setInterval(() => {
 *   const s = handle.status();
 *   console.log(`${(s.progress * 100).toFixed(1)}% from ${s.peersConnected} peers`);
 * }, 1000);
 * console.log(await handle.done); // "complete" (or "stopped" after handle.stop())
 * clearInterval(timer);
 * await session.close(); // tells the trackers, saves resume data, closes the port
 * await seeder.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @module
 */

export {
  BencodeError,
  type BencodeInput,
  type BencodeValue,
  decode,
  type DecodeOptions,
  encode,
} from "./lib/bencode/mod.ts";
export {
  type CreatedTorrent,
  createTorrent,
  type CreateTorrentOptions,
  type FileSpan,
  loadTorrentSource,
  MagnetError,
  magnetFromTorrent,
  type MagnetLink,
  parseMagnet,
  parseTorrent,
  type ParseTorrentOptions,
  PieceMap,
  readTorrentFile,
  readTorrentFileSync,
  type Torrent,
  TorrentError,
  type TorrentFile,
  type TorrentSource,
  writeTorrentFile,
} from "./lib/metainfo/mod.ts";
export { formatPeerAddress, parsePeerAddress, type PeerAddress } from "./lib/net/mod.ts";
export { type PeerSource, type PeerSourceKind, staticPeerSource } from "./lib/discovery/mod.ts";
export {
  DEFAULT_BOOTSTRAP,
  DhtNode,
  type DhtNodeOptions,
  type DhtStats,
  type PeerLookup,
} from "./lib/dht/mod.ts";
export {
  type AnnounceEvent,
  Announcer,
  type AnnounceRequest,
  type AnnounceResult,
  type AnnouncerOptions,
  announceToTracker,
  checkTrackers,
  type CheckTrackersOptions,
  type DiscoveredPeer,
  httpAnnounce,
  httpScrape,
  type HttpTrackerOptions,
  type ScrapeResult,
  type TrackerCheck,
  TrackerError,
  type TrackerErrorKind,
  type TrackerStatus,
  type TransferStats,
  UdpTrackerClient,
  type UdpTrackerOptions,
} from "./lib/tracker/mod.ts";
export {
  type AddTorrentOptions,
  FileLogger,
  type FileLoggerOptions,
  FileReadError,
  type FileReadOptions,
  ListenError,
  type Logger,
  type LogLevel,
  type PeerSummary,
  type PieceSource,
  readFileStream,
  Session,
  type SessionDhtOptions,
  type SessionOptions,
  silentLogger,
  TorrentHandle,
  type TorrentState,
  type TorrentStatus,
  type TransferStatus,
} from "./lib/session/mod.ts";
export {
  Bitfield,
  type CheckOptions,
  checkPieces,
  fileStorage,
  FileStore,
  memoryStorage,
  MemoryStore,
  type Storage,
  type StorageFactory,
  type StorageRequest,
} from "./lib/storage/mod.ts";
export {
  DiskError,
  ExitCode,
  InterruptedError,
  NetworkError,
  ShoalError,
  type ShoalErrorOptions,
  UsageError,
} from "./lib/errors.ts";
export { randomPeerId } from "./lib/peer_id.ts";
export { formatBytes, parseSize } from "./lib/util/size.ts";
export { VERSION } from "./lib/version.ts";
