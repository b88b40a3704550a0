/**
 * The program run when a torrent completes (`--on-complete`), with the
 * torrent in its environment: shoal's names and Transmission's (so that
 * scripts written for `script-torrent-done-filename` work unchanged).
 *
 * @module
 */

import type { Logger } from "../util/log.ts";
import { VERSION } from "../version.ts";

/** The torrent a script is told of. */
export interface CompletedTorrent {
  id: number;
  name: string;
  infoHash: string;
  downloadDir: string;
  labels: readonly string[];
}

/** The longest a script may run before it is killed. */
export const SCRIPT_TIMEOUT_MS = 10 * 60_000;

/**
 * Runs `program` (a path, run without a shell) for a completed torrent;
 * resolves when it has ended (killed after {@linkcode SCRIPT_TIMEOUT_MS}),
 * never rejects: a failure is logged.
 */
export async function runOnComplete(
  program: string,
  torrent: CompletedTorrent,
  log: Logger,
  signal?: AbortSignal,
): Promise<void> {
  const env = {
    SHOAL_TORRENT_ID: String(torrent.id),
    SHOAL_TORRENT_NAME: torrent.name,
    SHOAL_TORRENT_HASH: torrent.infoHash,
    SHOAL_TORRENT_DIR: torrent.downloadDir,
    SHOAL_TORRENT_PATH: `${torrent.downloadDir}/${torrent.name}`,
    SHOAL_TORRENT_LABELS: torrent.labels.join(","),
    TR_APP_VERSION: VERSION,
    TR_TIME_LOCALTIME: new Date().toString(),
    TR_TORRENT_ID: String(torrent.id),
    TR_TORRENT_NAME: torrent.name,
    TR_TORRENT_HASH: torrent.infoHash,
    TR_TORRENT_DIR: torrent.downloadDir,
    TR_TORRENT_LABELS: torrent.labels.join(","),
  };
  const timeout = AbortSignal.timeout(SCRIPT_TIMEOUT_MS);
  try {
    const child = new Deno.Command(program, {
      env,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    }).spawn();
    const [status, stderr] = await Promise.all([
      child.status,
      new Response(child.stderr).text(),
    ]);
    if (status.success) log.info(`--on-complete ${program} ran for ${torrent.name}`);
    else {
      log.warn(
        `--on-complete ${program} failed for ${torrent.name} (exit ${status.code}${
          status.signal ? `, ${status.signal}` : ""
        })${stderr ? `: ${stderr.trim().slice(0, 500)}` : ""}`,
      );
    }
  } catch (error) {
    log.warn(`--on-complete ${program} could not run: ${(error as Error).message}`);
  }
}
