/**
 * Reads the file list of an info dictionary (BEP 3 single and multi-file
 * forms, BEP 47 attributes) into files with safe relative paths.
 *
 * @module
 */

import { type BencodeDict, type BencodeValue } from "../bencode/types.ts";
import { isBytes, isDict, isInteger, isList } from "../bencode/read.ts";
import { TorrentError } from "./errors.ts";
import { MAX_FILES } from "./limits.ts";
import {
  PathAllocator,
  type SafePathOptions,
  sanitizeComponent,
  sanitizePath,
} from "./_safe_path.ts";
import { decodeText } from "../bencode/read.ts";

/** One file of a torrent. */
export interface TorrentFile {
  /** Position in the torrent's file list. */
  index: number;
  /**
   * Where the file goes, relative to the download directory, as safe path
   * components. For multi-file torrents the first component is the torrent's
   * folder.
   */
  path: string[];
  /** Size in bytes (0 for symlinks). */
  length: number;
  /** Offset of the file's first byte in the torrent's byte stream. */
  offset: number;
  /** A BEP 47 padding file: zeros that exist only for piece alignment, never written. */
  padding: boolean;
  /** BEP 47 `x` attribute. */
  executable: boolean;
  /** BEP 47 `h` attribute. */
  hidden: boolean;
  /**
   * For a BEP 47 symlink (`l` attribute): the target as given, relative to
   * the torrent's folder (or, as libtorrent writes it, to the link's), in
   * safe components or `..`. `resolveSymlinks` (symlinks.ts) says where it
   * leads.
   */
  symlinkTarget?: string[];
  /** BEP 47 `sha1` of the file's content, when given (a hint only). */
  sha1?: Uint8Array;
}

/** Legacy (BitComet) padding files are named like this, without the `p` attribute. */
const LEGACY_PADDING_PREFIX = "_____padding_file_";

function readLength(entry: BencodeDict, where: string, optional: boolean): number {
  const length = entry.get("length");
  if (length === undefined && optional) return 0;
  if (typeof length === "bigint") {
    throw new TorrentError(`${where} has a length too large to handle (${length} bytes)`);
  }
  if (!isInteger(length)) throw new TorrentError(`${where} has no valid "length" integer`);
  if (length < 0) throw new TorrentError(`${where} has a negative length (${length})`);
  return length;
}

function readPathList(value: BencodeValue | undefined, where: string): string[] | undefined {
  if (value === undefined) return undefined;
  if (!isList(value)) throw new TorrentError(`${where} is not a list of names`);
  return value.map((component, i) => {
    if (!isBytes(component)) {
      throw new TorrentError(`${where} element ${i} is not a byte string`);
    }
    return decodeText(component);
  });
}

function readAttributes(entry: BencodeDict): string {
  const attr = entry.get("attr");
  return isBytes(attr) ? decodeText(attr) : "";
}

/** The file list of an info dictionary, and whether it is the multi-file form. */
export interface FileListResult {
  /** The files, in torrent order. */
  files: TorrentFile[];
  /** True when the info dictionary has a `files` list. */
  multiFile: boolean;
  /** Sum of all file lengths. */
  totalLength: number;
}

/**
 * Reads and validates the files of an info dictionary.
 *
 * @param info The info dictionary.
 * @param rootName The sanitized torrent name: the file name of a single-file
 *   torrent, or the folder of a multi-file one.
 * @param options Which platform's path rules apply.
 * @throws {TorrentError} For missing or malformed fields.
 */
export function readFileList(
  info: BencodeDict,
  rootName: string,
  options?: SafePathOptions,
): FileListResult {
  const list = info.get("files");
  if (list === undefined) {
    if (info.get("length") === undefined) {
      throw new TorrentError(`The info dictionary has neither "length" nor "files"`);
    }
    const attr = readAttributes(info);
    const length = readLength(info, "The torrent", false);
    return {
      multiFile: false,
      totalLength: length,
      files: [{
        index: 0,
        path: [rootName],
        length,
        offset: 0,
        padding: false,
        executable: attr.includes("x"),
        hidden: attr.includes("h"),
      }],
    };
  }
  if (!isList(list)) throw new TorrentError(`"files" in the info dictionary is not a list`);
  if (list.length === 0) throw new TorrentError(`"files" in the info dictionary is empty`);
  if (list.length > MAX_FILES) {
    throw new TorrentError(`The torrent lists ${list.length} files; the limit is ${MAX_FILES}`);
  }
  const allocator = new PathAllocator(options);
  const files: TorrentFile[] = [];
  let offset = 0;
  for (let index = 0; index < list.length; index++) {
    const entry = list[index];
    const where = `File ${index}`;
    if (!isDict(entry)) throw new TorrentError(`${where} of "files" is not a dictionary`);
    const attr = readAttributes(entry);
    const symlink = attr.includes("l");
    const rawPath = readPathList(entry.get("path.utf-8"), `${where} "path.utf-8"`) ??
      readPathList(entry.get("path"), `${where} "path"`);
    const length = symlink ? 0 : readLength(entry, where, false);
    const padding = attr.includes("p") ||
      (rawPath?.[rawPath.length - 1]?.startsWith(LEGACY_PADDING_PREFIX) ?? false);
    if (rawPath === undefined && !padding) throw new TorrentError(`${where} has no "path"`);
    let path: string[];
    if (padding) {
      // Never written to disk; the path is for display only.
      path = [rootName, ".pad", String(length)];
    } else {
      path = allocator.allocate([rootName, ...sanitizePath(rawPath ?? [], options)]);
    }
    const file: TorrentFile = {
      index,
      path,
      length,
      offset,
      padding,
      executable: attr.includes("x"),
      hidden: attr.includes("h"),
    };
    if (symlink) {
      const target = readPathList(entry.get("symlink path"), `${where} "symlink path"`);
      if (target === undefined) {
        throw new TorrentError(`${where} is a symlink without a "symlink path"`);
      }
      // `..` is kept: resolveSymlinks follows it and refuses a target that leaves the folder.
      file.symlinkTarget = target.map((c) => c === ".." ? c : sanitizeComponent(c, options))
        .filter((c): c is string => c !== undefined);
    }
    const sha1 = entry.get("sha1");
    if (isBytes(sha1) && sha1.length === 20) file.sha1 = sha1;
    files.push(file);
    offset += length;
    if (!Number.isSafeInteger(offset)) {
      throw new TorrentError("The total size of the files is too large to handle");
    }
  }
  return { files, multiFile: true, totalLength: offset };
}
