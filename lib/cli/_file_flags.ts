/**
 * The file selection flags of `download`: `--select`, `--skip` and
 * `--priority`, with files numbered from 1 as `shoal info` (and `aria2c
 * -S`) shows them, and the priorities they make for a torrent.
 *
 * @module
 */

import { type Command, InvalidArgumentError } from "./_commander.ts";
import { FILE_PRIORITIES, type FilePriority, parseFileNumbers } from "../metainfo/file_priority.ts";
import type { Torrent } from "../metainfo/torrent.ts";

/** `--priority high:2`: a priority and the file numbers it applies to. */
export interface PriorityFlag {
  /** The priority. */
  priority: FilePriority;
  /** The file numbers, as written (checked once the torrent's files are known). */
  files: string;
}

/** The file selection flags. */
export interface FileFlags {
  /** `--select <files>`: only these files. */
  select?: string;
  /** `--skip <files>`: not these files. */
  skip?: string;
  /** `--priority <level:files>`, repeatable. */
  priority?: PriorityFlag[];
}

const FILE_LIST = /^\s*\d+(\s*-\s*\d+)?(\s*,\s*\d+(\s*-\s*\d+)?)*\s*$/;

/** Commander's reader of a list of file numbers (`1,3-5`). */
export function fileListArgument(value: string): string {
  if (!FILE_LIST.test(value)) {
    throw new InvalidArgumentError(
      "give file numbers and ranges such as 1,3-5 (shoal info numbers the files)",
    );
  }
  return value;
}

/** Commander's reader of `--priority level:files`, repeatable. */
export function priorityArgument(value: string, previous: PriorityFlag[] = []): PriorityFlag[] {
  const colon = value.indexOf(":");
  const priority = value.slice(0, colon) as FilePriority;
  if (colon < 0 || !FILE_PRIORITIES.includes(priority)) {
    throw new InvalidArgumentError(
      `give a priority (${FILE_PRIORITIES.join(", ")}) and file numbers, such as high:2 or low:4-6`,
    );
  }
  return [...previous, { priority, files: fileListArgument(value.slice(colon + 1)) }];
}

/** Adds the file selection flags to a command. */
export function addFileFlags(command: Command): Command {
  return command
    .option(
      "--select <files>",
      "download only these files, numbered as shoal info shows them, such as 1,3-5",
      fileListArgument,
    )
    .option("--skip <files>", "do not download these files, such as 2,7-9", fileListArgument)
    .option(
      "--priority <level:files>",
      "give files a priority: high, normal, low or skip, such as high:2; repeatable",
      priorityArgument,
    );
}

/**
 * The priorities the flags give a torrent's files: with `--select`, the
 * files named are `normal` and the others `skip`; `--skip` skips the files
 * it names; each `--priority` then sets its files' priority. Without any
 * of the flags: `undefined` (the saved selection, a magnet link's `so`, or
 * every file).
 *
 * @throws {FileSelectionError} When a number names no file of the torrent.
 */
export function filePrioritiesFrom(
  torrent: Torrent,
  flags: FileFlags,
): FilePriority[] | undefined {
  if (flags.select === undefined && flags.skip === undefined && !flags.priority?.length) {
    return undefined;
  }
  const count = torrent.files.length;
  const priorities = new Array<FilePriority>(count).fill(
    flags.select === undefined ? "normal" : "skip",
  );
  if (flags.select !== undefined) {
    for (const index of parseFileNumbers(flags.select, count)) priorities[index] = "normal";
  }
  if (flags.skip !== undefined) {
    for (const index of parseFileNumbers(flags.skip, count)) priorities[index] = "skip";
  }
  for (const { priority, files } of flags.priority ?? []) {
    for (const index of parseFileNumbers(files, count)) priorities[index] = priority;
  }
  return priorities;
}
