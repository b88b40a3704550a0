/**
 * `shoal download <torrent>` (and `shoal <torrent>`): downloads a torrent
 * from its trackers' peers and peers named with `--peer`, showing progress,
 * and exits 0 when every piece is verified on disk.
 *
 * @module
 */

import { type Command, InvalidArgumentError, Option } from "commander";
import { InterruptedError, NetworkError, ShoalError } from "../../errors.ts";
import {
  loadTorrentSource,
  parsePeerAddress,
  type PeerAddress,
  type Torrent,
} from "../../metainfo/mod.ts";
import { joinInside } from "../../metainfo/safe_path.ts";
import { Session } from "../../session/session.ts";
import type { TorrentHandle } from "../../session/torrent_handle.ts";
import { STATE_FOLDER } from "../../storage/resume.ts";
import { formatSummary } from "../../ui/download_view.ts";
import { type DisplayMode, LiveDisplay } from "../../ui/live_display.ts";
import { FileLogger } from "../../util/log.ts";
import { formatBytes, parseSize } from "../../util/size.ts";
import { VERSION } from "../../version.ts";
import { writeErr, writeOut } from "../output.ts";
import { portArgument } from "./tracker.ts";

/** Options of the download command. */
export interface DownloadCommandOptions {
  downloadDir: string;
  port: number;
  maxPeers: number;
  peer: PeerAddress[];
  maxMemory: number;
  verbose?: boolean;
  quiet?: boolean;
  json?: boolean;
}

function peerArgument(value: string, previous: PeerAddress[]): PeerAddress[] {
  const address = parsePeerAddress(value);
  if (!address) {
    throw new InvalidArgumentError("expected host:port, such as 127.0.0.1:51413 or [::1]:6881.");
  }
  return [...previous, address];
}

function maxPeersArgument(value: string): number {
  const count = Number(value);
  if (!/^\d+$/.test(value) || count < 1 || count > 1000) {
    throw new InvalidArgumentError("expected a number of peers from 1 to 1000.");
  }
  return count;
}

function memoryArgument(value: string): number {
  const bytes = parseSize(value);
  if (bytes === undefined || bytes < 1024 * 1024 || bytes > 16 * 1024 ** 3) {
    throw new InvalidArgumentError("expected a size from 1m to 16g, such as 64m.");
  }
  return bytes;
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

/** Downloads a torrent; resolves when complete, throws when stopped or failed. */
export async function runDownload(input: string, options: DownloadCommandOptions): Promise<void> {
  const source = await loadTorrentSource(input);
  if (source.kind === "magnet") {
    throw new ShoalError(
      "Downloading from a magnet link needs the metadata exchange (BEP 9), which this version of shoal cannot do yet; use the .torrent file",
    );
  }
  const torrent = source.torrent;
  if (torrent.trackers.length === 0 && options.peer.length === 0) {
    throw new NetworkError(
      `${torrent.name} lists no trackers; name peers to connect to with --peer host:port`,
    );
  }
  const directory = options.downloadDir;
  const mode = displayMode(options);
  const log = new FileLogger(`${directory}/${STATE_FOLDER}/shoal.log`, {
    mirrorLevel: options.verbose ? "debug" : undefined,
  });
  log.info(
    `shoal ${VERSION}: downloading ${torrent.name} (${torrent.infoHashHex}) into ${directory}`,
  );
  const session = new Session({ port: options.port, log });
  if (mode === "terminal" || mode === "plain") {
    writeOut(
      [
        `shoal ${VERSION}`,
        `Torrent:            ${torrent.name} (${
          formatBytes(torrent.totalLength)
        }, ${torrent.infoHashHex})`,
        `Download directory: ${directory}`,
        `Port:               ${session.port}`,
        `Max peers:          ${options.maxPeers}`,
        "",
      ].join("\n") + "\n",
    );
  }
  const handle = session.add(torrent, {
    downloadDir: directory,
    peers: options.peer,
    maxPeers: options.maxPeers,
    maxBufferedBytes: options.maxMemory,
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
  } catch (error) {
    display.finish(handle.status());
    await session.close();
    await log.close();
    throw error;
  } finally {
    clearInterval(timer);
    interrupt.remove();
  }
  const status = handle.status();
  display.finish(status);
  await session.close();
  log.info(outcome === "complete" ? "download complete" : "stopped by the user");
  await log.close();
  if (mode === "terminal" || mode === "plain") {
    writeOut("\n" + formatSummary(status, contentLocation(torrent, directory)) + "\n");
  }
  if (outcome === "stopped") throw new InterruptedError("Interrupted; the download is incomplete");
}

/** Adds the download command to the program. */
export function addDownloadCommand(program: Command): void {
  program.command("download")
    .description("download a torrent (shoal <torrent> does the same)")
    .argument("<torrent>", "a .torrent file")
    .option("-d, --download-dir <dir>", "where files are saved", "./downloads")
    .option("-p, --port <port>", "port to listen on and announce", portArgument, 6881)
    .option("-m, --max-peers <count>", "most peers connected at once", maxPeersArgument, 50)
    .option("--peer <host:port>", "connect to this peer too; repeatable", peerArgument, [])
    .addOption(
      new Option("--max-memory <size>", "most memory for pieces not yet verified")
        .argParser(memoryArgument).default(64 * 1024 * 1024, "64m"),
    )
    .option("-v, --verbose", "mirror the debug log to stderr")
    .option("-q, --quiet", "print nothing but errors")
    .option("--json", "print one JSON status line per second")
    .addHelpText(
      "after",
      `
Progress is redrawn in place on a terminal; otherwise a plain line is printed
every 5 s. Existing data is checked (or trusted from <dir>/.shoal/*.resume if
the files are unchanged), so an interrupted download resumes where it was.
The log is written to <dir>/.shoal/shoal.log.

Examples:
  shoal ubuntu.torrent
  shoal download ubuntu.torrent -d ~/Downloads -p 51413 -m 80
  shoal download x.torrent --peer 127.0.0.1:51413 --json`,
    )
    .action(runDownload);
}
