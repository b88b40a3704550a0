/**
 * The daemon: one {@linkcode Session} with many torrents, kept in a state
 * directory so that the torrent list, each torrent's options, selection and
 * resume data, and the settings survive a restart or a kill -9. It runs
 * the download and seed queues, the seed limits, the rate limits (session
 * and per torrent), the completion script and the watch folder. The RPC
 * (`transmission_methods.ts`) and the CLI drive it through its methods.
 *
 * @module
 */

import { ShoalError } from "../errors.ts";
import { parseMagnet } from "../metainfo/magnet.ts";
import {
  parseTorrent,
  readTorrentFile,
  readTorrentFileSync,
  type Torrent,
} from "../metainfo/torrent.ts";
import type { MagnetLink } from "../metainfo/magnet.ts";
import type { FilePriority } from "../metainfo/file_priority.ts";
import { Session, type SessionOptions } from "../session/session.ts";
import type {
  AddTorrentOptions,
  TorrentHandle,
  TransferStatus,
} from "../session/torrent_handle.ts";
import { saveTorrentFile } from "../session/_metadata_phase.ts";
import { samePriorities } from "../session/_file_selection.ts";
import { writeAtomically } from "../storage/_atomic_write.ts";
import { type Logger, silentLogger } from "../util/log.ts";
import { chooseRunning } from "./_queue.ts";
import {
  deleteRecord,
  loadRecords,
  saveRecord,
  type TorrentRecord,
  torrentsDir,
} from "./_records.ts";
import { type DaemonSettings, defaultSettings, loadSettings, saveSettings } from "./settings.ts";
import { runOnComplete } from "./_on_complete.ts";
import { WatchDir } from "./_watch_dir.ts";
import { AllowedDirs } from "./allowed_dirs.ts";

/** Bytes in one of Transmission's kB. */
export const KILO = 1000;

/** How long after a state change the queue is looked at (the changes of that time at once), in ms. */
const SCHEDULE_DELAY_MS = 20;
/**
 * Most torrents started by one pass of the queue; the next pass starts the
 * next ones. A hundred starting together (files, resume data, announces)
 * would keep the RPC from answering for a tenth of a second.
 */
const STARTS_PER_PASS = 8;
/**
 * How long after the daemon opens the queue's first pass comes, in ms: the
 * RPC, served once it has opened, answers a remote that was waiting before
 * the torrents start (their starts kept its first answer waiting 50 ms more
 * with 1,000 torrents, 100 to start: measured).
 */
const FIRST_PASS_DELAY_MS = 100;
/** How long restores run before the event loop gets a turn with nothing else to do, in ms. */
const RESTORES_SLICE_MS = 10;

/** How often the records of running torrents get their changed byte counters saved, in ms. */
const COUNTERS_SAVE_MS = 60_000;
/** How often their time counters alone are saved, in ms. */
const TIMES_SAVE_MS = 600_000;

/** How long a torrent counts as recently active, and a removal as recent, in ms. */
export const RECENT_MS = 60_000;

/** Options of {@linkcode Daemon.open}. */
export interface DaemonOptions {
  /** Where the torrent list, resume data and settings are kept. */
  stateDir: string;
  /** The default download folder, for a new state directory (then the saved one counts). */
  downloadDir: string;
  /** Settings given on the command line: they replace the saved ones (and are saved). */
  settings?: Partial<DaemonSettings>;
  /** Folders the RPC may name; default the download folder. */
  allowedDirs?: readonly string[];
  /** The session's options (port, bind, DHT, LSD); its log is `log`. */
  session?: Omit<SessionOptions, "log" | "maxDownloadRate" | "maxUploadRate">;
  /** `.torrent` files dropped here are added. */
  watchDir?: string;
  /** Where to log. */
  log?: Logger;
  /** Options given to every torrent (tests: peers, timeouts). */
  torrentDefaults?: Partial<AddTorrentOptions>;
}

/** A torrent of the daemon, as the RPC sees it. */
export interface DaemonTorrent {
  /** Its id: 1, 2, … in the order torrents were added (not kept across restarts, as Transmission). */
  readonly id: number;
  /** What is saved of it. */
  readonly record: Readonly<TorrentRecord>;
  /** Its handle in the session. */
  readonly handle: TorrentHandle;
  /** Waiting for a place in the queue (wanted running, not running). */
  readonly queued: boolean;
  /** Stopped at a seed limit. */
  readonly finished: boolean;
  /** When bytes last moved. */
  readonly activityAt: number;
  /** Where its `.torrent` is kept, once its metadata is known. */
  readonly torrentFile: string;
  /** Bytes downloaded, uploaded and wasted over every run, restarts included. */
  totals(status?: TransferStatus): { downloaded: number; uploaded: number; corrupt: number };
}

/** What {@linkcode Daemon.add} takes. */
export interface AddRequest {
  /** The torrent: a parsed `.torrent` with its bytes, or a magnet link. */
  source: { torrent: Torrent; bytes: Uint8Array } | { magnet: MagnetLink; text: string };
  /** Its folder (checked by the caller); default the settings'. */
  downloadDir?: string;
  /** Added stopped; default: not `startAddedTorrents`. */
  paused?: boolean;
  /** Its files' priorities. */
  priorities?: FilePriority[];
  /** Most peers. */
  peerLimit?: number;
  /** Labels. */
  labels?: string[];
}

/** What a torrent-level change may set. */
export interface TorrentChanges {
  /** The files' priorities (`skip` for a file not wanted), in file order. */
  priorities?: FilePriority[];
  /** Pieces in file order. */
  sequential?: boolean;
  /** Its own download limit, kB/s. */
  downloadLimit?: Partial<TorrentRecord["downloadLimit"]>;
  /** Its own upload limit, kB/s. */
  uploadLimit?: Partial<TorrentRecord["uploadLimit"]>;
  /** Its seed ratio limit. */
  seedRatio?: Partial<TorrentRecord["seedRatio"]>;
  /** Its idle seeding limit, minutes. */
  seedIdle?: Partial<TorrentRecord["seedIdle"]>;
  /** Most peers. */
  peerLimit?: number;
  /** The user's labels. */
  labels?: string[];
  /** Its place in the queue, 0 first. */
  queuePosition?: number;
}

/** Session totals, kept across restarts (`session-stats`). */
export interface SessionTotals {
  /** Bytes uploaded. */
  uploadedBytes: number;
  /** Bytes downloaded. */
  downloadedBytes: number;
  /** Files of the torrents added. */
  filesAdded: number;
  /** Times the daemon started. */
  sessionCount: number;
  /** Seconds the daemon ran. */
  secondsActive: number;
}

/** A torrent in memory: its record, handle and what the queue and limits need. */
class Entry implements DaemonTorrent {
  readonly id: number;
  record: TorrentRecord;
  handle: TorrentHandle;
  queued = false;
  finished = false;
  activityAt = 0;
  /** Uploaded bytes at the last tick, and since when that has not moved. */
  idle = { uploaded: -1, since: 0 };
  /** The counters saved before this process (from the record as loaded). */
  readonly base: { downloaded: number; uploaded: number; corrupt: number };
  /** Counters of handles replaced (set-location, restart after an error) in this process. */
  folded = { downloaded: 0, uploaded: 0, corrupt: 0 };
  readonly torrentFile: string;

  constructor(id: number, record: TorrentRecord, handle: TorrentHandle, torrentFile: string) {
    this.id = id;
    this.record = record;
    this.handle = handle;
    this.torrentFile = torrentFile;
    this.base = {
      downloaded: record.downloadedEver,
      uploaded: record.uploadedEver,
      corrupt: record.corruptEver,
    };
  }

  /** Every wanted piece is in (for a torrent that has not run since the start: it was when saved). */
  get complete(): boolean {
    const state = this.handle.state;
    if (state === "seeding" || state === "complete") return true;
    if (state === "downloading" || state === "metadata") return false;
    const { bytesDone, totalBytes } = this.handle.transfer();
    if (this.handle.torrent && bytesDone > 0) return bytesDone >= totalBytes;
    return this.record.doneAt !== undefined;
  }

  get wanted(): boolean {
    return this.record.run;
  }

  get failed(): boolean {
    return this.handle.state === "error";
  }

  /** Bytes downloaded, uploaded and wasted in this process. */
  session(
    status: TransferStatus = this.handle.transfer(),
  ): { downloaded: number; uploaded: number; corrupt: number } {
    return {
      downloaded: this.folded.downloaded + status.downloaded,
      uploaded: this.folded.uploaded + status.uploaded,
      corrupt: this.folded.corrupt + status.wasted,
    };
  }

  /** Bytes downloaded, uploaded and wasted over every run. */
  totals(status?: TransferStatus): { downloaded: number; uploaded: number; corrupt: number } {
    const now = this.session(status);
    return {
      downloaded: this.base.downloaded + now.downloaded,
      uploaded: this.base.uploaded + now.uploaded,
      corrupt: this.base.corrupt + now.corrupt,
    };
  }
}

/** The daemon's state directory is held by another process. */
export class DaemonLockedError extends ShoalError {}

/**
 * Many torrents, kept across restarts.
 *
 * @example A daemon with one torrent, closed again
 * ```ts
 * import { createTorrent } from "../metainfo/mod.ts";
 * import { Daemon } from "./daemon.ts";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.writeFile(`${dir}/file.bin`, new Uint8Array(20_000));
 * const { torrent, bytes } = await createTorrent(`${dir}/file.bin`);
 * const daemon = await Daemon.open({
 *   stateDir: `${dir}/state`,
 *   downloadDir: `${dir}/downloads`,
 *   session: { port: 0, host: "127.0.0.1" },
 * });
 * const { torrent: added } = await daemon.add({ source: { torrent, bytes }, paused: true });
 * console.log(added.id, added.record.name); // 1 file.bin
 * await daemon.close();
 * // Opened again, it has the torrent still.
 * const again = await Daemon.open({ stateDir: `${dir}/state`, downloadDir: `${dir}/downloads`, session: { port: 0, host: "127.0.0.1" } });
 * console.log(again.torrents().map((t) => t.record.name)); // [ "file.bin" ]
 * await again.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class Daemon {
  /** The session that runs the torrents. */
  readonly session: Session;
  /** Folders the RPC may name. */
  readonly allowedDirs: AllowedDirs;
  readonly #stateDir: string;
  readonly #torrentsDir: string;
  readonly #log: Logger;
  readonly #options: DaemonOptions;
  #settings: DaemonSettings;
  readonly #entries = new Map<string, Entry>();
  /** {@linkcode Daemon.#ordered}'s list, until the list or a position changes. */
  #order?: Entry[];
  #nextId = 1;
  readonly #removed: { id: number; at: number }[] = [];
  /** The totals of the sessions before this one. */
  readonly #totals: SessionTotals;
  /** Bytes of the torrents removed in this session. */
  readonly #removedBytes = { uploaded: 0, downloaded: 0 };
  #addedThisSession = 0;
  readonly #startedAt = Date.now();
  readonly #lock: Deno.FsFile;
  #timer?: ReturnType<typeof setInterval>;
  #watch?: WatchDir;
  /** Tasks the daemon owns (scripts, saves, restores); close() waits for them. */
  readonly #tasks = new Set<Promise<unknown>>();
  readonly #abort = new AbortController();
  #closed = false;
  /** Saves of each torrent's record, one after the other. */
  readonly #saving = new Map<string, Promise<void>>();
  /** Record saves not begun yet, by torrent. */
  readonly #queuedSaves = new Map<Entry, Promise<void>>();
  /** Torrents restored one at a time after the start (their progress read from resume data). */
  #restoring: Promise<void> = Promise.resolve();
  /** When the restores last let the event loop wait for a timer. */
  #breathedAt = 0;

  private constructor(
    options: DaemonOptions,
    settings: DaemonSettings,
    totals: SessionTotals,
    lock: Deno.FsFile,
    session: Session,
  ) {
    this.#options = options;
    this.#stateDir = options.stateDir;
    this.#torrentsDir = torrentsDir(options.stateDir);
    this.#log = options.log ?? silentLogger;
    this.#settings = settings;
    this.#totals = totals;
    this.#lock = lock;
    this.session = session;
    this.allowedDirs = new AllowedDirs(options.allowedDirs ?? [settings.downloadDir]);
  }

  /**
   * Opens the state directory (locking it), reads the settings and the
   * torrents, opens the session and starts the queue.
   *
   * @throws {DaemonLockedError} When another daemon uses the state directory.
   * @throws {ListenError} When the peer port cannot be opened.
   */
  static async open(options: DaemonOptions): Promise<Daemon> {
    const log = options.log ?? silentLogger;
    await Deno.mkdir(torrentsDir(options.stateDir), { recursive: true });
    const lockPath = `${options.stateDir}/daemon.lock`;
    const lock = await Deno.open(lockPath, { read: true, write: true, create: true });
    if (!(await lock.tryLock(true))) {
      lock.close();
      throw new DaemonLockedError(
        `Another shoal daemon uses ${options.stateDir}; stop it, or give this one another --state-dir`,
      );
    }
    await lock.truncate(0);
    await lock.write(new TextEncoder().encode(`${Deno.pid}\n`));
    try {
      const loaded = await loadSettings(options.stateDir, defaultSettings(options.downloadDir));
      if (loaded.problem) log.warn(`settings not read, defaults used: ${loaded.problem}`);
      const settings = { ...loaded.settings, ...options.settings };
      await saveSettings(options.stateDir, settings);
      const totals = await loadTotals(options.stateDir);
      totals.sessionCount++;
      const session = new Session({ ...options.session, log });
      const daemon = new Daemon(options, settings, totals, lock, session);
      daemon.#applyRateLimits();
      const records = loadRecords(options.stateDir, (message) => log.warn(message));
      // In queue order (their ids); each .torrent read synchronously, as the records were.
      for (const record of records) {
        try {
          const torrentFile = `${daemon.#torrentsDir}/${record.infoHash}.torrent`;
          const entry = await daemon.#load(record, daemon.#sourceOfSync(record, torrentFile));
          // Waiting for the queue's first pass.
          entry.queued = record.run;
        } catch (error) {
          log.warn(
            `torrent ${record.infoHash} (${record.name}) not loaded: ${(error as Error).message}`,
          );
        }
      }
      daemon.#renumberQueue();
      daemon.#start();
      return daemon;
    } catch (error) {
      lock.close();
      throw error;
    }
  }

  /** The settings now. */
  get settings(): Readonly<DaemonSettings> {
    return this.#settings;
  }

  /** Which peer sources are on (set at the start; a restart changes them). */
  get features(): { dht: boolean; lsd: boolean; pex: boolean } {
    return {
      dht: this.session.dht !== undefined,
      lsd: this.#options.session?.lsd === true,
      pex: this.#options.torrentDefaults?.pex !== false,
    };
  }

  /** The state directory. */
  get stateDir(): string {
    return this.#stateDir;
  }

  /** The torrents, in queue order. */
  torrents(): DaemonTorrent[] {
    return [...this.#ordered()];
  }

  /** Ids of torrents removed within {@linkcode RECENT_MS}. */
  recentlyRemoved(now: number = Date.now()): number[] {
    return this.#removed.filter((removal) => now - removal.at < RECENT_MS).map((r) => r.id);
  }

  /** Totals of this session and of every session (`session-stats`). */
  stats(now: number = Date.now()): { current: SessionTotals; cumulative: SessionTotals } {
    let { uploaded, downloaded } = this.#removedBytes;
    for (const entry of this.#entries.values()) {
      const bytes = entry.session();
      uploaded += bytes.uploaded;
      downloaded += bytes.downloaded;
    }
    const seconds = Math.floor((now - this.#startedAt) / 1000);
    const current = {
      uploadedBytes: uploaded,
      downloadedBytes: downloaded,
      filesAdded: this.#addedThisSession,
      sessionCount: 1,
      secondsActive: seconds,
    };
    const cumulative = {
      uploadedBytes: this.#totals.uploadedBytes + uploaded,
      downloadedBytes: this.#totals.downloadedBytes + downloaded,
      filesAdded: this.#totals.filesAdded,
      sessionCount: this.#totals.sessionCount,
      secondsActive: this.#totals.secondsActive + seconds,
    };
    return { current, cumulative };
  }

  /**
   * Adds a torrent. One already in the daemon is not added again: its
   * entry comes back with `duplicate`.
   *
   * @throws {ShoalError} When the daemon is closed.
   * @throws {DiskError} When the torrent cannot be saved.
   */
  async add(request: AddRequest): Promise<{ torrent: DaemonTorrent; duplicate: boolean }> {
    if (this.#closed) throw new ShoalError("The daemon is closing");
    const source = "torrent" in request.source ? request.source.torrent : request.source.magnet;
    const existing = this.#entries.get(source.infoHashHex);
    if (existing) return { torrent: existing, duplicate: true };
    const record: TorrentRecord = {
      infoHash: source.infoHashHex,
      magnet: "magnet" in request.source ? request.source.text : undefined,
      name: "torrent" in request.source
        ? request.source.torrent.name
        : request.source.magnet.displayName ?? source.infoHashHex,
      addedAt: Date.now(),
      downloadDir: request.downloadDir ?? this.#settings.downloadDir,
      run: request.paused === undefined ? this.#settings.startAddedTorrents : !request.paused,
      priorities: request.priorities,
      sequential: false,
      queuePosition: this.#entries.size,
      downloadLimit: { enabled: false, value: 100 },
      uploadLimit: { enabled: false, value: 100 },
      seedRatio: { mode: 0, value: this.#settings.seedRatio.value },
      seedIdle: { mode: 0, value: this.#settings.idleSeedingMinutes.value },
      peerLimit: request.peerLimit ?? this.#settings.peerLimitPerTorrent,
      labels: request.labels ?? [],
      downloadedEver: 0,
      uploadedEver: 0,
      corruptEver: 0,
      secondsDownloading: 0,
      secondsSeeding: 0,
    };
    // The .torrent first: a crash between the two leaves no record without its torrent.
    if ("torrent" in request.source) {
      await saveTorrentFile(
        `${this.#torrentsDir}/${record.infoHash}.torrent`,
        request.source.bytes,
      );
    }
    await saveRecord(this.#stateDir, record);
    const entry = await this.#load(
      record,
      "torrent" in request.source ? request.source.torrent : undefined,
    );
    this.#totals.filesAdded++;
    this.#addedThisSession++;
    this.#log.info(`added ${record.name} (${record.infoHash})`);
    this.#schedule();
    return { torrent: entry, duplicate: false };
  }

  /** The entry of a torrent, by handle or id. */
  #entry(torrent: DaemonTorrent): Entry {
    const entry = this.#entries.get(torrent.record.infoHash);
    if (!entry) throw new ShoalError(`Torrent ${torrent.id} is no longer in the daemon`);
    return entry;
  }

  /** Wants it running: it starts when the queue has room (`now`: at once, ahead of the queue). */
  async start(torrent: DaemonTorrent, now = false): Promise<void> {
    const entry = this.#entry(torrent);
    entry.finished = false;
    if (entry.failed) await this.#replaceHandle(entry, entry.record.downloadDir);
    if (now) await this.#moveToTop(entry);
    await this.#change(entry, { run: true });
    this.#schedule();
  }

  /** Stops it (paused, `stopped` to its trackers, resume data saved), until started again. */
  async stop(torrent: DaemonTorrent): Promise<void> {
    const entry = this.#entry(torrent);
    await this.#change(entry, { run: false });
    entry.queued = false;
    await entry.handle.pause();
  }

  /** Checks its data again (see `TorrentHandle.verify`). */
  async verify(torrent: DaemonTorrent): Promise<void> {
    const entry = this.#entry(torrent);
    if (entry.failed) await this.#replaceHandle(entry, entry.record.downloadDir);
    await entry.handle.verify();
  }

  /** Announces to its trackers now. */
  reannounce(torrent: DaemonTorrent): void {
    this.#entry(torrent).handle.reannounce();
  }

  /**
   * Removes it (and, with `deleteData`, its downloaded files).
   *
   * @throws {DiskError} When a file cannot be deleted.
   */
  async remove(torrent: DaemonTorrent, deleteData: boolean): Promise<void> {
    const entry = this.#entry(torrent);
    this.#entries.delete(entry.record.infoHash);
    this.#order = undefined;
    this.#removed.push({ id: entry.id, at: Date.now() });
    while (this.#removed.length > 1000) this.#removed.shift();
    const bytes = entry.session();
    this.#removedBytes.uploaded += bytes.uploaded;
    this.#removedBytes.downloaded += bytes.downloaded;
    await this.#saving.get(entry.record.infoHash);
    try {
      await this.session.remove(entry.record.infoHash, { deleteData });
    } finally {
      await deleteRecord(this.#stateDir, entry.record.infoHash);
      this.#renumberQueue();
      this.#log.info(`removed ${entry.record.name}${deleteData ? " and its data" : ""}`);
    }
  }

  /**
   * Gives it another folder: with `move`, its files are moved there first;
   * without, they are looked for there (and checked).
   *
   * @param dir The new folder, already checked against the allowed ones.
   * @throws {DiskError} When a file cannot be moved.
   */
  async setLocation(torrent: DaemonTorrent, dir: string, move: boolean): Promise<void> {
    const entry = this.#entry(torrent);
    if (dir === entry.record.downloadDir) return;
    const name = entry.handle.torrent?.name;
    await this.#replaceHandle(entry, dir, async () => {
      if (!move || !name) return;
      await Deno.mkdir(dir, { recursive: true });
      await moveTree(`${entry.record.downloadDir}/${name}`, `${dir}/${name}`);
    });
    await this.#change(entry, { downloadDir: dir });
    this.#schedule();
  }

  /** Changes what a torrent-level setter may change. */
  async update(torrent: DaemonTorrent, changes: TorrentChanges): Promise<void> {
    const entry = this.#entry(torrent);
    const record = entry.record;
    const next: Partial<TorrentRecord> = {};
    if (changes.downloadLimit) {
      next.downloadLimit = { ...record.downloadLimit, ...changes.downloadLimit };
    }
    if (changes.uploadLimit) next.uploadLimit = { ...record.uploadLimit, ...changes.uploadLimit };
    if (changes.seedRatio) next.seedRatio = { ...record.seedRatio, ...changes.seedRatio };
    if (changes.seedIdle) next.seedIdle = { ...record.seedIdle, ...changes.seedIdle };
    if (changes.peerLimit !== undefined) next.peerLimit = changes.peerLimit;
    if (changes.labels) next.labels = changes.labels;
    if (changes.sequential !== undefined) {
      next.sequential = changes.sequential;
      entry.handle.setSequential(changes.sequential);
    }
    if (changes.priorities) {
      next.priorities = changes.priorities;
      if (entry.handle.torrent) await entry.handle.setFilePriorities(changes.priorities);
      // More files wanted: it is a download again until they are in.
      entry.finished = false;
    }
    await this.#change(entry, next);
    if (changes.queuePosition !== undefined) this.#place(entry, changes.queuePosition);
    this.#applyRateLimits();
    this.#schedule();
  }

  /** Moves torrents in the queue. */
  async moveInQueue(
    torrents: readonly DaemonTorrent[],
    where: "top" | "up" | "down" | "bottom",
  ): Promise<void> {
    const entries = torrents.map((t) => this.#entry(t));
    const ordered = this.#ordered();
    const moving = new Set(entries);
    let list: Entry[];
    if (where === "top") list = [...entries, ...ordered.filter((e) => !moving.has(e))];
    else if (where === "bottom") list = [...ordered.filter((e) => !moving.has(e)), ...entries];
    else {
      list = [...ordered];
      const step = where === "up" ? -1 : 1;
      const order = where === "up"
        ? list.map((_, i) => i)
        : list.map((_, i) => list.length - 1 - i);
      for (const i of order) {
        const j = i + step;
        if (!moving.has(list[i]) || j < 0 || j >= list.length || moving.has(list[j])) continue;
        [list[i], list[j]] = [list[j], list[i]];
      }
    }
    await this.#renumber(list);
    this.#schedule();
  }

  /**
   * Changes settings (saved at once); limits and queues apply at once.
   *
   * @throws {DiskError} When they cannot be saved.
   */
  async updateSettings(changes: Partial<DaemonSettings>): Promise<void> {
    this.#settings = { ...this.#settings, ...changes };
    await saveSettings(this.#stateDir, this.#settings);
    this.#applyRateLimits();
    this.#schedule();
  }

  /**
   * Closes: the watch folder, the queue, every torrent (`stopped` to the
   * trackers, resume data saved), the session, the records and totals.
   * Never rejects.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    clearTimeout(this.#scheduleTimer);
    await this.#watch?.stop();
    await this.#restoring;
    await this.session.close();
    for (const entry of this.#entries.values()) {
      // A record that says what it said when loaded or last saved is not written again.
      const changed = this.#keepCounters(entry);
      if (changed || this.#unsaved.has(entry)) void this.#save(entry);
    }
    await Promise.all(this.#saving.values());
    this.#abort.abort();
    await Promise.race([
      Promise.all(this.#tasks),
      new Promise((resolve) => setTimeout(resolve, 5000).unref?.()),
    ]);
    await saveTotals(this.#stateDir, this.stats().cumulative).catch((error) =>
      this.#log.warn(`session totals not saved: ${(error as Error).message}`)
    );
    this.#lock.close();
  }

  // --- inside ---

  /** Puts a record's torrent into the session (paused: the queue starts it). */
  async #load(record: TorrentRecord, given?: Torrent | MagnetLink): Promise<Entry> {
    const torrentFile = `${this.#torrentsDir}/${record.infoHash}.torrent`;
    const source = given ?? await this.#sourceOf(record, torrentFile);
    const handle = this.#addToSession(source, record);
    const entry = new Entry(this.#nextId++, record, handle, torrentFile);
    this.#entries.set(record.infoHash, entry);
    this.#order = undefined;
    this.#watchHandle(entry);
    // Its progress, from its resume data, before it runs (a paused torrent shows it too).
    this.#restoring = this.#restoring.then(() => this.#breather())
      .then(() => this.#closed ? undefined : handle.restore())
      .catch((error) => this.#log.warn(`${record.name}: ${(error as Error).message}`));
    return entry;
  }

  /**
   * A timer of 0 ms once restores have run for {@linkcode RESTORES_SLICE_MS}:
   * file operations that end one after the other would keep the event loop
   * from the RPC's connections, which wait for a turn with nothing else to
   * do. Not before each restore: nested timers wait 4 ms, which made a
   * thousand restores take 4.5 s instead of 2.3 (measured).
   */
  async #breather(): Promise<void> {
    if (performance.now() - this.#breathedAt < RESTORES_SLICE_MS) return;
    await new Promise((resolve) => setTimeout(resolve, 0));
    this.#breathedAt = performance.now();
  }

  /** The saved `.torrent`, else the magnet link. */
  async #sourceOf(record: TorrentRecord, torrentFile: string): Promise<Torrent | MagnetLink> {
    try {
      return await readTorrentFile(torrentFile);
    } catch (error) {
      return magnetInstead(record, torrentFile, error as Error);
    }
  }

  /** {@linkcode Daemon.#sourceOf}, synchronously (at the start, a thousand at once). */
  #sourceOfSync(record: TorrentRecord, torrentFile: string): Torrent | MagnetLink {
    try {
      return readTorrentFileSync(torrentFile);
    } catch (error) {
      return magnetInstead(record, torrentFile, error as Error);
    }
  }

  #addToSession(source: Torrent | MagnetLink, record: TorrentRecord): TorrentHandle {
    const limits = this.#torrentRates(record);
    return this.session.add(source, {
      ...this.#options.torrentDefaults,
      downloadDir: record.downloadDir,
      stateDir: this.#torrentsDir,
      paused: true,
      seed: true,
      saveTorrent: true,
      filePriorities: record.priorities,
      sequential: record.sequential,
      maxPeers: record.peerLimit,
      ...limits,
    });
  }

  #watchHandle(entry: Entry): void {
    const handle = entry.handle;
    handle.on("metadata", (torrent) => {
      if (entry.handle !== handle) return;
      void this.#change(entry, { name: torrent.name });
    });
    handle.on("complete", () => {
      if (entry.handle !== handle || entry.record.doneAt !== undefined) return;
      void this.#change(entry, { doneAt: Date.now() });
      this.#completed(entry);
    });
    handle.on("state", () => {
      if (entry.handle === handle) this.#scheduleSoon();
    });
  }

  #scheduleTimer?: ReturnType<typeof setTimeout>;

  /**
   * The queue, once the state changes of this moment are in: a start-up's
   * thousand restores change states a thousand times, and each pass looks
   * at every torrent.
   */
  #scheduleSoon(delayMs: number = SCHEDULE_DELAY_MS): void {
    if (this.#scheduleTimer !== undefined || this.#closed) return;
    this.#scheduleTimer = setTimeout(() => {
      this.#scheduleTimer = undefined;
      this.#schedule();
    }, delayMs);
  }

  /** A torrent completed for the first time: the script, if any. */
  #completed(entry: Entry): void {
    this.#log.info(`${entry.record.name} is complete`);
    const script = this.#settings.onComplete;
    if (!script.enabled || !script.value) return;
    this.#own(runOnComplete(
      script.value,
      {
        id: entry.id,
        name: entry.handle.torrent?.name ?? entry.record.name,
        infoHash: entry.record.infoHash,
        downloadDir: entry.record.downloadDir,
        labels: entry.record.labels,
      },
      this.#log,
      this.#abort.signal,
    ));
  }

  /** Stops the handle and puts a new one in its place (another folder, or after an error). */
  async #replaceHandle(entry: Entry, dir: string, between?: () => Promise<void>): Promise<void> {
    const old = entry.handle;
    const torrent = old.torrent;
    const priorities = old.filePriorities;
    const status = old.status();
    entry.folded.downloaded += status.downloaded;
    entry.folded.uploaded += status.uploaded;
    entry.folded.corrupt += status.wasted;
    await this.session.remove(entry.record.infoHash);
    try {
      await between?.();
    } finally {
      const record = {
        ...entry.record,
        downloadDir: dir,
        priorities: priorities ? [...priorities] : entry.record.priorities,
      };
      entry.record = record;
      entry.handle = this.#addToSession(
        torrent ?? await this.#sourceOf(record, entry.torrentFile),
        record,
      );
      this.#watchHandle(entry);
    }
  }

  /** The counters kept in the record (saved with the next save); whether any changed. */
  #keepCounters(entry: Entry): boolean {
    const totals = entry.totals();
    const priorities = entry.handle.filePriorities;
    const before = entry.record;
    entry.record = {
      ...before,
      priorities: priorities ? [...priorities] : before.priorities,
      downloadedEver: totals.downloaded,
      uploadedEver: totals.uploaded,
      corruptEver: totals.corrupt,
    };
    return before.downloadedEver !== totals.downloaded ||
      before.uploadedEver !== totals.uploaded || before.corruptEver !== totals.corrupt ||
      (priorities !== undefined && !samePriorities(before.priorities, priorities));
  }

  /** Changes a record and saves it. */
  async #change(entry: Entry, changes: Partial<TorrentRecord>): Promise<void> {
    entry.record = { ...entry.record, ...changes };
    if (changes.queuePosition !== undefined) this.#order = undefined;
    await this.#save(entry);
  }

  /** Saves a record, after the save before it (a save not begun yet writes the newest record: one is enough). */
  #save(entry: Entry): Promise<void> {
    const hash = entry.record.infoHash;
    const queued = this.#queuedSaves.get(entry);
    if (queued) return queued;
    const saving = (this.#saving.get(hash) ?? Promise.resolve()).then(() => {
      this.#queuedSaves.delete(entry);
      return this.#entries.get(hash) === entry || this.#closed
        ? saveRecord(this.#stateDir, entry.record)
        : undefined;
    }).catch((error) => {
      // Behind what is on disk: written again with the next counters, and at close.
      this.#unsaved.add(entry);
      this.#log.warn(`${entry.record.name}: ${(error as Error).message}`);
    });
    this.#saving.set(hash, saving);
    this.#queuedSaves.set(entry, saving);
    saving.then(() => {
      if (this.#saving.get(hash) === saving) this.#saving.delete(hash);
    });
    return saving;
  }

  /** The entries in queue order (sorted again only after a change of the list or of a position). */
  #ordered(): readonly Entry[] {
    this.#order ??= [...this.#entries.values()].sort((a, b) =>
      a.record.queuePosition - b.record.queuePosition || a.id - b.id
    );
    return this.#order;
  }

  async #moveToTop(entry: Entry): Promise<void> {
    await this.#renumber([entry, ...this.#ordered().filter((e) => e !== entry)]);
  }

  #place(entry: Entry, position: number): void {
    const others = this.#ordered().filter((e) => e !== entry);
    const at = Math.max(0, Math.min(others.length, Math.floor(position)));
    void this.#renumber([...others.slice(0, at), entry, ...others.slice(at)]);
  }

  #renumberQueue(): void {
    void this.#renumber(this.#ordered());
  }

  /** Gives the entries positions 0, 1, … in this order, saving those that moved. */
  async #renumber(list: readonly Entry[]): Promise<void> {
    const saves: Promise<void>[] = [];
    list.forEach((entry, position) => {
      if (entry.record.queuePosition !== position) {
        saves.push(this.#change(entry, { queuePosition: position }));
      }
    });
    await Promise.all(saves);
  }

  /** This torrent's own limits in bytes per second. */
  #torrentRates(record: TorrentRecord): { maxDownloadRate?: number; maxUploadRate?: number } {
    return {
      maxDownloadRate: record.downloadLimit.enabled
        ? Math.max(1, record.downloadLimit.value) * KILO
        : undefined,
      maxUploadRate: record.uploadLimit.enabled
        ? Math.max(1, record.uploadLimit.value) * KILO
        : undefined,
    };
  }

  /** The session's limits (the alternative ones while on) and each torrent's. */
  #applyRateLimits(): void {
    const s = this.#settings;
    const rate = (on: boolean, kBps: number) => on ? Math.max(1, kBps) * KILO : undefined;
    this.session.setRateLimits(
      s.altSpeed.enabled
        ? { maxDownloadRate: rate(true, s.altSpeed.down), maxUploadRate: rate(true, s.altSpeed.up) }
        : {
          maxDownloadRate: rate(s.speedLimitDown.enabled, s.speedLimitDown.value),
          maxUploadRate: rate(s.speedLimitUp.enabled, s.speedLimitUp.value),
        },
    );
    for (const entry of this.#entries.values()) {
      entry.handle.setRateLimits(this.#torrentRates(entry.record));
    }
  }

  #start(): void {
    this.#timer = setInterval(() => this.#tick(Date.now()), 1000);
    if (this.#options.watchDir) {
      this.#watch = new WatchDir(this.#options.watchDir, {
        addTorrentFile: async (bytes) => {
          const torrent = parseTorrent(bytes);
          await this.add({ source: { torrent, bytes } });
        },
        trashOriginals: () => this.#settings.trashOriginalTorrentFiles,
      }, this.#log);
      this.#watch.start();
    }
    this.#scheduleSoon(FIRST_PASS_DELAY_MS);
  }

  #lastTick = Date.now();
  #lastSave = Date.now();
  #lastTimesSave = Date.now();
  /** Torrents whose record on disk is behind: they ran since it was saved, or its save failed. */
  #unsaved = new Set<Entry>();

  /** Once a second: seed limits, activity, time counters, the queue; counters saved each minute. */
  #tick(now: number): void {
    const seconds = (now - this.#lastTick) / 1000;
    this.#lastTick = now;
    for (const entry of this.#entries.values()) {
      // A torrent that is not running has nothing new to count (most of a big list).
      if (!entry.handle.running) continue;
      this.#unsaved.add(entry);
      const status = entry.handle.transfer(now);
      if (status.downloadRate > 0 || status.uploadRate > 0) entry.activityAt = now;
      const state = entry.handle.state;
      if (state === "downloading") entry.record.secondsDownloading += seconds;
      if (state === "seeding") {
        entry.record.secondsSeeding += seconds;
        this.#checkSeedLimits(entry, status, now);
      }
    }
    this.#schedule();
    if (now - this.#lastSave >= COUNTERS_SAVE_MS) {
      this.#lastSave = now;
      const times = now - this.#lastTimesSave >= TIMES_SAVE_MS;
      if (times) this.#lastTimesSave = now;
      // Byte counters each minute; time alone every ten: a crash loses minutes of
      // seeding time, never of data, and a hundred idle seeds are not written each minute.
      for (const entry of this.#unsaved) {
        if (this.#entries.get(entry.record.infoHash) !== entry) {
          this.#unsaved.delete(entry);
        } else if (this.#keepCounters(entry) || times) {
          this.#unsaved.delete(entry);
          void this.#save(entry);
        }
      }
    }
  }

  /** Stops a seed at its ratio or idle limit (its own, or the session's). */
  #checkSeedLimits(entry: Entry, status: TransferStatus, now: number): void {
    const { record } = entry;
    const totals = entry.totals(status);
    if (totals.uploaded !== entry.idle.uploaded) {
      entry.idle = { uploaded: totals.uploaded, since: now };
    }
    const ratioLimit = record.seedRatio.mode === 1
      ? record.seedRatio.value
      : record.seedRatio.mode === 0 && this.#settings.seedRatio.enabled
      ? this.#settings.seedRatio.value
      : undefined;
    const idleMinutes = record.seedIdle.mode === 1
      ? record.seedIdle.value
      : record.seedIdle.mode === 0 && this.#settings.idleSeedingMinutes.enabled
      ? this.#settings.idleSeedingMinutes.value
      : undefined;
    const ratio = totals.uploaded / Math.max(1, totals.downloaded || status.totalBytes);
    const ratioReached = ratioLimit !== undefined && ratio >= ratioLimit;
    const idleReached = idleMinutes !== undefined && now - entry.idle.since >= idleMinutes * 60_000;
    if (!ratioReached && !idleReached) return;
    this.#log.info(
      `${record.name}: ${
        ratioReached ? `seed ratio ${ratioLimit} reached` : `idle for ${idleMinutes} min`
      }; stopped`,
    );
    entry.finished = true;
    this.#own(this.stop(entry).then(() => entry.finished = true));
  }

  /** Starts and pauses torrents so that the queues hold. */
  #schedule(): void {
    if (this.#closed) return;
    const s = this.#settings;
    const ordered = this.#ordered();
    const running = chooseRunning(
      ordered,
      s.downloadQueue.enabled ? s.downloadQueue.value : undefined,
      s.seedQueue.enabled ? s.seedQueue.value : undefined,
    );
    let starts = 0;
    for (const entry of ordered) {
      const handle = entry.handle;
      if (running.has(entry)) {
        entry.queued = false;
        if (!handle.running && handle.state !== "error" && handle.state !== "stopped") {
          if (starts++ < STARTS_PER_PASS) {
            handle.resume();
          } else {
            // Its turn is the next pass's; queued until then.
            entry.queued = true;
            this.#scheduleSoon();
          }
        }
      } else {
        entry.queued = entry.record.run && !entry.failed;
        if (handle.running && handle.state !== "checking") this.#own(handle.pause());
      }
    }
  }

  /** Keeps a task until it ends (close() waits for it); it never rejects. */
  #own(task: Promise<unknown>): void {
    const owned = task.catch((error) => this.#log.warn((error as Error).message));
    this.#tasks.add(owned);
    owned.finally(() => this.#tasks.delete(owned));
  }
}

/** The magnet link a record keeps, for a `.torrent` that cannot be read. */
function magnetInstead(record: TorrentRecord, torrentFile: string, error: Error): MagnetLink {
  if (record.magnet) return parseMagnet(record.magnet);
  throw new ShoalError(`its .torrent (${torrentFile}) cannot be read: ${error.message}`);
}

/** Moves a file or folder, across file systems too. */
async function moveTree(from: string, to: string): Promise<void> {
  try {
    await Deno.rename(from, to);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return; // Nothing downloaded yet.
    const info = await Deno.lstat(from);
    if (info.isDirectory) {
      await Deno.mkdir(to, { recursive: true });
      for await (const entry of Deno.readDir(from)) {
        await moveTree(`${from}/${entry.name}`, `${to}/${entry.name}`);
      }
      await Deno.remove(from);
    } else {
      await Deno.copyFile(from, to);
      await Deno.remove(from);
    }
  }
}

async function loadTotals(stateDir: string): Promise<SessionTotals> {
  const empty = {
    uploadedBytes: 0,
    downloadedBytes: 0,
    filesAdded: 0,
    sessionCount: 0,
    secondsActive: 0,
  };
  try {
    const saved = JSON.parse(await Deno.readTextFile(`${stateDir}/stats.json`));
    const out = { ...empty };
    for (const key of Object.keys(empty) as (keyof SessionTotals)[]) {
      if (typeof saved[key] === "number" && Number.isFinite(saved[key])) out[key] = saved[key];
    }
    return out;
  } catch {
    return empty;
  }
}

function saveTotals(stateDir: string, totals: SessionTotals): Promise<void> {
  return writeAtomically(
    `${stateDir}/stats.json`,
    new TextEncoder().encode(JSON.stringify(totals) + "\n"),
    "save session totals to",
  );
}
