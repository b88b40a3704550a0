#!/usr/bin/env -S deno run --unstable-net --allow-read --allow-write --allow-net --allow-env=XDG_STATE_HOME,HOME,SHOAL_RPC_PASSWORD
/**
 * The `shoal` command-line entry point. All logic lives in `lib/`; this file
 * only runs the program and exits with its code.
 *
 * @module
 */

import { runCli } from "./lib/cli/program.ts";

if (import.meta.main) {
  Deno.exit(await runCli(Deno.args));
}
