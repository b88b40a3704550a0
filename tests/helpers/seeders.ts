/**
 * Real BitTorrent clients as seeders on loopback, for download tests and the
 * benchmark: aria2c, transmission-cli, libtorrent (python3-libtorrent) and
 * WebTorrent (npm). Each seeds one torrent from a folder that already holds
 * its data, with DHT, local discovery, PEX, uTP and port mapping off, and is
 * ready (data verified, listening) when the start function returns.
 *
 * @module
 */

import { spawnPeerProgram } from "./processes.ts";
import { freePort } from "./trackers.ts";

/** The seeders tests can start. */
export type SeederKind = "aria2" | "transmission" | "libtorrent" | "webtorrent";

/** Programs each seeder needs (for {@linkcode testWithPrograms}). */
export const SEEDER_PROGRAMS: Record<SeederKind, string[]> = {
  aria2: ["aria2c"],
  transmission: ["transmission-cli"],
  libtorrent: ["python3-libtorrent"],
  webtorrent: ["webtorrent"],
};

/** A running seeder. */
export interface Seeder {
  /** Which client. */
  kind: SeederKind;
  /** Its listening port on 127.0.0.1. */
  port: number;
  /** `127.0.0.1:port`, for `--peer`. */
  address: string;
  /** Stops it and removes its state folder. */
  stop(): Promise<void>;
}

const PEERS_DIR = new URL("../peers/", import.meta.url).pathname;
const READY_TIMEOUT_MS = 60_000;

/** aria2c flags that keep it on loopback (no DHT, local discovery, PEX or IPv6) on `port`. */
export function aria2LoopbackFlags(port: number): string[] {
  return [
    "--enable-dht=false",
    "--enable-dht6=false",
    "--bt-enable-lpd=false",
    "--enable-peer-exchange=false",
    "--interface=127.0.0.1",
    "--disable-ipv6=true",
    `--listen-port=${port}`,
    "--summary-interval=0",
  ];
}

interface Plan {
  program: string;
  args: string[];
  ready: RegExp;
  env?: Record<string, string>;
}

/** Transmission's settings that keep it on this machine (peers.md): no DHT, LPD, PEX, uTP or port forwarding; peers on 127.0.0.1. */
export const TRANSMISSION_ON_LOOPBACK: Readonly<Record<string, unknown>> = {
  "dht-enabled": false,
  "lpd-enabled": false,
  "pex-enabled": false,
  "utp-enabled": false,
  "port-forwarding-enabled": false,
  "bind-address-ipv4": "127.0.0.1",
};

/**
 * Writes transmission-cli settings that keep it on loopback (no DHT, local
 * discovery, PEX, uTP or port mapping) on `port`.
 *
 * @param exitWhenComplete Ratio limit 0: it exits once it has every piece (a leecher).
 */
export async function writeTransmissionSettings(
  stateDir: string,
  port: number,
  exitWhenComplete: boolean,
): Promise<void> {
  await Deno.writeTextFile(
    `${stateDir}/settings.json`,
    JSON.stringify({
      ...TRANSMISSION_ON_LOOPBACK,
      "peer-port": port,
      "peer-port-random-on-start": false,
      "ratio-limit-enabled": exitWhenComplete,
      "ratio-limit": 0,
      "speed-limit-up-enabled": false,
      "message-level": 1,
    }),
  );
}

async function transmissionPlan(
  torrent: string,
  dataDir: string,
  port: number,
  stateDir: string,
): Promise<Plan> {
  await writeTransmissionSettings(stateDir, port, false);
  return {
    program: "transmission-cli",
    args: ["-g", stateDir, "-w", dataDir, "-p", String(port), torrent],
    ready: /Seeding/,
  };
}

/**
 * Starts a seeder for `torrent` whose data is already in `dataDir`.
 *
 * @param kind Which client.
 * @param torrent Path of the .torrent file.
 * @param dataDir The folder holding the torrent's content (as its download folder).
 * @param options libtorrent only: require an encrypted handshake (MSE), with RC4 or plaintext
 *   payload; limit its upload to `uploadLimit` bytes a second.
 */
export async function startSeeder(
  kind: SeederKind,
  torrent: string,
  dataDir: string,
  options: { encryption?: "rc4" | "plaintext"; uploadLimit?: number } = {},
): Promise<Seeder> {
  const port = freePort();
  const stateDir = await Deno.makeTempDir({ prefix: `shoal-${kind}-` });
  let plan: Plan;
  switch (kind) {
    case "aria2":
      plan = {
        program: "aria2c",
        args: [
          ...aria2LoopbackFlags(port),
          "--check-integrity=true",
          "--bt-hash-check-seed=true",
          "--seed-ratio=0.0",
          "--bt-max-peers=0",
          "--console-log-level=notice",
          `--dir=${dataDir}`,
          `--save-session=${stateDir}/session`,
          `--dht-file-path=${stateDir}/dht.dat`,
          torrent,
        ],
        ready: /listening on TCP port/,
      };
      break;
    case "transmission":
      plan = await transmissionPlan(torrent, dataDir, port, stateDir);
      break;
    case "libtorrent":
      plan = {
        program: "/usr/bin/python3",
        args: [`${PEERS_DIR}libtorrent_peer.py`, "seed", torrent, dataDir, String(port)],
        ready: /READY/,
        env: {
          ...(options.encryption ? { SHOAL_LT_ENCRYPTION: options.encryption } : {}),
          ...(options.uploadLimit ? { SHOAL_LT_UPLOAD_LIMIT: String(options.uploadLimit) } : {}),
        },
      };
      break;
    case "webtorrent":
      plan = {
        program: "node",
        args: [`${PEERS_DIR}webtorrent_peer.mjs`, "seed", torrent, dataDir, String(port)],
        ready: /READY/,
      };
      break;
  }
  const { output, stop } = spawnPeerProgram(plan.program, plan.args, stateDir, plan.env);
  try {
    await output.waitFor(plan.ready, READY_TIMEOUT_MS, kind);
  } catch (error) {
    await stop();
    throw error;
  }
  return { kind, port, address: `127.0.0.1:${port}`, stop };
}
