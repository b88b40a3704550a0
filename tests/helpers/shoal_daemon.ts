/**
 * `shoal daemon` for tests: started from this checkout on a free RPC port
 * (peers on any free port), its state and downloads in a test folder, and
 * an RPC client for it.
 *
 * @module
 */

import { RpcClient } from "../../lib/rpc/client.ts";
import { type ShoalChild, spawnShoal } from "./tools.ts";
import { freePort } from "./trackers.ts";
import { until } from "./until.ts";

/** A running daemon. */
export interface StartedDaemon {
  /** The process and its output. */
  daemon: ShoalChild;
  /** `127.0.0.1:port` of its RPC, as `transmission-remote` takes it. */
  rpc: string;
  /** Its web interface, `http://127.0.0.1:port/`. */
  url: string;
  /** A client of its RPC. */
  client: RpcClient;
}

/** What may differ between the tests' daemons. */
export interface DaemonTestOptions {
  /** The RPC's port (the same again after a restart). Default: a free one. */
  rpcPort?: number;
  /** `--allowed-dir` folders. Default: the test folder. */
  allowedDirs?: string[];
  /** More flags. */
  extra?: string[];
  /** Exactly these permissions instead of the README's. */
  permissions?: string[];
}

/**
 * Starts the daemon with `<dir>/state` and `<dir>/downloads`; resolves once
 * its RPC listens (the daemon is stopped if it never does).
 */
export async function startShoalDaemon(
  dir: string,
  options: DaemonTestOptions = {},
): Promise<StartedDaemon> {
  const rpcPort = options.rpcPort ?? freePort();
  const daemon = spawnShoal([
    "daemon",
    "--state-dir",
    `${dir}/state`,
    "-d",
    `${dir}/downloads`,
    "-p",
    "0",
    "--rpc-port",
    String(rpcPort),
    ...(options.allowedDirs ?? [dir]).flatMap((allowed) => ["--allowed-dir", allowed]),
    ...options.extra ?? [],
  ], options.permissions ? { permissions: options.permissions } : {});
  try {
    await until(
      () => daemon.output.text.includes("shoal daemon: RPC on"),
      () => daemon.output.text,
    );
  } catch (error) {
    await daemon.stop();
    throw error;
  }
  return {
    daemon,
    rpc: `127.0.0.1:${rpcPort}`,
    url: `http://127.0.0.1:${rpcPort}/`,
    client: new RpcClient({ url: `http://127.0.0.1:${rpcPort}/transmission/rpc` }),
  };
}
