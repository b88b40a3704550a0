/**
 * `shoal download <torrent>` (and `shoal <torrent>`): downloads a torrent
 * from its trackers' peers and peers named with `--peer`, showing progress,
 * and exits 0 when every piece is verified on disk.
 *
 * @module
 */

import { type Command, Option } from "../_commander.ts";
import {
  loadTorrentForRun,
  type MagnetFlags,
  runTorrent,
  type TorrentRunFlags,
} from "../_run_torrent.ts";
import {
  bindArgument,
  durationArgument,
  maxPeersArgument,
  maxWebSeedsArgument,
  memoryArgument,
  peerArgument,
  portArgument,
  rateArgument,
  ratioArgument,
  stallTimeoutArgument,
} from "../_arguments.ts";
import { addDhtFlags } from "../_dht_flags.ts";
import { addFileFlags, type FileFlags } from "../_file_flags.ts";

/** Options of the download command. */
export interface DownloadCommandOptions extends TorrentRunFlags, MagnetFlags, FileFlags {
  /** `--sequential`: pieces in file order. */
  sequential?: boolean;
  /** `--max-web-seeds`. */
  maxWebSeeds?: number;
  /** `--stall-timeout`, in seconds. */
  stallTimeout?: number;
}

/** Downloads a torrent; resolves when complete (and done seeding, if asked), throws when stopped or failed. */
export async function runDownload(
  input: string,
  options: DownloadCommandOptions & SeedFlags,
): Promise<void> {
  const discovers = options.lsd !== false || options.dht !== false;
  const source = await loadTorrentForRun(input, options.peer, true, discovers);
  await runTorrent(source, { ...options, verb: "downloading" });
}

/** The seeding flags of `download`. */
export interface SeedFlags {
  seed?: boolean;
  seedRatio?: number;
  seedTime?: number;
}

/** Adds `--max-web-seeds` (download and stream). */
export function addWebSeedFlag(command: Command): Command {
  return command.option(
    "--max-web-seeds <count>",
    "most of the torrent's web seeds (url-list, ws=) downloaded from at once; 0 uses none",
    maxWebSeedsArgument,
    3,
  );
}

/** Adds the flags `download` and `seed` share. */
export function addTorrentRunFlags(command: Command): Command {
  const flags = command
    .option("-d, --download-dir <dir>", "where files are saved", "./downloads")
    .option("-p, --port <port>", "port to listen on and announce", portArgument, 6881)
    .option("-m, --max-peers <count>", "most peers connected at once", maxPeersArgument, 50)
    .option("--peer <host:port>", "connect to this peer too; repeatable", peerArgument, [])
    .option(
      "--bind <address>",
      "an address of this machine to listen on and connect from; repeatable (default: all)",
      bindArgument,
      [],
    )
    .option(
      "--state-dir <dir>",
      "where resume data, the lock and the log go (default: <download-dir>/.shoal)",
    )
    .addOption(
      new Option("--max-memory <size>", "most memory for pieces not yet verified")
        .argParser(memoryArgument).default(64 * 1024 * 1024, "64m"),
    )
    .option(
      "--max-down <rate>",
      "most bytes per second received, such as 500k or 2m (default: no limit)",
      rateArgument,
    )
    .option(
      "--max-up <rate>",
      "most bytes per second sent, such as 500k or 2m (default: no limit)",
      rateArgument,
    )
    .option("--no-pex", "do not exchange peers with peers (PEX); private torrents never do")
    .option(
      "--no-lsd",
      "do not announce torrents to the local network or listen there (LSD); private ones never are",
    );
  return addDhtFlags(flags)
    .option("-v, --verbose", "mirror the debug log to stderr")
    .option("-q, --quiet", "print nothing but errors")
    .option("--json", "print one JSON status line per second");
}

/** Adds the download command to the program. */
export function addDownloadCommand(program: Command): void {
  addWebSeedFlag(addFileFlags(addTorrentRunFlags(
    program.command("download")
      .description("download a torrent (shoal <torrent> does the same)")
      .argument("<torrent>", "a .torrent file or its http(s) URL, a magnet link or an info hash"),
  )))
    .addOption(
      new Option(
        "--max-metadata-size <size>",
        "magnet links: the largest metadata (info dictionary) accepted from peers",
      ).argParser(memoryArgument).default(16 * 1024 * 1024, "16m"),
    )
    .option(
      "--save-torrent <file>",
      "magnet links: also write the fetched .torrent here (it is always kept in the state directory)",
    )
    .option(
      "--sequential",
      "download pieces in file order (first and last piece of each file first), to play while downloading",
    )
    .option("--seed", "keep seeding after the download completes, until Ctrl-C")
    .option(
      "--seed-ratio <ratio>",
      "keep seeding until this much has been uploaded (1 = the torrent's size)",
      ratioArgument,
    )
    .option("--seed-time <duration>", "keep seeding this long, such as 30m or 2h", durationArgument)
    .option(
      "--stall-timeout <duration>",
      "give up (exit 4) when nothing has arrived for this long, such as 5m (default: keep waiting)",
      stallTimeoutArgument,
    )
    .addHelpText(
      "after",
      `
Progress is redrawn in place on a terminal; otherwise a plain line is printed
every 5 s, and tracker changes as lines of their own. Existing data is checked
(or trusted from <dir>/.shoal/*.resume if the files are unchanged), so an
interrupted download resumes where it was. Without a seeding flag shoal exits
when the download completes. The log is written to <dir>/.shoal/shoal.log
(or <state-dir>/shoal.log).

Examples:
  shoal ubuntu.torrent
  shoal download ubuntu.torrent -d ~/Downloads -p 51413 -m 80
  shoal download x.torrent --peer 127.0.0.1:51413 --json
  shoal download 'magnet:?xt=urn:btih:…&tr=udp://tracker.example:6969' --save-torrent x.torrent
  shoal download 0123456789abcdef0123456789abcdef01234567 --peer 192.0.2.7:51413
  shoal download 'magnet:?xt=urn:btih:…'   (no tracker: peers from the DHT)
  shoal download x.torrent --seed-ratio 2 --seed-time 1h
  shoal download x.torrent --select 1,3-5 --priority high:3   (shoal info numbers the files)
  shoal download x.torrent --sequential   (shoal stream also serves a file while it downloads)
  shoal download https://example.org/x.torrent --stall-timeout 10m`,
    )
    .action(runDownload);
}
