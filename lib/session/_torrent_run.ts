/**
 * One run of a torrent, from start to stop (a torrent that is paused and
 * resumed has several): for a magnet link, the metadata (saved by an
 * earlier run, or fetched from the swarm while the announcer runs, then
 * saved); then restores what is on disk (resume data, or a check of the
 * files), creates the files, runs the swarm (with the peers the metadata
 * came from) and the announcer, writes verified pieces, watches the files,
 * saves resume data when due, and stops in a fixed order. The handle (`torrent_handle.ts`) owns the torrent's
 * life across runs: its state, its events, its lock and its `done`.
 *
 * @module
 */

import type { PeerAddress } from "../net/peer_address.ts";
import type { Torrent } from "../metainfo/torrent.ts";
import type { MagnetLink } from "../metainfo/magnet.ts";
import type { PeerConnection } from "../wire/connection.ts";
import { fileStorage, FileStore } from "../storage/file_store.ts";
import type { FileState, Storage } from "../storage/storage.ts";
import { checkPieces } from "../storage/piece_check.ts";
import { PieceReadCache } from "../storage/_read_cache.ts";
import { filesUnchanged, loadResume, saveResume } from "../storage/resume.ts";
import { PieceWriter } from "../storage/piece_writer.ts";
import { PiecePicker, type SequentialOptions } from "../swarm/picker.ts";
import type { WebSeedStatus } from "../webseed/web_seed.ts";
import { type PeerSummary, Swarm, type SwarmStats } from "../swarm/swarm.ts";
import { Announcer, type TrackerStatus } from "../tracker/announcer.ts";
import {
  type AnnouncingPeerSource,
  type PeerSource,
  staticPeerSource,
} from "../discovery/peer_source.ts";
import type { PeerPool } from "../discovery/peer_pool.ts";
import type { PeerSourceKind } from "../discovery/peer_source.ts";
import { ShoalError } from "../errors.ts";
import { Bitfield } from "../util/bitfield.ts";
import { PieceRepair } from "./_piece_repair.ts";
import type { MetadataProgress } from "../swarm/metadata_swarm.ts";
import type { PeerSession } from "../swarm/peer_session.ts";
import { PeerExchange } from "../swarm/peer_exchange.ts";
import { loadSavedTorrent, MetadataPhase, saveTorrentFile } from "./_metadata_phase.ts";
import {
  type FileProgress,
  FileSelection,
  samePriorities,
  startingPriorities,
} from "./_file_selection.ts";
import { filePieceEnds, type FilePriority } from "../metainfo/file_priority.ts";
import { whyNothingArrives } from "./_nothing_arrives.ts";
import type { AddTorrentOptions, SessionContext } from "./torrent_handle.ts";

/** Below this many connections, with no address left to dial, a download asks for more peers. */
const FEW_PEERS = 5;
const ASK_MORE_EVERY_MS = 30_000;
/** A seed with no peer connected looks at its files this many times less often. */
const ALONE_CHECK_FACTOR = 6;

/**
 * The `left` announced before the metadata is known (the size is not): a
 * leecher's, so that trackers send seeds.
 */
const METADATA_LEFT = 16 * 1024;

/** What a run tells its handle. */
export interface RunEvents {
  /** A magnet link's torrent is known (fetched, or saved by an earlier run); `file` is its `.torrent`. */
  metadata(torrent: Torrent, file?: Uint8Array): void;
  /** Existing data is being checked. */
  checking(): void;
  /** The swarm runs: downloading, or seeding when every piece is in. */
  running(seeding: boolean): void;
  /** A piece was verified and written. */
  piece(index: number): void;
  /** The files' priorities are known, or changed. */
  priorities(priorities: readonly FilePriority[]): void;
  /** The priorities the owner asks for now, if any (read when the run starts downloading). */
  requestedPriorities(): readonly FilePriority[] | undefined;
  /** Pieces readers wait for, and by when (read when the run starts downloading). */
  deadlines(): ReadonlyMap<number, number>;
  /**
   * Every wanted piece is in.
   *
   * @returns False when the torrent was complete before (in this run or an earlier one).
   */
  complete(): boolean;
  /** Something failed that ends the run. */
  fatal(error: unknown): void;
  /** A tracker's state changed. */
  tracker(status: TrackerStatus): void;
  /** A run that only checks the data ({@linkcode RunOptions.checkOnly}) has checked it. */
  checked?(): void;
}

/** How a run goes: the torrent's options, and what a verify asks. */
export interface RunOptions extends AddTorrentOptions {
  /** Check every piece on disk, whatever the resume data says. */
  forceCheck?: boolean;
  /** Only check (no file created, no peer, no tracker), save the resume data, then `checked`. */
  checkOnly?: boolean;
}

/** Where a run's resume data is. */
export interface RunPaths {
  /** The state directory's resume file. */
  resumePath: string;
  /** The resume file beside the data (an earlier download's), when it is another. */
  besideData: string;
  /** Where a magnet link's `.torrent` is kept in the state directory. */
  savedTorrent: string;
  /** Where bytes of pieces shared with skipped files are kept. */
  partFile: string;
}

/** How far a run is. */
export interface RunProgress {
  /** Verified pieces. */
  pieces: number;
  /** Bytes of the selected files in verified pieces. */
  bytes: number;
  /** That, when downloading began. */
  bytesAtStart: number;
  /** Bytes of the selected files. */
  wantedBytes: number;
}

/** The tracker tiers a run announces to: the torrent's, or the magnet link's (none with `announce: false`). */
function announcedTiers(
  source: Torrent | MagnetLink,
  options: AddTorrentOptions,
): readonly (readonly string[])[] {
  if (options.announce === false) return [];
  return "pieceMap" in source ? source.trackers : source.trackers.map((url) => [url as string]);
}

/** The trackers of a torrent no run has been made for: every one `idle`, as a new run shows them. */
export function trackersBeforeRun(
  source: Torrent | MagnetLink,
  options: AddTorrentOptions,
): TrackerStatus[] {
  return announcedTiers(source, options).flatMap((urls, t) =>
    urls.map((url): TrackerStatus => ({ url, tier: t + 1, state: "idle" }))
  );
}

/** A torrent from one start to the next stop. */
export class TorrentRun {
  #torrent?: Torrent;
  /** The magnet link, for a run that starts without the metadata. */
  readonly #magnet?: MagnetLink;
  /** While the metadata is fetched. */
  #metadata?: MetadataPhase;
  /** Peers the metadata phase banned (counted with the swarm's). */
  #metadataBans = 0;
  /** Sessions from the metadata phase, open, until the swarm takes them. */
  #handedOver: PeerSession[] = [];
  readonly #options: RunOptions;
  readonly #context: SessionContext;
  readonly #pool: PeerPool;
  /** Peer exchange, through the metadata phase and the swarm after it. */
  readonly #exchange: PeerExchange;
  readonly #events: RunEvents;
  readonly #paths: RunPaths;
  #store?: Storage;
  /** The store, when it is files on disk: pieces are then written by a worker, and files watched. */
  #files?: FileStore;
  /** Hashes and writes finished pieces in a worker (files only, and not for a seed that only reads). */
  #writer?: PieceWriter;
  #picker?: PiecePicker;
  #swarm?: Swarm;
  /** Verified pieces read for peers and for readers of the files. */
  #cache?: PieceReadCache;
  /** Pieces start in file order (see `PiecePicker.setSequential`). */
  #sequential: boolean;
  readonly #announcer?: Announcer;
  #announcing = false;
  /** Where peers come from besides the trackers: the user's, and those the options add. */
  #sources: readonly PeerSource[];
  /** The sources from the session's services (LSD), which may announce the torrent too. */
  #shared: readonly AnnouncingPeerSource[];
  /** The session's services' sources, stopped when a magnet link's torrent turned out private. */
  #sharedStopped: Promise<void> = Promise.resolve();
  #sourcesStarted = false;
  /** Watches the files for changes by others and checks what they touch again. */
  #repair?: PieceRepair;
  #checking?: { checked: number; total: number };
  /** The files' priorities and progress, once what is on disk is known. */
  #selection?: FileSelection;
  /** Priorities being applied; the next change waits for it. */
  #selecting: Promise<void> = Promise.resolve();
  #bytesAtStart = 0;
  /** The run found the download complete and ended without a swarm. */
  #endedComplete = false;
  #downloadStartedAt?: number;
  #resumeDirty = false;
  /** A check-only run's resume data says what it knows (found so, or saved): no save is due at its stop. */
  #resumeKnown = false;
  #nextResumeAt = Infinity;
  #nextFileCheckAt = Infinity;
  /** When a payload byte last arrived (or downloading began), and the count then. */
  #lastArrival = { at: 0, downloaded: 0 };
  /** When the sources may next be asked for more peers. */
  #askMoreAt = 0;
  #fileError?: string;
  /** The files' states when the pieces were restored (resume data or a check). */
  #restoredStates?: (FileState | undefined)[];
  #saving: Promise<void> = Promise.resolve();
  readonly #checkAbort = new AbortController();
  #stopping = false;
  /** Ends the wait for metadata: with a torrent given, or with nothing when the run stops. */
  #metadataWait?: PromiseWithResolvers<Torrent | undefined>;

  /**
   * Prepares a run; nothing starts before {@linkcode start}.
   *
   * @param source The torrent, or the magnet link of one whose metadata is to be fetched.
   * @param options How it is run.
   * @param pool The torrent's peers (kept by the handle across runs).
   * @param context The session's shared parts.
   * @param paths Where resume data is.
   * @param events Where the run reports.
   */
  constructor(
    source: Torrent | MagnetLink,
    options: RunOptions,
    pool: PeerPool,
    context: SessionContext,
    paths: RunPaths,
    events: RunEvents,
  ) {
    this.#options = options;
    this.#sequential = options.sequential ?? false;
    this.#pool = pool;
    this.#context = context;
    this.#paths = paths;
    this.#events = events;
    if ("pieceMap" in source) this.#openStore(source);
    else this.#magnet = source;
    // Off for a private torrent too: the swarm turns it off (BEP 27).
    this.#exchange = new PeerExchange({ enabled: options.pex ?? true });
    // A private torrent takes no part in the session's services (BEP 27); a magnet link's may
    // turn out private: its sources listen, and announce only once the metadata says otherwise.
    this.#shared = this.#torrent?.private
      ? []
      : (context.discovery ?? []).map((service) => service.source(source.infoHash));
    this.#sources = [
      staticPeerSource("user", "user", options.peers ?? []),
      ...(options.peerSources ?? []),
      ...this.#shared,
    ];
    const trackers = announcedTiers(source, options);
    if (trackers.length > 0) {
      // Made now (it sends nothing before start) so its trackers show from the first status.
      this.#announcer = this.#makeAnnouncer(trackers, this.#torrent?.private ?? false);
    }
  }

  #openStore(torrent: Torrent): void {
    const options = this.#options;
    this.#torrent = torrent;
    this.#store = (options.storage ?? fileStorage)(torrent, {
      downloadDir: options.downloadDir,
      maxOpenFiles: options.maxOpenFiles,
      mode: options.requireComplete ? "read" : "write",
      beforeRead: (file) => this.#repair?.beforeRead(file) ?? (() => {}),
      partFile: this.#paths.partFile,
      warn: (message) => this.#context.log.warn(message),
    });
    if (this.#store instanceof FileStore) this.#files = this.#store;
  }

  /** The storage the run uses, once the torrent's metadata is known. */
  get store(): Storage | undefined {
    return this.#store;
  }

  /** While the metadata of a magnet link is fetched: how far it is. */
  get metadata(): MetadataProgress | undefined {
    return this.#metadata?.swarm.progress();
  }

  /**
   * Verified pieces; bytes of the selected files, and of those in verified
   * pieces now and when downloading began.
   */
  get progress(): RunProgress {
    const wanted = this.#selection?.wanted();
    return {
      pieces: this.#picker?.have.count ?? 0,
      bytes: wanted?.done ?? 0,
      bytesAtStart: this.#bytesAtStart,
      wantedBytes: wanted?.bytes ?? this.#torrent?.totalLength ?? 0,
    };
  }

  /** Every file's progress, once what is on disk is known. */
  files(): FileProgress[] | undefined {
    return this.#selection?.files();
  }

  /** The files' priorities, once what is on disk is known. */
  get priorities(): readonly FilePriority[] | undefined {
    return this.#selection?.priorities;
  }

  /**
   * Gives the files new priorities (one per file): files selected now are
   * created (with the bytes the part file kept for them) and downloaded;
   * skipped ones get no new requests and keep what they have. Changes run
   * one after the other.
   *
   * Before its swarm runs, the run takes the priorities its owner asks
   * for then (`RunEvents.requestedPriorities`).
   *
   * @returns False when the run cannot apply them: it ended when it found
   *   the download complete (a new run starts with them).
   * @throws {DiskError} When a file cannot be created or written.
   */
  async setFilePriorities(priorities: readonly FilePriority[]): Promise<boolean> {
    if (this.#endedComplete) return false;
    const apply = this.#selecting.catch(() => {}).then(async () => {
      const selection = this.#selection;
      if (!selection || !this.#swarm || this.#stopping) return true; // Taken when the swarm starts.
      const wasComplete = this.complete;
      selection.set(priorities);
      if (!this.#options.requireComplete) {
        await this.#store!.select?.(selection.selected());
        this.#swarm.setPiecePriorities(selection.levels());
        if (this.#sequential) this.#swarm.setSequential(this.#sequentialOptions());
      }
      this.#events.priorities(selection.priorities);
      if (wasComplete && !this.complete) this.#events.running(false);
      // Saved now: a crash must not bring back the selection before.
      await this.#saveResume();
      return true;
    });
    this.#selecting = apply.then(() => {}, () => {});
    return await apply;
  }

  /**
   * Starts pieces in file order from now on (the first and last piece of
   * each selected file first), or rarest first again.
   */
  setSequential(on: boolean): void {
    this.#sequential = on;
    this.#swarm?.setSequential(this.#sequentialOptions());
  }

  #sequentialOptions(): SequentialOptions | undefined {
    const selection = this.#selection;
    if (!this.#sequential || !selection) return undefined;
    return { early: filePieceEnds(this.#torrent!, selection.priorities) };
  }

  /** The verified pieces, once the data is restored (the picker keeps them up to date). */
  get have(): Bitfield | undefined {
    return this.#picker?.have;
  }

  /** Whether piece `index` is verified and on disk (false until the data is restored). */
  hasPiece(index: number): boolean {
    return this.#picker?.have.has(index) ?? false;
  }

  /**
   * The bytes of a verified piece, for a reader of the files.
   *
   * @throws {DiskError} When it cannot be read.
   * @throws {ShoalError} Before the data is restored.
   */
  readPiece(index: number): Promise<Uint8Array> {
    const torrent = this.#torrent;
    if (!this.#store || !torrent || !this.restored) {
      return Promise.reject(new ShoalError("The torrent's data is not restored yet"));
    }
    this.#cache ??= new PieceReadCache(this.#store, (i) => torrent.pieceMap.pieceSize(i));
    return this.#cache.read(index);
  }

  /**
   * Piece `index` is needed by `at` (ms since the epoch): requested before
   * the others (see `PiecePicker.setDeadline`).
   *
   * @returns False when too many pieces have one. Before the picker is
   *   made nothing happens: it reads the owner's deadlines then.
   */
  setPieceDeadline(index: number, at: number): boolean {
    // Between the picker and the swarm (the resume data is saved, the file watch made) the
    // picker takes it: it read the owner's deadlines already.
    if (this.#swarm) return this.#swarm.setDeadline(index, at);
    return this.#picker?.setDeadline(index, at) ?? true;
  }

  /** Piece `index` (or every piece) needs no deadline any more. */
  clearPieceDeadline(index?: number): void {
    if (this.#swarm) this.#swarm.clearDeadline(index);
    else this.#picker?.clearDeadline(index);
  }

  /** Whether what is on disk is known (restored from resume data, or checked). */
  get restored(): boolean {
    return this.#picker !== undefined;
  }

  /** While checking: pieces checked and pieces to check. */
  get checking(): { checked: number; total: number } | undefined {
    return this.#checking ? { ...this.#checking } : undefined;
  }

  /** When the swarm started (ms). */
  get downloadStartedAt(): number | undefined {
    return this.#downloadStartedAt;
  }

  /** The file error being repaired, if any. */
  get fileError(): string | undefined {
    return this.#fileError;
  }

  /** Whether every wanted piece is in. */
  get complete(): boolean {
    return this.#picker !== undefined && this.#picker.missing === 0;
  }

  /** Announces to every tracker now, instead of at its next time. */
  reannounce(): void {
    this.#announcer?.announceNow();
  }

  /** The swarm's counters, once it runs (while metadata is fetched, its peers only). */
  stats(now: number = Date.now()): SwarmStats | undefined {
    if (this.#swarm) {
      const stats = this.#swarm.stats(now);
      return { ...stats, banned: stats.banned + this.#metadataBans };
    }
    const metadata = this.metadata;
    if (!metadata) return undefined;
    return {
      connected: metadata.connected,
      seen: metadata.seen,
      downloadRate: 0,
      uploadRate: 0,
      downloaded: 0,
      uploaded: 0,
      wasted: 0,
      hashFailures: 0,
      banned: metadata.banned,
      peersUsed: 0,
      peersTried: metadata.tried,
      peersServed: 0,
      lastDialError: metadata.lastDialError,
    };
  }

  /** Every tracker's state. */
  trackers(): TrackerStatus[] {
    return this.#announcer?.statuses() ?? [];
  }

  /** The connected peers. */
  peers(): PeerSummary[] {
    return this.#swarm?.peers() ?? [];
  }

  /** The web seeds' states, once the swarm runs. */
  webSeeds(): WebSeedStatus[] {
    return this.#swarm?.webSeeds() ?? [];
  }

  /** Adds peer addresses to connect to. */
  addPeers(addresses: readonly PeerAddress[]): void {
    this.#addPeers(addresses);
  }

  /** To the swarm, or to the metadata phase's; kept in the pool between the two. */
  #addPeers(addresses: readonly PeerAddress[], source?: string, kind?: PeerSourceKind): void {
    if (this.#swarm) this.#swarm.addPeers(addresses, source, kind);
    else if (this.#metadata) this.#metadata.swarm.addPeers(addresses, source, kind);
    else this.#pool.add(addresses, source, kind);
  }

  /** Hands over a connection a peer opened to us; false when refused. */
  adopt(connection: PeerConnection): boolean {
    const swarm = this.#swarm ?? this.#metadata?.swarm;
    if (!swarm || this.#stopping) {
      connection.close();
      return false;
    }
    return swarm.adopt(connection);
  }

  /**
   * Restores what is on disk, creates the files and starts the swarm and the
   * announcer. A stop that comes meanwhile is seen after each step, and
   * nothing more is started.
   */
  async start(): Promise<void> {
    if (this.#stopping) return;
    const options = this.#options;
    // Addresses known from an earlier run are dialled again at once.
    this.#pool.readyAgain();
    if (!this.#torrent && !(await this.#fetchMetadata())) return;
    if (options.metadataOnly && this.#magnet) {
      for (const session of this.#handedOver) session.connection.close();
      this.#handedOver = [];
      this.#events.complete();
      return;
    }
    const torrent = this.#torrent!;
    const { pieces: have, priorities: saved, checked } = await this.#restore();
    if (this.#stopping) return;
    const selection = this.#selection = new FileSelection(
      torrent,
      startingPriorities(
        torrent,
        this.#events.requestedPriorities(),
        saved,
        this.#magnet?.selectOnly,
      ),
      have,
    );
    this.#events.priorities(selection.priorities);
    // A seed only reads: its data is complete, or it fails below.
    if (!options.requireComplete && !options.checkOnly) {
      await this.#store!.select?.(selection.selected());
      await this.#store!.create();
      if (this.#stopping) return;
      if (this.#files) this.#writer = new PieceWriter(torrent, this.#files);
    }
    const picker = this.#picker = new PiecePicker({
      pieceCount: torrent.pieceCount,
      pieceSize: (index) => torrent.pieceMap.pieceSize(index),
      have,
      // A seed that only reads never downloads, not even a piece it lost.
      priorities: options.requireComplete ? new Uint8Array(torrent.pieceCount) : selection.levels(),
      maxBufferedBytes: options.maxBufferedBytes,
      sequential: this.#sequentialOptions(),
    });
    for (const [index, at] of this.#events.deadlines()) picker.setDeadline(index, at);
    this.#bytesAtStart = selection.wanted().done;
    if (options.checkOnly) {
      this.#checking = undefined;
      // Saved when it learnt something: from matching resume data, or from no file at
      // all, it would write what is known already (a daemon restores a thousand).
      const kept = saved ?? selection.priorities.map((): FilePriority => "normal");
      if (checked || !samePriorities(kept, selection.priorities)) await this.#saveResume();
      this.#resumeKnown = true;
      this.#events.checked?.();
      return;
    }
    // A new selection is saved at once: a crash must not bring back the one before.
    if (!samePriorities(saved, selection.priorities) && !options.requireComplete) {
      await this.#saveResume();
    }
    this.#checking = undefined;
    if (options.requireComplete) {
      // The selected files must be complete (all of them, unless a download skipped some).
      const levels = selection.levels();
      const wanted = levels.reduce((n, level) => n + (level > 0 ? 1 : 0), 0);
      const missing = levels.reduce((n, level, i) => n + (level > 0 && !have.has(i) ? 1 : 0), 0);
      if (missing > 0) {
        throw new ShoalError(
          `Only ${wanted - missing} of ${wanted} ${
            selection.partial ? "pieces of the selected files" : "pieces"
          } of ${torrent.name} are in ${options.downloadDir}; shoal download completes them`,
        );
      }
    }
    if (picker.missing === 0 && !options.seed) {
      this.#endedComplete = true;
      await this.#saveResume();
      this.#events.complete();
      return;
    }
    const cache = this.#cache ??= new PieceReadCache(
      this.#store!,
      (index) => torrent.pieceMap.pieceSize(index),
    );
    // Files on disk are watched for changes by other programs; other stores are ours alone.
    const repair = this.#repair = this.#files
      ? await this.#makeRepair(cache, this.#files)
      : undefined;
    if (this.#stopping) return;
    this.#swarm = this.#makeSwarm(picker, cache, repair);
    this.#swarm.adoptSessions(this.#handedOver);
    this.#handedOver = [];
    this.#downloadStartedAt = Date.now();
    this.#events.running(picker.missing === 0);
    if (picker.missing === 0) this.#events.complete();
    this.#swarm.start();
    this.#startDiscovery();
    // Priorities asked for while the data was restored.
    const requested = this.#events.requestedPriorities();
    if (requested && !samePriorities(requested, selection.priorities)) {
      await this.setFilePriorities(requested);
    }
    const now = Date.now();
    this.#lastArrival = { at: now, downloaded: 0 };
    this.#nextResumeAt = now + (options.resumeIntervalMs ?? 10_000);
    if (repair) this.#nextFileCheckAt = now + (options.fileCheckIntervalMs ?? 10_000);
  }

  /** The announcer and the other peer sources, once per run (they go on from the metadata phase). */
  #startDiscovery(): void {
    if (!this.#announcing) this.#announcer?.start();
    this.#announcing = true;
    if (this.#sourcesStarted) return;
    this.#sourcesStarted = true;
    for (const source of this.#sources) {
      source.start((peers, name) => this.#addPeers(peers, name, source.kind));
    }
    this.#announceShared();
  }

  /** The session's services tell others of the torrent once it is known not to be private. */
  #announceShared(): void {
    if (this.#torrent?.private && this.#shared.length > 0) {
      // A magnet link's torrent turned out private (BEP 27): no more DHT lookups or LSD for it.
      const shared: readonly PeerSource[] = this.#shared;
      this.#shared = [];
      this.#sources = this.#sources.filter((source) => !shared.includes(source));
      this.#sharedStopped = Promise.all(shared.map((source) => source.stop())).then(() => {});
      return;
    }
    const announce = this.#torrent !== undefined && !this.#torrent.private &&
      !this.#options.metadataOnly && !this.#stopping;
    for (const source of this.#shared) source.announce(announce);
  }

  /**
   * A magnet link's torrent: the one an earlier run saved, or the metadata
   * fetched from peers (then saved, unless `saveTorrent` is false).
   *
   * @returns False when the run was stopped first.
   * @throws {TorrentError} When the metadata is not a torrent shoal can download.
   */
  async #fetchMetadata(): Promise<boolean> {
    const magnet = this.#magnet!;
    const options = this.#options;
    const context = this.#context;
    const saved = await loadSavedTorrent(this.#paths.savedTorrent, magnet);
    if (this.#stopping) return false;
    if (saved) {
      context.log.info(`metadata read from ${this.#paths.savedTorrent}`);
      this.#openStore(saved);
      this.#events.metadata(saved);
      return true;
    }
    const phase = this.#metadata = new MetadataPhase(magnet, {
      infoHash: magnet.infoHash,
      peerId: context.peerId,
      listenPort: context.port,
      pool: this.#pool,
      exchange: this.#exchange,
      log: context.log,
      maxMetadataSize: options.maxMetadataSize,
      maxPeers: options.maxPeers,
      timeouts: options.timeouts,
      transport: context.transport,
      dht: context.dht,
      downloadLimiter: context.downloadLimiter,
    });
    this.#lastArrival = { at: Date.now(), downloaded: 0 };
    phase.swarm.start();
    this.#startDiscovery();
    const wait = this.#metadataWait = Promise.withResolvers<Torrent | undefined>();
    // Fetched from the peers, or given by the owner (from a .torrent file, not saved here).
    const ended = await Promise.race([
      phase.fetched,
      wait.promise.then((torrent) => torrent && { torrent, file: undefined }),
    ]);
    this.#metadataWait = undefined;
    if (!ended) return false;
    // The peers stay connected: their sessions are the downloading swarm's.
    this.#handedOver = phase.swarm.handOver();
    this.#metadataBans = phase.swarm.progress().banned;
    this.#metadata = undefined;
    await phase.swarm.stop(); // Dials in flight.
    this.#openStore(ended.torrent);
    this.#announceShared();
    if (ended.file && (options.saveTorrent ?? true)) {
      await saveTorrentFile(this.#paths.savedTorrent, ended.file).catch((error) =>
        context.log.warn(`${(error as Error).message}; the metadata is fetched again next time`)
      );
    }
    this.#events.metadata(ended.torrent, ended.file);
    if (ended.torrent.private) {
      // BEP 27: the pool forgot peers heard of through PEX or LSD meanwhile; they go.
      this.#handedOver = this.#handedOver.filter((session) => {
        // Peers that dialled us may stay (BEP 27); those we dialled came from the pool.
        if (session.connection.direction === "incoming" || this.#pool.knows(session.poolKey)) {
          return true;
        }
        session.connection.close();
        return false;
      });
    }
    return !this.#stopping;
  }

  /**
   * The metadata of a magnet link, from elsewhere (a `.torrent` file),
   * while this run fetches it: the run goes on with it, keeping its peers.
   *
   * @returns False when the run is not fetching metadata now.
   */
  giveMetadata(torrent: Torrent): boolean {
    if (!this.#metadataWait || this.#stopping) return false;
    this.#metadataWait.resolve(torrent);
    return true;
  }

  #makeSwarm(picker: PiecePicker, cache: PieceReadCache, repair?: PieceRepair): Swarm {
    const torrent = this.#torrent!;
    const options = this.#options;
    const context = this.#context;
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
    const writer = this.#writer;
    return new Swarm({
      pool: this.#pool,
      exchange: this.#exchange,
      readPiece: (index) => cache.read(index),
      seed: options.seed,
      choker: { slots: options.uploadSlots },
      downloadLimiter: context.downloadLimiter,
      uploadLimiter: context.uploadLimiter,
      torrent,
      peerId: context.peerId,
      listenPort: context.port,
      picker,
      webSeeds: torrent.webSeeds,
      maxWebSeeds: options.maxWebSeeds,
      writePiece: (index, data) =>
        writing(index, () => this.#store!.writePiece(index, data), () => true),
      verifyAndWrite: writer
        ? (index, data) => writing(index, () => writer.verifyAndWrite(index, data), (r) => r.valid)
        : undefined,
      onReadError: (index, error) => repair?.readFailed(index, error),
      log: context.log,
      maxPeers: options.maxPeers,
      requestTimeoutMs: options.requestTimeoutMs,
      timeouts: options.timeouts,
      transport: context.transport,
      dht: torrent.private ? undefined : context.dht,
      pipeline: options.pipeline,
      onPieceVerified: (index) => {
        this.#selection?.piece(index, 1);
        this.#resumeDirty = true;
        this.#events.piece(index);
      },
      onComplete: () => {
        // Whole again after a file changed under the seed: it was complete already.
        if (!this.#events.complete()) return;
        this.#saveResume().catch((error) => context.log.warn(error.message));
        this.#announcer?.complete();
      },
      onFatal: (error) => this.#events.fatal(error),
    });
  }

  /** Once a second, from the session's clock: the swarm's housekeeping, file checks and resume saves when due. */
  tick(now: number): void {
    if (this.#stopping) return;
    this.#metadata?.swarm.tick(now);
    this.#swarm?.tick(now);
    this.#wantMorePeers(now);
    if (now >= this.#nextFileCheckAt) {
      // A seed with no peer looks less often (a hundred idle seeds would look every few
      // seconds for nobody); it still finds a changed file, to download it again.
      const alone = (this.#swarm?.peerCount ?? 0) === 0 && (this.#picker?.missing ?? 0) === 0;
      const interval = this.#options.fileCheckIntervalMs ?? 10_000;
      this.#nextFileCheckAt = now + (alone ? interval * ALONE_CHECK_FACTOR : interval);
      this.#repair?.checkFiles();
    }
    if (now >= this.#nextResumeAt) {
      this.#nextResumeAt = now + (this.#options.resumeIntervalMs ?? 10_000);
      if (this.#resumeDirty) {
        this.#saveResume().catch((error) => this.#context.log.warn(error.message));
      }
    }
  }

  /**
   * A download short of peers (few connected, none left to dial) asks its
   * sources for more, at most every 30 s; each source keeps its own limits.
   */
  #wantMorePeers(now: number): void {
    if (!this.#sourcesStarted || now < this.#askMoreAt) return;
    const swarm = this.#metadata?.swarm ?? this.#swarm;
    const downloading = this.#metadata !== undefined || (this.#picker?.missing ?? 0) > 0;
    if (!swarm || !downloading) return;
    if (swarm.peerCount >= FEW_PEERS || this.#pool.hasDialable(now)) return;
    this.#askMoreAt = now + ASK_MORE_EVERY_MS;
    for (const source of this.#sources) source.wantMore?.();
  }

  /**
   * The file watch, from the files' states now (their pieces were just
   * verified; a seed that only reads has them from the restore).
   */
  async #makeRepair(cache: PieceReadCache, files: FileStore): Promise<PieceRepair> {
    const writable = !this.#options.requireComplete;
    const log = this.#context.log;
    return new PieceRepair({
      torrent: this.#torrent!,
      store: files,
      known: (!writable && this.#restoredStates) || await files.states(),
      has: (index) => this.#picker!.have.has(index),
      lose: (pieces) => {
        const lost = this.#swarm?.losePieces(pieces) ?? [];
        for (const piece of lost) this.#selection?.piece(piece, -1);
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
      log,
      onDamage: (message) => {
        this.#fileError = message;
        log.error(message);
      },
      onRepaired: () => {
        if (this.#fileError) log.info("every damaged piece is good again");
        this.#fileError = undefined;
      },
    });
  }

  #makeAnnouncer(trackers: readonly (readonly string[])[], isPrivate: boolean): Announcer {
    const context = this.#context;
    return new Announcer({
      infoHash: this.#torrent?.infoHash ?? this.#magnet!.infoHash,
      peerId: context.peerId,
      port: context.port,
      trackers,
      private: isPrivate,
      udp: context.udp,
      http: context.http ? { client: context.http } : undefined,
      stats: () => {
        const stats = this.#swarm?.stats();
        const torrent = this.#torrent;
        return {
          uploaded: stats?.uploaded ?? 0,
          downloaded: stats?.downloaded ?? 0,
          left: torrent ? this.#left(torrent) : METADATA_LEFT,
        };
      },
      onTrackerChange: (url) => {
        context.log.info(
          `private torrent: now using tracker ${url}; dropping peers from the previous one`,
        );
        this.#swarm?.dropAllPeers();
        this.#metadata?.swarm.dropAllPeers();
      },
      onPeers: (peers) => {
        context.log.debug(`tracker ${peers[0]?.source}: ${peers.length} peers`);
        this.#addPeers(peers, peers[0]?.source, "tracker");
      },
      onStatusChange: (status) => this.#events.tracker(status),
      log: context.log,
    });
  }

  /** Bytes of the selected files still to download (all of them before the data is restored). */
  #left(torrent: Torrent): number {
    const wanted = this.#selection?.wanted();
    return wanted ? wanted.bytes - wanted.done : torrent.totalLength;
  }

  /** While downloading: how long nothing has arrived, and why, once it is 5 s or more. */
  waiting(now: number): { forMs: number; reason: string } | undefined {
    if (this.#picker?.missing === 0) return undefined;
    const stats = this.stats(now);
    if (!stats) return undefined;
    if (stats.downloaded > this.#lastArrival.downloaded) {
      this.#lastArrival = { at: now, downloaded: stats.downloaded };
    }
    const forMs = now - this.#lastArrival.at;
    if (forMs < 5000) return undefined;
    const reason = whyNothingArrives({
      trackers: this.trackers(),
      connected: stats.connected,
      seen: stats.seen,
      tried: stats.peersTried,
      lastDialError: stats.lastDialError,
      metadataSources: this.metadata?.sources,
      lsd: this.#shared.length > 0,
    });
    return { forMs, reason };
  }

  /**
   * Finds the verified pieces: from the resume file when the files are
   * unchanged, else by checking; and the priorities the resume file saved.
   */
  async #restore(): Promise<
    { pieces: Bitfield; priorities?: readonly FilePriority[]; checked: boolean }
  > {
    const log = this.#context.log;
    const torrent = this.#torrent!;
    const { resumePath, besideData } = this.#paths;
    const [resume, states] = await Promise.all([
      this.#options.forceCheck
        ? undefined
        : loadResume(resumePath, torrent).then((found) =>
          found ?? (besideData === resumePath ? undefined : loadResume(besideData, torrent))
        ),
      this.#store!.states(),
    ]);
    this.#restoredStates = states;
    const priorities = resume?.priorities;
    if (resume && filesUnchanged(resume, states, this.#files?.partFile?.state())) {
      log.info(`resume data matches the files on disk: ${resume.pieces.count} pieces verified`);
      return { pieces: resume.pieces, priorities, checked: false };
    }
    if (states.every((state) => state === undefined) && !this.#files?.partFile?.state()) {
      return { pieces: new Bitfield(torrent.pieceCount), priorities, checked: false };
    }
    log.info("checking existing data");
    this.#checking = { checked: 0, total: 0 };
    this.#events.checking();
    const pieces = await checkPieces(torrent, this.#store!, {
      signal: this.#checkAbort.signal,
      onProgress: (checked, total) => this.#checking = { checked, total },
    });
    log.info(`existing data checked: ${pieces.count} of ${torrent.pieceCount} pieces are good`);
    return { pieces, priorities, checked: true };
  }

  /**
   * Stops, in this order: the check of existing data (if running); the
   * swarm (every peer closed, pieces being written finished); the file
   * watch; the announcer (`stopped` to each tracker); the resume data; the
   * piece writer; the files. Never rejects: a step that fails is logged and
   * the next still runs.
   *
   * @param starting The run's start, which sees the stop and starts nothing more.
   * @param final Why: a plain stop completes a download whose last pieces were written meanwhile.
   */
  async stop(starting: Promise<void>, final: "stopped" | "error"): Promise<void> {
    const log = this.#context.log;
    const step = async (what: string, work: () => Promise<void> | undefined) => {
      try {
        await work();
      } catch (error) {
        log.warn(`stopping: ${what}: ${(error as Error).message}`);
      }
    };
    this.#stopping = true;
    // Nothing more tells the network about a torrent that is going away.
    for (const source of this.#shared) source.announce(false);
    this.#checkAbort.abort();
    this.#metadataWait?.resolve(undefined);
    for (const session of this.#handedOver) session.connection.close();
    await step("closing peers", () => this.#metadata?.swarm.stop());
    await starting;
    await step("closing peers", () => this.#swarm?.stop());
    await step("checking changed files", () => this.#repair?.stop());
    // The last pieces may have been written while the peers closed.
    if (final === "stopped" && this.#swarm && this.#picker?.missing === 0) {
      if (this.#events.complete()) this.#announcer?.complete();
    }
    await step("telling trackers", () => this.#announcer?.stop());
    if (this.#sourcesStarted) {
      for (const source of this.#sources) {
        await step(`stopping ${source.kind}`, () => source.stop());
      }
    }
    await step("stopping the session's peer sources", () => this.#sharedStopped);
    if (this.#picker && !(this.#resumeKnown && !this.#resumeDirty)) {
      await step("saving resume data", () => this.#saveResume());
    }
    await step("closing the piece writer", () => this.#writer?.close());
    await step("closing files", () => this.#store?.close());
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
      const files = await this.#store!.states();
      await saveResume(this.#paths.resumePath, this.#torrent!, {
        pieces,
        files,
        partFile: this.#files?.partFile?.state(),
        priorities: this.#selection?.priorities,
      });
    });
    return this.#saving;
  }
}
