/**
 * The `shoal` command line: commands, global flags, help, and the mapping of
 * every failure to a documented exit code.
 *
 * @module
 */

import { Command, CommanderError } from "./_commander.ts";
import { ExitCode, permissionError, permissionRefusal, ShoalError } from "../errors.ts";
import { looksLikeMagnet } from "../metainfo/source.ts";
import { isTorrentUrl } from "../metainfo/fetch.ts";
import { VERSION } from "../version.ts";
import { addCreateCommand } from "./commands/create.ts";
import { addDownloadCommand } from "./commands/download.ts";
import { addSeedCommand } from "./commands/seed.ts";
import { addStreamCommand } from "./commands/stream.ts";
import { addDemoCommand } from "./commands/demo.ts";
import { addVerifyCommand } from "./commands/verify.ts";
import { addInfoCommand } from "./commands/info.ts";
import { addTrackerCommand } from "./commands/tracker.ts";
import { addDhtCommand } from "./commands/dht.ts";
import { addDaemonCommand } from "./commands/daemon.ts";
import { addRemoteCommand } from "./commands/remote.ts";
import { writeErr, writeOut } from "./output.ts";

const EXIT_CODES_HELP = `
Exit codes:
  0    complete          2  usage error        4  network / no peers
  1    error             3  bad torrent input  5  disk error
  130  interrupted with the work unfinished`;

/** Builds the command-line program. */
export function buildProgram(): Command {
  const program = new Command("shoal")
    .description("A BitTorrent client for the command line.")
    .version(`shoal ${VERSION}`, "-V, --version", "print the version")
    .helpOption("-h, --help", "show help for a command")
    .usage("<command> [options]   (shoal <torrent> is short for shoal download <torrent>)")
    .exitOverride()
    .configureOutput({ writeOut, writeErr })
    .showSuggestionAfterError(true)
    .showHelpAfterError("(run shoal --help for usage)")
    .addHelpText("after", EXIT_CODES_HELP);
  addDownloadCommand(program);
  addSeedCommand(program);
  addStreamCommand(program);
  addCreateCommand(program);
  addInfoCommand(program);
  addVerifyCommand(program);
  addTrackerCommand(program);
  addDhtCommand(program);
  addDaemonCommand(program);
  addRemoteCommand(program);
  addDemoCommand(program);
  program.helpCommand("help [command]", "show help for a command");
  return program;
}

/**
 * `shoal x.torrent` means `shoal download x.torrent`: when the first word is
 * not a command or flag but a torrent, a magnet link or an existing file, the
 * `download` command is put in front.
 */
function routeDefaultCommand(program: Command, args: string[]): string[] {
  const first = args[0];
  if (first === undefined || first.startsWith("-")) return args;
  const known = program.commands.some((c) => c.name() === first || c.aliases().includes(first));
  if (known || first === "help") return args;
  let isFile = false;
  try {
    isFile = Deno.statSync(first).isFile;
  } catch {
    isFile = false;
  }
  if (looksLikeMagnet(first) || isTorrentUrl(first) || first.endsWith(".torrent") || isFile) {
    return ["download", ...args];
  }
  return args;
}

/**
 * Runs the command line and returns the exit code; never throws.
 *
 * @param args The arguments after the program name.
 * @returns One of the documented exit codes.
 */
export async function runCli(args: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(routeDefaultCommand(program, args), { from: "user" });
    return ExitCode.Ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and --version end with code 0; every parsing error is a usage error.
      return error.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
    }
    const refusal = permissionRefusal(error);
    const known = refusal ? permissionError(refusal, "shoal cannot go on", error) : error;
    if (known instanceof ShoalError) {
      writeErr(`shoal: ${known.message}\n`);
      return known.exitCode;
    }
    const detail = error instanceof Error ? error.stack ?? error.message : String(error);
    writeErr(`shoal: unexpected error (a bug; please report it):\n${detail}\n`);
    return ExitCode.Error;
  }
}
