/**
 * Parsing `.torrent` files (BEP 3) with multi-tracker tiers (BEP 12), private
 * torrents (BEP 27), web seeds (BEP 19, BEP 17) and file attributes (BEP 47).
 *
 * @module
 */

import { type BencodeDict, type BencodeValue } from "../bencode/types.ts";
import { BencodeError } from "../bencode/errors.ts";
import { decodeText, isBytes, isDict, isInteger, isList } from "../bencode/read.ts";
import { decodeWithDetails } from "../bencode/decode.ts";
import { diskError } from "../errors.ts";
import { toBase32, toHex } from "../util/_bytes.ts";
import { sha1 } from "../util/_sha1.ts";
import { formatQuantity } from "../util/size.ts";
import { TorrentError } from "./errors.ts";
import { readFileList, type TorrentFile } from "./_file_list.ts";
import {
  MAX_FILES,
  MAX_PIECE_LENGTH,
  MAX_PIECES,
  MAX_TORRENT_FILE_BYTES,
  MAX_TRACKERS,
  MAX_URL_LENGTH,
  MAX_WEB_SEEDS,
} from "./limits.ts";
import { printable } from "../util/_printable.ts";
import { PieceMap } from "./piece_map.ts";
import { type SafePathOptions, sanitizeComponent } from "./_safe_path.ts";
import { readTextField } from "./_text.ts";

export type { TorrentFile } from "./_file_list.ts";

/** A DHT bootstrap node named by a torrent's `nodes` field (BEP 5). */
export interface NodeAddress {
  /** Host name or IP address. */
  host: string;
  /** UDP port. */
  port: number;
}

/** A parsed, validated v1 torrent. All fields come from the metainfo file. */
export interface Torrent {
  /** SHA-1 of the info dictionary's original bytes: the torrent's identity. */
  infoHash: Uint8Array;
  /** The info hash as 40 lower-case hex characters. */
  infoHashHex: string;
  /** The original bytes of the info dictionary. */
  infoBytes: Uint8Array;
  /**
   * The torrent's name after sanitizing: the file name of a single-file
   * torrent, the folder name of a multi-file one. The info hash in hex when
   * the name is unusable.
   */
  name: string;
  /** True when the info dictionary uses the `files` list. */
  multiFile: boolean;
  /** Every file, padding files included, in torrent order. */
  files: TorrentFile[];
  /** Total bytes of all files, padding included. */
  totalLength: number;
  /** Bytes per piece. */
  pieceLength: number;
  /** Number of pieces. */
  pieceCount: number;
  /** The concatenated 20-byte SHA-1 hashes of every piece. */
  pieceHashes: Uint8Array;
  /** Which file ranges make up each piece. */
  pieceMap: PieceMap;
  /** Tracker URLs in tiers (BEP 12); a single `announce` makes one tier. */
  trackers: string[][];
  /** BEP 19 web seed URLs (`url-list`). */
  webSeeds: string[];
  /** BEP 17 HTTP seed URLs (`httpseeds`). */
  httpSeeds: string[];
  /** BEP 27: peers only from the torrent's trackers. */
  private: boolean;
  /** When the torrent was made, if it says. */
  creationDate?: Date;
  /** Free text from the creator. */
  comment?: string;
  /** The program that made the torrent. */
  createdBy?: string;
  /** The `source` field of the info dictionary (private trackers use it). */
  source?: string;
  /** DHT nodes the creator suggested (BEP 5). */
  dhtNodes: NodeAddress[];
  /** Things that are odd but harmless, for the user to see. */
  warnings: string[];
}

/** Options of {@linkcode parseTorrent}. */
export type ParseTorrentOptions = SafePathOptions;

/**
 * URLs from a list (or a single one): trimmed, without duplicates, and
 * without any that hold control characters or are over
 * {@linkcode MAX_URL_LENGTH} (said in `warnings`; they would only ever be
 * printed, never reached).
 */
function parseUrlList(
  value: BencodeValue | undefined,
  warnings: string[],
  what: string,
): string[] {
  const entries = isList(value) ? value : value === undefined ? [] : [value];
  const urls: string[] = [];
  for (const entry of entries) {
    if (!isBytes(entry)) continue;
    const url = decodeText(entry).trim();
    if (url.length > MAX_URL_LENGTH || printable(url, MAX_URL_LENGTH) !== url) {
      warnings.push(`Skipped a ${what} URL that is too long or holds control characters`);
      continue;
    }
    if (url !== "" && !urls.includes(url)) urls.push(url);
  }
  return urls;
}

/** The first {@linkcode MAX_WEB_SEEDS} of `urls`, with a warning when there were more. */
function capped(urls: string[], warnings: string[], what: string): string[] {
  if (urls.length <= MAX_WEB_SEEDS) return urls;
  warnings.push(`Only the first ${MAX_WEB_SEEDS} ${what} are used`);
  return urls.slice(0, MAX_WEB_SEEDS);
}

function parseTrackers(root: BencodeDict, warnings: string[]): string[][] {
  const seen = new Set<string>();
  const tiers: string[][] = [];
  const list = root.get("announce-list");
  if (isList(list)) {
    for (const tier of list) {
      if (!isList(tier)) {
        warnings.push("Skipped an announce-list tier that is not a list");
        continue;
      }
      const urls = parseUrlList(tier, warnings, "tracker").filter((url) => !seen.has(url))
        .slice(0, MAX_TRACKERS - seen.size);
      for (const url of urls) seen.add(url);
      if (urls.length > 0) tiers.push(urls);
      if (seen.size >= MAX_TRACKERS) {
        warnings.push(`Only the first ${MAX_TRACKERS} trackers are used`);
        break;
      }
    }
  }
  if (tiers.length === 0) {
    const announce = parseUrlList(root.get("announce"), warnings, "tracker");
    if (announce.length > 0) tiers.push(announce.slice(0, 1));
  }
  return tiers;
}

function parseNodes(value: BencodeValue | undefined): NodeAddress[] {
  if (!isList(value)) return [];
  const nodes: NodeAddress[] = [];
  for (const entry of value) {
    if (!isList(entry) || entry.length !== 2) continue;
    const [host, port] = entry;
    if (isBytes(host) && isInteger(port) && port > 0 && port < 65536) {
      nodes.push({ host: decodeText(host), port });
    }
  }
  return nodes;
}

function readPieceLength(info: BencodeDict, warnings: string[]): number {
  const value = info.get("piece length");
  if (value === undefined) throw new TorrentError(`The info dictionary has no "piece length"`);
  if (!isInteger(value)) throw new TorrentError(`"piece length" is not an integer`);
  if (value <= 0) throw new TorrentError(`"piece length" must be positive, not ${value}`);
  if (value > MAX_PIECE_LENGTH) {
    throw new TorrentError(
      `"piece length" of ${value} bytes is over the limit of ${MAX_PIECE_LENGTH} bytes`,
    );
  }
  if ((value & (value - 1)) !== 0) {
    warnings.push(`The piece length ${value} is not a power of two`);
  }
  return value;
}

/**
 * Parses and validates a `.torrent` file.
 *
 * Unsorted dictionary keys and bytes after the top-level dictionary (a
 * trailing newline from hand editing), both seen in files from old tools, are
 * accepted with a warning; the info hash is always computed over the original
 * bytes of the info dictionary.
 *
 * @param bytes The content of the `.torrent` file.
 * @param options Which platform's path rules apply.
 * @returns The torrent.
 * @throws {TorrentError} When the file is not a usable v1 torrent; the message says why.
 *
 * @example Parsing torrent bytes
 * ```ts
 * import { parseTorrent } from "./mod.ts";
 * import { encode } from "../bencode/mod.ts";
 * const torrent = parseTorrent(encode({
 *   info: { length: 3, name: "a.txt", "piece length": 16384, pieces: new Uint8Array(20) },
 * }));
 * console.assert(torrent.name === "a.txt" && torrent.pieceCount === 1);
 * ```
 */
export function parseTorrent(bytes: Uint8Array, options?: ParseTorrentOptions): Torrent {
  const warnings: string[] = [];
  let decoded;
  try {
    decoded = decodeWithDetails(bytes, {
      mode: "lenient",
      recordSpans: true,
      maxSpanDepth: 2, // the info dictionary's; not a million file entries'
      maxItems: MAX_FILES, // no list is longer than the file list may be
      allowTrailing: true,
    });
  } catch (error) {
    if (error instanceof BencodeError && error.message.includes("holds more than")) {
      throw new TorrentError(
        `The torrent holds a list of more than ${MAX_FILES} entries; shoal reads torrents of at most ${MAX_FILES} files`,
        { cause: error },
      );
    }
    if (error instanceof BencodeError) {
      throw new TorrentError(`Not a valid torrent file: ${error.message}`, { cause: error });
    }
    throw error;
  }
  if (decoded.end !== bytes.length) {
    const extra = bytes.length - decoded.end;
    warnings.push(
      `Ignored ${formatQuantity(extra, "byte")} after the end of the torrent data`,
    );
  }
  if (decoded.unsortedKeysAt !== undefined) {
    warnings.push(`Dictionary keys are not sorted (first at byte ${decoded.unsortedKeysAt})`);
  }
  const root = decoded.value;
  if (!isDict(root)) {
    throw new TorrentError("Not a torrent file: the top level is not a dictionary");
  }
  const info = root.get("info");
  if (!isDict(info)) throw new TorrentError(`The torrent has no "info" dictionary`);
  const span = decoded.spanOf(info);
  if (span === undefined) throw new Error("Bencode decoder did not record the info span");
  const infoBytes = bytes.subarray(span.start, span.end);
  const infoHash = sha1(infoBytes);
  const infoHashHex = toHex(infoHash);

  const pieces = info.get("pieces");
  if (pieces === undefined) {
    if (info.get("meta version") === 2) {
      throw new TorrentError(
        "This is a BitTorrent v2-only torrent; shoal supports v1 and hybrid torrents",
      );
    }
    throw new TorrentError(`The info dictionary has no "pieces"`);
  }
  if (!isBytes(pieces)) throw new TorrentError(`"pieces" is not a byte string`);
  if (pieces.length % 20 !== 0) {
    throw new TorrentError(`"pieces" is ${pieces.length} bytes long, not a multiple of 20`);
  }
  const pieceLength = readPieceLength(info, warnings);

  const rawName = info.get("name");
  if (rawName === undefined) throw new TorrentError(`The info dictionary has no "name"`);
  if (!isBytes(rawName)) throw new TorrentError(`"name" is not a byte string`);
  const sanitizedName = sanitizeComponent(readTextField(info, "name") ?? "", options);
  if (sanitizedName === undefined) {
    warnings.push("The torrent's name is unusable; using its info hash");
  }
  const name = sanitizedName ?? infoHashHex;

  const { files, multiFile, totalLength } = readFileList(info, name, options);
  if (totalLength === 0) throw new TorrentError("The torrent holds no data (total size 0)");
  const pieceCount = Math.ceil(totalLength / pieceLength);
  if (pieceCount > MAX_PIECES) {
    throw new TorrentError(`The torrent has ${pieceCount} pieces; the limit is ${MAX_PIECES}`);
  }
  if (pieceCount !== pieces.length / 20) {
    throw new TorrentError(
      `"pieces" holds ${
        pieces.length / 20
      } hashes but ${totalLength} bytes in pieces of ${pieceLength} need ${pieceCount}`,
    );
  }

  const creation = root.get("creation date");
  let creationDate: Date | undefined;
  if (isInteger(creation) && Math.abs(creation) <= 8.64e12) {
    creationDate = new Date(creation * 1000);
  } else if (creation !== undefined) {
    warnings.push(`Ignored an unusable "creation date"`);
  }

  return {
    infoHash,
    infoHashHex,
    infoBytes,
    name,
    multiFile,
    files,
    totalLength,
    pieceLength,
    pieceCount,
    pieceHashes: pieces,
    pieceMap: new PieceMap(files, pieceLength),
    trackers: parseTrackers(root, warnings),
    webSeeds: capped(
      parseUrlList(root.get("url-list"), warnings, "web seed"),
      warnings,
      "web seeds",
    ),
    httpSeeds: capped(
      parseUrlList(root.get("httpseeds"), warnings, "HTTP seed"),
      warnings,
      "HTTP seeds",
    ),
    private: info.get("private") === 1,
    creationDate,
    comment: readTextField(root, "comment"),
    createdBy: readTextField(root, "created by"),
    source: readTextField(info, "source"),
    dhtNodes: parseNodes(root.get("nodes")),
    warnings,
  };
}

/** The info hash in RFC 4648 base32, as some magnet links carry it. */
export function infoHashBase32(torrent: Pick<Torrent, "infoHash">): string {
  return toBase32(torrent.infoHash);
}

/**
 * The expected SHA-1 of one piece.
 *
 * @throws {RangeError} For an index out of range.
 */
export function pieceHash(torrent: Torrent, piece: number): Uint8Array {
  if (!Number.isInteger(piece) || piece < 0 || piece >= torrent.pieceCount) {
    throw new RangeError(`No piece ${piece}: the torrent has ${torrent.pieceCount} pieces`);
  }
  return torrent.pieceHashes.subarray(piece * 20, piece * 20 + 20);
}

/**
 * Reads and parses a `.torrent` file, refusing files over
 * {@linkcode MAX_TORRENT_FILE_BYTES}.
 *
 * @param path Path of the `.torrent` file.
 * @param options Which platform's path rules apply.
 * @throws {DiskError} When the file cannot be read.
 * @throws {TorrentError} When it is not a usable torrent.
 *
 * @example Reading a torrent file
 * ```ts
 * import { createTorrent, readTorrentFile, writeTorrentFile } from "./mod.ts";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/notes.txt`, "a few bytes to share");
 * await writeTorrentFile(`${dir}/notes.torrent`, (await createTorrent(`${dir}/notes.txt`)).bytes);
 *
 * const torrent = await readTorrentFile(`${dir}/notes.torrent`);
 * console.log(torrent.name, torrent.pieceCount, torrent.infoHashHex); // notes.txt 1 …
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function readTorrentFile(
  path: string,
  options?: ParseTorrentOptions,
): Promise<Torrent> {
  let bytes: Uint8Array;
  try {
    checkTorrentFile(path, await Deno.stat(path));
    bytes = await Deno.readFile(path);
  } catch (error) {
    throw readError(error, path);
  }
  return parseTorrentFile(path, bytes, options);
}

/**
 * {@linkcode readTorrentFile}, synchronously: for a program that reads
 * many small files at once, before it has anything else to do (a daemon
 * starting with a thousand torrents reads them in a third of the time).
 *
 * @param path Path of the `.torrent` file.
 * @param options Which platform's path rules apply.
 * @throws {DiskError} When the file cannot be read.
 * @throws {TorrentError} When it is not a usable torrent.
 *
 * @example Reading a torrent file synchronously
 * ```ts
 * import { createTorrent, readTorrentFileSync, writeTorrentFile } from "./mod.ts";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/notes.txt`, "a few bytes to share");
 * await writeTorrentFile(`${dir}/notes.torrent`, (await createTorrent(`${dir}/notes.txt`)).bytes);
 *
 * console.log(readTorrentFileSync(`${dir}/notes.torrent`).name); // notes.txt
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function readTorrentFileSync(path: string, options?: ParseTorrentOptions): Torrent {
  let bytes: Uint8Array;
  try {
    checkTorrentFile(path, Deno.statSync(path));
    bytes = Deno.readFileSync(path);
  } catch (error) {
    throw readError(error, path);
  }
  return parseTorrentFile(path, bytes, options);
}

/** A torrent file is a file, and not too big to read. */
function checkTorrentFile(path: string, stat: Deno.FileInfo): void {
  if (stat.isDirectory) throw new Deno.errors.IsADirectory(path);
  if (stat.size > MAX_TORRENT_FILE_BYTES) {
    throw new TorrentError(
      `${path} is ${stat.size} bytes; torrent files over ${MAX_TORRENT_FILE_BYTES} bytes are refused`,
    );
  }
}

function readError(error: unknown, path: string): Error {
  return error instanceof TorrentError ? error : diskError(error, "read the torrent file", path);
}

/** Parses a file's bytes, its path in the message of an error. */
function parseTorrentFile(path: string, bytes: Uint8Array, options?: ParseTorrentOptions): Torrent {
  try {
    return parseTorrent(bytes, options);
  } catch (error) {
    if (error instanceof TorrentError) {
      throw new TorrentError(`${path}: ${error.message}`, { cause: error });
    }
    throw error;
  }
}
