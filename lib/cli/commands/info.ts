/**
 * `shoal info <torrent-file | magnet>`: what a torrent or magnet link holds.
 *
 * @module
 */

import type { Command } from "../_commander.ts";
import { loadTorrentSource } from "../../metainfo/source.ts";
import { formatMagnet, formatTorrent, magnetToJson, torrentToJson } from "../../ui/torrent_view.ts";
import { writeOut } from "../output.ts";

/** Options of the info command. */
export interface InfoOptions {
  /** Print the stable JSON form. */
  json?: boolean;
}

/** Prints a torrent file or magnet link, human-readable or as JSON. */
export async function runInfo(input: string, options: InfoOptions): Promise<void> {
  const source = await loadTorrentSource(input);
  if (options.json) {
    const json = source.kind === "torrent"
      ? torrentToJson(source.torrent)
      : magnetToJson(source.magnet);
    writeOut(JSON.stringify(json, null, 2) + "\n");
  } else {
    writeOut(
      (source.kind === "torrent" ? formatTorrent(source.torrent) : formatMagnet(source.magnet)) +
        "\n",
    );
  }
}

/** Adds the info command to the program. */
export function addInfoCommand(program: Command): void {
  program.command("info")
    .description("show what a torrent file or magnet link holds")
    .argument("<torrent>", "a .torrent file or URL, a magnet link or an info hash")
    .option("--json", "print a stable machine-readable form")
    .addHelpText(
      "after",
      "\nExamples:\n  shoal info ubuntu.torrent\n  shoal info --json 'magnet:?xt=urn:btih:…'",
    )
    .action(runInfo);
}
