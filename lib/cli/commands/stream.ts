/**
 * `shoal stream <torrent> [--file N]`: downloads one file of a torrent in
 * order and serves it over HTTP on 127.0.0.1 while it downloads, with
 * `Range` requests (a player seeks; a read of bytes not here yet waits,
 * and the pieces it waits for are fetched first). It prints the URL and
 * serves, and seeds, until Ctrl-C.
 *
 * @module
 */

import { type Command, InvalidArgumentError } from "../_commander.ts";
import {
  loadTorrentForRun,
  type MagnetFlags,
  runTorrent,
  type TorrentRunFlags,
} from "../_run_torrent.ts";
import { addTorrentRunFlags, addWebSeedFlag } from "./download.ts";
import { portOrAnyArgument } from "../_arguments.ts";
import { type FilePriority, FileSelectionError } from "../../metainfo/file_priority.ts";
import type { Torrent } from "../../metainfo/torrent.ts";
import type { TorrentHandle } from "../../session/torrent_handle.ts";
import { FileServer } from "../../stream/file_server.ts";
import { holdsBytes } from "../../storage/storage.ts";
import type { LiveDisplay } from "../../ui/live_display.ts";

/** Options of the stream command. */
export interface StreamCommandOptions extends TorrentRunFlags, MagnetFlags {
  /** `--max-web-seeds`. */
  maxWebSeeds?: number;
  /** `--file`: the file's number (from 1, as `shoal info` shows it). */
  file?: number;
  /** `--http-bind`: the address the HTTP server listens on. */
  httpBind: string;
  /** `--http-port`: its port (0: any free one). */
  httpPort: number;
}

/**
 * The file to stream: number `number` (from 1), or the largest file.
 *
 * @returns Its index in `torrent.files`.
 * @throws {FileSelectionError} When there is no such file.
 */
export function streamedFile(torrent: Torrent, number?: number): number {
  const files = torrent.files.filter(holdsBytes);
  if (number === undefined) {
    return files.reduce((largest, file) => file.length > largest.length ? file : largest).index;
  }
  const file = torrent.files[number - 1];
  if (!file || !holdsBytes(file)) {
    throw new FileSelectionError(
      `${torrent.name} has no file ${number} to stream: its files are numbered 1 to ${torrent.files.length} (shoal info lists them)`,
    );
  }
  return file.index;
}

/** Only the streamed file is downloaded. */
function onlyFile(torrent: Torrent, index: number): FilePriority[] {
  return torrent.files.map((file) => file.index === index ? "normal" : "skip");
}

/** Starts the HTTP server once the torrent's files are known; returns its stop. */
function serveWhenKnown(
  handle: TorrentHandle,
  display: LiveDisplay,
  options: StreamCommandOptions,
): () => Promise<void> {
  let server: FileServer | undefined;
  const start = (torrent: Torrent) => {
    if (server) return;
    const index = streamedFile(torrent, options.file);
    const file = torrent.files[index];
    try {
      server = FileServer.start({
        hostname: options.httpBind,
        port: options.httpPort,
        files: [{
          path: file.path.join("/"),
          length: file.length,
          read: (start, end, signal) => handle.readFile(index, { start, end, signal }),
        }],
        onError: (error) => display.message(`Stream: ${(error as Error).message}`),
      });
    } catch (error) {
      display.message(
        `Cannot serve the stream on ${options.httpBind}:${options.httpPort}: ${
          (error as Error).message
        }`,
      );
      handle.stop();
      return;
    }
    const url = server.url(0);
    display.event("stream", { url, file: index + 1 }, `Streaming: ${url}`);
  };
  if (handle.torrent) start(handle.torrent);
  const off = handle.on("metadata", (torrent) => {
    try {
      start(torrent);
    } catch {
      // A --file out of range: the run fails on it (the same check chose the files).
    }
  });
  return async () => {
    off();
    await server?.close();
  };
}

/** Streams until Ctrl-C. */
export async function runStream(input: string, options: StreamCommandOptions): Promise<void> {
  const discovers = options.lsd !== false || options.dht !== false;
  const source = await loadTorrentForRun(input, options.peer, true, discovers);
  if ("pieceMap" in source) streamedFile(source, options.file); // A bad --file fails now.
  await runTorrent(source, {
    ...options,
    verb: "downloading",
    sequential: true,
    seed: true,
    chooseFiles: (torrent) => onlyFile(torrent, streamedFile(torrent, options.file)),
    started: (handle, display) => serveWhenKnown(handle, display, options),
  });
}

function fileNumberArgument(value: string): number {
  const number = Number(value);
  if (!/^\d{1,9}$/.test(value) || number < 1) {
    throw new InvalidArgumentError("give a file number from 1, as shoal info shows them");
  }
  return number;
}

/** Adds the stream command to the program. */
export function addStreamCommand(program: Command): void {
  addWebSeedFlag(addTorrentRunFlags(
    program.command("stream")
      .description("download one file in order and serve it over HTTP while it downloads")
      .argument("<torrent>", "a .torrent file or its http(s) URL, a magnet link or an info hash"),
  ))
    .option("--file <number>", "the file to stream (default: the largest)", fileNumberArgument)
    .option("--http-bind <address>", "the address the HTTP server listens on", "127.0.0.1")
    .option("--http-port <port>", "the HTTP server's port (0: any free one)", portOrAnyArgument, 0)
    .addHelpText(
      "after",
      `
shoal prints the file's URL (Streaming: http://127.0.0.1:…/1/<name>) once the
torrent's files are known; give it to a player (mpv, VLC) or a browser. The
file is downloaded in order, its first and last pieces first, and the pieces
just ahead of what the player reads come before all others; a read of bytes
not here yet waits for them. Only that file is downloaded. shoal keeps
serving, and seeding, until Ctrl-C.

Examples:
  shoal stream movie.torrent
  shoal stream movie.torrent --http-port 8888   (then: mpv http://127.0.0.1:8888/1/movie.mkv)
  shoal stream 'magnet:?xt=urn:btih:…' --file 3 --http-port 8888`,
    )
    .action(runStream);
}
