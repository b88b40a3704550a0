/**
 * Real BitTorrent clients as leechers on loopback, for seeding tests:
 * aria2c (finds the seeder through a tracker), transmission-cli (never dials
 * loopback peers, so the seeder dials it), libtorrent and WebTorrent (told
 * the seeder's address). Each runs until its download is complete.
 *
 * @module
 */

import { aria2LoopbackFlags, writeTransmissionSettings } from "./seeders.ts";
import { spawnPeerProgram } from "./processes.ts";
import { freePort } from "./trackers.ts";

/** The leechers tests can start. */
export type LeecherKind = "aria2" | "transmission" | "libtorrent" | "webtorrent";

/** Programs each leecher needs (for `testWithPrograms`). */
export const LEECHER_PROGRAMS: Record<LeecherKind, string[]> = {
  aria2: ["aria2c"],
  transmission: ["transmission-cli"],
  libtorrent: ["python3-libtorrent"],
  webtorrent: ["webtorrent"],
};

/** A running leecher. */
export interface Leecher {
  /** Its listening port (the seeder may dial it). */
  port: number;
  /** Resolves when it has exited after completing; rejects if it fails or takes longer than the limit. */
  done: Promise<void>;
  /** Stops it. */
  stop(): Promise<void>;
}

const PEERS_DIR = new URL("../peers/", import.meta.url).pathname;

/** Options of {@linkcode startLeecher}. */
export interface LeecherOptions {
  /** Give up after this long. Default 90 s. */
  timeoutMs?: number;
  /** libtorrent only: require an encrypted handshake, with RC4 or plaintext payload. */
  encryption?: "rc4" | "plaintext";
}

/**
 * Starts a leecher downloading `torrent` into `saveDir`.
 *
 * @param seeder The seeder's `host:port` (libtorrent, WebTorrent), unused by aria2c (tracker) and transmission (dialled).
 */
export async function startLeecher(
  kind: LeecherKind,
  torrent: string,
  saveDir: string,
  seeder: string,
  options: LeecherOptions = {},
): Promise<Leecher> {
  const timeoutMs = options.timeoutMs ?? 90_000;
  const port = freePort();
  const stateDir = await Deno.makeTempDir({ prefix: `shoal-leech-${kind}-` });
  await Deno.mkdir(saveDir, { recursive: true });
  const [host, seederPort] = [
    seeder.slice(0, seeder.lastIndexOf(":")).replace(/^\[|\]$/g, ""),
    seeder.slice(seeder.lastIndexOf(":") + 1),
  ];
  let program: string;
  let args: string[];
  switch (kind) {
    case "aria2":
      program = "aria2c";
      args = [...aria2LoopbackFlags(port), "--seed-time=0", `--dir=${saveDir}`, torrent];
      break;
    case "transmission":
      await writeTransmissionSettings(stateDir, port, true);
      program = "transmission-cli";
      args = ["-g", stateDir, "-w", saveDir, "-p", String(port), torrent];
      break;
    case "libtorrent":
      program = "/usr/bin/python3";
      args = [
        `${PEERS_DIR}libtorrent_peer.py`,
        "leech",
        torrent,
        saveDir,
        String(port),
        host,
        seederPort,
      ];
      break;
    case "webtorrent":
      program = "node";
      args = [`${PEERS_DIR}webtorrent_peer.mjs`, "leech", torrent, saveDir, String(port), seeder];
      break;
  }
  const { child, output, stop } = spawnPeerProgram(
    program,
    args,
    stateDir,
    options.encryption ? { SHOAL_LT_ENCRYPTION: options.encryption } : {},
  );
  // Every leecher here exits 0 once complete (transmission-cli through ratio-limit 0).
  let timer: ReturnType<typeof setTimeout> | undefined;
  const done = Promise.race([
    child.status.then(async (status) => {
      await output.done;
      if (!status.success) {
        throw new Error(`${kind} exited with ${status.code}:\n${output.text.slice(-3000)}`);
      }
    }),
    new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(`${kind} did not finish in ${timeoutMs} ms:\n${output.text.slice(-3000)}`),
          ),
        timeoutMs,
      );
    }),
  ]).finally(() => clearTimeout(timer));
  done.catch(() => {});
  return { port, done, stop };
}
