/**
 * `shoal seed <torrent> -d <dir>`: verifies the data (or trusts valid resume
 * data), announces as a seeder and serves peers until Ctrl-C.
 *
 * @module
 */

import type { Command } from "../_commander.ts";
import { loadTorrentForRun, runTorrent, type TorrentRunFlags } from "../_run_torrent.ts";
import { addTorrentRunFlags } from "./download.ts";

/** Seeds until Ctrl-C; fails when the data is incomplete. */
export async function runSeed(input: string, options: TorrentRunFlags): Promise<void> {
  const torrent = await loadTorrentForRun(input, undefined);
  await runTorrent(torrent, { ...options, verb: "seeding", seed: true, requireComplete: true });
}

/** Adds the seed command to the program. */
export function addSeedCommand(program: Command): void {
  addTorrentRunFlags(
    program.command("seed")
      .description("seed a torrent whose data is complete, until Ctrl-C")
      .argument("<torrent>", "a .torrent file or its http(s) URL"),
  )
    .addHelpText(
      "after",
      `
The data in the download directory is checked first (or trusted from
<dir>/.shoal/*.resume if the files are unchanged); shoal seed refuses to start
when pieces are missing (shoal download completes them). The data is only
read: state goes to --state-dir when given, else to <dir>/.shoal when that
can be written, else to $XDG_STATE_HOME/shoal. Peers named with --peer are
dialled, which is how to seed to clients that never connect out.

Examples:
  shoal seed ubuntu.torrent -d ~/Downloads
  shoal seed x.torrent -d ./data --peer 127.0.0.1:51413 --json`,
    )
    .action(runSeed);
}
