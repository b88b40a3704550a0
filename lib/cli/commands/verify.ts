/**
 * `shoal verify <torrent> -d <dir>`: checks the data on disk against the
 * torrent's piece hashes and reports which files and pieces are complete.
 * It only reads: nothing is created, changed or deleted.
 *
 * @module
 */

import type { Command } from "../_commander.ts";
import { ShoalError } from "../../errors.ts";
import { loadTorrentSource } from "../../metainfo/source.ts";
import { FileStore } from "../../storage/file_store.ts";
import { checkPieces } from "../../storage/piece_check.ts";
import { HashProgress } from "../../ui/hash_progress.ts";
import { formatVerifyReport, verifyToJson, wantedPieces } from "../../ui/verify_view.ts";
import { defaultStateDir, loadResume, resumePath } from "../../storage/resume.ts";
import { partFilePath } from "../../storage/part_file.ts";
import { writeOut } from "../output.ts";

/** Options of the verify command. */
export interface VerifyCommandOptions {
  downloadDir: string;
  stateDir?: string;
  json?: boolean;
}

/** Checks the data; throws (exit 1) when any piece is missing or damaged. */
export async function runVerify(input: string, options: VerifyCommandOptions): Promise<void> {
  const source = await loadTorrentSource(input);
  if (source.kind === "magnet") {
    throw new ShoalError(
      "verify needs the .torrent file: a magnet link does not hold the piece hashes",
    );
  }
  const torrent = source.torrent;
  // A download that skipped files: their shared bytes are in the part file, and they are not
  // needed (as its resume data says).
  const stateDir = options.stateDir ?? defaultStateDir(options.downloadDir);
  const resume = await loadResume(resumePath(stateDir, torrent), torrent);
  const skipped = resume?.priorities?.map((priority) => priority === "skip");
  const store = new FileStore(torrent, options.downloadDir, {
    mode: "read",
    partFile: partFilePath(stateDir, torrent),
    selected: skipped?.map((skip) => !skip),
  });
  await store.states(); // Files on disk hold their own bytes, selected or not.
  const progress = new HashProgress(!options.json && Deno.stderr.isTerminal());
  const started = performance.now();
  let pieces;
  try {
    pieces = await checkPieces(torrent, store, {
      onProgress: (checked, total) => progress.update(checked, total),
    });
  } finally {
    progress.finish();
    await store.close();
  }
  const seconds = (performance.now() - started) / 1000;
  const states = await store.states();
  if (options.json) {
    writeOut(JSON.stringify(verifyToJson(torrent, pieces, states, skipped), null, 2) + "\n");
  } else {
    writeOut(
      formatVerifyReport(torrent, pieces, states, options.downloadDir, seconds, skipped) + "\n",
    );
  }
  const wanted = wantedPieces(torrent, skipped);
  const bad = [...wanted.indices()].filter((piece) => !pieces.has(piece)).length;
  if (bad > 0) {
    throw new ShoalError(
      `${bad} of ${wanted.count} pieces${
        wanted.count === torrent.pieceCount ? "" : " of the selected files"
      } are missing or damaged; shoal download resumes them`,
    );
  }
}

/** Adds the verify command to the program. */
export function addVerifyCommand(program: Command): void {
  program.command("verify")
    .description("check downloaded data against a torrent's piece hashes")
    .argument("<torrent>", "a .torrent file or its http(s) URL")
    .option("-d, --download-dir <dir>", "where the files are", "./downloads")
    .option(
      "--state-dir <dir>",
      "where the download kept its state: the files it skipped, their part file (default: <download-dir>/.shoal)",
    )
    .option("--json", "print a stable machine-readable form")
    .addHelpText(
      "after",
      `
Reads every piece and compares its SHA-1 with the torrent. Exits 0 when all
data is complete and correct, 1 when any piece is missing or damaged. Files a
download skipped (--select, as its resume data says) are not needed, and the
bytes of theirs it kept are read from its part file. Only reads: it changes
nothing on disk.

Examples:
  shoal verify ubuntu.torrent -d ~/Downloads
  shoal verify x.torrent --json`,
    )
    .action(runVerify);
}
