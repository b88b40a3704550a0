/**
 * How a download's progress is shown: the multi-line block redrawn on a
 * terminal, the plain line printed when output goes to a file or pipe, the
 * JSON line for scripts, and the summary at the end.
 *
 * @module
 */

import type { TorrentStatus } from "../session/torrent_handle.ts";
import type { FileProgress } from "../session/_file_selection.ts";
import type { TrackerStatus } from "../tracker/announcer.ts";
import { formatBytes, formatCount, formatDuration, formatQuantity } from "../util/size.ts";

export { formatDuration };
import { printable } from "../util/_printable.ts";

/** `12.5 MiB/s`. */
export function formatRate(bytesPerSecond: number): string {
  return `${formatBytes(Math.round(bytesPerSecond))}/s`;
}

function eta(status: TorrentStatus): string {
  if (status.state === "complete") return "done";
  return status.etaSeconds === undefined ? "unknown" : formatDuration(status.etaSeconds);
}

function percent(status: TorrentStatus): string {
  if (status.state === "checking" && status.checking && status.checking.total > 0) {
    return `${((status.checking.checked / status.checking.total) * 100).toFixed(2)}%`;
  }
  return `${(status.progress * 100).toFixed(2)}%`;
}

/**
 * One line about the trackers: how many answer and with how many peers, or
 * why none does and when the next try is.
 */
export function formatTrackerLine(
  trackers: readonly TrackerStatus[],
  now: number = Date.now(),
): string {
  return printable(trackerLine(trackers, now), 10_000);
}

function trackerLine(trackers: readonly TrackerStatus[], now: number): string {
  if (trackers.length === 0) return "none (peers from --peer only)";
  const working = trackers.filter((t) => t.state === "working");
  const failed = trackers.filter((t) => t.state === "failed");
  if (working.length === 0 && failed.length === 0) {
    return trackers.some((t) => t.state === "announcing")
      ? `${formatQuantity(trackers.length, "tracker")}, announcing`
      : `${formatQuantity(trackers.length, "tracker")}, not announced yet`;
  }
  const peers = working.reduce((sum, t) => sum + (t.peersReturned ?? 0), 0);
  let line = `${working.length} of ${trackers.length} working`;
  if (working.length > 0) return `${line}, ${formatQuantity(peers, "peer")} in last replies`;
  const first = failed[0];
  line += `: ${first.url}: ${first.lastError ?? "failed"}`;
  const next = first.nextAnnounce?.getTime();
  if (next !== undefined && next > now) {
    line += `; retrying in ${formatDuration(Math.ceil((next - now) / 1000))}`;
  }
  return line;
}

/** The line printed (or logged) when a tracker starts working or fails. */
export function formatTrackerChange(status: TrackerStatus, now: number = Date.now()): string {
  if (status.state === "working") {
    return printable(
      `Tracker ${status.url}: working, ${formatQuantity(status.peersReturned ?? 0, "peer")}`,
      10_000,
    );
  }
  const next = status.nextAnnounce?.getTime();
  const retry = next === undefined || next <= now
    ? ""
    : `; retrying in ${formatDuration(Math.ceil((next - now) / 1000))}`;
  return printable(
    `Tracker ${status.url}: failed: ${status.lastError ?? "no reason given"}${retry}`,
    10_000,
  );
}

/** The line shown while nothing arrives. */
export function formatWaiting(waiting: { forMs: number; reason: string }): string {
  return printable(
    `nothing has arrived for ${formatDuration(waiting.forMs / 1000)}: ${waiting.reason}`,
    10_000,
  );
}

/** Options of {@linkcode formatProgressBlock}. */
export interface ProgressBlockOptions {
  /** Width of the bar in characters. Default 30, less when `columns` is too narrow for it. */
  barWidth?: number;
  /** The terminal's width: the bar shrinks (to 5 at the least) so the percentage still fits. */
  columns?: number;
  /** Colour the bar (off when `NO_COLOR` is set). */
  color?: boolean;
  /** The peer limit, shown next to the count. */
  maxPeers?: number;
}

/** Upload ratio: bytes uploaded over the torrent's size. */
export function formatRatio(status: TorrentStatus): string {
  return (status.totalBytes > 0 ? status.uploaded / status.totalBytes : 0).toFixed(2);
}

/** The peers line: connected, the limit, seen, tried and banned. */
function formatPeers(status: TorrentStatus, options: ProgressBlockOptions): string {
  return `Peers:    ${status.peersConnected} connected${
    options.maxPeers ? ` | ${options.maxPeers} max` : ""
  } | ${status.peersSeen} seen${
    status.peersTried > status.peersConnected ? ` | ${status.peersTried} tried` : ""
  }${status.peersBanned ? ` | ${status.peersBanned} banned` : ""}`;
}

/** The block shown while seeding, as many lines as the progress block. */
export function formatSeedingBlock(
  status: TorrentStatus,
  options: ProgressBlockOptions = {},
): string[] {
  const pieces = status.piecesDone === status.pieceCount
    ? `all ${formatCount(status.pieceCount)} pieces (${formatBytes(status.totalBytes)})`
    : `${formatCount(status.piecesDone)} of ${formatCount(status.pieceCount)} pieces (${
      formatBytes(status.bytesDone)
    } of ${formatBytes(status.totalBytes)})`;
  const lines = [
    `Seeding:  ${status.name}, ${pieces}`,
    `Uploaded: ${formatBytes(status.uploaded)} | ratio ${formatRatio(status)} | to ${
      formatQuantity(status.peersServed, "peer")
    }`,
    `Speed:    ↑ ${formatRate(status.uploadRate)} | ↓ ${formatRate(status.downloadRate)}`,
    formatPeers(status, options),
    `Time:     ${formatDuration(status.elapsedMs / 1000)} elapsed`,
    `Trackers: ${formatTrackerLine(status.trackers)}`,
  ];
  if (status.fileError) lines.push(`Damaged:  ${status.fileError}`);
  return lines;
}

/** `fetching metadata (3/7 pieces, 2 peers)`: a magnet link's torrent before its metadata is known. */
export function formatMetadataProgress(status: TorrentStatus): string {
  const metadata = status.metadata ?? { received: 0, total: 0, peers: 0 };
  const pieces = metadata.total > 0
    ? `${formatCount(metadata.received)}/${formatCount(metadata.total)} pieces, `
    : "";
  return `fetching metadata (${pieces}${formatQuantity(metadata.peers, "peer")})`;
}

/** The block of a torrent whose metadata is being fetched. */
function formatMetadataBlock(status: TorrentStatus, options: ProgressBlockOptions): string[] {
  const lines = [
    `Metadata: ${formatMetadataProgress(status)}`,
    formatPeers(status, options),
    `Time:     ${formatDuration(status.elapsedMs / 1000)} elapsed`,
    `Trackers: ${formatTrackerLine(status.trackers)}`,
  ];
  if (status.waiting) lines.push(`Waiting:  ${formatWaiting(status.waiting)}`);
  return lines;
}

/** The block redrawn in place on a terminal, one string per line (fitting is the display's job). */
export function formatProgressBlock(
  status: TorrentStatus,
  options: ProgressBlockOptions = {},
): string[] {
  if (status.state === "seeding") return formatSeedingBlock(status, options);
  if (status.state === "metadata") return formatMetadataBlock(status, options);
  const label = status.state === "checking" ? "Checking:" : "Progress:";
  const after = ` ${percent(status)} (${formatCount(status.piecesDone)}/${
    formatCount(status.pieceCount)
  } pieces)`;
  const room = options.columns === undefined
    ? Infinity
    : options.columns - 1 - label.length - 3 - after.length;
  const width = Math.max(5, Math.min(options.barWidth ?? 30, room));
  const starting = status.state === "checking" && !status.checking?.total;
  const fraction = status.state === "checking" && status.checking?.total
    ? status.checking.checked / status.checking.total
    : status.progress;
  const filled = Math.min(width, Math.floor(fraction * width));
  let bar = "█".repeat(filled) + "░".repeat(width - filled);
  if (options.color) bar = `\x1b[32m${bar}\x1b[0m`;
  const lines = [
    starting
      ? `Starting: looking at what is on disk already (${formatCount(status.pieceCount)} pieces)`
      : `${label} |${bar}|${after}`,
    `Size:     ${formatBytes(status.bytesDone)} / ${formatBytes(status.totalBytes)}`,
    `Speed:    ↓ ${formatRate(status.downloadRate)} | Avg: ${
      formatRate(status.averageDownloadRate)
    } | ETA: ${eta(status)} | ↑ ${formatRate(status.uploadRate)}`,
    formatPeers(status, options),
    `Time:     ${formatDuration(status.elapsedMs / 1000)} elapsed`,
    `Trackers: ${formatTrackerLine(status.trackers)}`,
  ];
  if (status.waiting) lines.push(`Waiting:  ${formatWaiting(status.waiting)}`);
  if (status.fileError) lines.push(`Damaged:  ${status.fileError}`);
  return lines;
}

/** The plain line printed every few seconds when output is not a terminal. */
export function formatProgressLine(status: TorrentStatus): string {
  if (status.state === "metadata") {
    return `[metadata] ${
      formatMetadataProgress(status)
    }, ${status.peersConnected}/${status.peersSeen} peers`;
  }
  if (status.state === "checking" && !status.checking?.total) {
    return "[starting] looking at existing data";
  }
  if (status.state === "seeding") {
    const some = status.piecesDone < status.pieceCount
      ? `${formatCount(status.piecesDone)}/${formatCount(status.pieceCount)} pieces, `
      : "";
    return `[seeding] ${some}uploaded ${formatBytes(status.uploaded)}, ratio ${
      formatRatio(status)
    }, ↑ ${formatRate(status.uploadRate)}, ${status.peersConnected}/${status.peersSeen} peers`;
  }
  if (status.state === "checking") {
    return `[checking ${percent(status)}] ${formatCount(status.checking?.checked ?? 0)}/${
      formatCount(status.checking?.total ?? 0)
    } pieces checked`;
  }
  return `[${percent(status).padStart(7)}] ${formatCount(status.piecesDone)}/${
    formatCount(status.pieceCount)
  } pieces, ${formatBytes(status.bytesDone)} / ${formatBytes(status.totalBytes)}, ↓ ${
    formatRate(status.downloadRate)
  }, ↑ ${formatRate(status.uploadRate)}, ${status.peersConnected}/${status.peersSeen} peers, ETA ${
    eta(status)
  }`;
}

/**
 * The JSON line printed every second with `--json`; with `files`, each
 * file's progress (padding files left out), numbered as `--select` takes them.
 */
export function statusToJson(
  status: TorrentStatus,
  files?: readonly FileProgress[],
): Record<string, unknown> {
  return {
    state: status.state,
    name: status.name,
    infoHash: status.infoHash,
    progress: Number(status.progress.toFixed(6)),
    piecesDone: status.piecesDone,
    pieceCount: status.pieceCount,
    bytesDone: status.bytesDone,
    totalBytes: status.totalBytes,
    torrentBytes: status.torrentBytes,
    filesSkipped: status.filesSkipped,
    ...(files
      ? {
        files: files.filter((file) => !file.padding).map((file) => ({
          number: file.index + 1,
          path: file.path,
          length: file.length,
          priority: file.priority,
          bytesDone: file.bytesDone,
          progress: file.length === 0 ? 1 : Number((file.bytesDone / file.length).toFixed(6)),
        })),
      }
      : {}),
    checking: status.checking ?? null,
    metadata: status.metadata ?? null,
    downloadRate: Math.round(status.downloadRate),
    uploadRate: Math.round(status.uploadRate),
    etaSeconds: status.etaSeconds === undefined ? null : Math.round(status.etaSeconds),
    downloaded: status.downloaded,
    uploaded: status.uploaded,
    wasted: status.wasted,
    hashFailures: status.hashFailures,
    peersConnected: status.peersConnected,
    peersSeen: status.peersSeen,
    peersBanned: status.peersBanned,
    peersTried: status.peersTried,
    bytesAtStart: status.bytesAtStart,
    elapsedMs: status.elapsedMs,
    waiting: status.waiting
      ? { seconds: Math.round(status.waiting.forMs / 1000), reason: status.waiting.reason }
      : null,
    webSeeds: status.webSeeds.map((seed) => ({
      url: seed.url,
      state: seed.state,
      downloaded: seed.downloaded,
      error: seed.error ?? null,
    })),
    trackers: status.trackers.map((t) => ({
      url: t.url,
      state: t.state,
      peers: t.peersReturned ?? null,
      error: t.lastError ?? null,
      nextAnnounce: t.nextAnnounce?.toISOString() ?? null,
    })),
    error: status.error ?? null,
    fileError: status.fileError ?? null,
  };
}

/** The summary printed when the download ends, complete or not. */
export function formatSummary(status: TorrentStatus, location: string): string {
  const peersUsed = status.peersUsed;
  const seconds = (status.completedAfterMs ?? status.elapsedMs) / 1000;
  if (status.state === "complete") {
    const received = status.bytesDone - status.bytesAtStart;
    if (status.downloaded === 0 && received === 0) {
      return [
        `Complete: ${status.name}`,
        `  ${formatBytes(status.totalBytes)}: already complete on disk`,
        `  Saved in ${location}`,
      ].join("\n");
    }
    const average = seconds > 0 ? status.downloaded / seconds : 0;
    const before = status.bytesAtStart > 0
      ? `; ${formatBytes(status.bytesAtStart)} ${
        status.bytesAtStart === 1 ? "was" : "were"
      } on disk already`
      : "";
    const lines = [
      `Download complete: ${status.name} (${formatBytes(status.totalBytes)})`,
      `  ${formatBytes(status.downloaded)} received in ${formatDuration(seconds)} (average ${
        formatRate(average)
      }) from ${formatQuantity(peersUsed, "peer")}${before}`,
      `  Saved in ${location}`,
    ];
    if (status.uploaded > 0) {
      lines.push(
        `  Uploaded ${formatBytes(status.uploaded)} (ratio ${formatRatio(status)}) to ${
          formatQuantity(status.peersServed, "peer")
        }`,
      );
    }
    return lines.join("\n");
  }
  return [
    `Stopped at ${percent(status)}: ${formatCount(status.piecesDone)} of ${
      formatCount(status.pieceCount)
    } pieces, ${formatBytes(status.bytesDone)} of ${formatBytes(status.totalBytes)}, after ${
      formatDuration(seconds)
    }`,
    "  Run the same command again to resume.",
  ].join("\n");
}

/** The summary printed when `shoal seed` ends. */
export function formatSeedSummary(status: TorrentStatus): string {
  return [
    `Stopped seeding: ${status.name} (${formatBytes(status.totalBytes)})`,
    `  Uploaded ${formatBytes(status.uploaded)} (ratio ${formatRatio(status)}) to ${
      formatQuantity(status.peersServed, "peer")
    } in ${formatDuration(status.elapsedMs / 1000)}`,
  ].join("\n");
}
