/**
 * Commands that are named in the command reference but not built yet. They
 * exist so `shoal x.torrent`, help and scripts see the final vocabulary, and
 * they fail with a clear message instead of "unknown command".
 *
 * @module
 */

import type { Command } from "commander";
import { ShoalError } from "../../errors.ts";
import { VERSION } from "../../version.ts";

const PENDING: ReadonlyArray<[name: string, args: string, description: string]> = [
  ["demo", "", "run a local swarm demo with no internet (not yet available)"],
];

/**
 * Adds commands that are not available yet.
 *
 * @param program The program to add them to.
 * @param names Which of them, in the order they should appear in help.
 */
export function addPendingCommands(program: Command, names: readonly string[]): void {
  for (const [name, args, description] of PENDING.filter(([name]) => names.includes(name))) {
    const command = program.command(name).description(description)
      .allowUnknownOption().allowExcessArguments();
    if (args) command.argument(args);
    command.action(() => {
      throw new ShoalError(`"shoal ${name}" is not available yet in shoal ${VERSION}`);
    });
  }
}
