/**
 * What `shoal info` prints: a human view of a torrent or magnet link, and a
 * stable JSON form for scripts (documented in the README).
 *
 * @module
 */

import type { MagnetLink } from "../metainfo/magnet.ts";
import type { Torrent } from "../metainfo/torrent.ts";
import type { TorrentFile } from "../metainfo/_file_list.ts";
import { magnetFromTorrent } from "../metainfo/magnet.ts";
import { formatPeerAddress } from "../net/peer_address.ts";
import { infoHashBase32 } from "../metainfo/torrent.ts";
import { formatBytes, formatCount, formatQuantity } from "../util/size.ts";
import { printable } from "../util/_printable.ts";

/** JSON form of a file, as printed by `shoal info --json`. */
export interface FileJson {
  /** The file's number, as `--select` takes it: its index in the torrent's file list + 1. */
  number: number;
  /** Relative path inside the download directory, `/`-separated. */
  path: string;
  /** Size in bytes. */
  size: number;
  /** BEP 47 attributes that are set: padding, executable, hidden, symlink. */
  attributes: string[];
  /** Symlink target relative to the torrent's folder, `/`-separated. */
  symlinkTarget?: string;
}

/** JSON form of a torrent, as printed by `shoal info --json`. */
export interface TorrentJson {
  type: "torrent";
  name: string;
  infoHash: string;
  infoHashBase32: string;
  magnet: string;
  totalSize: number;
  pieceLength: number;
  pieceCount: number;
  private: boolean;
  multiFile: boolean;
  trackers: string[][];
  webSeeds: string[];
  httpSeeds: string[];
  creationDate: string | null;
  comment: string | null;
  createdBy: string | null;
  source: string | null;
  files: FileJson[];
  warnings: string[];
}

/** JSON form of a magnet link, as printed by `shoal info --json`. */
export interface MagnetJson {
  type: "magnet";
  infoHash: string;
  name: string | null;
  trackers: string[];
  webSeeds: string[];
  peers: string[];
  selectOnly: string | null;
}

function attributesOf(file: TorrentFile): string[] {
  const out: string[] = [];
  if (file.padding) out.push("padding");
  if (file.executable) out.push("executable");
  if (file.hidden) out.push("hidden");
  if (file.symlinkTarget) out.push("symlink");
  return out;
}

/** The stable JSON form of a torrent. */
export function torrentToJson(torrent: Torrent): TorrentJson {
  return {
    type: "torrent",
    name: torrent.name,
    infoHash: torrent.infoHashHex,
    infoHashBase32: infoHashBase32(torrent),
    magnet: magnetFromTorrent(torrent),
    totalSize: torrent.totalLength,
    pieceLength: torrent.pieceLength,
    pieceCount: torrent.pieceCount,
    private: torrent.private,
    multiFile: torrent.multiFile,
    trackers: torrent.trackers,
    webSeeds: torrent.webSeeds,
    httpSeeds: torrent.httpSeeds,
    creationDate: torrent.creationDate?.toISOString() ?? null,
    comment: torrent.comment ?? null,
    createdBy: torrent.createdBy ?? null,
    source: torrent.source ?? null,
    files: torrent.files.map((file) => ({
      number: file.index + 1,
      path: file.path.join("/"),
      size: file.length,
      attributes: attributesOf(file),
      ...(file.symlinkTarget ? { symlinkTarget: file.symlinkTarget.join("/") } : {}),
    })),
    warnings: torrent.warnings,
  };
}

/** The stable JSON form of a magnet link. */
export function magnetToJson(magnet: MagnetLink): MagnetJson {
  return {
    type: "magnet",
    infoHash: magnet.infoHashHex,
    name: magnet.displayName ?? null,
    trackers: magnet.trackers,
    webSeeds: magnet.webSeeds,
    peers: magnet.peers.map(formatPeerAddress),
    selectOnly: magnet.selectOnly
      ? magnet.selectOnly.map((r) => (r.start === r.end ? `${r.start}` : `${r.start}-${r.end}`))
        .join(",")
      : null,
  };
}

function field(label: string, value: string): string {
  return `${(label + ":").padEnd(14)}${value}`;
}

function formatDate(date: Date): string {
  return date.toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
}

interface TreeNode {
  children: Map<string, TreeNode>;
  file?: TorrentFile;
}

function fileTree(files: readonly TorrentFile[]): TreeNode {
  const root: TreeNode = { children: new Map() };
  for (const file of files) {
    let node = root;
    for (const component of file.path) {
      let child = node.children.get(component);
      if (!child) {
        child = { children: new Map() };
        node.children.set(component, child);
      }
      node = child;
    }
    node.file = file;
  }
  return root;
}

function renderTree(node: TreeNode, depth: number, lines: [string, string][]): void {
  for (const [name, child] of node.children) {
    const indent = "  ".repeat(depth + 1);
    if (child.file) {
      const target = child.file.symlinkTarget ? ` -> ${child.file.symlinkTarget.join("/")}` : "";
      const size = formatBytes(child.file.length);
      lines.push([`${indent}${name}${target}`, `${size.padStart(10)}  ${child.file.index + 1}`]);
    } else {
      lines.push([`${indent}${name}/`, ""]);
      renderTree(child, depth + 1, lines);
    }
  }
}

/** The human view of a torrent printed by `shoal info`. */
export function formatTorrent(torrent: Torrent): string {
  const dataFiles = torrent.files.filter((file) => !file.padding);
  const out = [
    field("Name", torrent.name),
    field("Info hash", torrent.infoHashHex),
    field(
      "Size",
      `${formatBytes(torrent.totalLength)} (${formatCount(torrent.totalLength)} bytes) in ${
        formatQuantity(dataFiles.length, "file")
      }`,
    ),
    field(
      "Pieces",
      `${formatCount(torrent.pieceCount)} × ${formatBytes(torrent.pieceLength)}`,
    ),
    field("Private", torrent.private ? "yes" : "no"),
  ];
  if (torrent.creationDate) out.push(field("Created", formatDate(torrent.creationDate)));
  if (torrent.createdBy) out.push(field("Created by", torrent.createdBy));
  if (torrent.comment) {
    out.push(field("Comment", torrent.comment.replace(/\r?\n/g, `\n${" ".repeat(14)}`)));
  }
  if (torrent.source) out.push(field("Source", torrent.source));
  out.push(field("Magnet", magnetFromTorrent(torrent)));
  if (torrent.trackers.length === 0) out.push(field("Trackers", "none"));
  else {
    out.push("Trackers:");
    torrent.trackers.forEach((tier, i) => {
      out.push(`  Tier ${i + 1}: ${tier[0]}`);
      for (const url of tier.slice(1)) out.push(`          ${url}`);
    });
  }
  if (torrent.webSeeds.length > 0 || torrent.httpSeeds.length > 0) {
    out.push("Web seeds:");
    for (const url of [...torrent.webSeeds, ...torrent.httpSeeds]) out.push(`  ${url}`);
  }
  const padding = torrent.files.length - dataFiles.length;
  out.push(
    `Files:${
      padding > 0 ? ` (and ${padding} padding files, not written)` : ""
    } (after each size, the number download --select takes)`,
  );
  const lines: [string, string][] = [];
  renderTree(fileTree(dataFiles), 0, lines);
  const width = lines.reduce((widest, [name]) => Math.max(widest, name.length), 0);
  for (const [name, size] of lines) {
    out.push(size ? `${name.padEnd(width)}  ${size}` : name);
  }
  for (const warning of torrent.warnings) out.push(`Warning: ${warning}`);
  return safeLines(out);
}

/**
 * The lines for a terminal: whatever a torrent or magnet link holds, no
 * control character (an escape sequence could rewrite the screen) gets
 * through.
 */
function safeLines(lines: string[]): string {
  return lines.join("\n").split("\n").map((line) => printable(line, 100_000)).join("\n");
}

/** The human view of a magnet link printed by `shoal info`. */
export function formatMagnet(magnet: MagnetLink): string {
  const json = magnetToJson(magnet);
  const out = [
    field("Name", json.name ?? "(not given; known once metadata arrives)"),
    field("Info hash", json.infoHash),
  ];
  out.push(json.trackers.length === 0 ? field("Trackers", "none") : "Trackers:");
  for (const url of json.trackers) out.push(`  ${url}`);
  if (json.webSeeds.length > 0) out.push("Web seeds:", ...json.webSeeds.map((u) => `  ${u}`));
  if (json.peers.length > 0) out.push("Peers:", ...json.peers.map((p) => `  ${p}`));
  if (json.selectOnly) {
    out.push(
      field(
        "Files wanted",
        `${json.selectOnly} (so=, counted from 0: only these are downloaded; shoal info numbers files from 1)`,
      ),
    );
  }
  out.push("Size and files are known once the metadata arrives from peers.");
  return safeLines(out);
}
