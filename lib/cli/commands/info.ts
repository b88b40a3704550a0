/**
 * `shoal info <torrent-file | magnet>`: what a torrent or magnet link
 * holds; with `--fetch`, a magnet link's metadata is fetched from its peers
 * first (like `aria2c --bt-metadata-only`) and the full torrent is shown.
 *
 * @module
 */

import type { Command } from "../_commander.ts";
import { NetworkError } from "../../errors.ts";
import type { MagnetLink } from "../../metainfo/magnet.ts";
import { loadTorrentSource } from "../../metainfo/source.ts";
import type { Torrent } from "../../metainfo/torrent.ts";
import type { PeerAddress } from "../../net/peer_address.ts";
import { Session } from "../../session/session.ts";
import { checkMagnetHasPeers, saveTorrentCopy } from "../_run_torrent.ts";
import { formatMagnet, formatTorrent, magnetToJson, torrentToJson } from "../../ui/torrent_view.ts";
import { bindArgument, durationArgument, peerArgument, portArgument } from "../_arguments.ts";
import { writeErr, writeOut } from "../output.ts";
import { addDhtFlags, type DhtFlags, dhtOptions } from "../_dht_flags.ts";

/** Options of the info command. */
export interface InfoOptions {
  /** Print the stable JSON form. */
  json?: boolean;
  /** Fetch a magnet link's metadata from its peers. */
  fetch?: boolean;
  /** With `fetch`: more peers to ask. */
  peer?: PeerAddress[];
  /** With `fetch`: the port to listen on and announce. */
  port?: number;
  /** With `fetch`: give up after this many seconds. */
  timeout?: number;
  /** With `fetch`: write the fetched `.torrent` here. */
  saveTorrent?: string;
  /** With `fetch`: addresses to listen on and connect from. */
  bind?: string[];
  /** With `fetch`: false with `--no-pex` (peers named by others are not asked). */
  pex?: boolean;
  /** With `fetch`: false with `--no-lsd` (peers on the local network are not heard). */
  lsd?: boolean;
}

/** The options of `info`, its DHT flags (with `--fetch`) included. */
type InfoCommandOptions = InfoOptions & DhtFlags;

/** Fetches a magnet link's metadata from its trackers and peers, writing nothing else. */
async function fetchTorrent(magnet: MagnetLink, options: InfoCommandOptions): Promise<Torrent> {
  const peers = options.peer ?? [];
  if (options.lsd === false && options.dht === false) checkMagnetHasPeers(magnet, peers);
  const stateDir = await Deno.makeTempDir({ prefix: "shoal-info-" });
  const session = new Session({
    port: options.port ?? 0,
    bind: options.bind?.length ? options.bind : undefined,
    lsd: options.lsd ?? true,
    // Looks only: a fetch announces nothing.
    dht: dhtOptions(options),
  });
  const seconds = options.timeout ?? 60;
  try {
    const handle = session.add(magnet, {
      downloadDir: stateDir,
      stateDir,
      peers,
      metadataOnly: true,
      saveTorrent: false,
      pex: options.pex,
      stallTimeoutMs: seconds * 1000,
    });
    const progress = setInterval(() => {
      const status = handle.status();
      const metadata = status.metadata;
      if (metadata && !options.json) {
        writeErr(
          `fetching metadata: ${metadata.received}/${
            metadata.total || "?"
          } pieces, ${status.peersConnected} peers connected\n`,
        );
      }
    }, 5000);
    try {
      await handle.done;
    } finally {
      clearInterval(progress);
    }
    if (!handle.torrent) throw new NetworkError("The metadata could not be fetched");
    return handle.torrent;
  } finally {
    await session.close();
    await Deno.remove(stateDir, { recursive: true }).catch(() => {});
  }
}

/** Prints a torrent file or magnet link, human-readable or as JSON. */
export async function runInfo(input: string, options: InfoCommandOptions): Promise<void> {
  const source = await loadTorrentSource(input);
  let torrent = source.kind === "torrent" ? source.torrent : undefined;
  if (source.kind === "magnet" && options.fetch) {
    torrent = await fetchTorrent(source.magnet, options);
    if (options.saveTorrent) await saveTorrentCopy(options.saveTorrent, torrent);
  }
  if (options.json) {
    const json = torrent
      ? torrentToJson(torrent)
      : magnetToJson((source as { magnet: MagnetLink }).magnet);
    writeOut(JSON.stringify(json, null, 2) + "\n");
  } else {
    writeOut(
      (torrent ? formatTorrent(torrent) : formatMagnet((source as { magnet: MagnetLink }).magnet)) +
        "\n",
    );
  }
}

/** Adds the info command to the program. */
export function addInfoCommand(program: Command): void {
  const command = program.command("info")
    .description("show what a torrent file or magnet link holds")
    .argument("<torrent>", "a .torrent file or URL, a magnet link or an info hash")
    .option("--json", "print a stable machine-readable form")
    .option("--fetch", "magnet links: fetch the metadata from peers and show the whole torrent")
    .option("--peer <host:port>", "with --fetch: ask this peer too; repeatable", peerArgument, [])
    .option("-p, --port <port>", "with --fetch: port to listen on and announce", portArgument, 6881)
    .option(
      "--timeout <duration>",
      "with --fetch: give up when nothing arrives for this long, such as 30s (default 60s)",
      durationArgument,
    )
    .option("--save-torrent <file>", "with --fetch: also write the fetched .torrent here")
    .option("--no-pex", "with --fetch: do not take peers named by other peers (PEX)")
    .option("--no-lsd", "with --fetch: do not listen for peers on the local network (LSD)");
  addDhtFlags(command, "with --fetch: ")
    .option(
      "--bind <address>",
      "with --fetch: an address to listen on and connect from; repeatable (default: all)",
      bindArgument,
      [],
    )
    .addHelpText(
      "after",
      "\nExamples:\n  shoal info ubuntu.torrent\n  shoal info --json 'magnet:?xt=urn:btih:…'\n  shoal info --fetch 'magnet:?xt=urn:btih:…&tr=udp://tracker.example:6969' --save-torrent x.torrent",
    )
    .action(runInfo);
}
