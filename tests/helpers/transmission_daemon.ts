/**
 * A real `transmission-daemon` (Debian's 3.00) on loopback for tests and
 * benchmarks: its RPC on a free port of 127.0.0.1 with a user name and
 * password, and nothing that reaches past this machine (no DHT, LPD, PEX,
 * uTP, port forwarding or blocklist; peers bound to 127.0.0.1).
 *
 * @module
 */

import { OutputWatcher, stopChild, waitForTcp } from "./processes.ts";
import { freePort } from "./trackers.ts";
import { TRANSMISSION_ON_LOOPBACK } from "./seeders.ts";

/** A running transmission-daemon. */
export interface TransmissionDaemon {
  /** `127.0.0.1:port` of its RPC. */
  rpc: string;
  /** Its RPC's user name. */
  username: string;
  /** Its RPC's password. */
  password: string;
  /** Its download folder. */
  downloadDir: string;
  /** The process, for measuring it. */
  pid: number;
  /** Its configuration folder (its torrents and resume files). */
  configDir: string;
  /** Its RPC's port. */
  rpcPort: number;
  /** Stops it (SIGTERM, then SIGKILL) and removes its configuration folder unless kept. */
  stop(options?: { keepConfig?: boolean }): Promise<void>;
}

/**
 * Starts transmission-daemon in the foreground, configured in a new folder
 * under `dir` (or again in `again.configDir`, on `again.rpcPort`), and waits
 * until its RPC port answers (unless `again.waitForRpc` is false: a
 * benchmark that times the start polls it itself).
 */
export async function startTransmissionDaemon(
  dir: string,
  settings: Record<string, unknown> = {},
  again: { configDir?: string; rpcPort?: number; waitForRpc?: boolean } = {},
): Promise<TransmissionDaemon> {
  const config = again.configDir ?? await Deno.makeTempDir({ dir, prefix: "transmission-config-" });
  const downloadDir = `${dir}/transmission-downloads`;
  await Deno.mkdir(downloadDir, { recursive: true });
  const rpcPort = again.rpcPort ?? freePort();
  const username = "tester";
  const password = "not-a-secret";
  // Written before the start: the daemon rewrites settings.json when it exits.
  await Deno.writeTextFile(
    `${config}/settings.json`,
    JSON.stringify({
      ...TRANSMISSION_ON_LOOPBACK,
      "blocklist-enabled": false,
      "bind-address-ipv6": "::1",
      "peer-port": freePort(),
      "peer-port-random-on-start": false,
      "rpc-enabled": true,
      "rpc-bind-address": "127.0.0.1",
      "rpc-port": rpcPort,
      "rpc-authentication-required": true,
      "rpc-username": username,
      "rpc-password": password,
      "rpc-whitelist-enabled": true,
      "rpc-whitelist": "127.0.0.1",
      "rpc-host-whitelist-enabled": true,
      "download-dir": downloadDir,
      "incomplete-dir-enabled": false,
      "watch-dir-enabled": false,
      "message-level": 1,
      ...settings,
    }),
  );
  const child = new Deno.Command("transmission-daemon", {
    args: ["--foreground", "--config-dir", config],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output = new OutputWatcher(child);
  try {
    if (again.waitForRpc !== false) await waitForTcp(rpcPort, child, "transmission-daemon");
  } catch (error) {
    await stopChild(child);
    throw new Error(`${(error as Error).message}: ${output.text}`);
  }
  return {
    rpc: `127.0.0.1:${rpcPort}`,
    username,
    password,
    downloadDir,
    pid: child.pid,
    configDir: config,
    rpcPort,
    stop: async (options = {}) => {
      await stopChild(child);
      await output.done;
      if (!options.keepConfig) await Deno.remove(config, { recursive: true }).catch(() => {});
    },
  };
}
