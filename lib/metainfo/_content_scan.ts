/**
 * Finds the files a new torrent is made of: one file, or every regular file
 * under a folder in a deterministic order (components compared by their
 * UTF-8 bytes). Symbolic links and special files are skipped and reported.
 *
 * @module
 */

import { diskError, ShoalError } from "../errors.ts";
import { compareBytes, utf8 } from "../util/_bytes.ts";

/** A file found on disk for a new torrent. */
export interface ContentFile {
  /** Where to read it. */
  absolutePath: string;
  /** Path components below the torrent's folder (just the name for one file). */
  path: string[];
  /** Size in bytes when scanned. */
  length: number;
}

/** What {@linkcode scanContent} found. */
export interface ContentScan {
  /** Default torrent name: the file or folder's base name. */
  name: string;
  /** True when the source is a folder (multi-file torrent). */
  multiFile: boolean;
  /** The files, in torrent order. */
  files: ContentFile[];
  /** Paths skipped because they are links or special files. */
  skipped: string[];
}

function baseName(path: string): string {
  const parts = path.replace(/[/\\]+$/, "").split(/[/\\]/);
  return parts[parts.length - 1] || path;
}

/**
 * The default torrent name for a file or folder: its base name, resolved
 * first so that `.` or `dir/..` give the real folder's name.
 *
 * @param path A file or folder path.
 * @returns The base name (of the path as given when it cannot be resolved).
 */
export async function contentName(path: string): Promise<string> {
  try {
    return baseName(await Deno.realPath(path));
  } catch {
    return baseName(path);
  }
}

function byUtf8(a: string, b: string): number {
  return compareBytes(utf8(a), utf8(b));
}

async function walk(
  folder: string,
  prefix: string[],
  out: ContentFile[],
  skipped: string[],
): Promise<void> {
  const entries: Deno.DirEntry[] = [];
  try {
    for await (const entry of Deno.readDir(folder)) entries.push(entry);
  } catch (error) {
    throw diskError(error, "list the folder", folder);
  }
  entries.sort((a, b) => byUtf8(a.name, b.name));
  for (const entry of entries) {
    const absolutePath = `${folder}/${entry.name}`;
    const path = [...prefix, entry.name];
    if (entry.isDirectory) {
      await walk(absolutePath, path, out, skipped);
    } else if (entry.isFile) {
      let stat: Deno.FileInfo;
      try {
        stat = await Deno.stat(absolutePath);
      } catch (error) {
        throw diskError(error, "read", absolutePath);
      }
      out.push({ absolutePath, path, length: stat.size });
    } else {
      skipped.push(absolutePath);
    }
  }
}

/**
 * Scans a file or folder for {@linkcode createTorrent}.
 *
 * @param path A file or a folder.
 * @returns The files in torrent order.
 * @throws {DiskError} When the path cannot be read.
 * @throws {ShoalError} When there is nothing to put in a torrent.
 */
export async function scanContent(path: string): Promise<ContentScan> {
  let stat: Deno.FileInfo;
  try {
    stat = await Deno.stat(path);
  } catch (error) {
    throw diskError(error, "read", path);
  }
  const name = await contentName(path);
  const skipped: string[] = [];
  let files: ContentFile[];
  if (stat.isFile) {
    files = [{ absolutePath: path, path: [name], length: stat.size }];
  } else if (stat.isDirectory) {
    files = [];
    await walk(path.replace(/[/\\]+$/, "") || "/", [], files, skipped);
    if (files.length === 0) throw new ShoalError(`${path} holds no files to put in a torrent`);
  } else {
    throw new ShoalError(`${path} is neither a file nor a folder`);
  }
  if (files.every((file) => file.length === 0)) {
    throw new ShoalError(`${path} holds only empty files; a torrent needs at least one byte`);
  }
  return { name, multiFile: stat.isDirectory, files, skipped };
}
