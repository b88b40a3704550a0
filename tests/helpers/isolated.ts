/**
 * What the scenario scripts that run inside a loopback-only network
 * namespace share (`lsd_scenarios.ts`, `dht_scenarios.ts`), and how the
 * tests run them there: the refusal to run anywhere else, the watch on a
 * torrent's peer sources, and the script's main.
 *
 * @module
 */

import type { TorrentHandle } from "../../lib/session/torrent_handle.ts";
import { assertEquals, assertStringIncludes } from "./assert.ts";
import { assertSameContent, type Fixture } from "./content.ts";
import { run, SHOAL_CLI, withTempDir } from "./tools.ts";
import { freePort } from "./trackers.ts";

/** Exits (code 3) unless the only interface is loopback: `what` would leave the machine. */
export function refuseUnlessLoopbackOnly(what: string): void {
  const interfaces = new Set(Deno.networkInterfaces().map((i) => i.name));
  if ([...interfaces].some((name) => name !== "lo")) {
    console.error(
      `refusing to ${what}: this is not a loopback-only namespace (${[...interfaces]})`,
    );
    Deno.exit(3);
  }
}

/** Watches a handle for where its peers came from (downloads here are quick). */
export function watchSources(handle: TorrentHandle): { sources: Set<string>; stop: () => void } {
  const sources = new Set<string>();
  const timer = setInterval(() => {
    for (const peer of handle.peers()) for (const source of peer.sources) sources.add(source);
  }, 20);
  return { sources, stop: () => clearInterval(timer) };
}

/**
 * `shoal download <torrent>` into `<dir>/down` on 127.0.0.1 with `flags`
 * (which say how peers are found), then the bytes compared with the
 * fixture's; throws when it fails.
 */
export async function downloadWithCli(
  fixture: Fixture,
  torrent: string,
  dir: string,
  flags: string[],
): Promise<void> {
  const permissions = ["--allow-read", "--allow-write", "--allow-net", "--unstable-net"];
  const result = await run(Deno.execPath(), [
    "run",
    "--quiet",
    ...permissions,
    SHOAL_CLI,
    "download",
    torrent,
    ...["-d", `${dir}/down`, "-p", String(freePort()), "--bind", "127.0.0.1"],
    ...["--stall-timeout", "30s", "-q", ...flags],
  ]);
  if (result.code !== 0) throw new Error(`shoal download exited ${result.code}: ${result.stderr}`);
  await assertSameContent(fixture, `${dir}/down`);
}

/**
 * A scenario script's main: runs the scenario its first argument names in
 * a temporary folder and prints `OK` and what it saw, or the error (exit
 * 1); exits 1 when it takes longer than `limitSeconds`.
 */
export async function runScenario(
  scenarios: Record<string, (dir: string) => Promise<string>>,
  limitSeconds: number,
): Promise<void> {
  const name = Deno.args[0];
  const scenario = scenarios[name];
  if (!scenario) {
    console.error(`unknown scenario ${name}; one of ${Object.keys(scenarios).join(", ")}`);
    Deno.exit(2);
  }
  const timer = setTimeout(() => {
    console.error(`${name}: no result after ${limitSeconds} s`);
    Deno.exit(1);
  }, limitSeconds * 1000);
  try {
    console.log(`OK ${await withTempDir(scenario)}`);
  } catch (error) {
    console.error(`${name}: ${(error as Error).stack}`);
    Deno.exitCode = 1;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs `scenario` of the script `script` inside `unshare -n`, after
 * `setup` (shell commands: loopback up, and what else the scenario
 * needs), and asserts that it printed `OK`; returns what it printed.
 */
export async function runIsolated(
  script: string,
  scenario: string,
  setup: string,
): Promise<string> {
  const result = await run("unshare", [
    "-n",
    "bash",
    "-c",
    `${setup} && exec "$0" run --quiet -A --unstable-net "$1" "$2"`,
    Deno.execPath(),
    script,
    scenario,
  ]);
  assertEquals(result.code, 0, `${scenario}:\n${result.stdout}\n${result.stderr}`);
  assertStringIncludes(result.stdout, "OK ");
  return result.stdout;
}
