/**
 * One torrent in a session, across its life: its state (checking,
 * downloading, seeding, complete, paused, stopped, error), its events, its
 * state lock, seed limits and `done`. Each start is a run
 * (`_torrent_run.ts`: restore, files, swarm, announcer, resume data); a
 * pause ends the run and a resume starts another.
 *
 * @module
 */

import type { DhtPortLink } from "../swarm/swarm_types.ts";
import type { PeerAddress } from "../net/peer_address.ts";
import type { Torrent } from "../metainfo/torrent.ts";
import type { MagnetLink } from "../metainfo/magnet.ts";
import { bytesEqual } from "../util/_bytes.ts";
import type { PeerConnection, PeerTimeouts } from "../wire/connection.ts";
import type { Transport } from "../wire/transport.ts";
import type { StorageFactory } from "../storage/storage.ts";
import type { PeerSource } from "../discovery/peer_source.ts";
import { NetworkError, ShoalError } from "../errors.ts";
import { defaultStateDir, resumePath } from "../storage/resume.ts";
import { partFilePath } from "../storage/part_file.ts";
import { lockState, type StateLock } from "../storage/state_lock.ts";
import type { PipelineOptions } from "../swarm/peer_session.ts";
import { RateLimiter } from "../swarm/rate_limiter.ts";
import type { PeerSummary, SwarmStats } from "../swarm/swarm.ts";
import type { DiscoveryService } from "../discovery/peer_source.ts";
import type { TrackerStatus } from "../tracker/announcer.ts";
import type { UdpTrackerClient } from "../tracker/udp.ts";
import type { Bitfield } from "../util/bitfield.ts";
import { Emitter } from "../util/emitter.ts";
import type { Logger } from "../util/log.ts";
import { type RunProgress, TorrentRun, trackersBeforeRun } from "./_torrent_run.ts";
import type { FileProgress } from "./_file_selection.ts";
import { type FilePriority, FileSelectionError } from "../metainfo/file_priority.ts";
import { PeerPool } from "../discovery/peer_pool.ts";
import { FileReadError, type FileReadOptions, readFileStream } from "./file_reader.ts";
import { MAX_DEADLINES } from "../swarm/_deadlines.ts";
import type { WebSeedStatus } from "../webseed/web_seed.ts";
import { savedTorrentPath } from "./_metadata_phase.ts";

/**
 * Where a torrent is in its life:
 *
 * - `metadata`: added by magnet link or info hash, it waits for its metadata;
 * - `checking`: existing data is being checked (or resume data read);
 * - `downloading`, `seeding`: its swarm runs;
 * - `complete`: every piece is in and it does not seed (or seeding ended);
 * - `paused`: added with `paused`, or paused; `resume()` starts it again;
 * - `stopped`: stopped for good (`stop()`, or removed from its session);
 * - `error`: stopped by a fatal error (`status().error` says which).
 */
export type TorrentState =
  | "metadata"
  | "checking"
  | "downloading"
  | "seeding"
  | "complete"
  | "paused"
  | "stopped"
  | "error";

/** A snapshot of a torrent's progress, for displays and scripts. */
export interface TorrentStatus {
  /** The torrent's name. */
  name: string;
  /** Info hash, hex. */
  infoHash: string;
  /** Current state. */
  state: TorrentState;
  /** Verified pieces. */
  piecesDone: number;
  /** All pieces. */
  pieceCount: number;
  /** Bytes of the selected files in verified pieces. */
  bytesDone: number;
  /** That, when downloading began (resumed or checked). */
  bytesAtStart: number;
  /** Bytes of the selected files (every file unless some are skipped). */
  totalBytes: number;
  /** Bytes of the whole torrent. */
  torrentBytes: number;
  /** `bytesDone / totalBytes`, 0–1 (1 when that is 0). */
  progress: number;
  /** Files skipped (priority `skip`). */
  filesSkipped: number;
  /** While checking: pieces checked and pieces to check. */
  checking?: { checked: number; total: number };
  /**
   * In the `metadata` state: metadata pieces received, and in all (0
   * until a peer announces the size), and how many connected peers offer
   * the metadata.
   */
  metadata?: { received: number; total: number; peers: number };
  /** Bytes per second received now (5 s average). */
  downloadRate: number;
  /** Bytes per second received on average since downloading began. */
  averageDownloadRate: number;
  /** Bytes per second sent now. */
  uploadRate: number;
  /** Seconds until the selected files are complete at the current rate, if it can be told. */
  etaSeconds?: number;
  /** Payload bytes received this session. */
  downloaded: number;
  /** Payload bytes sent this session. */
  uploaded: number;
  /** Bytes received and thrown away (duplicates, failed pieces). */
  wasted: number;
  /** Pieces that failed their hash check. */
  hashFailures: number;
  /** Peers connected now. */
  peersConnected: number;
  /** Distinct peer addresses seen. */
  peersSeen: number;
  /** Peers banned this session. */
  peersBanned: number;
  /** Peers that sent at least one useful block (since the torrent last started or resumed). */
  peersUsed: number;
  /** Peers we sent at least one block to (since the torrent last started or resumed). */
  peersServed: number;
  /** The web seeds (BEP 19) and what each has done (empty when the torrent has none, or is not downloading). */
  webSeeds: WebSeedStatus[];
  /** Milliseconds since the torrent was added. */
  elapsedMs: number;
  /** Milliseconds from adding the torrent to having every piece, once complete. */
  completedAfterMs?: number;
  /** Every tracker's state. */
  trackers: TrackerStatus[];
  /** Distinct peer addresses dialled (since the torrent last started or resumed). */
  peersTried: number;
  /**
   * While downloading with nothing arriving for 5 s or more: for how long
   * (ms) and why, as far as can be told (trackers' errors, peers tried).
   */
  waiting?: { forMs: number; reason: string };
  /** Why the torrent stopped, in the `error` state. */
  error?: string;
  /**
   * A file changed on disk under the torrent and some of its pieces no
   * longer match: which file, what happened, and what shoal does about it.
   * The torrent goes on with the pieces that are intact (a seed stays
   * `seeding`, and downloads the bad pieces again when it may write);
   * cleared once every such piece is good again.
   */
  fileError?: string;
}

/** The rates and byte counts of a {@linkcode TorrentStatus}. */
export type TransferStatus = Pick<
  TorrentStatus,
  "downloadRate" | "uploadRate" | "downloaded" | "uploaded" | "wasted" | "bytesDone" | "totalBytes"
>;

/** Events of a {@linkcode TorrentHandle}. */
export type TorrentEvents = {
  /** The state changed. */
  state: TorrentState;
  /** A piece was verified and written. */
  piece: number;
  /** Every piece of the selected files is verified and written (the first time). */
  complete: undefined;
  /** The torrent stopped on an error. */
  error: Error;
  /** A tracker started working, failed, or failed for another reason. */
  tracker: TrackerStatus;
  /** A torrent added by magnet link has its metadata (fetched from peers, read from the state directory, or given). */
  metadata: Torrent;
};

/** How a torrent is run. */
export interface AddTorrentOptions {
  /** The download directory. */
  downloadDir: string;
  /**
   * Each file's priority, in the torrent's file order (`skip` files are
   * not downloaded and not created). Default: those saved with the resume
   * data, else a magnet link's `so` (BEP 53), else every file `normal`.
   * A list of another length than the torrent's files is not used.
   * `handle.setFilePriorities` changes them later.
   */
  filePriorities?: readonly FilePriority[];
  /**
   * Download pieces in file order (the first and last piece of each file
   * first; rarest first within a few MiB ahead), for a file played while it
   * downloads. Default false: rarest first. `handle.setSequential` changes it.
   */
  sequential?: boolean;
  /** Add it without starting it (state `paused`); `resume()` starts it. Default false. */
  paused?: boolean;
  /**
   * How the torrent's data is kept. Default `fileStorage`: its
   * files under `downloadDir`. Data in another store (`memoryStorage()`)
   * is hashed and written on the main thread, and its files are not
   * watched for changes by other programs.
   */
  storage?: StorageFactory;
  /**
   * Where resume data and the lock go. Default `<downloadDir>/.shoal`. When
   * it is elsewhere, resume data left in `<downloadDir>/.shoal` (by an
   * earlier download) is still read.
   */
  stateDir?: string;
  /** Peers to connect to directly, besides those trackers name. */
  peers?: PeerAddress[];
  /**
   * More sources of peers, started and stopped with the torrent (each
   * time it resumes too). A private torrent (BEP 27) takes only `tracker`,
   * `user` and `incoming` peers from them.
   */
  peerSources?: PeerSource[];
  /**
   * Exchange peers with peers (BEP 11 ut_pex): tell each connected peer
   * whom else we are connected to, and dial whom they name. Never for a
   * private torrent. Default true.
   */
  pex?: boolean;
  /** Most connections. Default 50. */
  maxPeers?: number;
  /**
   * Most of the torrent's web seeds (BEP 19 `url-list`, or a magnet link's
   * `ws`) downloaded from at once, beside the peers; 0 uses none. Default 3.
   */
  maxWebSeeds?: number;
  /** Most bytes of unverified pieces held in memory. Default 64 MiB. */
  maxBufferedBytes?: number;
  /** Announce to the torrent's trackers. Default true. */
  announce?: boolean;
  /**
   * A torrent added by magnet link: the largest info dictionary accepted
   * from peers, in bytes (a peer announcing more is not asked). Default
   * 16 MiB.
   */
  maxMetadataSize?: number;
  /**
   * A torrent added by magnet link: keep its `.torrent` in the state
   * directory once its metadata is fetched, so the next start needs no
   * peer for it. Default true.
   */
  saveTorrent?: boolean;
  /**
   * A torrent added by magnet link: stop once the metadata is known (state
   * `complete`, `done` settles), downloading nothing, as `aria2c
   * --bt-metadata-only` does. `handle.torrent` then holds it. Default false.
   */
  metadataOnly?: boolean;
  /** How often resume data is saved while downloading, in ms. Default 10 s. */
  resumeIntervalMs?: number;
  /** A peer that answers no request for this long is snubbed. Default 20 s. */
  requestTimeoutMs?: number;
  /** Connection timeouts. */
  timeouts?: PeerTimeouts;
  /** Request pipeline sizing. */
  pipeline?: PipelineOptions;
  /** Most files open at once. Default 64. */
  maxOpenFiles?: number;
  /** Keep serving peers once complete (state `seeding`) until stopped. Default false: state `complete`. */
  seed?: boolean;
  /**
   * With `seed`: stop seeding (state `complete`, peers closed, `stopped`
   * sent to the trackers) once this many times the torrent's size has been
   * uploaded in this session. Default: no limit.
   */
  seedRatio?: number;
  /** With `seed`: stop seeding once it has seeded this long, in ms. Default: no limit. */
  seedTimeMs?: number;
  /**
   * Most bytes per second received for this torrent, inside the session's
   * limit. Default: none of its own. `handle.setRateLimits` changes it.
   */
  maxDownloadRate?: number;
  /** Most bytes per second sent for this torrent, inside the session's limit. Default: none of its own. */
  maxUploadRate?: number;
  /**
   * Seed only: fail when the data on disk is incomplete, and only ever read
   * it: no data file is created or changed (for `shoal seed`). The state
   * directory is still written; give a `stateDir` elsewhere when the data's
   * folder must stay untouched. Default false.
   */
  requireComplete?: boolean;
  /**
   * How often the files' sizes and modification times are looked at, in ms
   * (at most 1000 files each time): a file changed by another program has
   * its pieces checked again before they are served. Default 10 s; six
   * times that for a seed with no peer connected. Every read for a peer
   * also looks at its open file first.
   */
  fileCheckIntervalMs?: number;
  /** Regular upload slots of the choker. Default 4. */
  uploadSlots?: number;
  /**
   * Give up when no payload byte has arrived for this long while
   * downloading: `done` rejects with a {@linkcode NetworkError} that says
   * what was tried. Default: keep waiting.
   */
  stallTimeoutMs?: number;
}

/** What a handle needs from its session. */
export interface SessionContext {
  /** Our peer id. */
  peerId: Uint8Array;
  /** Our listen port (announced). */
  port: number;
  /** The shared UDP tracker client. */
  udp: UdpTrackerClient;
  /** The HTTP client for trackers, when the session sends from a bound address. */
  http?: Deno.HttpClient;
  /** How to connect to peers. Default: TCP from any address. */
  transport?: Transport;
  /** Where to log. */
  log: Logger;
  /** The session's download limit, if any. */
  downloadLimiter?: RateLimiter;
  /** The session's upload limit, if any. */
  uploadLimiter?: RateLimiter;
  /** The session's clock: one tick a second for every torrent. */
  clock: SessionClock;
  /** The session-wide peer sources (local service discovery): each torrent takes one from each. */
  discovery?: readonly DiscoveryService[];
  /** The session's DHT node, for PORT messages (BEP 5); none when the DHT is off. */
  dht?: DhtPortLink;
}

/** A clock that calls its subscribers once a second. */
export interface SessionClock {
  /**
   * Calls `tick` once a second with the time in ms.
   *
   * @returns A function that ends the subscription.
   */
  subscribe(tick: (now: number) => void): () => void;
}

/**
 * A torrent being downloaded by a session.
 *
 * @example Following a download and stopping it
 * ```ts
 * import { createTorrent } from "../metainfo/mod.ts";
 * import { Session } from "./mod.ts";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.writeFile(`${dir}/big.iso`, new Uint8Array(1_000_000));
 * const { torrent } = await createTorrent(`${dir}/big.iso`);
 * const session = new Session({ port: 0, host: "127.0.0.1" });
 * const handle = session.add(torrent, { downloadDir: `${dir}/downloads` });
 * handle.on("state", (state) => console.log("state:", state)); // downloading, then stopped
 * setTimeout(() => handle.stop(), 200); // as Ctrl-C does
 * console.log(await handle.done, handle.status().piecesDone); // stopped 0: nobody seeds it
 * await session.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class TorrentHandle extends Emitter<TorrentEvents> {
  /** The info hash, as 40 hex digits. */
  readonly infoHashHex: string;
  /** The info hash. */
  readonly infoHash: Uint8Array;
  /** Settles when the download completes (`complete`) or is stopped first (`stopped`); rejects on a fatal error. */
  readonly done: Promise<"complete" | "stopped">;
  readonly #options: AddTorrentOptions;
  /** The session's parts, with this torrent's own rate limits inside the session's. */
  readonly #context: SessionContext;
  readonly #downloadLimiter: RateLimiter;
  readonly #uploadLimiter: RateLimiter;
  /** What the next run does instead of plain downloading: check (every piece, or only what resume data does not vouch for), and maybe only that. */
  #verify?: { checkOnly: boolean; force: boolean };
  /** When the torrent last started (`resume()`). */
  #startedAt?: number;
  readonly #stateDir: string;
  readonly #resumePath: string;
  #torrent?: Torrent;
  /** The torrent's peers, kept across runs: bans, strikes and known addresses outlast a pause. */
  #pool?: PeerPool;
  /** What a magnet link said, for a torrent added by one. */
  readonly #magnet?: MagnetLink;
  #lock?: StateLock;
  readonly #addedAt = Date.now();
  #state: TorrentState = "paused";
  /** The run in progress, or the last one while paused. */
  #run?: TorrentRun;
  #running = false;
  /** Whether `#run` has been started (a new one is made for the next start). */
  #runStarted = false;
  /** The run started only checks what is on disk (a restore, or a paused torrent's verify). */
  #checkOnlyRun = false;
  /** The run's start-up (lock, restore, files, swarm); its stop waits for it. */
  #starting: Promise<void> = Promise.resolve();
  /** Transfer counters of the runs before the last. */
  #carried = { downloaded: 0, uploaded: 0, wasted: 0, hashFailures: 0, banned: 0 };
  /** The last run's progress, shown while the next one restores. */
  #lastProgress = { pieces: 0, bytes: 0, bytesAtStart: 0, wantedBytes: 0 };
  /**
   * What {@linkcode restore} found on disk, kept instead of the run that
   * found it (a paused torrent needs its pieces and files, not a run).
   */
  #found?: { have: Bitfield; files?: FileProgress[] };
  #untick?: () => void;
  #pausing?: Promise<void>;
  /** When the torrent last became `seeding`, while it is. */
  #seedingSince?: number;
  /** Time spent seeding before that (a pause stops the count). */
  #seededMs = 0;
  #error?: Error;
  /** The priorities asked for (given, or set since), or known from the last run. */
  #priorities?: readonly FilePriority[];
  #sequential: boolean;
  /** Pieces readers wait for, and by when: given to each run as it starts. */
  readonly #deadlines = new Map<number, number>();
  #completedAt?: number;
  #stopping?: Promise<void>;
  #settle!: { resolve: (value: "complete" | "stopped") => void; reject: (error: Error) => void };

  /**
   * Use {@linkcode Session.add}, which starts the torrent unless it is added `paused`.
   *
   * @param source The torrent, or a magnet link (the torrent then waits for its metadata).
   */
  constructor(source: Torrent | MagnetLink, options: AddTorrentOptions, context: SessionContext) {
    super();
    if ("pieceMap" in source) this.#torrent = source;
    else this.#magnet = source;
    this.infoHash = source.infoHash;
    this.infoHashHex = source.infoHashHex;
    this.#options = options;
    this.#downloadLimiter = new RateLimiter(
      options.maxDownloadRate || Infinity,
      undefined,
      undefined,
      context.downloadLimiter,
    );
    this.#uploadLimiter = new RateLimiter(
      options.maxUploadRate || Infinity,
      undefined,
      undefined,
      context.uploadLimiter,
    );
    this.#context = {
      ...context,
      downloadLimiter: this.#downloadLimiter,
      uploadLimiter: this.#uploadLimiter,
    };
    this.#priorities = options.filePriorities;
    this.#sequential = options.sequential ?? false;
    this.#stateDir = options.stateDir ?? defaultStateDir(options.downloadDir);
    this.#resumePath = resumePath(this.#stateDir, source);
    this.done = new Promise((resolve, reject) => this.#settle = { resolve, reject });
    // Callers that only watch events must not see an unhandled rejection.
    this.done.catch(() => {});
    // The run is made when first needed: a daemon opens a thousand paused torrents at once.
  }

  /** The torrent, once its metadata is known (one added by magnet link has none until then). */
  get torrent(): Torrent | undefined {
    return this.#torrent;
  }

  /**
   * Gives a torrent added by magnet link its metadata (fetched from peers,
   * or from a `.torrent` file): it then checks what is on disk and
   * downloads like any torrent, or waits for `resume()` when paused.
   *
   * @throws {ShoalError} When its info hash is another, or the torrent has its metadata already.
   */
  setMetadata(torrent: Torrent): void {
    if (this.#torrent) throw new ShoalError(`${this.infoHashHex} has its metadata already`);
    if (!bytesEqual(torrent.infoHash, this.infoHash)) {
      throw new ShoalError(
        `The metadata is for ${torrent.infoHashHex}, not for ${this.infoHashHex}`,
      );
    }
    // Fetching it now: the run goes on with this torrent and the peers it has.
    if (this.#running && this.#runStarted && this.#run!.giveMetadata(torrent)) return;
    this.#learnMetadata(torrent);
    this.#run = this.#newRun(torrent);
    // Running (in `metadata`): it goes on now. Paused, or being paused: `resume()` starts it.
    if (this.#running && !this.#stopping && !this.#pausing) this.#startRun(this.#run);
  }

  /** The current state. */
  get state(): TorrentState {
    return this.#state;
  }

  /**
   * The rates and byte counts of {@linkcode status} alone (no trackers,
   * peers or files): for a program that looks at many torrents each second.
   */
  transfer(now: number = Date.now()): TransferStatus {
    return this.#transfer(this.#run?.stats(now), this.#progress());
  }

  /** Verified pieces and bytes: the run's once restored, else those of the run before. */
  #progress(): RunProgress {
    const run = this.#run;
    return run?.restored ? run.progress : this.#lastProgress;
  }

  #transfer(swarm: SwarmStats | undefined, progress: RunProgress): TransferStatus {
    const carried = this.#carried;
    return {
      downloadRate: swarm?.downloadRate ?? 0,
      uploadRate: swarm?.uploadRate ?? 0,
      downloaded: carried.downloaded + (swarm?.downloaded ?? 0),
      uploaded: carried.uploaded + (swarm?.uploaded ?? 0),
      wasted: carried.wasted + (swarm?.wasted ?? 0),
      bytesDone: progress.bytes,
      totalBytes: this.#run?.restored || this.#found || progress.wantedBytes > 0
        ? progress.wantedBytes
        : this.#torrent?.totalLength ?? 0,
    };
  }

  /** A snapshot of progress, rates, peers and trackers. */
  status(now: number = Date.now()): TorrentStatus {
    const torrent = this.#torrent ?? {
      name: this.#magnet?.displayName ?? this.infoHashHex,
      pieceCount: 0,
      totalLength: 0,
    };
    const run = this.#run;
    const swarm = run?.stats(now);
    const carried = this.#carried;
    const progress = this.#progress();
    const transfer = this.#transfer(swarm, progress);
    const { downloadRate, totalBytes: wantedBytes } = transfer;
    const left = wantedBytes - progress.bytes;
    const startedAt = run?.downloadStartedAt;
    const elapsedDownloading = startedAt ? (now - startedAt) / 1000 : 0;
    return {
      name: torrent.name,
      infoHash: this.infoHashHex,
      state: this.#state,
      piecesDone: progress.pieces,
      pieceCount: torrent.pieceCount,
      bytesDone: progress.bytes,
      bytesAtStart: progress.bytesAtStart,
      totalBytes: wantedBytes,
      torrentBytes: torrent.totalLength,
      progress: !this.#torrent ? 0 : wantedBytes === 0 ? 1 : progress.bytes / wantedBytes,
      filesSkipped: this.#priorities?.filter((priority) => priority === "skip").length ?? 0,
      checking: this.#state === "checking" ? run?.checking : undefined,
      metadata: this.#metadataProgress(),
      downloadRate,
      averageDownloadRate: elapsedDownloading > 0
        ? (swarm?.downloaded ?? 0) / elapsedDownloading
        : 0,
      uploadRate: transfer.uploadRate,
      etaSeconds: left === 0 ? 0 : downloadRate > 0 ? left / downloadRate : undefined,
      downloaded: transfer.downloaded,
      uploaded: transfer.uploaded,
      wasted: transfer.wasted,
      hashFailures: carried.hashFailures + (swarm?.hashFailures ?? 0),
      peersConnected: swarm?.connected ?? 0,
      peersSeen: swarm?.seen ?? 0,
      peersBanned: carried.banned + (swarm?.banned ?? 0),
      peersUsed: swarm?.peersUsed ?? 0,
      peersServed: swarm?.peersServed ?? 0,
      webSeeds: this.webSeeds(),
      elapsedMs: now - this.#addedAt,
      completedAfterMs: this.#completedAt === undefined
        ? undefined
        : this.#completedAt - this.#addedAt,
      trackers: run?.trackers() ??
        trackersBeforeRun(this.#torrent ?? this.#magnet!, this.#options),
      peersTried: swarm?.peersTried ?? 0,
      waiting: this.#waiting(now),
      error: this.#error?.message,
      fileError: run?.fileError,
    };
  }

  /**
   * Every file's priority and progress (bytes in verified pieces), once
   * the torrent's data has been restored; `undefined` before.
   */
  files(): FileProgress[] | undefined {
    const files = this.#run ? this.#run.files() : this.#found?.files;
    // Paused: the priorities set since are those the next run starts with.
    const asked = this.#priorities;
    if (!files || this.#running || !asked || asked.length !== files.length) return files;
    return files.map((file, i) => ({ ...file, priority: asked[i] }));
  }

  /** Each file's priority, in the torrent's file order, once known. */
  get filePriorities(): readonly FilePriority[] | undefined {
    if (!this.#running) return this.#priorities ?? this.#run?.priorities;
    return this.#run?.priorities ?? this.#priorities;
  }

  /**
   * Gives the files new priorities, at any time (also while downloading):
   * files selected now are created and downloaded, with what the part file
   * kept for them; `skip` files get no new requests and keep what they
   * hold on disk. A torrent that was complete downloads again (state
   * `downloading`) when a file it lacks is selected. Saved with the resume
   * data, so the next start keeps them.
   *
   * @param priorities One per file, in the torrent's file order.
   * @throws {FileSelectionError} When the list does not have one priority per file.
   * @throws {DiskError} When a file cannot be created or written.
   */
  async setFilePriorities(priorities: readonly FilePriority[]): Promise<void> {
    const count = this.#torrent?.files.length;
    if (count !== undefined && priorities.length !== count) {
      throw new FileSelectionError(
        `${priorities.length} priorities for the ${count} files of ${this.#torrent!.name}`,
      );
    }
    this.#priorities = [...priorities];
    if (!this.#running || !this.#runStarted) return; // The next run starts with them.
    if (await this.#run!.setFilePriorities(priorities)) return;
    // The run ended when it found every wanted piece: a new one downloads what was added.
    if (this.#stopping || this.#pausing) return;
    await this.pause();
    this.resume();
  }

  /** Whether pieces are downloaded in file order (see `AddTorrentOptions.sequential`). */
  get sequential(): boolean {
    return this.#sequential;
  }

  /** Downloads pieces in file order from now on, or rarest first again. */
  setSequential(on: boolean): void {
    this.#sequential = on;
    this.#run?.setSequential(on);
  }

  /**
   * A stream of file `file`'s bytes (`start` to `end`), read as they
   * arrive: a read waits for pieces not here yet, and the pieces just ahead
   * of it are fetched first. See {@linkcode readFileStream}.
   *
   * @example Stream a torrent's first file to stdout while it downloads
   * ```ts ignore
   * const handle = session.add(torrent, { downloadDir: "downloads", sequential: true });
   * await handle.readFile(0).pipeTo(Deno.stdout.writable);
   * ```
   *
   * @param file The file's index in `torrent.files` (0-based).
   * @param options The byte range, read-ahead and an abort signal.
   * @throws {FileReadError} Before the metadata is known, for a file that
   *   is skipped, or for a range outside the file.
   */
  readFile(file: number, options?: FileReadOptions): ReadableStream<Uint8Array> {
    const torrent = this.#torrent;
    if (!torrent) throw new FileReadError("The torrent's metadata is not known yet");
    if (this.filePriorities?.[file] === "skip") {
      throw new FileReadError(`File ${file + 1} is skipped: select it to read it`);
    }
    return readFileStream(this, torrent, file, options);
  }

  /** Whether piece `index` is verified and stored. */
  hasPiece(index: number): boolean {
    return this.#run ? this.#run.hasPiece(index) : this.#found?.have.has(index) ?? false;
  }

  /**
   * The bytes of a verified piece.
   *
   * @throws {DiskError} When it cannot be read.
   */
  readPiece(index: number): Promise<Uint8Array> {
    if (!this.#run) return Promise.reject(new ShoalError("The torrent is not running"));
    return this.#run.readPiece(index);
  }

  /**
   * Resolves once piece `index` is verified and stored. Rejects with a
   * {@linkcode FileReadError} when the torrent stops first, or completes
   * without it (its files are skipped), and when `signal` aborts.
   */
  waitForPiece(index: number, signal?: AbortSignal): Promise<void> {
    if (this.hasPiece(index)) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const done = (error?: Error) => {
        offPiece();
        offState();
        signal?.removeEventListener("abort", aborted);
        if (error) reject(error);
        else resolve();
      };
      const aborted = () => done(signal!.reason ?? new DOMException("Aborted", "AbortError"));
      const offPiece = this.on("piece", (piece) => {
        if (piece === index) done();
      });
      const offState = this.on("state", (state) => {
        if (this.hasPiece(index)) return done();
        if (state === "stopped" || state === "error" || state === "complete") {
          done(new FileReadError(`Piece ${index} will not arrive: the torrent is ${state}`));
        }
      });
      if (signal?.aborted) return aborted();
      signal?.addEventListener("abort", aborted, { once: true });
    });
  }

  /**
   * Piece `index` is needed by `at` (ms since the epoch): it is requested
   * before pieces without a deadline, soonest first.
   *
   * It holds across pauses and until the piece is here.
   *
   * @returns False when too many pieces have a deadline (`MAX_DEADLINES`).
   * @throws {RangeError} For a piece the torrent does not have.
   */
  setPieceDeadline(index: number, at: number): boolean {
    const count = this.#torrent?.pieceCount;
    if (count !== undefined && !(Number.isInteger(index) && index >= 0 && index < count)) {
      throw new RangeError(`piece ${index} is not in ${this.#torrent!.name}`);
    }
    if (this.hasPiece(index)) return true;
    if (!this.#deadlines.has(index) && this.#deadlines.size >= MAX_DEADLINES) return false;
    this.#deadlines.set(index, at);
    this.#run?.setPieceDeadline(index, at);
    return true;
  }

  /** Piece `index` (or, without one, every piece) needs no deadline any more. */
  clearPieceDeadline(index?: number): void {
    if (index === undefined) this.#deadlines.clear();
    else this.#deadlines.delete(index);
    this.#run?.clearPieceDeadline(index);
  }

  /** The connected peers. */
  peers(): PeerSummary[] {
    return this.#running ? this.#run?.peers() ?? [] : [];
  }

  /** The web seeds (BEP 19) and what each has done in this run (or the last, once stopped). */
  webSeeds(): WebSeedStatus[] {
    return this.#run?.webSeeds() ?? [];
  }

  /** Adds peer addresses to connect to. */
  addPeers(addresses: readonly PeerAddress[]): void {
    if (this.#running) this.#run?.addPeers(addresses);
  }

  #metadataProgress(): TorrentStatus["metadata"] {
    if (this.#state !== "metadata") return undefined;
    const progress = this.#run?.metadata;
    return {
      received: progress?.received ?? 0,
      total: progress?.total ?? 0,
      peers: progress?.sources ?? 0,
    };
  }

  /** Hands over a connection a peer opened to us; false when refused. */
  adopt(connection: PeerConnection): boolean {
    const state = this.#state;
    if (
      !this.#running || (state !== "downloading" && state !== "seeding" && state !== "metadata")
    ) {
      connection.close();
      return false;
    }
    return this.#run!.adopt(connection);
  }

  /**
   * Starts the torrent (added `paused`, or paused since): checks or
   * restores what is on disk, then downloads or seeds (a torrent added by
   * magnet link waits in `metadata`). A resume during a pause takes effect
   * once the pause is over. Nothing happens when it runs already, or has
   * stopped for good.
   */
  resume(): void {
    if (this.#pausing) {
      // Once the pause is over (unless the torrent is stopped for good meanwhile).
      this.#pausing.then(() => this.resume());
      return;
    }
    if (this.#running || this.#stopping) return;
    this.#running = true;
    this.#untick = this.#context.clock.subscribe((now) => this.#tick(now));
    if (this.#runStarted) {
      // A run is not started twice: the next one restores from the resume data the last saved.
      const last = this.#run!.stats();
      if (last) this.#carry(last);
      this.#lastProgress = this.#run!.progress;
    }
    // A new run after one that ran, for a check (made with its options), or the first one.
    const run = this.#runStarted || this.#verify || !this.#run
      ? this.#newRun(this.#torrent ?? this.#magnet!)
      : this.#run;
    this.#run = run;
    this.#checkOnlyRun = this.#verify?.checkOnly === true;
    this.#verify = undefined;
    this.#startedAt = Date.now();
    this.#startRun(run);
  }

  #startRun(run: TorrentRun): void {
    this.#runStarted = true;
    this.#setState(this.#torrent ? "checking" : "metadata");
    const name = this.#torrent?.name ?? this.#magnet?.displayName ?? this.infoHashHex;
    this.#starting = (async () => {
      this.#lock ??= await lockState(this.#stateDir, { infoHashHex: this.infoHashHex, name });
      await run.start();
    })().catch((error) => this.#fail(error));
  }

  /** The metadata is known: status and events show the torrent from now on. */
  #learnMetadata(torrent: Torrent): void {
    this.#torrent = torrent;
    if (torrent.private) this.#pool?.makePrivate();
    this.emit("metadata", torrent);
  }

  /**
   * Pauses the torrent: peers closed, `stopped` to the trackers, resume
   * data saved, files closed, state `paused`. It stays in its session (and
   * keeps its state lock); `resume()` starts it again.
   */
  pause(): Promise<void> {
    if (!this.#running || this.#stopping) return this.#pausing ?? Promise.resolve();
    this.#pausing ??= this.#halt("stopped").then(() => {
      this.#pausing = undefined;
      if (!this.#stopping) this.#setState("paused");
    });
    return this.#pausing;
  }

  /**
   * Stops for good: closes peers, announces `stopped`, waits for pieces
   * being written, saves resume data and closes files. `done` settles.
   */
  stop(): Promise<void> {
    this.#stopping ??= this.#shutdown("stopped");
    return this.#stopping;
  }

  /** When the torrent was added (ms since the epoch). */
  get addedAt(): number {
    return this.#addedAt;
  }

  /** When it last started (`resume()`), if it has. */
  get startedAt(): number | undefined {
    return this.#startedAt;
  }

  /** When every wanted piece was first in, in this session. */
  get completedAt(): number | undefined {
    return this.#completedAt;
  }

  /** Where its files are. */
  get downloadDir(): string {
    return this.#options.downloadDir;
  }

  /** Whether it runs (or is starting): not paused, stopped or failed. */
  get running(): boolean {
    return this.#running && !this.#pausing && !this.#stopping;
  }

  /**
   * Changes this torrent's rate limits, at once; the session's still apply.
   *
   * @param limits Bytes per second; `undefined` (or 0) for none of its own.
   */
  setRateLimits(limits: { maxDownloadRate?: number; maxUploadRate?: number }): void {
    this.#downloadLimiter.rate = limits.maxDownloadRate || Infinity;
    this.#uploadLimiter.rate = limits.maxUploadRate || Infinity;
  }

  /** Announces to its trackers now (while it runs), instead of at their next time. */
  reannounce(): void {
    if (this.running) this.#run?.reannounce();
  }

  /**
   * Checks every piece on disk again, whatever the resume data says. A
   * running torrent is paused, checked and goes on; a paused one is
   * checked (state `checking`, no peer, no tracker) and stays paused. A
   * torrent without its metadata yet has nothing to check.
   *
   * @throws {ShoalError} When the torrent has been stopped for good.
   */
  async verify(): Promise<void> {
    if (this.#stopping) {
      throw new ShoalError(`${this.infoHashHex} is stopped; it cannot be checked`);
    }
    if (!this.#torrent) return;
    // A check under way (a restore) is not a torrent running: it stays paused after this one.
    const wasRunning = this.#running && !this.#pausing && !this.#checkOnlyRun;
    await this.pause();
    if (this.#stopping) return;
    this.#verify = { checkOnly: !wasRunning, force: true };
    this.resume();
  }

  /**
   * Finds out what is on disk without starting: a paused torrent that has
   * not run yet reads its resume data (or checks its files when that does
   * not match them), as a start would, and stays paused, its progress,
   * pieces and files known (kept without the run that found them: a daemon
   * restores a thousand). Nothing happens otherwise.
   *
   * @returns When it is paused again.
   */
  async restore(): Promise<void> {
    if (this.#running || this.#runStarted || this.#stopping || !this.#torrent) return;
    this.#verify = { checkOnly: true, force: false };
    const paused = new Promise<void>((resolve) => {
      const off = this.on("state", (state) => {
        if (state === "paused" || state === "stopped" || state === "error") {
          off();
          resolve();
        }
      });
    });
    this.resume();
    await paused;
    await this.#pausing;
    const run = this.#run;
    // Still paused (not resumed meanwhile): what it found is kept, the run let go.
    if (!run?.have || this.#running || this.#pausing || this.#stopping) return;
    this.#lastProgress = run.progress;
    this.#found = { have: run.have, files: run.files() };
    this.#priorities ??= run.priorities;
    this.#run = undefined;
    this.#runStarted = false;
  }

  /**
   * Deletes what the torrent downloaded (its files, through its storage,
   * and nothing else) and its resume data. Only for a stopped torrent
   * (`Session.remove` with `deleteData` stops it first).
   *
   * @throws {ShoalError} When the torrent has not been stopped.
   * @throws {DiskError} When a file cannot be deleted.
   */
  async deleteData(): Promise<void> {
    if (!this.#stopping) throw new ShoalError("Stop the torrent before deleting its data");
    await this.#stopping;
    const torrent = this.#torrent;
    if (!torrent) return; // Nothing was ever stored.
    if (this.#options.requireComplete) {
      throw new ShoalError(
        `${torrent.name} was seeded from data shoal only reads (requireComplete); it is not deleted`,
      );
    }
    // Under the state lock, taken again: another shoal using the same data keeps it.
    const lock = await lockState(this.#stateDir, torrent);
    try {
      await (this.#run?.store ?? this.#newRun(torrent).store!).delete();
      await Deno.remove(this.#resumePath).catch(() => {});
    } finally {
      lock.release();
    }
  }

  /** Once a second, from the session's clock. */
  #tick(now: number): void {
    this.#run?.tick(now);
    this.#checkStall(now);
    this.#checkSeedLimits(now);
  }

  #newRun(source: Torrent | MagnetLink): TorrentRun {
    // A magnet link's peers are dialled besides those given.
    const peers = [...(this.#options.peers ?? []), ...(this.#magnet?.peers ?? [])];
    this.#pool ??= new PeerPool({ private: this.#torrent?.private ?? false });
    const options = {
      ...this.#options,
      peers,
      sequential: this.#sequential,
      forceCheck: this.#verify?.force,
      checkOnly: this.#verify?.checkOnly,
    };
    return new TorrentRun(source, options, this.#pool, this.#context, {
      resumePath: this.#resumePath,
      besideData: resumePath(defaultStateDir(this.#options.downloadDir), source),
      savedTorrent: savedTorrentPath(this.#stateDir, source),
      partFile: partFilePath(this.#stateDir, source),
    }, {
      metadata: (torrent) => this.#learnMetadata(torrent),
      checking: () => this.#setState("checking"),
      running: (seeding) => this.#setState(seeding ? "seeding" : "downloading"),
      piece: (index) => {
        this.#deadlines.delete(index);
        this.emit("piece", index);
      },
      priorities: (priorities) => this.#priorities = priorities,
      requestedPriorities: () => this.#priorities,
      deadlines: () => this.#deadlines,
      complete: () => this.#complete(),
      fatal: (error) => this.#fail(error),
      tracker: (status) => this.emit("tracker", status),
      checked: () => void this.pause(),
    });
  }

  #carry(stats: SwarmStats): void {
    this.#carried.downloaded += stats.downloaded;
    this.#carried.uploaded += stats.uploaded;
    this.#carried.wasted += stats.wasted;
    this.#carried.hashFailures += stats.hashFailures;
    this.#carried.banned += stats.banned;
  }

  /** While downloading: how long nothing has arrived, and why, once it is 5 s or more. */
  #waiting(now: number): { forMs: number; reason: string } | undefined {
    const state = this.#state;
    if ((state !== "downloading" && state !== "metadata") || !this.#running) return undefined;
    return this.#run?.waiting(now);
  }

  /** Stops seeding when its ratio or time is reached. */
  #checkSeedLimits(now: number): void {
    if (this.#state !== "seeding" || this.#stopping || this.#seedingSince === undefined) return;
    const { seedRatio, seedTimeMs } = this.#options;
    const uploaded = this.#carried.uploaded + (this.#run?.stats(now)?.uploaded ?? 0);
    const ratioReached = seedRatio !== undefined &&
      uploaded >= seedRatio * (this.#torrent?.totalLength ?? 0);
    const seeded = this.#seededMs + now - this.#seedingSince;
    const timeReached = seedTimeMs !== undefined && seeded >= seedTimeMs;
    if (!ratioReached && !timeReached) return;
    this.#context.log.info(
      ratioReached ? `seed ratio ${seedRatio} reached` : `seeded for ${seedTimeMs! / 1000} s`,
    );
    this.stop().catch(() => {}); // stop() never rejects; done settled at completion.
  }

  /** Gives up when nothing has arrived for `stallTimeoutMs`. */
  #checkStall(now: number): void {
    const limit = this.#options.stallTimeoutMs;
    const waiting = this.#waiting(now);
    if (limit === undefined || !waiting || waiting.forMs < limit) return;
    // Whole seconds, rounded down: the session's tick sees the limit passed within a second of it.
    this.#fail(
      new NetworkError(
        `Nothing arrived for ${
          Math.floor(waiting.forMs / 1000)
        } s, so shoal gave up (--stall-timeout): ${waiting.reason}`,
      ),
    );
  }

  /**
   * Every wanted piece is in: the state becomes `seeding` or `complete`.
   *
   * @returns Whether this is the first time (`complete` is emitted and `done` settles once).
   */
  #complete(): boolean {
    if (this.#state !== "seeding" && this.#state !== "complete") {
      this.#setState(this.#options.seed ? "seeding" : "complete");
    }
    if (this.#completedAt !== undefined) return false;
    this.#completedAt = Date.now();
    this.emit("complete", undefined);
    this.#settle.resolve("complete");
    return true;
  }

  /** Stops on a fatal error; the first one is the one reported (later ones follow from it). */
  #fail(error: unknown): void {
    if (this.#error) return;
    this.#error = error instanceof Error ? error : new Error(String(error));
    this.#context.log.error(this.#error.message);
    this.#stopping ??= this.#shutdown("error");
  }

  /** Stops the run in progress, if any (see `TorrentRun.stop` for the order). */
  async #halt(final: "stopped" | "error"): Promise<void> {
    if (!this.#running) return;
    this.#untick?.();
    this.#untick = undefined;
    if (this.#runStarted) await this.#run!.stop(this.#starting, final);
    this.#running = false;
  }

  /**
   * Stops for good: a pause under way first, then the run (its start-up,
   * peers, trackers, resume data, files), then the state lock. Never
   * rejects.
   */
  async #shutdown(final: "stopped" | "error"): Promise<void> {
    await this.#pausing;
    await this.#halt(final);
    this.#lock?.release();
    // An error wins over the stop that was under way and over seeding: it is what ended the torrent.
    if (this.#error) {
      this.#setState("error");
      this.emit("error", this.#error);
      this.#settle.reject(this.#error);
    } else {
      if (this.#state === "seeding") this.#setState("complete");
      else if (this.#state !== "complete") this.#setState(final);
      this.#settle.resolve("stopped");
    }
  }

  #setState(state: TorrentState): void {
    if (this.#state === state) return;
    // Seed time counts while seeding only.
    const now = Date.now();
    if (this.#seedingSince !== undefined) this.#seededMs += now - this.#seedingSince;
    this.#seedingSince = state === "seeding" ? now : undefined;
    this.#state = state;
    this.emit("state", state);
  }
}
