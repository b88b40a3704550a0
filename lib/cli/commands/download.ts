/**
 * `shoal download <torrent>` (and `shoal <torrent>`): downloads a torrent
 * from its trackers' peers and peers named with `--peer`, showing progress,
 * and exits 0 when every piece is verified on disk.
 *
 * @module
 */

import { type Command, Option } from "../_commander.ts";
import { InterruptedError, NetworkError, ShoalError } from "../../errors.ts";
import { loadTorrentSource } from "../../metainfo/source.ts";
import type { PeerAddress } from "../../metainfo/magnet.ts";
import { type Torrent } from "../../metainfo/torrent.ts";
import { joinInside } from "../../metainfo/_safe_path.ts";
import { Session } from "../../session/session.ts";
import type { TorrentHandle } from "../../session/torrent_handle.ts";
import { chooseStateDir } from "../_state_dir.ts";
import { formatSummary } from "../../ui/download_view.ts";
import { type DisplayMode, LiveDisplay } from "../../ui/live_display.ts";
import { FileLogger } from "../../util/log.ts";
import { formatBytes } from "../../util/size.ts";
import { VERSION } from "../../version.ts";
import { writeErr, writeOut } from "../output.ts";
import {
  bindArgument,
  durationArgument,
  maxPeersArgument,
  memoryArgument,
  peerArgument,
  portArgument,
  rateArgument,
  ratioArgument,
} from "../_arguments.ts";

/** Options of the download command. */
export interface DownloadCommandOptions {
  downloadDir: string;
  port: number;
  maxPeers: number;
  peer: PeerAddress[];
  maxMemory: number;
  maxDown?: number;
  maxUp?: number;
  bind: string[];
  stateDir?: string;
  verbose?: boolean;
  quiet?: boolean;
  json?: boolean;
}

/** `6881 on every address (IPv4 and IPv6)`, with the port asked for when it was taken. */
function formatListening(session: Session): string {
  const where = session.addresses.length === 0
    ? "not listening"
    : session.addresses.some((address) => address === "::" || address === "0.0.0.0")
    ? `every address (${session.addresses.includes("::") ? "IPv4 and IPv6" : "IPv4"})`
    : session.addresses.join(", ");
  const taken = session.portTaken === undefined
    ? ""
    : ` (port ${session.portTaken} was taken; announcing ${session.port})`;
  return `${session.port} on ${where}${taken}`;
}

/** Where the torrent's content lands: the file of a single-file torrent, else its folder. */
export function contentLocation(torrent: Torrent, directory: string): string {
  const first = torrent.files.find((file) => !file.padding);
  if (!torrent.multiFile && first) return joinInside(directory, first.path);
  return joinInside(directory, [torrent.name]);
}

function displayMode(options: DownloadCommandOptions): DisplayMode {
  if (options.json) return "json";
  if (options.quiet) return "quiet";
  return Deno.stdout.isTerminal() ? "terminal" : "plain";
}

/** Stops the download on the first SIGINT/SIGTERM; exits at once on the second. */
function onInterrupt(
  handle: TorrentHandle,
  mode: DisplayMode,
): { interrupted: () => boolean; remove: () => void } {
  let interrupted = false;
  const listener = () => {
    if (interrupted) Deno.exit(130);
    interrupted = true;
    if (mode !== "quiet" && mode !== "json") {
      writeErr("\nStopping: telling trackers, saving resume data (Ctrl-C again to quit at once)\n");
    }
    handle.stop();
  };
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  for (const signal of signals) Deno.addSignalListener(signal, listener);
  return {
    interrupted: () => interrupted,
    remove: () => {
      for (const signal of signals) Deno.removeSignalListener(signal, listener);
    },
  };
}

/** What {@linkcode runTorrent} does beyond the download flags. */
export interface RunTorrentOptions extends DownloadCommandOptions {
  /** "downloading" or "seeding", for the log and header. */
  verb: "downloading" | "seeding";
  /** Keep seeding after completion (until Ctrl-C, the ratio or the time). */
  seed?: boolean;
  /** Stop seeding at this upload ratio. */
  seedRatio?: number;
  /** Stop seeding after this many seconds. */
  seedTime?: number;
  /** Refuse to download: the data must already be complete (`shoal seed`). */
  requireComplete?: boolean;
}

/**
 * Loads a .torrent for download or seed; magnet links are refused until BEP 9 lands.
 *
 * @param peers The `--peer` addresses; a download with no tracker needs one (a seeder can wait to be dialled).
 */
export async function loadTorrentForRun(
  input: string,
  peers: PeerAddress[] | undefined,
): Promise<Torrent> {
  const source = await loadTorrentSource(input);
  if (source.kind === "magnet") {
    throw new ShoalError(
      "Downloading from a magnet link needs the metadata exchange (BEP 9), which this version of shoal cannot do yet; use the .torrent file",
    );
  }
  const torrent = source.torrent;
  if (peers && torrent.trackers.length === 0 && peers.length === 0) {
    throw new NetworkError(
      `${torrent.name} lists no trackers; name peers to connect to with --peer host:port`,
    );
  }
  return torrent;
}

/** Waits while seeding until Ctrl-C, the ratio or the time says stop. */
async function seedUntilDone(
  handle: TorrentHandle,
  options: RunTorrentOptions,
  interrupted: () => boolean,
): Promise<void> {
  const started = Date.now();
  while (handle.state === "seeding" && !interrupted()) {
    const status = handle.status();
    if (
      options.seedRatio !== undefined && status.uploaded >= options.seedRatio * status.totalBytes
    ) return;
    if (options.seedTime !== undefined && Date.now() - started >= options.seedTime * 1000) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Runs one torrent with the download flags: download, then seed if asked. */
export async function runTorrent(torrent: Torrent, options: RunTorrentOptions): Promise<void> {
  const directory = options.downloadDir;
  const mode = displayMode(options);
  const stateDir = await chooseStateDir({
    stateDir: options.stateDir,
    downloadDir: directory,
    seedOnly: options.requireComplete,
  });
  const log = new FileLogger(`${stateDir}/shoal.log`, {
    mirrorLevel: options.verbose ? "debug" : undefined,
  });
  log.info(
    `shoal ${VERSION}: ${options.verb} ${torrent.name} (${torrent.infoHashHex}) in ${directory}`,
  );
  let session: Session;
  try {
    session = new Session({
      port: options.port,
      bind: options.bind.length > 0 ? options.bind : undefined,
      log,
      maxDownloadRate: options.maxDown,
      maxUploadRate: options.maxUp,
    });
  } catch (error) {
    await log.close();
    throw error;
  }

  if (mode === "terminal" || mode === "plain") {
    writeOut(
      [
        `shoal ${VERSION}`,
        `Torrent:            ${torrent.name} (${
          formatBytes(torrent.totalLength)
        }, ${torrent.infoHashHex})`,
        `Download directory: ${directory}`,
        `Port:               ${formatListening(session)}`,
        `Max peers:          ${options.maxPeers}`,
        "",
      ].join("\n") + "\n",
    );
  }
  const seeding = options.seed || options.seedRatio !== undefined || options.seedTime !== undefined;
  const handle = session.add(torrent, {
    downloadDir: directory,
    stateDir,
    peers: options.peer,
    maxPeers: options.maxPeers,
    maxBufferedBytes: options.maxMemory,
    seed: seeding,
    requireComplete: options.requireComplete,
  });
  const display = new LiveDisplay({
    mode,
    write: writeOut,
    color: Deno.env.get("NO_COLOR") === undefined,
    maxPeers: options.maxPeers,
  });
  const interrupt = onInterrupt(handle, mode);
  const timer = setInterval(() => display.update(handle.status()), 1000);
  display.update(handle.status());
  let outcome: "complete" | "stopped";
  try {
    outcome = await handle.done;
    if (outcome === "complete" && seeding) {
      await seedUntilDone(handle, options, interrupt.interrupted);
    }
  } catch (error) {
    clearInterval(timer);
    interrupt.remove();
    display.finish(handle.status());
    await session.close();
    await log.close();
    throw error;
  }
  clearInterval(timer);
  await session.close();
  interrupt.remove();
  const status = handle.status();
  display.finish(status);
  log.info(outcome === "complete" ? "complete" : "stopped by the user");
  await log.close();
  if (mode === "terminal" || mode === "plain") {
    writeOut("\n" + formatSummary(status, contentLocation(torrent, directory)) + "\n");
  }
  if (outcome === "stopped") throw new InterruptedError("Interrupted; the download is incomplete");
}

/** Downloads a torrent; resolves when complete (and done seeding, if asked), throws when stopped or failed. */
export async function runDownload(
  input: string,
  options: DownloadCommandOptions & SeedFlags,
): Promise<void> {
  const torrent = await loadTorrentForRun(input, options.peer);
  await runTorrent(torrent, { ...options, verb: "downloading" });
}

/** The seeding flags of `download`. */
export interface SeedFlags {
  seed?: boolean;
  seedRatio?: number;
  seedTime?: number;
}

/** Adds the flags `download` and `seed` share. */
export function addTorrentRunFlags(command: Command): Command {
  return command
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
    .option("-v, --verbose", "mirror the debug log to stderr")
    .option("-q, --quiet", "print nothing but errors")
    .option("--json", "print one JSON status line per second");
}

/** Adds the download command to the program. */
export function addDownloadCommand(program: Command): void {
  addTorrentRunFlags(
    program.command("download")
      .description("download a torrent (shoal <torrent> does the same)")
      .argument("<torrent>", "a .torrent file or its http(s) URL"),
  )
    .option("--seed", "keep seeding after the download completes, until Ctrl-C")
    .option(
      "--seed-ratio <ratio>",
      "keep seeding until this much has been uploaded (1 = the torrent's size)",
      ratioArgument,
    )
    .option("--seed-time <duration>", "keep seeding this long, such as 30m or 2h", durationArgument)
    .addHelpText(
      "after",
      `
Progress is redrawn in place on a terminal; otherwise a plain line is printed
every 5 s. Existing data is checked (or trusted from <dir>/.shoal/*.resume if
the files are unchanged), so an interrupted download resumes where it was.
Without a seeding flag shoal exits when the download completes. The log is
written to <dir>/.shoal/shoal.log.

Examples:
  shoal ubuntu.torrent
  shoal download ubuntu.torrent -d ~/Downloads -p 51413 -m 80
  shoal download x.torrent --peer 127.0.0.1:51413 --json
  shoal download x.torrent --seed-ratio 2 --seed-time 1h`,
    )
    .action(runDownload);
}
