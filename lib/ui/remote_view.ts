/**
 * What `shoal remote` prints of a daemon's torrents (`torrent-get`
 * answers, from shoal's daemon or a Transmission): the list as a table,
 * one torrent's details, and the fields asked for each.
 *
 * @module
 */

import { statusLabel } from "../rpc/torrent_status.ts";
import { formatBytes, formatDuration } from "../util/size.ts";
import { printable } from "../util/_printable.ts";

/** A torrent as `torrent-get` answers it with {@linkcode LIST_FIELDS}. */
export interface RemoteTorrent {
  /** The daemon's number for it. */
  id: number;
  /** Its name. */
  name: string;
  /** Its info hash, hex. */
  hashString: string;
  /** Transmission's state number. */
  status: number;
  /** 0, or the kind of error. */
  error: number;
  /** The error's words. */
  errorString: string;
  /** Fraction of the wanted bytes verified. */
  percentDone: number;
  /** Bytes of the wanted files. */
  sizeWhenDone: number;
  /** Wanted bytes still missing. */
  leftUntilDone: number;
  /** Seconds left; -1 unknown, -2 never. */
  eta: number;
  /** Bytes per second received. */
  rateDownload: number;
  /** Bytes per second sent. */
  rateUpload: number;
  /** Uploaded over downloaded (or size); -1 none. */
  uploadRatio: number;
  /** Stopped at a seed limit. */
  isFinished: boolean;
  /** Below 1 while a magnet link's metadata comes. */
  metadataPercentComplete: number;
}

/** One file of a torrent's details. */
export interface RemoteFile {
  /** Its path inside the torrent. */
  name: string;
  /** Its size. */
  length: number;
  /** Bytes of it verified. */
  bytesCompleted: number;
}

/** A torrent with {@linkcode INFO_FIELDS}. */
export interface RemoteTorrentDetail extends RemoteTorrent {
  /** Bytes of all its files. */
  totalSize: number;
  /** Where its files are. */
  downloadDir: string;
  /** Bytes downloaded, all runs. */
  downloadedEver: number;
  /** Bytes uploaded, all runs. */
  uploadedEver: number;
  /** Peers connected now. */
  peersConnected: number;
  /** Its files (none before a magnet link's metadata). */
  files: RemoteFile[];
  /** Each file's choice: wanted, and priority -1 low, 0 normal, 1 high. */
  fileStats: { wanted: boolean; priority: number }[];
  /** Its trackers, as last heard. */
  trackerStats: {
    announce: string;
    lastAnnounceResult: string;
    seederCount: number;
    leecherCount: number;
  }[];
  /** Pieces. */
  pieceCount: number;
  /** Bytes per piece. */
  pieceSize: number;
  /** The torrent's comment. */
  comment: string;
  /** A magnet link for it. */
  magnetLink: string;
}

/** The fields `shoal remote list` asks for. */
export const LIST_FIELDS: readonly (keyof RemoteTorrent)[] = [
  "id",
  "name",
  "hashString",
  "status",
  "error",
  "errorString",
  "percentDone",
  "sizeWhenDone",
  "leftUntilDone",
  "eta",
  "rateDownload",
  "rateUpload",
  "uploadRatio",
  "isFinished",
  "metadataPercentComplete",
];

/** The fields `shoal remote info` asks for. */
export const INFO_FIELDS: readonly (keyof RemoteTorrentDetail)[] = [
  ...LIST_FIELDS,
  "totalSize",
  "downloadDir",
  "downloadedEver",
  "uploadedEver",
  "peersConnected",
  "files",
  "fileStats",
  "trackerStats",
  "pieceCount",
  "pieceSize",
  "comment",
  "magnetLink",
];

const rate = (bytes: number) => bytes > 0 ? `${formatBytes(bytes)}/s` : "-";
const percent = (fraction: number) => `${Math.floor(Math.max(0, Math.min(1, fraction)) * 100)}%`;
const ratio = (value: number) => value < 0 ? "-" : value.toFixed(2);
const clean = (text: string) => printable(text, 500);

function eta(torrent: RemoteTorrent): string {
  if (torrent.leftUntilDone === 0 && torrent.sizeWhenDone > 0) return "Done";
  return torrent.eta >= 0 ? formatDuration(torrent.eta) : "Unknown";
}

function state(torrent: RemoteTorrent): string {
  const label = statusLabel(torrent);
  return torrent.error !== 0 ? `${label}: ${clean(torrent.errorString)}` : label;
}

/**
 * The list as a table, with a total line, as `transmission-remote -l`
 * shows it.
 *
 * @example
 * ```ts
 * import { formatRemoteList, type RemoteTorrent } from "./remote_view.ts";
 * const torrent: RemoteTorrent = {
 *   id: 1, name: "ubuntu.iso", hashString: "ab".repeat(20), status: 6, error: 0, errorString: "",
 *   percentDone: 1, sizeWhenDone: 4_700_000_000, leftUntilDone: 0, eta: -1, rateDownload: 0,
 *   rateUpload: 524_288, uploadRatio: 0.5, isFinished: false, metadataPercentComplete: 1,
 * };
 * console.assert(formatRemoteList([torrent]).includes("Seeding"));
 * ```
 */
export function formatRemoteList(torrents: readonly RemoteTorrent[]): string {
  const header = ["ID", "Done", "Have", "ETA", "Down", "Up", "Ratio", "Status", "Name"];
  const rows = torrents.map((t) => [
    String(t.id),
    percent(t.percentDone),
    formatBytes(t.sizeWhenDone - t.leftUntilDone),
    eta(t),
    rate(t.rateDownload),
    rate(t.rateUpload),
    ratio(t.uploadRatio),
    state(t),
    clean(t.name || t.hashString),
  ]);
  const sum = (pick: (t: RemoteTorrent) => number) => torrents.reduce((n, t) => n + pick(t), 0);
  const total = [
    "Sum:",
    "",
    formatBytes(sum((t) => t.sizeWhenDone - t.leftUntilDone)),
    "",
    rate(sum((t) => t.rateDownload)),
    rate(sum((t) => t.rateUpload)),
    "",
    "",
    `${torrents.length} torrent${torrents.length === 1 ? "" : "s"}`,
  ];
  const table = [header, ...rows, total];
  // The last two columns (status, name) are left as they are: only the others are padded.
  const widths = header.map((_, c) => Math.max(...table.map((row) => row[c].length)));
  return table.map((row) =>
    row.map((cell, c) => c >= row.length - 1 ? cell : cell.padEnd(widths[c])).join("  ")
      .trimEnd()
  ).join("\n") + "\n";
}

const PRIORITY_WORDS: Record<number, string> = { 1: "high", 0: "normal", [-1]: "low" };

/** One torrent's details: facts, then its files numbered from 1, then its trackers. */
export function formatRemoteInfo(t: RemoteTorrentDetail): string {
  const lines = [
    `Name:       ${clean(t.name)}`,
    `Hash:       ${t.hashString}`,
    `ID:         ${t.id}`,
    `State:      ${state(t)}`,
    `Progress:   ${(Math.max(0, t.percentDone) * 100).toFixed(1)}% of ${
      formatBytes(t.sizeWhenDone)
    } wanted (${formatBytes(t.totalSize)} in all)`,
    `ETA:        ${eta(t)}`,
    `Speed:      ↓ ${rate(t.rateDownload)} | ↑ ${rate(t.rateUpload)}`,
    `Transfer:   ${formatBytes(t.downloadedEver)} down, ${formatBytes(t.uploadedEver)} up, ratio ${
      ratio(t.uploadRatio)
    }`,
    `Peers:      ${t.peersConnected} connected`,
    `Location:   ${clean(t.downloadDir)}`,
    `Pieces:     ${t.pieceCount} × ${formatBytes(t.pieceSize)}`,
  ];
  if (t.comment) lines.push(`Comment:    ${clean(t.comment)}`);
  lines.push(`Magnet:     ${t.magnetLink}`, "");
  lines.push(formatRemoteFiles(t).trimEnd());
  lines.push("", `Trackers (${t.trackerStats.length}):`);
  for (const tracker of t.trackerStats) {
    const counts = tracker.seederCount >= 0
      ? `, ${tracker.seederCount} seeders, ${tracker.leecherCount} leechers`
      : "";
    lines.push(
      `  ${clean(tracker.announce)}: ${clean(tracker.lastAnnounceResult || "not yet")}${counts}`,
    );
  }
  return lines.join("\n") + "\n";
}

/** A torrent's files, numbered from 1: wanted or not, priority, progress, size, path. */
export function formatRemoteFiles(t: Pick<RemoteTorrentDetail, "files" | "fileStats">): string {
  const lines = [`Files (${t.files.length}):`];
  if (t.files.length === 0) lines.push("  (the file list comes with the metadata)");
  const width = String(t.files.length).length;
  t.files.forEach((file, i) => {
    const stats = t.fileStats[i] ?? { wanted: true, priority: 0 };
    const done = file.length > 0 ? percent(file.bytesCompleted / file.length) : "100%";
    lines.push(
      `  ${String(i + 1).padStart(width)}  ${stats.wanted ? "get " : "skip"}  ${
        (PRIORITY_WORDS[stats.priority] ?? "normal").padEnd(6)
      }  ${done.padStart(4)}  ${formatBytes(file.length).padStart(9)}  ${clean(file.name)}`,
    );
  });
  return lines.join("\n") + "\n";
}
