/**
 * Making `.torrent` files from a file or folder: scanning, choosing a piece
 * size, hashing with native SHA-1 while the next chunk is read, and writing
 * the result atomically.
 *
 * @module
 */

import { encode } from "../bencode/encode.ts";
import { diskError, ShoalError, UsageError } from "../errors.ts";
import { CREATED_BY } from "../version.ts";
import { type ContentFile, scanContent } from "./_content_scan.ts";
import { MAX_PIECE_LENGTH } from "./limits.ts";
import { PieceHasher } from "./_piece_hasher.ts";
import { parseTorrent, type Torrent } from "./torrent.ts";

/** Smallest piece length shoal picks or accepts: 16 KiB, one request block. */
export const MIN_PIECE_LENGTH = 16 * 1024;
/** Largest piece length shoal picks by itself: 16 MiB. */
export const MAX_DEFAULT_PIECE_LENGTH = 16 * 1024 * 1024;
/** The default piece length aims at no more than this many pieces. */
const TARGET_PIECES = 1500;
/** Bytes read from disk at a time while hashing. */
const READ_CHUNK = 4 * 1024 * 1024;

/** Options of {@linkcode createTorrent}. */
export interface CreateTorrentOptions {
  /** Tracker tiers: each inner list is one tier (BEP 12). */
  trackers?: string[][];
  /** Bytes per piece, a power of two from 16 KiB; chosen from the size when absent. */
  pieceLength?: number;
  /** Mark the torrent private (BEP 27). */
  private?: boolean;
  /** Free text stored in the torrent. */
  comment?: string;
  /** Web seed URLs (BEP 19). */
  webSeeds?: string[];
  /** Name of the torrent; default the file or folder's base name. */
  name?: string;
  /** The creation date to store, or `null` to store none. Default: now. */
  creationDate?: Date | null;
  /** The `source` field of the info dictionary. */
  source?: string;
  /** Called as data is hashed. */
  onProgress?: (hashedBytes: number, totalBytes: number) => void;
}

/** The result of {@linkcode createTorrent}. */
export interface CreatedTorrent {
  /** The encoded `.torrent` file. */
  bytes: Uint8Array;
  /** The torrent, parsed back from those bytes. */
  torrent: Torrent;
  /** Paths that were skipped (links, special files). */
  skipped: string[];
}

/**
 * The piece length shoal picks for a total size: the smallest power of two
 * from 16 KiB to 16 MiB that keeps the torrent to about 1,500 pieces or fewer
 * (1 GiB → 1 MiB pieces; 100 MiB → 128 KiB).
 */
export function defaultPieceLength(totalLength: number): number {
  let length = MIN_PIECE_LENGTH;
  while (length < MAX_DEFAULT_PIECE_LENGTH && totalLength / length > TARGET_PIECES) length *= 2;
  return length;
}

function checkPieceLength(length: number): void {
  if (
    !Number.isInteger(length) || length < MIN_PIECE_LENGTH || length > MAX_PIECE_LENGTH ||
    (length & (length - 1)) !== 0
  ) {
    throw new UsageError(
      `The piece size must be a power of two from 16 KiB to 512 MiB, not ${length} bytes`,
    );
  }
}

function checkUrls(urls: readonly string[], what: string, schemes: readonly string[]): void {
  for (const url of urls) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new UsageError(`The ${what} "${url}" is not a URL`);
    }
    if (!schemes.includes(parsed.protocol)) {
      throw new UsageError(
        `The ${what} "${url}" must use ${schemes.map((s) => s.slice(0, -1)).join(", ")}`,
      );
    }
  }
}

async function hashFile(
  file: ContentFile,
  hasher: PieceHasher,
  buffers: [Uint8Array, Uint8Array],
  onChunk: () => void,
): Promise<void> {
  let handle: Deno.FsFile;
  try {
    handle = await Deno.open(file.absolutePath, { read: true });
  } catch (error) {
    throw diskError(error, "open", file.absolutePath);
  }
  try {
    let read = 0;
    let current = 0;
    // Read the next chunk while the current one is hashed.
    let pending = handle.read(buffers[current]);
    while (true) {
      const count = await pending;
      if (count === null) break;
      const chunk = buffers[current];
      current ^= 1;
      pending = handle.read(buffers[current]);
      read += count;
      if (read > file.length) break;
      hasher.update(chunk.subarray(0, count));
      onChunk();
    }
    await pending.catch(() => null);
    if (read !== file.length) {
      throw new ShoalError(
        `${file.absolutePath} changed size while it was hashed (${file.length} → ${read} bytes); try again once nothing writes to it`,
      );
    }
  } catch (error) {
    if (error instanceof ShoalError) throw error;
    throw diskError(error, "read", file.absolutePath);
  } finally {
    handle.close();
  }
}

/**
 * Makes a torrent from a file or folder. Nothing is written to disk; see
 * {@linkcode writeTorrentFile}.
 *
 * @param path The file or folder to share.
 * @param options Trackers, piece size, flags and a progress callback.
 * @returns The encoded torrent and its parsed form.
 * @throws {UsageError} For a bad piece size or URL.
 * @throws {DiskError} When the content cannot be read.
 *
 * @example Sharing a folder
 * ```ts
 * import { createTorrent, writeTorrentFile } from "./mod.ts";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/photos/2026`, { recursive: true });
 * await Deno.writeFile(`${dir}/photos/2026/beach.jpg`, new Uint8Array(300_000));
 * const { bytes, torrent } = await createTorrent(`${dir}/photos`, {
 *   trackers: [["udp://tracker.example:6969/announce"], ["https://backup.example/announce"]],
 *   comment: "holidays",
 *   onProgress: (done, total) => console.log(`hashed ${done} of ${total} bytes`),
 * });
 * await writeTorrentFile(`${dir}/photos.torrent`, bytes);
 * console.log(torrent.infoHashHex, torrent.pieceLength); // … 16384
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function createTorrent(
  path: string,
  options: CreateTorrentOptions = {},
): Promise<CreatedTorrent> {
  const trackers = (options.trackers ?? []).map((tier) => tier.filter((url) => url !== ""))
    .filter((tier) => tier.length > 0);
  checkUrls(trackers.flat(), "tracker", ["http:", "https:", "udp:"]);
  checkUrls(options.webSeeds ?? [], "web seed", ["http:", "https:"]);
  if (options.pieceLength !== undefined) checkPieceLength(options.pieceLength);
  if (options.name !== undefined && options.name.trim() === "") {
    throw new UsageError("The torrent name must not be empty");
  }

  const scan = await scanContent(path);
  const totalLength = scan.files.reduce((sum, file) => sum + file.length, 0);
  const pieceLength = options.pieceLength ?? defaultPieceLength(totalLength);
  const hasher = new PieceHasher(pieceLength, totalLength);
  const buffers: [Uint8Array, Uint8Array] = [
    new Uint8Array(READ_CHUNK),
    new Uint8Array(READ_CHUNK),
  ];
  const report = () => options.onProgress?.(hasher.bytesHashed, totalLength);
  report();
  for (const file of scan.files) await hashFile(file, hasher, buffers, report);

  const name = options.name ?? scan.name;
  const info = {
    name,
    "piece length": pieceLength,
    pieces: hasher.finish(),
    private: options.private ? 1 : undefined,
    source: options.source,
    length: scan.multiFile ? undefined : totalLength,
    files: scan.multiFile
      ? scan.files.map((file) => ({ length: file.length, path: file.path }))
      : undefined,
  };
  const creationDate = options.creationDate === undefined ? new Date() : options.creationDate;
  const allTrackers = trackers.flat();
  const bytes = encode({
    announce: allTrackers[0],
    "announce-list": allTrackers.length > 1 ? trackers : undefined,
    comment: options.comment,
    "created by": CREATED_BY,
    "creation date": creationDate === null ? undefined : Math.floor(creationDate.getTime() / 1000),
    info,
    "url-list": options.webSeeds && options.webSeeds.length > 0 ? options.webSeeds : undefined,
  });
  return { bytes, torrent: parseTorrent(bytes), skipped: scan.skipped };
}

/**
 * Writes a `.torrent` file atomically (a temporary file, then a rename), so
 * an interrupted write never leaves a truncated torrent.
 *
 * @param path Where to write.
 * @param bytes The encoded torrent.
 * @param options `force: true` replaces an existing file.
 * @throws {ShoalError} When the file exists and `force` is not set.
 * @throws {DiskError} When writing fails.
 *
 * @example Writing a torrent without replacing an existing one
 * ```ts
 * import { createTorrent, writeTorrentFile } from "./mod.ts";
 * import { ShoalError } from "../errors.ts";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/a.txt`, "content");
 * const { bytes } = await createTorrent(`${dir}/a.txt`);
 * await writeTorrentFile(`${dir}/a.torrent`, bytes);
 * try {
 *   await writeTorrentFile(`${dir}/a.torrent`, bytes);
 * } catch (error) {
 *   if (!(error instanceof ShoalError)) throw error;
 *   console.log(error.message); // …a.torrent already exists; pass --force to overwrite it
 * }
 * await writeTorrentFile(`${dir}/a.torrent`, bytes, { force: true });
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeTorrentFile(
  path: string,
  bytes: Uint8Array,
  options: { force?: boolean } = {},
): Promise<void> {
  if (!options.force && await exists(path)) {
    throw new ShoalError(`${path} already exists; pass --force to overwrite it`);
  }
  const temporary = `${path}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  try {
    await Deno.writeFile(temporary, bytes);
    await Deno.rename(temporary, path);
  } catch (error) {
    await Deno.remove(temporary).catch(() => {});
    throw diskError(error, "write", path);
  }
}

/** True when something exists at the path. */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw diskError(error, "check", path);
  }
}
