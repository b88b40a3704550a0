/**
 * Running one torrent from the command line (`download`, `seed`, `demo`):
 * the session, the state directory and log, the header, the live display
 * and the events it shows, Ctrl-C, seeding until told to stop, and the
 * summary.
 *
 * @module
 */

import { InterruptedError, NetworkError, ShoalError } from "../errors.ts";
import type { PeerAddress } from "../net/peer_address.ts";
import { joinInside } from "../metainfo/_safe_path.ts";
import { usableWebSeeds } from "../webseed/url.ts";
import { loadTorrentSource } from "../metainfo/source.ts";
import { torrentFileFromMetadata } from "../metainfo/from_metadata.ts";
import type { Torrent } from "../metainfo/torrent.ts";
import type { MagnetLink } from "../metainfo/magnet.ts";
import { saveTorrentFile } from "../session/_metadata_phase.ts";
import { Session } from "../session/session.ts";
import type { TorrentHandle, TorrentStatus } from "../session/torrent_handle.ts";
import type { TrackerStatus } from "../tracker/announcer.ts";
import {
  formatSeedSummary,
  formatSummary,
  formatTrackerChange,
  formatWaiting,
} from "../ui/download_view.ts";
import { type DisplayMode, LiveDisplay } from "../ui/live_display.ts";
import { FileLogger, type Logger } from "../util/log.ts";
import { formatBytes } from "../util/size.ts";
import { VERSION } from "../version.ts";
import { chooseStateDir } from "./_state_dir.ts";
import { type DhtFlags, dhtOptions } from "./_dht_flags.ts";
import { writeErr, writeOut } from "./output.ts";
import { type FileFlags, filePrioritiesFrom } from "./_file_flags.ts";
import type { FilePriority } from "../metainfo/file_priority.ts";

/** The flags `download` and `seed` share. */
export interface TorrentRunFlags extends DhtFlags {
  downloadDir: string;
  port: number;
  maxPeers: number;
  peer: PeerAddress[];
  maxMemory: number;
  maxDown?: number;
  maxUp?: number;
  bind: string[];
  stateDir?: string;
  /** False with `--no-pex`. */
  pex?: boolean;
  /** False with `--no-lsd`. */
  lsd?: boolean;
  verbose?: boolean;
  quiet?: boolean;
  json?: boolean;
}

/** The flags of a download from a magnet link. */
export interface MagnetFlags {
  /** `--max-metadata-size`: the largest info dictionary accepted from peers. */
  maxMetadataSize?: number;
  /** `--save-torrent`: where a copy of the fetched `.torrent` goes. */
  saveTorrent?: string;
}

/** What {@linkcode runTorrent} does beyond the shared flags. */
export interface RunTorrentOptions extends TorrentRunFlags, MagnetFlags, FileFlags {
  /** "downloading" or "seeding", for the log, the header and the summary. */
  verb: "downloading" | "seeding";
  /** Keep seeding after completion (until Ctrl-C, the ratio or the time). */
  seed?: boolean;
  /** Stop seeding at this upload ratio. */
  seedRatio?: number;
  /** Stop seeding after this many seconds. */
  seedTime?: number;
  /** Give up when nothing has arrived for this many seconds (`--stall-timeout`). */
  stallTimeout?: number;
  /** Refuse to download: the data must already be complete, and is only read (`shoal seed`). */
  requireComplete?: boolean;
  /** `--sequential`: pieces in file order. */
  sequential?: boolean;
  /** `--max-web-seeds`: most web seeds used at once. */
  maxWebSeeds?: number;
  /** The files' priorities once the torrent is known, instead of those of the file flags. */
  chooseFiles?: (torrent: Torrent) => FilePriority[] | undefined;
  /**
   * Called once the torrent is added, with its handle and the display; the
   * function it returns is awaited before the session closes (`shoal stream`'s server).
   */
  started?: (handle: TorrentHandle, display: LiveDisplay) => () => Promise<void>;
}

/**
 * Loads a .torrent (a path or URL), or a magnet link or bare info hash for
 * a download (its metadata is then fetched from peers).
 *
 * @param peers The `--peer` addresses; a download with no tracker needs one (a seeder can wait to
 *   be dialled), unless the DHT or local service discovery may find peers.
 * @param magnets Whether a magnet link may be given (`download`; a seed needs the data's torrent).
 * @param discovers Whether the DHT or local service discovery is on (then nobody named is not an
 *   error).
 */
export async function loadTorrentForRun(
  input: string,
  peers: PeerAddress[] | undefined,
  magnets = false,
  discovers = false,
): Promise<Torrent | MagnetLink> {
  const source = await loadTorrentSource(input);
  if (source.kind === "magnet") {
    const magnet = source.magnet;
    if (!magnets) {
      throw new ShoalError(
        "Seeding needs the torrent's metadata: give its .torrent file (shoal download fetches a magnet link's)",
      );
    }
    if (!discovers) checkMagnetHasPeers(magnet, peers ?? []);
    return magnet;
  }
  const torrent = source.torrent;
  const lonely = torrent.trackers.length === 0 && peers?.length === 0 &&
    usableWebSeeds(torrent.webSeeds).length === 0;
  if (lonely && (!discovers || torrent.private)) {
    throw new NetworkError(
      `${torrent.name} lists no trackers and no web seeds; name peers to connect to with --peer host:port`,
    );
  }
  return torrent;
}

/**
 * A magnet link's metadata can come only from peers: it must name a
 * tracker or a peer, or `--peer` must (unless the DHT or local service
 * discovery is on: they may find some).
 *
 * @throws {NetworkError} When there is nobody to ask.
 */
export function checkMagnetHasPeers(magnet: MagnetLink, peers: readonly PeerAddress[]): void {
  if (magnet.trackers.length === 0 && magnet.peers.length === 0 && peers.length === 0) {
    throw new NetworkError(
      "The magnet link names no trackers and no peers (x.pe); name peers to fetch its metadata from with --peer host:port",
    );
  }
}

/** Writes a fetched torrent's `.torrent` where the user asked (`--save-torrent`). */
export function saveTorrentCopy(path: string, torrent: Torrent): Promise<void> {
  return saveTorrentFile(
    path,
    torrentFileFromMetadata(torrent.infoBytes, {
      trackers: torrent.trackers.flat(),
      webSeeds: torrent.webSeeds,
    }),
  );
}

/** The torrent's name, or a magnet link's (its `dn`, else its info hash) until the metadata is known. */
function nameOf(source: Torrent | MagnetLink): string {
  return "name" in source ? source.name : source.displayName ?? source.infoHashHex;
}

/** Where the torrent's content lands: the file of a single-file torrent, else its folder. */
export function contentLocation(torrent: Torrent, directory: string): string {
  const first = torrent.files.find((file) => !file.padding);
  if (!torrent.multiFile && first) return joinInside(directory, first.path);
  return joinInside(directory, [torrent.name]);
}

/** `Files: 2 of 13 selected (1.2 MiB of 4 GiB)`. */
function selectionLine(torrent: Torrent, priorities: readonly FilePriority[]): string {
  const files = torrent.files.filter((file) => !file.padding);
  const chosen = files.filter((file) => priorities[file.index] !== "skip");
  const bytes = chosen.reduce((sum, file) => sum + file.length, 0);
  return `Files:              ${chosen.length} of ${files.length} selected (${
    formatBytes(bytes)
  } of ${formatBytes(torrent.totalLength)})`;
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

function displayMode(options: TorrentRunFlags): DisplayMode {
  if (options.json) return "json";
  if (options.quiet) return "quiet";
  return Deno.stdout.isTerminal() ? "terminal" : "plain";
}

/** Listens for SIGWINCH (where there is one) and redraws at the new width. */
function onResize(display: LiveDisplay): () => void {
  if (Deno.build.os === "windows") return () => {};
  const listener = () => display.resize();
  Deno.addSignalListener("SIGWINCH", listener);
  return () => Deno.removeSignalListener("SIGWINCH", listener);
}

/** Stops the torrent on the first SIGINT/SIGTERM; exits at once on the second. */
function onInterrupt(
  handle: TorrentHandle,
  display: LiveDisplay,
): { interrupted: () => boolean; remove: () => void } {
  let interrupted = false;
  const listener = () => {
    if (interrupted) Deno.exit(130);
    interrupted = true;
    display.message(
      "Stopping: telling trackers, saving resume data (Ctrl-C again to quit at once)",
    );
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

/** Waits while seeding, until Ctrl-C or the torrent stops (its seed ratio or time is reached). */
async function seedUntilDone(handle: TorrentHandle, interrupted: () => boolean): Promise<void> {
  while (handle.state === "seeding" && !interrupted()) {
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** A tracker's change, as a JSON event. */
function trackerEvent(status: TrackerStatus): Record<string, unknown> {
  return {
    url: status.url,
    state: status.state,
    error: status.lastError ?? null,
    peers: status.peersReturned ?? null,
    nextAnnounce: status.nextAnnounce?.toISOString() ?? null,
  };
}

/**
 * Shows what changes between status snapshots as events: nothing arriving
 * (the block shows it on a terminal; elsewhere a line when it begins and
 * when its reason changes) and data arriving again.
 */
function watchWaiting(display: LiveDisplay, mode: DisplayMode, log: Logger) {
  let reason: string | undefined;
  return (status: TorrentStatus) => {
    const waiting = status.waiting;
    if (waiting?.reason === reason) return;
    if (waiting) {
      log.info(`waiting: ${formatWaiting(waiting)}`);
      if (mode !== "terminal") {
        display.event(
          "waiting",
          { seconds: Math.round(waiting.forMs / 1000), reason: waiting.reason },
          `Waiting: ${formatWaiting(waiting)}`,
        );
      }
    } else if (status.state === "downloading") {
      if (mode !== "terminal") display.event("receiving", {}, "Receiving data again");
    }
    reason = waiting?.reason;
  };
}

/**
 * Tells when a file changes under the torrent and pieces are lost
 * (`status.fileError`), and when they are whole again: one line each.
 */
function watchFileError(display: LiveDisplay) {
  let shown: string | undefined;
  return (status: TorrentStatus) => {
    if (status.fileError === shown) return;
    if (status.fileError) {
      display.event("file-error", { message: status.fileError }, `Damaged: ${status.fileError}`);
    } else {
      display.event("repaired", {}, "Every damaged piece is good again");
    }
    shown = status.fileError;
  };
}

/**
 * Runs one torrent with the download flags: for a magnet link, its
 * metadata first; then download, then seed if asked.
 */
export async function runTorrent(
  source: Torrent | MagnetLink,
  options: RunTorrentOptions,
): Promise<void> {
  const directory = options.downloadDir;
  const mode = displayMode(options);
  const stateDir = await chooseStateDir({
    stateDir: options.stateDir,
    downloadDir: directory,
    seedOnly: options.requireComplete,
  });
  // Made below; the display asks it for the files' progress.
  let handle: TorrentHandle | undefined = undefined;
  const display = new LiveDisplay({
    mode,
    write: writeOut,
    writeMessage: writeErr,
    color: Deno.env.get("NO_COLOR") === undefined,
    maxPeers: options.maxPeers,
    files: () => handle?.files(),
  });
  const log = new FileLogger(`${stateDir}/shoal.log`, {
    mirrorLevel: options.verbose ? "debug" : undefined,
    // On a terminal, -v lines go above the live block, not through it (with --json, straight to stderr).
    mirror: mode === "terminal" || mode === "plain" ? (line) => display.message(line) : undefined,
  });
  log.info(
    `shoal ${VERSION}: ${options.verb} ${nameOf(source)} (${source.infoHashHex}) in ${directory}`,
  );
  let session: Session;
  try {
    session = new Session({
      port: options.port,
      bind: options.bind.length > 0 ? options.bind : undefined,
      log,
      maxDownloadRate: options.maxDown,
      maxUploadRate: options.maxUp,
      lsd: options.lsd ?? true,
      dht: dhtOptions(options, `${stateDir}/dht.json`),
    });
  } catch (error) {
    await log.close();
    throw error;
  }
  const chooseFiles = options.chooseFiles ?? ((torrent) => filePrioritiesFrom(torrent, options));
  let filePriorities;
  try {
    // A magnet link's files are known with its metadata: the flags are applied then.
    filePriorities = "pieceMap" in source ? chooseFiles(source) : undefined;
  } catch (error) {
    await session.close();
    await log.close();
    throw error;
  }
  if (mode === "terminal" || mode === "plain") {
    writeOut(
      [
        `shoal ${VERSION}`,
        `Torrent:            ${nameOf(source)} (${
          "totalLength" in source ? formatBytes(source.totalLength) : "magnet link"
        }, ${source.infoHashHex})`,
        `Download directory: ${directory}`,
        ...(filePriorities && "pieceMap" in source ? [selectionLine(source, filePriorities)] : []),
        `Port:               ${formatListening(session)}`,
        `Max peers:          ${options.maxPeers}`,
        "",
      ].join("\n") + "\n",
    );
  }
  const seeding = options.seed || options.seedRatio !== undefined || options.seedTime !== undefined;
  handle = session.add(source, {
    downloadDir: directory,
    filePriorities,
    sequential: options.sequential,
    maxWebSeeds: options.maxWebSeeds,
    maxMetadataSize: options.maxMetadataSize,
    stateDir,
    peers: options.peer,
    maxPeers: options.maxPeers,
    pex: options.pex,
    maxBufferedBytes: options.maxMemory,
    seed: seeding,
    seedRatio: options.seedRatio,
    seedTimeMs: options.seedTime === undefined ? undefined : options.seedTime * 1000,
    requireComplete: options.requireComplete,
    stallTimeoutMs: options.stallTimeout === undefined ? undefined : options.stallTimeout * 1000,
  });
  let failure: Error | undefined;
  const copies: Promise<void>[] = [];
  handle.on("error", (error) => failure = error);
  handle.on("metadata", (torrent) => {
    display.event(
      "metadata",
      { name: torrent.name, size: torrent.totalLength, pieces: torrent.pieceCount },
      `Metadata: ${torrent.name} (${formatBytes(torrent.totalLength)}, ${torrent.files.length} ${
        torrent.files.length === 1 ? "file" : "files"
      })`,
    );
    log.info(`metadata: ${torrent.name}, ${torrent.totalLength} bytes`);
    try {
      const priorities = chooseFiles(torrent);
      if (priorities) handle.setFilePriorities(priorities).catch((error) => failure ??= error);
    } catch (error) {
      failure = error as Error;
      handle.stop();
    }
    if (options.saveTorrent) {
      const path = options.saveTorrent;
      copies.push(
        saveTorrentCopy(path, torrent).then(
          () => log.info(`torrent saved to ${path}`),
          (error) => display.message(`Could not save the torrent: ${(error as Error).message}`),
        ),
      );
    }
  });
  handle.on("tracker", (status) => {
    display.event("tracker", trackerEvent(status), formatTrackerChange(status));
  });
  const finishStarted = options.started?.(handle, display);
  const waiting = watchWaiting(display, mode, log);
  const fileError = watchFileError(display);
  const interrupt = onInterrupt(handle, display);
  const stopResize = onResize(display);
  const tick = () => {
    const status = handle.status();
    display.update(status);
    waiting(status);
    fileError(status);
  };
  const timer = setInterval(tick, 1000);
  tick();
  const cleanUp = async () => {
    clearInterval(timer);
    stopResize();
    await finishStarted?.();
    await session.close();
    await Promise.all(copies);
    interrupt.remove();
    display.finish(handle.status());
  };
  let outcome: "complete" | "stopped";
  try {
    outcome = await handle.done;
    if (outcome === "complete" && seeding) {
      await seedUntilDone(handle, interrupt.interrupted);
    }
  } catch (error) {
    await cleanUp();
    await log.close();
    throw error;
  }
  await cleanUp();
  const status = handle.status();
  if (failure) {
    // Seeding (or the stop) ended on an error after the download had completed.
    await log.close();
    throw failure;
  }
  log.info(outcome === "complete" ? "complete" : "stopped by the user");
  await log.close();
  if (mode === "terminal" || mode === "plain") {
    const summary = options.verb === "seeding" ? formatSeedSummary(status) : formatSummary(
      status,
      handle.torrent ? contentLocation(handle.torrent, directory) : directory,
    );
    writeOut("\n" + summary + "\n");
  }
  if (outcome === "stopped") {
    throw new InterruptedError(
      options.verb === "seeding"
        ? "Interrupted before seeding began"
        : "Interrupted; the download is incomplete",
    );
  }
}
