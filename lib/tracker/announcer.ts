/**
 * The announcer: keeps a torrent announced to its trackers for as long as the
 * torrent runs.
 *
 * Tiers (BEP 12): each tier is shuffled once; its trackers are tried in
 * order, and the one that answers moves to the front. A public torrent keeps
 * every tier announced at once (one tracker per tier, as Transmission and
 * qBittorrent do), so a dead tier never starves it of peers. A private
 * torrent (BEP 27) uses one tracker at a time: the first that answers,
 * walking the tiers in order, and stays with it until it fails.
 *
 * Each tracker gets `started` first, `completed` when the download finishes
 * (if it had `started`), and `stopped` on shutdown (best effort, with a short
 * timeout). Regular announces follow the tracker's `interval`, never sooner
 * than its `min interval`; failures back off exponentially.
 *
 * @module
 */

import type { PeerAddress } from "../net/peer_address.ts";
import { announceToTracker } from "./announce.ts";
import { TrackerError } from "./errors.ts";
import type { HttpTrackerOptions } from "./http.ts";
import type { AnnounceEvent, AnnounceRequest, AnnounceResult, TrackerPeer } from "./types.ts";
import { isOurselves } from "./_self.ts";
import { formatDuration } from "../util/size.ts";
import type { UdpRetry, UdpTrackerClient } from "./udp.ts";
import type { Logger } from "../util/log.ts";

/** What the torrent has done so far, read at each announce. */
export interface TransferStats {
  /** Bytes uploaded this session. */
  uploaded: number;
  /** Bytes downloaded this session. */
  downloaded: number;
  /** Bytes still needed (0 when seeding). */
  left: number;
}

/** A peer a tracker named, with the tracker's URL. */
export interface DiscoveredPeer extends PeerAddress {
  /** The announce URL that returned the peer. */
  source: string;
}

/** The state of one tracker, for progress displays and `shoal tracker`. */
export interface TrackerStatus {
  /** Announce URL. */
  url: string;
  /** Tier number, from 1. */
  tier: number;
  /** `idle` (not tried yet), `announcing`, `working` (last announce answered) or `failed`. */
  state: "idle" | "announcing" | "working" | "failed";
  /** When the last announce finished. */
  lastAnnounce?: Date;
  /** When the next announce is due: the regular one of the tracker in use, or the retry of a failed one. */
  nextAnnounce?: Date;
  /** The last error, for the user. */
  lastError?: string;
  /** The tracker's last warning message. */
  warning?: string;
  /** Seeders the tracker reported. */
  seeders?: number;
  /** Leechers the tracker reported. */
  leechers?: number;
  /** Peers in the last reply. */
  peersReturned?: number;
  /** The tracker's announce interval in seconds. */
  interval?: number;
}

/** Options of {@linkcode Announcer}. */
export interface AnnouncerOptions {
  /** The torrent's info hash. */
  infoHash: Uint8Array;
  /** Our peer id. */
  peerId: Uint8Array;
  /** Our listening port. */
  port: number;
  /** Tracker tiers, as in the torrent. */
  trackers: readonly (readonly string[])[];
  /** A private torrent (BEP 27): one tracker at a time. */
  private: boolean;
  /** Read at each announce. */
  stats: () => TransferStats;
  /** The session's UDP tracker client. */
  udp: UdpTrackerClient;
  /**
   * Called with the peers of each reply, each with the tracker that gave
   * it. Peers listed again come again: telling known peers from new ones is
   * the peer pool's job (it forgets peers, and may want them back).
   */
  onPeers?: (peers: DiscoveredPeer[]) => void;
  /**
   * Private torrents only: called when the tracker in use changes because
   * the previous one failed. BEP 27 then requires dropping every peer and
   * using only those from the new tracker (`DiscoveredPeer.source`).
   */
  onTrackerChange?: (url: string) => void;
  /** Options for HTTP announces. */
  http?: HttpTrackerOptions;
  /** Where tracker replies and failures are logged. Default: nowhere. */
  log?: Logger;
  /**
   * Called when a tracker starts working, fails, or fails for another
   * reason (not for every announce): for displays that print changes.
   */
  onStatusChange?: (status: TrackerStatus) => void;
  /**
   * UDP trackers: retransmissions of one announce before it counts as
   * failed (15 s, 30 s, 60 s … of BEP 15). Default 2: three tries, 105 s.
   * The tracker shows as failing from the first timeout on.
   */
  udpRetransmits?: number;
  /**
   * Whether a peer a tracker names is this very program (trackers list the
   * announcer too); such peers are neither counted nor passed on. Default:
   * our peer id, or our port on a loopback address or on the address a
   * tracker says it sees us at (BEP 24).
   */
  isSelf?: (peer: TrackerPeer) => boolean;
  /** Peers to ask for. Default 50. */
  numWant?: number;
  /** The shortest interval obeyed, in seconds, whatever a tracker says. Default 60. */
  minimumIntervalSeconds?: number;
  /** The longest interval obeyed, in seconds. Default 6 hours. */
  maximumIntervalSeconds?: number;
  /** First retry delay after every tracker of a tier failed, in ms. Default 30 s; doubles each time. */
  retryBaseMs?: number;
  /** Longest retry delay, in ms. Default 30 minutes. */
  retryMaxMs?: number;
  /** How long `stop()` waits for `stopped` announces, in ms. Default 5 s. */
  stopTimeoutMs?: number;
  /** Random numbers in [0, 1) for shuffling tiers. Default `Math.random`. */
  random?: () => number;
}

interface Tracker {
  url: string;
  tier: number;
  startedSent: boolean;
  completedSent: boolean;
  trackerId?: string;
  /** The last failure reported (each is said once, until the tracker works again). */
  reportedError?: string;
  status: TrackerStatus;
}

/** A group of tiers announced as one: a single tier (public) or all tiers (private). */
interface Unit {
  tiers: Tracker[][];
  /** Private torrents stay with the tracker in use until it fails (BEP 27). */
  sticky: boolean;
  current?: Tracker;
  timer?: ReturnType<typeof setTimeout>;
  running?: Promise<void>;
  again: boolean;
  failures: number;
}

function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

/**
 * Keeps one torrent announced to its trackers.
 *
 * @example Keeping a torrent announced while it runs
 * ```ts
 * import { encode } from "../bencode/mod.ts";
 * import { Announcer, UdpTrackerClient } from "./mod.ts";
 *
 * const tracker = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () =>
 *   new Response(encode({ interval: 1800, peers: new Uint8Array([10, 0, 0, 5, 0x1a, 0xe1]) })));
 * const udp = new UdpTrackerClient(); // one per program, shared by all torrents
 * let onPeers = (_peers: unknown) => {};
 * const found = new Promise((resolve) => onPeers = resolve);
 * const announcer = new Announcer({
 *   infoHash: new Uint8Array(20).fill(3),
 *   peerId: new TextEncoder().encode("-SH0100-exampleexamp"),
 *   port: 51413,
 *   trackers: [[`http://127.0.0.1:${tracker.addr.port}/announce`]],
 *   private: false,
 *   stats: () => ({ uploaded: 0, downloaded: 0, left: 5000 }),
 *   udp,
 *   onPeers, // the peers of each reply
 * });
 * announcer.start(); // "started", then on the tracker's interval
 * console.log(await found); // [ { host: "10.0.0.5", port: 6881, source: "http://127.0.0.1:…" } ]
 * console.log(announcer.statuses()[0].state); // working
 * await announcer.stop(); // "stopped"
 * udp.close();
 * await tracker.shutdown();
 * ```
 */
export class Announcer {
  readonly #options: AnnouncerOptions;
  readonly #key: number;
  readonly #units: Unit[];
  readonly #trackers: Tracker[] = [];
  /** Our address as trackers see it (BEP 24). */
  readonly #externalIps = new Set<string>();
  readonly #abort = new AbortController();
  #started = false;
  #stopped = false;
  /** The download completed: every tracker is owed `completed` once. */
  #completed = false;

  /**
   * Prepares the announcer; nothing is sent until {@linkcode start}.
   *
   * @param options The torrent, the trackers and where peers go.
   */
  constructor(options: AnnouncerOptions) {
    this.#options = options;
    const random = options.random ?? Math.random;
    this.#key = Math.floor(random() * 2 ** 32) >>> 0;
    const tiers = options.trackers
      .map((urls, t) =>
        shuffle(
          urls.map((url) => {
            const tracker: Tracker = {
              url,
              tier: t + 1,
              startedSent: false,
              completedSent: false,
              status: { url, tier: t + 1, state: "idle" },
            };
            this.#trackers.push(tracker);
            return tracker;
          }),
          random,
        )
      )
      .filter((tier) => tier.length > 0);
    const groups = options.private ? [tiers] : tiers.map((tier) => [tier]);
    this.#units = groups.filter((g) => g.length > 0).map((g) => ({
      tiers: g,
      sticky: options.private,
      again: false,
      failures: 0,
    }));
  }

  /** Every tracker's state, in tier order and current order within each tier. */
  statuses(): TrackerStatus[] {
    return this.#units.flatMap((unit) => unit.tiers.flat().map((t) => ({ ...t.status })));
  }

  /** Sends `started` and keeps announcing on schedule. */
  start(): void {
    if (this.#started || this.#stopped) return;
    this.#started = true;
    for (const unit of this.#units) this.#trigger(unit);
  }

  /**
   * The download finished: sends `completed` now to every tracker, after its
   * `started` if that is still on its way (or at `stop()` at the latest).
   */
  complete(): void {
    if (this.#stopped || this.#completed) return;
    this.#completed = true;
    for (const unit of this.#units) this.#trigger(unit);
  }

  /** Announces now instead of waiting for the schedule (for example when peers run out). */
  announceNow(): void {
    if (!this.#started || this.#stopped) return;
    for (const unit of this.#units) this.#trigger(unit);
  }

  /**
   * Stops announcing and sends `stopped` to every tracker that had
   * `started` (first `completed`, to those still owed it), waiting at most
   * `stopTimeoutMs` in all. Announces in flight are let finish within that
   * time when a `completed` may be among them, else cancelled.
   */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    // Never announced (a paused torrent's check): nothing to cancel, nobody to tell.
    if (!this.#started && !this.#completed) return;
    for (const unit of this.#units) clearTimeout(unit.timer);
    const timeoutMs = this.#options.stopTimeoutMs ?? 5000;
    const deadline = Date.now() + timeoutMs;
    const running = Promise.allSettled(this.#units.map((unit) => unit.running));
    if (this.#completed && this.#units.some((unit) => unit.running)) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        running,
        new Promise((resolve) => timer = setTimeout(resolve, timeoutMs / 2)),
      ]);
      clearTimeout(timer);
    }
    this.#abort.abort(new TrackerError("network", "The announcer was stopped"));
    await running;
    const left = Math.max(0, deadline - Date.now());
    const signal = AbortSignal.timeout(left);
    await Promise.allSettled(
      this.#trackers.filter((t) => t.startedSent).map(async (tracker) => {
        if (this.#completed && !tracker.completedSent) {
          await this.#announceOne(tracker, "completed", signal, left).then(
            () => tracker.completedSent = true,
            () => {},
          );
        }
        await this.#announceOne(tracker, "stopped", signal, Math.max(0, deadline - Date.now()));
        tracker.startedSent = false;
      }),
    );
  }

  #trigger(unit: Unit): void {
    if (this.#stopped) return;
    if (unit.running) {
      unit.again = true;
      return;
    }
    clearTimeout(unit.timer);
    unit.timer = undefined;
    unit.running = this.#run(unit).catch((error) => {
      // Only a callback of ours can throw here (a tracker's failure is caught in #run).
      this.#options.log?.error(
        `announcer: ${(error as Error)?.stack ?? error} (a bug; please report it)`,
      );
      this.#schedule(unit, undefined, this.#options.retryBaseMs ?? 30_000);
    }).finally(() => {
      unit.running = undefined;
      if (unit.again && !this.#stopped) {
        unit.again = false;
        this.#trigger(unit);
      }
    });
  }

  #eventFor(tracker: Tracker): AnnounceEvent {
    if (!tracker.startedSent) return "started";
    if (this.#completed && !tracker.completedSent) return "completed";
    return "none";
  }

  /** The order to try trackers in: tier by tier, the tracker in use first for a private torrent. */
  #candidates(unit: Unit): [Tracker[], Tracker][] {
    const candidates = unit.tiers.flatMap((tier) =>
      tier.map((t): [Tracker[], Tracker] => [tier, t])
    );
    if (unit.sticky && unit.current) {
      const index = candidates.findIndex(([, t]) => t === unit.current);
      candidates.unshift(...candidates.splice(index, 1));
    }
    return candidates;
  }

  async #run(unit: Unit): Promise<void> {
    // Failures are reported once the run ends, with the retry time when the whole unit failed.
    const failed: Tracker[] = [];
    try {
      await this.#announceUnit(unit, failed);
    } finally {
      if (!this.#stopped) { for (const tracker of failed) this.#reportFailure(tracker); }
    }
  }

  async #announceUnit(unit: Unit, failed: Tracker[]): Promise<void> {
    for (const [tier, tracker] of this.#candidates(unit)) {
      if (this.#stopped) return;
      const event = this.#eventFor(tracker);
      let result: AnnounceResult;
      try {
        result = await this.#announceOne(tracker, event, this.#abort.signal);
      } catch {
        failed.push(tracker);
        continue;
      }
      if (event === "started") {
        tracker.startedSent = true;
        // The download completed while `started` was on its way: `completed` follows at once.
        if (this.#completed) unit.again = true;
      }
      if (event === "completed") tracker.completedSent = true;
      // BEP 12: the tracker that answered moves to the front of its tier.
      tier.splice(tier.indexOf(tracker), 1);
      tier.unshift(tracker);
      unit.failures = 0;
      if (unit.sticky && unit.current !== tracker) {
        const previous = unit.current;
        unit.current = tracker;
        if (previous) this.#options.onTrackerChange?.(tracker.url);
      }
      this.#schedule(unit, tracker, this.#intervalMs(result));
      this.#emitPeers(result.peers, tracker.url);
      return;
    }
    if (this.#stopped) return;
    unit.failures++;
    const base = this.#options.retryBaseMs ?? 30_000;
    const delay = Math.min(
      base * 2 ** (unit.failures - 1),
      this.#options.retryMaxMs ?? 30 * 60_000,
    );
    this.#schedule(unit, undefined, delay);
    const retryAt = new Date(Date.now() + delay);
    for (const tracker of unit.tiers.flat()) {
      if (tracker.status.state === "failed") tracker.status.nextAnnounce = retryAt;
    }
  }

  #intervalMs(result: AnnounceResult): number {
    const floor = this.#options.minimumIntervalSeconds ?? 60;
    const ceiling = this.#options.maximumIntervalSeconds ?? 6 * 3600;
    const seconds = Math.max(result.interval, result.minInterval ?? 0, floor);
    return Math.min(seconds, ceiling) * 1000;
  }

  #schedule(unit: Unit, tracker: Tracker | undefined, delayMs: number): void {
    if (this.#stopped) return;
    clearTimeout(unit.timer);
    for (const t of unit.tiers.flat()) t.status.nextAnnounce = undefined;
    if (tracker) tracker.status.nextAnnounce = new Date(Date.now() + delayMs);
    unit.timer = setTimeout(() => this.#trigger(unit), delayMs);
  }

  #emitPeers(peers: readonly PeerAddress[], source: string): void {
    if (peers.length > 0) this.#options.onPeers?.(peers.map((peer) => ({ ...peer, source })));
  }

  async #announceOne(
    tracker: Tracker,
    event: AnnounceEvent,
    signal: AbortSignal,
    timeoutMs?: number,
  ): Promise<AnnounceResult> {
    const stats = this.#options.stats();
    const request: AnnounceRequest = {
      infoHash: this.#options.infoHash,
      peerId: this.#options.peerId,
      port: this.#options.port,
      ...stats,
      event,
      numWant: event === "stopped" ? 0 : this.#options.numWant ?? 50,
      key: this.#key,
      trackerId: tracker.trackerId,
    };
    const status = tracker.status;
    const stopping = event === "stopped";
    const before = status.state;
    if (status.state !== "failed") status.state = "announcing";
    // A retry time shown now would be the time of this very announce.
    if (!stopping) status.nextAnnounce = undefined;
    const log = this.#options.log;
    const http = { ...this.#options.http, timeoutMs: timeoutMs ?? this.#options.http?.timeoutMs };
    const udpRequest = {
      maxRetransmits: stopping ? 0 : this.#options.udpRetransmits ?? 2,
      onRetry: ({ waitedMs, nextWaitMs }: UdpRetry) => {
        const reason = `no answer after ${
          formatDuration(waitedMs / 1000)
        }, asking again (waiting up to ${formatDuration(nextWaitMs / 1000)})`;
        // Said when a tracker starts failing; later retries only update the status.
        if (stopping || status.state === "failed") status.lastError = reason;
        else this.#fail(tracker, reason);
      },
    };
    let result: AnnounceResult;
    try {
      result = await announceToTracker(tracker.url, request, {
        udp: this.#options.udp,
        http,
        udpRequest,
      }, signal);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      if (stopping) log?.debug(`tracker ${tracker.url}: stopped was not answered: ${reason}`);
      // Reported when the run ends (see #run); a stop's failure only shows in the status.
      status.state = "failed";
      status.lastError = reason;
      throw error;
    } finally {
      status.lastAnnounce = new Date();
    }
    if (result.externalIp) this.#externalIps.add(result.externalIp);
    const peers = result.peers.filter((peer) => !this.#isSelf(peer));
    status.warning = result.warning;
    status.seeders = result.complete;
    status.leechers = result.incomplete;
    status.peersReturned = peers.length;
    status.interval = result.interval;
    status.state = "working";
    status.lastError = undefined;
    tracker.reportedError = undefined;
    if (result.trackerId !== undefined) tracker.trackerId = result.trackerId;
    log?.debug(
      `tracker ${tracker.url}: ${event} answered: ${peers.length} peers${
        result.complete === undefined ? "" : `, ${result.complete} seeders`
      }${
        result.incomplete === undefined ? "" : `, ${result.incomplete} leechers`
      }, interval ${result.interval} s${result.warning ? `; warning: ${result.warning}` : ""}`,
    );
    if (before !== "working" && !stopping) this.#options.onStatusChange?.({ ...status });
    return { ...result, peers };
  }

  /** Marks a tracker failed and reports it. */
  #fail(tracker: Tracker, reason: string): void {
    tracker.status.state = "failed";
    tracker.status.lastError = reason;
    this.#reportFailure(tracker);
  }

  /** Logs and reports a failure, unless this very reason was the last one reported. */
  #reportFailure(tracker: Tracker): void {
    const status = tracker.status;
    if (status.state !== "failed" || status.lastError === tracker.reportedError) return;
    tracker.reportedError = status.lastError;
    this.#options.log?.warn(`tracker ${tracker.url}: ${status.lastError}`);
    this.#options.onStatusChange?.({ ...status });
  }

  #isSelf(peer: TrackerPeer): boolean {
    if (this.#options.isSelf) return this.#options.isSelf(peer);
    return isOurselves(peer, {
      peerId: this.#options.peerId,
      port: this.#options.port,
      externalIps: this.#externalIps,
    });
  }
}
