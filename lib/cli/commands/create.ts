/**
 * `shoal create <path>`: makes a `.torrent` file from a file or folder.
 *
 * @module
 */

import { type Command, InvalidArgumentError } from "../_commander.ts";
import { contentName } from "../../metainfo/_content_scan.ts";
import { createTorrent, exists, writeTorrentFile } from "../../metainfo/create.ts";
import { ShoalError } from "../../errors.ts";
import { HashProgress } from "../../ui/hash_progress.ts";
import { formatBytes, formatCount, formatQuantity, parseSize } from "../../util/size.ts";
import { writeErr, writeOut } from "../output.ts";

/** Options of the create command, as commander hands them over. */
export interface CreateOptions {
  tracker: string[];
  output?: string;
  pieceSize?: number;
  private?: boolean;
  comment?: string;
  webSeed: string[];
  name?: string;
  date: boolean;
  source?: string;
  force?: boolean;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function pieceSizeArgument(value: string): number {
  const size = parseSize(value);
  if (size === undefined) {
    throw new InvalidArgumentError("expected bytes or a size such as 256k or 1m.");
  }
  return size;
}

/** A file name for the torrent made from its name: separators and control characters removed. */
function defaultOutputPath(name: string): string {
  // deno-lint-ignore no-control-regex
  const safe = name.replace(/[/\\\u0000-\u001f]/g, "_").replace(/^\.+/, "_");
  return `${safe || "torrent"}.torrent`;
}

/** Makes the torrent, writes it and prints a summary. */
export async function runCreate(path: string, options: CreateOptions): Promise<void> {
  const output = options.output ?? defaultOutputPath(options.name ?? await contentName(path));
  // Checked before hashing, which can take minutes, and again when writing.
  if (!options.force && await exists(output)) {
    throw new ShoalError(`${output} already exists; pass --force to overwrite it`);
  }
  const progress = new HashProgress();
  const started = performance.now();
  const created = await createTorrent(path, {
    // Each -t is one tier; commas separate trackers within a tier (as mktorrent).
    trackers: options.tracker.map((tier) => tier.split(",").map((url) => url.trim())),
    pieceLength: options.pieceSize,
    private: options.private,
    comment: options.comment,
    webSeeds: options.webSeed,
    name: options.name,
    creationDate: options.date ? undefined : null,
    source: options.source,
    onProgress: (done, total) => progress.update(done, total),
  }).finally(() => progress.finish());
  const seconds = (performance.now() - started) / 1000;
  await writeTorrentFile(output, created.bytes, { force: options.force });
  const { torrent } = created;
  for (const skipped of created.skipped) writeErr(`Skipped ${skipped} (not a regular file)\n`);

  writeOut(
    [
      `Created ${output}`,
      `  Name:      ${torrent.name}`,
      `  Info hash: ${torrent.infoHashHex}`,
      `  Size:      ${formatBytes(torrent.totalLength)} in ${
        formatQuantity(torrent.files.length, "file")
      }`,
      `  Pieces:    ${formatCount(torrent.pieceCount)} × ${formatBytes(torrent.pieceLength)}`,
      `  Hashed in ${seconds.toFixed(2)} s (${
        formatBytes(torrent.totalLength / Math.max(seconds, 1e-3))
      }/s)`,
    ].join("\n") + "\n",
  );
}

/** Adds the create command to the program. */
export function addCreateCommand(program: Command): void {
  program.command("create")
    .description("make a .torrent file from a file or folder")
    .argument("<path>", "the file or folder to share")
    .option(
      "-t, --tracker <url>",
      "tracker URL; repeat for more tiers, commas join trackers in one tier",
      collect,
      [],
    )
    .option("-o, --output <file>", "where to write the torrent (default: <name>.torrent)")
    .option(
      "--piece-size <size>",
      "bytes per piece, a power of two such as 256k or 1m (default: from the total size)",
      pieceSizeArgument,
    )
    .option("--private", "mark the torrent private (peers only from its trackers)")
    .option("--comment <text>", "free text stored in the torrent")
    .option("--web-seed <url>", "web seed URL (BEP 19); repeatable", collect, [])
    .option("--name <name>", "torrent name (default: the file or folder name)")
    .option("--no-date", "leave out the creation date (reproducible output)")
    .option("--source <text>", "source tag stored in the info dictionary (changes the info hash)")
    .option("-f, --force", "overwrite the output file if it exists")
    .addHelpText(
      "after",
      "\nExamples:\n  shoal create ./photos -t udp://tracker.example:6969/announce\n  shoal create video.mkv --piece-size 1m --private -o video.torrent",
    )
    .action(runCreate);
}
