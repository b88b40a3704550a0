/**
 * `shoal tracker <torrent | magnet>`: announces to every tracker once and
 * reports what each says.
 *
 * @module
 */

import type { Command } from "../_commander.ts";
import { loadTorrentSource } from "../../metainfo/source.ts";
import { checkTrackers } from "../../tracker/check.ts";
import { TrackerError } from "../../tracker/errors.ts";
import { formatTrackerChecks, trackerCheckToJson } from "../../ui/tracker_view.ts";
import { randomPeerId } from "../../peer_id.ts";
import { toHex } from "../../util/_bytes.ts";
import { writeOut } from "../output.ts";
import { bindArgument, portArgument, secondsArgument } from "../_arguments.ts";

/** Options of the tracker command. */
export interface TrackerCommandOptions {
  port: number;
  timeout: number;
  bind: string[];
  json?: boolean;
}

/** Checks every tracker and prints the result; fails when none answered. */
export async function runTracker(input: string, options: TrackerCommandOptions): Promise<void> {
  const source = await loadTorrentSource(input);
  const [infoHash, name, trackers, left] = source.kind === "torrent"
    ? [
      source.torrent.infoHash,
      source.torrent.name,
      source.torrent.trackers,
      source.torrent.totalLength,
    ]
    : [
      source.magnet.infoHash,
      source.magnet.displayName ?? source.magnet.infoHashHex,
      source.magnet.trackers.map((url) => [url]),
      // Unknown until the metadata arrives; any non-zero amount says "not a seeder".
      16384,
    ];
  const hex = toHex(infoHash);
  if (trackers.length === 0) {
    throw new TrackerError(
      "network",
      `${name} lists no trackers; it relies on DHT or on peers you name`,
    );
  }
  const checks = await checkTrackers({
    infoHash,
    peerId: randomPeerId(),
    trackers,
    port: options.port,
    left,
    timeoutMs: options.timeout * 1000,
    bind: options.bind.length > 0 ? options.bind : undefined,
  });
  if (options.json) {
    writeOut(
      JSON.stringify({ infoHash: hex, name, trackers: checks.map(trackerCheckToJson) }, null, 2) +
        "\n",
    );
  } else {
    writeOut(formatTrackerChecks(`Trackers of ${name} (${hex})`, checks) + "\n");
  }
  if (!checks.some((check) => check.announce)) {
    throw new TrackerError("network", "No tracker answered");
  }
}

/** Adds the tracker command to the program. */
export function addTrackerCommand(program: Command): void {
  program.command("tracker")
    .description("announce to every tracker once and show what each answers")
    .argument("<torrent>", "a .torrent file or URL, a magnet link or an info hash")
    .option("-p, --port <port>", "the port to announce", portArgument, 6881)
    .option(
      "--bind <address>",
      "an address of this machine to send from; repeatable (default: any)",
      bindArgument,
      [],
    )
    .option("--timeout <seconds>", "time allowed for each tracker", secondsArgument, 15)
    .option("--json", "print a stable machine-readable form")
    .addHelpText(
      "after",
      "\nSends \"stopped\" to each tracker that answered, so the check leaves no trace.\n\nExamples:\n  shoal tracker ubuntu.torrent\n  shoal tracker --json --timeout 5 'magnet:?xt=urn:btih:…&tr=udp://tracker.example:6969'",
    )
    .action(runTracker);
}
