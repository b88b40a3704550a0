/**
 * One torrent in a session: checks existing data (or trusts the resume
 * file), runs the swarm and the announcer, writes verified pieces, saves
 * resume data periodically and on stop, and reports its state.
 *
 * @module
 */

import type { PeerAddress } from "../net/peer_address.ts";
import type { Torrent } from "../metainfo/torrent.ts";
import type { PeerConnection, PeerTimeouts } from "../peer/connection.ts";
import type { Transport } from "../peer/transport.ts";
import { fileStorage, FileStore } from "../storage/file_store.ts";
import type { FileState, Storage, StorageFactory } from "../storage/storage.ts";
import { checkPieces } from "../storage/piece_check.ts";
import { PieceReadCache } from "../storage/_read_cache.ts";
import { PieceRepair } from "./_piece_repair.ts";
import { NetworkError, ShoalError } from "../errors.ts";
import { whyNothingArrives } from "./_nothing_arrives.ts";
import {
  defaultStateDir,
  filesUnchanged,
  loadResume,
  resumePath,
  saveResume,
} from "../storage/resume.ts";
import { lockState, type StateLock } from "../storage/state_lock.ts";
import { PieceWriter } from "../storage/piece_writer.ts";
import type { PipelineOptions } from "../swarm/peer_session.ts";
import { PiecePicker } from "../swarm/picker.ts";
import type { RateLimiter } from "../swarm/rate_limiter.ts";
import { type PeerSummary, Swarm } from "../swarm/swarm.ts";
import { Announcer, type TrackerStatus } from "../tracker/announcer.ts";
import type { UdpTrackerClient } from "../tracker/udp.ts";
import { Bitfield } from "../util/bitfield.ts";
import { Emitter } from "../util/emitter.ts";
import type { Logger } from "../util/log.ts";

/** Where a torrent is in its life. */
export type TorrentState =
  | "checking"
  | "downloading"
  | "seeding"
  | "complete"
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
  /** Bytes in verified pieces. */
  bytesDone: number;
  /** Bytes that were verified on disk already when downloading began (resumed or checked). */
  bytesAtStart: number;
  /** Total bytes. */
  totalBytes: number;
  /** `bytesDone / totalBytes`, 0–1 (1 for an empty torrent). */
  progress: number;
  /** While checking: pieces checked and pieces to check. */
  checking?: { checked: number; total: number };
  /** Bytes per second received now (5 s average). */
  downloadRate: number;
  /** Bytes per second received on average since downloading began. */
  averageDownloadRate: number;
  /** Bytes per second sent now. */
  uploadRate: number;
  /** Seconds until complete at the current rate, if it can be told. */
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
  /** Peers that sent at least one useful block. */
  peersUsed: number;
  /** Peers we sent at least one block to. */
  peersServed: number;
  /** Milliseconds since the torrent was added. */
  elapsedMs: number;
  /** Milliseconds from adding the torrent to having every piece, once complete. */
  completedAfterMs?: number;
  /** Every tracker's state. */
  trackers: TrackerStatus[];
  /** Distinct peer addresses dialled. */
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

/** Events of a {@linkcode TorrentHandle}. */
export type TorrentEvents = {
  /** The state changed. */
  state: TorrentState;
  /** A piece was verified and written. */
  piece: number;
  /** Every piece is verified and written. */
  complete: undefined;
  /** The torrent stopped on an error. */
  error: Error;
  /** A tracker started working, failed, or failed for another reason. */
  tracker: TrackerStatus;
};

/** How a torrent is run. */
export interface AddTorrentOptions {
  /** The download directory. */
  downloadDir: string;
  /**
   * How the torrent's data is kept. Default {@linkcode fileStorage}: its
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
  /** Most connections. Default 50. */
  maxPeers?: number;
  /** Most bytes of unverified pieces held in memory. Default 64 MiB. */
  maxBufferedBytes?: number;
  /** Announce to the torrent's trackers. Default true. */
  announce?: boolean;
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
   * Seed only: fail when the data on disk is incomplete, and only ever read
   * it: no data file is created or changed (for `shoal seed`). The state
   * directory is still written; give a `stateDir` elsewhere when the data's
   * folder must stay untouched. Default false.
   */
  requireComplete?: boolean;
  /**
   * How often the files' sizes and modification times are looked at, in ms
   * (at most 1000 files each time): a file changed by another program has
   * its pieces checked again before they are served. Default 10 s. Every
   * read for a peer also looks at its open file first.
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
  /** The torrent. */
  readonly torrent: Torrent;
  /** Settles when the download completes (`complete`) or is stopped first (`stopped`); rejects on a fatal error. */
  readonly done: Promise<"complete" | "stopped">;
  readonly #options: AddTorrentOptions;
  readonly #context: SessionContext;
  readonly #store: Storage;
  /** The store, when it is files on disk: pieces are then written by a worker, and files watched. */
  readonly #files?: FileStore;
  readonly #stateDir: string;
  readonly #resumePath: string;
  #lock?: StateLock;
  /** Hashes and writes finished pieces in a worker (not for a seed, which writes nothing). */
  #writer?: PieceWriter;
  readonly #addedAt = Date.now();
  #state: TorrentState = "checking";
  #checking?: { checked: number; total: number };
  #picker?: PiecePicker;
  #swarm?: Swarm;
  #announcer?: Announcer;
  #bytesDone = 0;
  #bytesAtStart = 0;
  #downloadStartedAt?: number;
  #resumeTimer?: ReturnType<typeof setInterval>;
  #resumeDirty = false;
  /** When a payload byte last arrived (or downloading began), and the count then. */
  #lastArrival = { at: 0, downloaded: 0 };
  #stallTimer?: ReturnType<typeof setInterval>;
  /** Watches the files for changes by others and checks what they touch again. */
  #repair?: PieceRepair;
  #fileTimer?: ReturnType<typeof setInterval>;
  #fileError?: string;
  /** When seeding began (the download completed). */
  #seedingSince?: number;
  /** The files' states when the pieces were restored (resume data or a check). */
  #restoredStates?: (FileState | undefined)[];
  #saving: Promise<void> = Promise.resolve();
  #error?: Error;
  #completedAt?: number;
  #stopping?: Promise<void>;
  #checkAbort = new AbortController();
  /** The start-up (restore, create files, start the swarm and announcer); shutdown waits for it. */
  readonly #starting: Promise<void>;
  #settle!: { resolve: (value: "complete" | "stopped") => void; reject: (error: Error) => void };

  /** Use {@linkcode Session.add}. */
  constructor(torrent: Torrent, options: AddTorrentOptions, context: SessionContext) {
    super();
    this.torrent = torrent;
    this.#options = options;
    this.#context = context;
    this.#store = (options.storage ?? fileStorage)(torrent, {
      downloadDir: options.downloadDir,
      maxOpenFiles: options.maxOpenFiles,
      mode: options.requireComplete ? "read" : "write",
      beforeRead: (file) => this.#repair?.beforeRead(file) ?? (() => {}),
    });
    if (this.#store instanceof FileStore) this.#files = this.#store;
    this.#stateDir = options.stateDir ?? defaultStateDir(options.downloadDir);
    this.#resumePath = resumePath(this.#stateDir, torrent);
    if ((options.announce ?? true) && torrent.trackers.length > 0) {
      // Made now (it sends nothing before start) so its trackers show from the first status.
      this.#announcer = this.#makeAnnouncer();
    }
    this.done = new Promise((resolve, reject) => this.#settle = { resolve, reject });
    // Callers that only watch events must not see an unhandled rejection.
    this.done.catch(() => {});
    this.#starting = this.#start().catch((error) => this.#fail(error));
  }

  /** The current state. */
  get state(): TorrentState {
    return this.#state;
  }

  /** A snapshot of progress, rates, peers and trackers. */
  status(now: number = Date.now()): TorrentStatus {
    const torrent = this.torrent;
    const swarm = this.#swarm?.stats(now);
    const piecesDone = this.#picker?.have.count ?? 0;
    const downloadRate = swarm?.downloadRate ?? 0;
    const left = torrent.totalLength - this.#bytesDone;
    const elapsedDownloading = this.#downloadStartedAt ? (now - this.#downloadStartedAt) / 1000 : 0;
    return {
      name: torrent.name,
      infoHash: torrent.infoHashHex,
      state: this.#state,
      piecesDone,
      pieceCount: torrent.pieceCount,
      bytesDone: this.#bytesDone,
      bytesAtStart: this.#bytesAtStart,
      totalBytes: torrent.totalLength,
      progress: torrent.totalLength === 0 ? 1 : this.#bytesDone / torrent.totalLength,
      checking: this.#checking ? { ...this.#checking } : undefined,
      downloadRate,
      averageDownloadRate: elapsedDownloading > 0
        ? (swarm?.downloaded ?? 0) / elapsedDownloading
        : 0,
      uploadRate: swarm?.uploadRate ?? 0,
      etaSeconds: left === 0 ? 0 : downloadRate > 0 ? left / downloadRate : undefined,
      downloaded: swarm?.downloaded ?? 0,
      uploaded: swarm?.uploaded ?? 0,
      wasted: swarm?.wasted ?? 0,
      hashFailures: swarm?.hashFailures ?? 0,
      peersConnected: swarm?.connected ?? 0,
      peersSeen: swarm?.seen ?? 0,
      peersBanned: swarm?.banned ?? 0,
      peersUsed: swarm?.peersUsed ?? 0,
      peersServed: swarm?.peersServed ?? 0,
      elapsedMs: now - this.#addedAt,
      completedAfterMs: this.#completedAt === undefined
        ? undefined
        : this.#completedAt - this.#addedAt,
      trackers: this.#announcer?.statuses() ?? [],
      peersTried: swarm?.peersTried ?? 0,
      waiting: this.#waiting(now),
      error: this.#error?.message,
      fileError: this.#fileError,
    };
  }

  /** The connected peers. */
  peers(): PeerSummary[] {
    return this.#swarm?.peers() ?? [];
  }

  /** Adds peer addresses to connect to. */
  addPeers(addresses: readonly PeerAddress[]): void {
    this.#swarm?.addPeers(addresses);
  }

  /** Hands over a connection a peer opened to us; false when refused. */
  adopt(connection: PeerConnection): boolean {
    if (!this.#swarm || (this.#state !== "downloading" && this.#state !== "seeding")) {
      connection.close();
      return false;
    }
    return this.#swarm.adopt(connection);
  }

  /**
   * Stops: closes peers, announces `stopped`, waits for pieces being
   * written, saves resume data and closes files. `done` settles.
   */
  stop(): Promise<void> {
    this.#stopping ??= this.#shutdown("stopped");
    return this.#stopping;
  }

  /**
   * Restores what is on disk, creates the files and starts the swarm and the
   * announcer. A stop that comes meanwhile is seen after each step, and
   * nothing more is started.
   */
  async #start(): Promise<void> {
    this.#lock = await lockState(this.#stateDir, this.torrent);
    if (this.#stopping) return;
    const have = await this.#restore();
    if (this.#stopping) return;
    // A seed only reads: its data is complete, or it fails below.
    if (!this.#options.requireComplete) {
      await this.#store.create();
      if (this.#stopping) return;
      if (this.#files) this.#writer = new PieceWriter(this.torrent, this.#files);
    }
    if (this.#stopping) return;
    this.#picker = new PiecePicker({
      pieceCount: this.torrent.pieceCount,
      pieceSize: (index) => this.torrent.pieceMap.pieceSize(index),
      have,
      // A seed that only reads never downloads, not even a piece it lost.
      wanted: this.#options.requireComplete ? () => false : undefined,
      maxBufferedBytes: this.#options.maxBufferedBytes,
    });
    for (const piece of have.indices()) this.#bytesDone += this.torrent.pieceMap.pieceSize(piece);
    this.#bytesAtStart = this.#bytesDone;
    this.#checking = undefined;
    if (!have.full && this.#options.requireComplete) {
      throw new ShoalError(
        `Only ${have.count} of ${this.torrent.pieceCount} pieces of ${this.torrent.name} are in ${this.#options.downloadDir}; shoal download completes them`,
      );
    }
    if (this.#picker.missing === 0 && !this.#options.seed) {
      await this.#saveResume();
      this.#complete();
      return;
    }
    const cache = new PieceReadCache(
      this.#store,
      (index) => this.torrent.pieceMap.pieceSize(index),
    );
    // Files on disk are watched for changes by other programs; other stores are ours alone.
    const repair = this.#repair = this.#files
      ? await this.#makeRepair(cache, this.#files)
      : undefined;
    if (this.#stopping) return;
    const writing = async <T>(index: number, write: () => Promise<T>, valid: (r: T) => boolean) => {
      repair?.writing(index);
      let written = false;
      try {
        const result = await write();
        written = valid(result);
        return result;
      } finally {
        repair?.wrote(index, written);
      }
    };
    this.#swarm = new Swarm({
      readPiece: (index) => cache.read(index),
      seed: this.#options.seed,
      choker: { slots: this.#options.uploadSlots },
      downloadLimiter: this.#context.downloadLimiter,
      uploadLimiter: this.#context.uploadLimiter,
      torrent: this.torrent,
      peerId: this.#context.peerId,
      listenPort: this.#context.port,
      picker: this.#picker,
      writePiece: (index, data) =>
        writing(index, () => this.#store.writePiece(index, data), () => true),
      verifyAndWrite: this.#writer
        ? (index, data) =>
          writing(index, () => this.#writer!.verifyAndWrite(index, data), (r) => r.valid)
        : undefined,
      onReadError: (index, error) => repair?.readFailed(index, error),
      log: this.#context.log,
      maxPeers: this.#options.maxPeers,
      requestTimeoutMs: this.#options.requestTimeoutMs,
      timeouts: this.#options.timeouts,
      transport: this.#context.transport,
      pipeline: this.#options.pipeline,
      onPieceVerified: (index) => {
        this.#bytesDone += this.torrent.pieceMap.pieceSize(index);
        this.#resumeDirty = true;
        this.emit("piece", index);
      },
      onComplete: () => {
        // Whole again after a file changed under the seed: it was complete already.
        if (this.#completedAt !== undefined) return;
        this.#saveResume().catch((error) => this.#context.log.warn(error.message));
        this.#announcer?.complete();
        this.#complete();
      },
      onFatal: (error) => this.#fail(error),
    });
    this.#downloadStartedAt = Date.now();
    this.#setState(this.#picker.missing === 0 ? "seeding" : "downloading");
    if (this.#picker.missing === 0) this.#settleComplete();
    this.#swarm.start();
    this.#swarm.addPeers(this.#options.peers ?? []);
    this.#announcer?.start();
    this.#lastArrival = { at: Date.now(), downloaded: 0 };
    this.#stallTimer = setInterval(() => {
      this.#checkStall();
      this.#checkSeedLimits(Date.now());
    }, 1000);
    if (repair) {
      this.#fileTimer = setInterval(
        () => repair.checkFiles(),
        this.#options.fileCheckIntervalMs ?? 10_000,
      );
    }
    this.#resumeTimer = setInterval(() => {
      if (this.#resumeDirty) {
        this.#saveResume().catch((error) => this.#context.log.warn(error.message));
      }
    }, this.#options.resumeIntervalMs ?? 10_000);
  }

  /**
   * The file watch, from the files' states now (their pieces were just
   * verified; a seed that only reads has them from the restore).
   */
  async #makeRepair(cache: PieceReadCache, files: FileStore): Promise<PieceRepair> {
    const writable = !this.#options.requireComplete;
    return new PieceRepair({
      torrent: this.torrent,
      store: files,
      known: (!writable && this.#restoredStates) || await files.states(),
      has: (index) => this.#picker!.have.has(index),
      lose: (pieces) => {
        const lost = this.#swarm?.losePieces(pieces) ?? [];
        for (const piece of lost) this.#bytesDone -= this.torrent.pieceMap.pieceSize(piece);
        if (lost.length > 0) this.#resumeDirty = true;
        return lost;
      },
      regain: (pieces) => this.#swarm?.regainPieces(pieces),
      forgetCached: (index) => cache.forget(index),
      reopen: (file) => {
        files.reopen(file);
        this.#writer?.reopen(file);
      },
      writable,
      log: this.#context.log,
      onDamage: (message) => {
        this.#fileError = message;
        this.#context.log.error(message);
      },
      onRepaired: () => {
        if (this.#fileError) this.#context.log.info("every damaged piece is good again");
        this.#fileError = undefined;
      },
    });
  }

  #makeAnnouncer(): Announcer {
    return new Announcer({
      infoHash: this.torrent.infoHash,
      peerId: this.#context.peerId,
      port: this.#context.port,
      trackers: this.torrent.trackers,
      private: this.torrent.private,
      udp: this.#context.udp,
      http: this.#context.http ? { client: this.#context.http } : undefined,
      stats: () => {
        const stats = this.#swarm?.stats();
        return {
          uploaded: stats?.uploaded ?? 0,
          downloaded: stats?.downloaded ?? 0,
          left: this.torrent.totalLength - this.#bytesDone,
        };
      },
      onTrackerChange: (url) => {
        this.#context.log.info(
          `private torrent: now using tracker ${url}; dropping peers from the previous one`,
        );
        this.#swarm?.dropAllPeers();
      },
      onPeers: (peers) => {
        this.#context.log.debug(`tracker ${peers[0]?.source}: ${peers.length} peers`);
        this.#swarm?.addPeers(peers, peers[0]?.source);
      },
      onStatusChange: (status) => this.emit("tracker", status),
      log: this.#context.log,
    });
  }

  /** While downloading: how long nothing has arrived, and why, once it is 5 s or more. */
  #waiting(now: number): { forMs: number; reason: string } | undefined {
    if (this.#state !== "downloading" || !this.#swarm) return undefined;
    const stats = this.#swarm.stats(now);
    if (stats.downloaded > this.#lastArrival.downloaded) {
      this.#lastArrival = { at: now, downloaded: stats.downloaded };
    }
    const forMs = now - this.#lastArrival.at;
    if (forMs < 5000) return undefined;
    const reason = whyNothingArrives({
      trackers: this.#announcer?.statuses() ?? [],
      connected: stats.connected,
      seen: stats.seen,
      tried: stats.peersTried,
      lastDialError: stats.lastDialError,
    });
    return { forMs, reason };
  }

  /** Gives up when nothing has arrived for `stallTimeoutMs`. */
  /** Stops seeding when its ratio or time is reached. */
  #checkSeedLimits(now: number): void {
    if (this.#state !== "seeding" || this.#stopping || this.#seedingSince === undefined) return;
    const { seedRatio, seedTimeMs } = this.#options;
    const uploaded = this.#swarm?.stats(now).uploaded ?? 0;
    const ratioReached = seedRatio !== undefined &&
      uploaded >= seedRatio * this.torrent.totalLength;
    const timeReached = seedTimeMs !== undefined && now - this.#seedingSince >= seedTimeMs;
    if (!ratioReached && !timeReached) return;
    this.#context.log.info(
      ratioReached ? `seed ratio ${seedRatio} reached` : `seeded for ${seedTimeMs! / 1000} s`,
    );
    this.stop().catch(() => {}); // stop() never rejects; done settled at completion.
  }

  #checkStall(): void {
    const limit = this.#options.stallTimeoutMs;
    const waiting = this.#waiting(Date.now());
    if (limit === undefined || !waiting || waiting.forMs < limit) return;
    this.#fail(
      new NetworkError(
        `Nothing arrived for ${
          Math.round(waiting.forMs / 1000)
        } s, so shoal gave up (--stall-timeout): ${waiting.reason}`,
      ),
    );
  }

  /** Finds the verified pieces: from the resume file when the files are unchanged, else by checking. */
  async #restore(): Promise<Bitfield> {
    const log = this.#context.log;
    const besideData = resumePath(defaultStateDir(this.#options.downloadDir), this.torrent);
    const [resume, states] = await Promise.all([
      loadResume(this.#resumePath, this.torrent).then((found) =>
        found ??
          (besideData === this.#resumePath ? undefined : loadResume(besideData, this.torrent))
      ),
      this.#store.states(),
    ]);
    this.#restoredStates = states;
    if (resume && filesUnchanged(resume, states)) {
      log.info(`resume data matches the files on disk: ${resume.pieces.count} pieces verified`);
      return resume.pieces;
    }
    if (states.every((state) => state === undefined)) return new Bitfield(this.torrent.pieceCount);
    log.info("checking existing data");
    this.#checking = { checked: 0, total: 0 };
    this.#setState("checking");
    const pieces = await checkPieces(this.torrent, this.#store, {
      signal: this.#checkAbort.signal,
      onProgress: (checked, total) => this.#checking = { checked, total },
    });
    log.info(
      `existing data checked: ${pieces.count} of ${this.torrent.pieceCount} pieces are good`,
    );
    return pieces;
  }

  #complete(): void {
    if (this.#state === "complete" || this.#state === "seeding") return;
    this.#setState(this.#options.seed ? "seeding" : "complete");
    this.#settleComplete();
  }

  #settleComplete(): void {
    this.#completedAt = Date.now();
    if (this.#options.seed) this.#seedingSince = this.#completedAt;
    this.emit("complete", undefined);
    this.#settle.resolve("complete");
  }

  /** Stops on a fatal error; the first one is the one reported (later ones follow from it). */
  #fail(error: unknown): void {
    if (this.#error) return;
    this.#error = error instanceof Error ? error : new Error(String(error));
    this.#context.log.error(this.#error.message);
    this.#stopping ??= this.#shutdown("error");
  }

  /**
   * Stops, in this order: the check of existing data (if running) and the
   * start-up, which then starts nothing more; the swarm (every peer closed,
   * pieces being written finished); the announcer (`stopped` to each
   * tracker); the resume data; the files. Never rejects: a step that fails
   * is logged and the next still runs.
   */
  async #shutdown(final: "stopped" | "error"): Promise<void> {
    const log = this.#context.log;
    const step = async (what: string, work: () => Promise<void> | undefined) => {
      try {
        await work();
      } catch (error) {
        log.warn(`stopping: ${what}: ${(error as Error).message}`);
      }
    };
    this.#checkAbort.abort();
    await this.#starting;
    clearInterval(this.#resumeTimer);
    clearInterval(this.#stallTimer);
    clearInterval(this.#fileTimer);
    await step("closing peers", () => this.#swarm?.stop());
    await step("checking changed files", () => this.#repair?.stop());
    // The last pieces may have been written while the peers closed.
    if (final === "stopped" && this.#state === "downloading" && this.#picker?.missing === 0) {
      this.#announcer?.complete();
      this.#complete();
    }
    await step("telling trackers", () => this.#announcer?.stop());
    if (this.#picker) await step("saving resume data", () => this.#saveResume());
    await step("closing the piece writer", () => this.#writer?.close());
    await step("closing files", () => this.#store.close());
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
    this.#state = state;
    this.emit("state", state);
  }

  /** Saves resume data; saves never overlap. */
  #saveResume(): Promise<void> {
    const picker = this.#picker;
    if (!picker) return Promise.resolve();
    if (this.#repair?.unsettled) {
      // Pieces taken back are being checked: what the files hold is not known. Later.
      this.#resumeDirty = true;
      return Promise.resolve();
    }
    this.#resumeDirty = false;
    this.#saving = this.#saving.catch(() => {}).then(async () => {
      // Pieces first, then file times: a write after the snapshot changes a
      // time and forces a check, never the other way round.
      const pieces = new Bitfield(picker.have.size, picker.have.bytes);
      const files = await this.#store.states();
      await saveResume(this.#resumePath, this.torrent, { pieces, files });
    });
    return this.#saving;
  }
}
