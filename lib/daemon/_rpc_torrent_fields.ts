/**
 * The fields of `torrent-get` (`docs/rpc-spec.md` section 3.3), each
 * computed from a daemon torrent, by snake_case name. What shoal does not
 * have (bandwidth groups, per-peer encryption flags of uTP) is answered
 * with the value Transmission gives when it is off or unknown.
 *
 * @module
 */

import { magnetFromTorrent } from "../metainfo/magnet.ts";
import type { FilePriority } from "../metainfo/file_priority.ts";
import type { TorrentStatus } from "../session/torrent_handle.ts";
import type { FileProgress } from "../session/_file_selection.ts";
import type { PeerSummary } from "../swarm/swarm_types.ts";
import { type DaemonTorrent, RECENT_MS } from "./daemon.ts";
import { TORRENT_STATUS } from "../rpc/torrent_status.ts";

/** Transmission's torrent states (`tr_torrent_activity`). */
export const STATUS = TORRENT_STATUS;

/** What the fields of one torrent are computed from, each part once. */
export class FieldSource {
  readonly torrent: DaemonTorrent;
  readonly now: number;
  #status?: TorrentStatus;
  #files?: FileProgress[] | null;
  #peers?: PeerSummary[];

  constructor(torrent: DaemonTorrent, now: number) {
    this.torrent = torrent;
    this.now = now;
  }

  get status(): TorrentStatus {
    return this.#status ??= this.torrent.handle.status(this.now);
  }

  /** The files without padding files, once the metadata is known. */
  get files(): FileProgress[] | undefined {
    if (this.#files === undefined) {
      this.#files = this.torrent.handle.files()?.filter((file) => !file.padding) ?? null;
    }
    return this.#files ?? undefined;
  }

  get peers(): PeerSummary[] {
    return this.#peers ??= this.torrent.handle.peers();
  }
}

type Field = (source: FieldSource) => unknown;

const seconds = (ms: number | undefined) => ms === undefined ? 0 : Math.floor(ms / 1000);

/** Transmission's priority numbers: -1 low, 0 normal, 1 high (a skipped file keeps 0). */
export function priorityNumber(priority: FilePriority): number {
  return priority === "high" ? 1 : priority === "low" ? -1 : 0;
}

function status(source: FieldSource): number {
  const { torrent } = source;
  const state = torrent.handle.state;
  if (state === "checking") return STATUS.check;
  if (torrent.queued) {
    const complete = source.status.pieceCount > 0 && source.status.progress >= 1;
    return complete ? STATUS.seedWait : STATUS.downloadWait;
  }
  if (state === "downloading" || state === "metadata") return STATUS.download;
  if (state === "seeding") return STATUS.seed;
  return STATUS.stopped;
}

function errorOf(source: FieldSource): { code: number; text: string } {
  const status = source.status;
  if (status.error || status.fileError) {
    return { code: 3, text: status.error ?? status.fileError ?? "" };
  }
  const failing = status.trackers.find((tracker) =>
    tracker.state === "failed" && tracker.lastError
  );
  if (failing && status.trackers.every((tracker) => tracker.state !== "working")) {
    return { code: 2, text: `Tracker gave an error: ${failing.lastError}` };
  }
  const warning = status.trackers.find((tracker) => tracker.warning);
  if (warning) return { code: 1, text: `Tracker gave a warning: ${warning.warning}` };
  return { code: 0, text: "" };
}

function leftUntilDone(source: FieldSource): number {
  return Math.max(0, source.status.totalBytes - source.status.bytesDone);
}

function ratio(source: FieldSource): number {
  const { uploaded, downloaded } = source.torrent.totals(source.status);
  const base = downloaded || source.status.bytesDone;
  if (base === 0) return uploaded > 0 ? -2 : -1; // TR_RATIO_INF, TR_RATIO_NA
  return uploaded / base;
}

function pieceBits(source: FieldSource): string {
  const count = source.status.pieceCount;
  const bytes = new Uint8Array(Math.ceil(count / 8));
  const handle = source.torrent.handle;
  for (let i = 0; i < count; i++) if (handle.hasPiece(i)) bytes[i >> 3] |= 0x80 >> (i & 7);
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(text);
}

function peerRow(peer: PeerSummary): Record<string, unknown> {
  const colon = peer.address.lastIndexOf(":");
  const host = peer.address.slice(0, colon).replace(/^\[|\]$/g, "");
  const flags = [
    peer.downloadRate > 0 ? "D" : !peer.choked && peer.interested ? "d" : "",
    peer.uploadRate > 0 ? "U" : peer.unchoked ? "u" : "",
    peer.encryption !== "none" ? "E" : "",
    peer.direction === "incoming" ? "I" : "",
    peer.sources.some((source) => source.startsWith("pex")) ? "X" : "",
  ].join("");
  return {
    address: host,
    port: Number(peer.address.slice(colon + 1)),
    client_name: peer.client ?? "",
    client_is_choked: !peer.unchoked,
    client_is_interested: peer.interested,
    peer_is_choked: peer.choked,
    peer_is_interested: peer.queuedRequests > 0 || peer.unchoked,
    flag_str: flags,
    is_downloading_from: peer.downloadRate > 0,
    is_uploading_to: peer.uploadRate > 0,
    is_encrypted: peer.encryption !== "none",
    is_incoming: peer.direction === "incoming",
    is_utp: false,
    progress: peer.progress,
    rate_to_client: Math.round(peer.downloadRate),
    rate_to_peer: Math.round(peer.uploadRate),
  };
}

function peersFrom(source: FieldSource): Record<string, number> {
  const counts = {
    from_cache: 0,
    from_dht: 0,
    from_incoming: 0,
    from_lpd: 0,
    from_ltep: 0,
    from_pex: 0,
    from_tracker: 0,
  };
  for (const peer of source.peers) {
    const first = peer.sources[0] ?? "";
    if (peer.direction === "incoming" || first === "incoming") counts.from_incoming++;
    else if (first.startsWith("pex")) counts.from_pex++;
    else if (first.startsWith("dht")) counts.from_dht++;
    else if (first.startsWith("lsd")) counts.from_lpd++;
    else if (/^(https?|udp):/.test(first)) counts.from_tracker++;
    else counts.from_cache++;
  }
  return counts;
}

function trackerList(source: FieldSource): { url: string; tier: number }[] {
  const torrent = source.torrent.handle.torrent;
  if (torrent) {
    return torrent.trackers.flatMap((tier, i) => tier.map((url) => ({ url, tier: i })));
  }
  return source.status.trackers.map((tracker) => ({ url: tracker.url, tier: tracker.tier }));
}

function scrapeOf(url: string): string {
  const at = url.lastIndexOf("/");
  return url.slice(at + 1).startsWith("announce")
    ? `${url.slice(0, at + 1)}scrape${url.slice(at + 1 + "announce".length)}`
    : "";
}

function siteName(url: string): string {
  try {
    const host = new URL(url).hostname;
    const parts = host.split(".");
    return parts.length >= 2 ? parts[parts.length - 2] : host;
  } catch {
    return "";
  }
}

function trackerStats(source: FieldSource): Record<string, unknown>[] {
  return source.status.trackers.map((tracker, id) => ({
    announce: tracker.url,
    announce_state: tracker.state === "announcing" ? 3 : tracker.state === "idle" ? 1 : 2,
    download_count: -1,
    has_announced: tracker.lastAnnounce !== undefined,
    has_scraped: false,
    host: (() => {
      try {
        const url = new URL(tracker.url);
        return `${url.protocol}//${url.host}`;
      } catch {
        return tracker.url;
      }
    })(),
    id,
    is_backup: false,
    last_announce_peer_count: tracker.peersReturned ?? 0,
    last_announce_result: tracker.lastError ?? (tracker.lastAnnounce ? "Success" : ""),
    last_announce_start_time: seconds(tracker.lastAnnounce?.getTime()),
    last_announce_succeeded: tracker.state === "working",
    last_announce_time: seconds(tracker.lastAnnounce?.getTime()),
    last_announce_timed_out: /timed? ?out/i.test(tracker.lastError ?? ""),
    last_scrape_result: "",
    last_scrape_start_time: 0,
    last_scrape_succeeded: false,
    last_scrape_time: 0,
    last_scrape_timed_out: false,
    leecher_count: tracker.leechers ?? -1,
    next_announce_time: seconds(tracker.nextAnnounce?.getTime()),
    next_scrape_time: 0,
    scrape: scrapeOf(tracker.url),
    scrape_state: 0,
    seeder_count: tracker.seeders ?? -1,
    sitename: siteName(tracker.url),
    tier: tracker.tier,
  }));
}

function mimeType(source: FieldSource): string {
  const files = source.files ?? [];
  const biggest = files.reduce<FileProgress | undefined>(
    (best, file) => !best || file.length > best.length ? file : best,
    undefined,
  );
  const extension = biggest?.path.split(".").pop()?.toLowerCase() ?? "";
  const types: Record<string, string> = {
    mkv: "video/x-matroska",
    mp4: "video/mp4",
    avi: "video/x-msvideo",
    webm: "video/webm",
    mp3: "audio/mpeg",
    flac: "audio/flac",
    ogg: "audio/ogg",
    iso: "application/x-iso9660-image",
    zip: "application/zip",
    pdf: "application/pdf",
    txt: "text/plain",
    jpg: "image/jpeg",
    png: "image/png",
  };
  return types[extension] ?? "application/octet-stream";
}

/** Every field, by snake_case name. */
export const TORRENT_FIELDS: ReadonlyMap<string, Field> = new Map<string, Field>([
  ["activity_date", (s) => seconds(s.torrent.activityAt || undefined)],
  ["added_date", (s) => seconds(s.torrent.record.addedAt)],
  ["availability", (s) => {
    const count = s.status.pieceCount;
    const have = Array.from({ length: count }, (_, i) => s.torrent.handle.hasPiece(i) ? -1 : 0);
    return have;
  }],
  ["bandwidth_priority", () => 0],
  ["comment", (s) => s.torrent.handle.torrent?.comment ?? ""],
  ["corrupt_ever", (s) => s.torrent.totals(s.status).corrupt],
  ["creator", (s) => s.torrent.handle.torrent?.createdBy ?? ""],
  ["date_created", (s) => seconds(s.torrent.handle.torrent?.creationDate?.getTime())],
  ["desired_available", (s) => leftUntilDone(s)],
  ["done_date", (s) => seconds(s.torrent.record.doneAt)],
  ["download_dir", (s) => s.torrent.record.downloadDir],
  ["downloaded_ever", (s) => s.torrent.totals(s.status).downloaded],
  ["download_limit", (s) => s.torrent.record.downloadLimit.value],
  ["download_limited", (s) => s.torrent.record.downloadLimit.enabled],
  ["edit_date", () => 0],
  ["error", (s) => errorOf(s).code],
  ["error_string", (s) => errorOf(s).text],
  ["eta", (s) => {
    const eta = s.status.etaSeconds;
    if (s.status.pieceCount > 0 && leftUntilDone(s) === 0) return -1;
    return eta === undefined ? -2 : Math.round(eta); // TR_ETA_UNKNOWN
  }],
  ["eta_idle", () => -1],
  ["file_count", (s) => s.files?.length ?? 0],
  ["files", (s) =>
    (s.files ?? []).map((file) => ({
      bytes_completed: file.bytesDone,
      length: file.length,
      name: file.path,
      begin_piece: 0,
      end_piece: 0,
    }))],
  ["file_stats", (s) =>
    (s.files ?? []).map((file) => ({
      bytes_completed: file.bytesDone,
      wanted: file.priority !== "skip",
      priority: priorityNumber(file.priority),
    }))],
  ["group", () => ""],
  ["hash_string", (s) => s.torrent.record.infoHash],
  ["have_unchecked", () => 0],
  ["have_valid", (s) => s.status.bytesDone],
  ["honors_session_limits", () => true],
  ["id", (s) => s.torrent.id],
  ["is_finished", (s) => s.torrent.finished],
  ["is_private", (s) => s.torrent.handle.torrent?.private ?? false],
  ["is_stalled", (s) => (s.status.waiting?.forMs ?? 0) > 5 * 60_000],
  ["labels", (s) => s.torrent.record.labels],
  ["left_until_done", (s) => leftUntilDone(s)],
  ["magnet_link", (s) => {
    const torrent = s.torrent.handle.torrent;
    return torrent ? magnetFromTorrent(torrent) : s.torrent.record.magnet ?? "";
  }],
  ["manual_announce_time", () => -1],
  ["max_connected_peers", (s) => s.torrent.record.peerLimit],
  ["metadata_percent_complete", (s) => {
    if (s.torrent.handle.torrent) return 1;
    const metadata = s.status.metadata;
    return metadata && metadata.total > 0 ? metadata.received / metadata.total : 0;
  }],
  ["name", (s) => s.status.name],
  ["peer_limit", (s) => s.torrent.record.peerLimit],
  ["peers", (s) => s.peers.map(peerRow)],
  ["peers_connected", (s) => s.status.peersConnected],
  ["peers_from", (s) => peersFrom(s)],
  ["peers_getting_from_us", (s) => s.peers.filter((peer) => peer.uploadRate > 0).length],
  ["peers_sending_to_us", (s) => s.peers.filter((peer) => peer.downloadRate > 0).length],
  ["percent_complete", (s) => {
    const total = s.status.torrentBytes;
    return total === 0 ? 0 : Math.min(1, s.status.bytesDone / total);
  }],
  ["percent_done", (s) => s.status.pieceCount === 0 ? 0 : s.status.progress],
  ["pieces", (s) => pieceBits(s)],
  ["piece_count", (s) => s.status.pieceCount],
  ["piece_size", (s) => s.torrent.handle.torrent?.pieceLength ?? 0],
  ["priorities", (s) => (s.files ?? []).map((file) => priorityNumber(file.priority))],
  ["primary_mime_type", (s) => mimeType(s)],
  ["queue_position", (s) => s.torrent.record.queuePosition],
  ["rate_download", (s) => Math.round(s.status.downloadRate)],
  ["rate_upload", (s) => Math.round(s.status.uploadRate)],
  ["recheck_progress", (s) => {
    const checking = s.status.checking;
    return checking && checking.total > 0 ? checking.checked / checking.total : 0;
  }],
  ["seconds_downloading", (s) => Math.floor(s.torrent.record.secondsDownloading)],
  ["seconds_seeding", (s) => Math.floor(s.torrent.record.secondsSeeding)],
  ["seed_idle_limit", (s) => s.torrent.record.seedIdle.value],
  ["seed_idle_mode", (s) => s.torrent.record.seedIdle.mode],
  ["seed_ratio_limit", (s) => s.torrent.record.seedRatio.value],
  ["seed_ratio_mode", (s) => s.torrent.record.seedRatio.mode],
  ["sequential_download", (s) => s.torrent.handle.sequential],
  ["size_when_done", (s) => s.status.totalBytes],
  ["start_date", (s) => seconds(s.torrent.handle.startedAt)],
  ["status", (s) => status(s)],
  ["torrent_file", (s) => s.torrent.torrentFile],
  ["total_size", (s) => s.status.torrentBytes],
  ["trackers", (s) =>
    trackerList(s).map(({ url, tier }, id) => ({
      announce: url,
      id,
      scrape: scrapeOf(url),
      sitename: siteName(url),
      tier,
    }))],
  ["tracker_list", (s) => {
    const tiers: string[][] = [];
    for (const { url, tier } of trackerList(s)) (tiers[tier] ??= []).push(url);
    return tiers.filter(Boolean).map((tier) => tier.join("\n")).join("\n\n");
  }],
  ["tracker_stats", (s) => trackerStats(s)],
  ["uploaded_ever", (s) => s.torrent.totals(s.status).uploaded],
  ["upload_limit", (s) => s.torrent.record.uploadLimit.value],
  ["upload_limited", (s) => s.torrent.record.uploadLimit.enabled],
  ["upload_ratio", (s) => ratio(s)],
  ["wanted", (s) => (s.files ?? []).map((file) => file.priority === "skip" ? 0 : 1)],
  ["webseeds", (s) => s.torrent.handle.torrent?.webSeeds ?? []],
  [
    "webseeds_sending_to_us",
    (s) => s.status.webSeeds.filter((seed) => seed.state === "active").length,
  ],
]);

/** Whether a torrent was active within {@linkcode RECENT_MS} (for `ids: "recently_active"`). */
export function recentlyActive(torrent: DaemonTorrent, now: number): boolean {
  return now - torrent.activityAt < RECENT_MS || torrent.handle.state === "checking";
}
