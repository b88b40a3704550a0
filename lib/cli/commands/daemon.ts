/**
 * `shoal daemon`: many torrents in one long-running session, driven
 * through Transmission's RPC (`transmission-remote`, Transmission's
 * remotes) until SIGTERM or SIGINT; the torrent list, options and resume
 * data stay in the state directory.
 *
 * @module
 */

import type { Command } from "../_commander.ts";
import { UsageError } from "../../errors.ts";
import { bindArgument, portOrAnyArgument, rateArgument, ratioArgument } from "../_arguments.ts";
import { addDhtFlags, type DhtFlags, dhtOptions } from "../_dht_flags.ts";
import { userStateHome } from "../_state_dir.ts";
import { Daemon } from "../../daemon/daemon.ts";
import type { DaemonSettings } from "../../daemon/settings.ts";
import { normalize } from "../../daemon/allowed_dirs.ts";
import { serveRpc } from "../../daemon/transmission_rpc.ts";
import { addressScope } from "../../net/_ip.ts";
import { FileLogger } from "../../util/log.ts";
import { writeErr } from "../output.ts";
import { readEnv } from "../_env.ts";

/** The daemon's flags. */
export interface DaemonFlags extends DhtFlags {
  downloadDir?: string;
  stateDir?: string;
  port: number;
  bind: string[];
  rpcBind: string;
  rpcPort: number;
  rpcUsername?: string;
  rpcPassword?: string;
  rpcHost: string[];
  rpcAllow: string[];
  allowedDir: string[];
  maxActiveDownloads?: number;
  maxActiveSeeds?: number;
  maxDown?: number;
  maxUp?: number;
  seedRatio?: number;
  watchDir?: string;
  onComplete?: string;
  foreground?: boolean;
  verbose?: boolean;
  pex?: boolean;
  lsd?: boolean;
}

const absolute = (path: string) => normalize(path.startsWith("/") ? path : `${Deno.cwd()}/${path}`);

/** Runs the daemon until SIGTERM/SIGINT (or `session-close`). */
export async function runDaemon(flags: DaemonFlags): Promise<void> {
  const home = userStateHome();
  const stateDir = absolute(
    flags.stateDir ?? (home ? `${home}/shoal/daemon` : (() => {
      throw new UsageError("Name the daemon's state folder with --state-dir");
    })()),
  );
  const password = flags.rpcPassword ?? readEnv("SHOAL_RPC_PASSWORD");
  const credentials = flags.rpcUsername !== undefined && password !== undefined
    ? { username: flags.rpcUsername, password }
    : undefined;
  if ((flags.rpcUsername === undefined) !== (password === undefined)) {
    throw new UsageError("Give both --rpc-username and --rpc-password (or SHOAL_RPC_PASSWORD)");
  }
  const scope = addressScope(flags.rpcBind);
  if (scope !== "loopback" && !credentials) {
    throw new UsageError(
      `The RPC would listen on ${flags.rpcBind}, reachable from other machines, with no password: give --rpc-username and --rpc-password (or keep the default --rpc-bind 127.0.0.1)`,
    );
  }
  const log = new FileLogger(`${stateDir}/daemon.log`, {
    mirrorLevel: flags.verbose ? "debug" : flags.foreground ? "info" : "warn",
    mirror: (line) => writeErr(line),
  });
  const settings: Partial<DaemonSettings> = {};
  if (flags.downloadDir) settings.downloadDir = absolute(flags.downloadDir);
  if (flags.maxActiveDownloads !== undefined) {
    settings.downloadQueue = { enabled: true, value: flags.maxActiveDownloads };
  }
  if (flags.maxActiveSeeds !== undefined) {
    settings.seedQueue = { enabled: true, value: flags.maxActiveSeeds };
  }
  if (flags.maxDown) settings.speedLimitDown = { enabled: true, value: flags.maxDown / 1000 };
  if (flags.maxUp) settings.speedLimitUp = { enabled: true, value: flags.maxUp / 1000 };
  if (flags.seedRatio !== undefined) settings.seedRatio = { enabled: true, value: flags.seedRatio };
  if (flags.onComplete) settings.onComplete = { enabled: true, value: flags.onComplete };
  const downloadDir = settings.downloadDir ?? absolute("./downloads");
  const daemon = await Daemon.open({
    stateDir,
    downloadDir,
    settings,
    allowedDirs: flags.allowedDir.length > 0 ? flags.allowedDir.map(absolute) : undefined,
    watchDir: flags.watchDir ? absolute(flags.watchDir) : undefined,
    log,
    session: {
      port: flags.port,
      bind: flags.bind.length > 0 ? flags.bind : undefined,
      lsd: flags.lsd !== false,
      dht: dhtOptions(flags, `${stateDir}/dht.dat`),
    },
    torrentDefaults: { pex: flags.pex !== false },
  });
  const stop = Promise.withResolvers<void>();
  let server;
  try {
    server = serveRpc(daemon, {
      hostname: flags.rpcBind,
      port: flags.rpcPort,
      credentials,
      hosts: flags.rpcHost,
      clients: flags.rpcAllow.length > 0 ? flags.rpcAllow : undefined,
      onCloseRequest: () => stop.resolve(),
      log,
    });
  } catch (error) {
    await daemon.close();
    await log.close();
    throw new UsageError(
      `Cannot serve the RPC on ${flags.rpcBind}:${flags.rpcPort}: ${
        (error as Error).message
      }; choose another --rpc-port`,
    );
  }
  const ready =
    `shoal daemon: RPC on http://${server.addr.hostname}:${server.addr.port}/transmission/rpc, peers on port ${daemon.session.port}, ${daemon.torrents().length} torrent(s), state in ${stateDir}`;
  log.info(ready);
  writeErr(`${ready}\n`);
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  const listener = () => stop.resolve();
  for (const signal of signals) Deno.addSignalListener(signal, listener);
  try {
    await stop.promise;
  } finally {
    for (const signal of signals) Deno.removeSignalListener(signal, listener);
    log.info("stopping");
    await server.shutdown();
    await daemon.close();
    log.info("stopped");
    await log.close();
  }
}

const count = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 100_000) {
    throw new UsageError(`"${value}" is not a count from 0 to 100000`);
  }
  return n;
};
const repeat = (value: string, previous: string[]) => [...previous, value];

/** Adds the daemon command to the program. */
export function addDaemonCommand(program: Command): void {
  addDhtFlags(
    program.command("daemon")
      .description("run many torrents, driven through Transmission's RPC, until SIGTERM")
      .option(
        "-d, --download-dir <dir>",
        "where torrents go unless told otherwise (default: ./downloads, then the saved one)",
      )
      .option(
        "--state-dir <dir>",
        "the torrent list, resume data, settings and log (default: $XDG_STATE_HOME/shoal/daemon)",
      )
      .option(
        "-p, --port <port>",
        "peer port to listen on and announce (0: any free one)",
        portOrAnyArgument,
        6881,
      )
      .option(
        "--bind <address>",
        "an address for peers to listen on and connect from; repeatable",
        bindArgument,
        [],
      )
      .option("--rpc-bind <address>", "address the RPC listens on", "127.0.0.1")
      .option("--rpc-port <port>", "port of the RPC (0: any free one)", portOrAnyArgument, 9091)
      .option("--rpc-username <name>", "user name the RPC asks for (HTTP Basic)")
      .option("--rpc-password <password>", "password the RPC asks for (or SHOAL_RPC_PASSWORD)")
      .option(
        "--rpc-host <name>",
        "a host name remotes may use besides localhost and IP addresses; repeatable (* for any)",
        repeat,
        [],
      )
      .option(
        "--rpc-allow <address>",
        "only these clients (addresses or networks such as 192.168.1.0/24); repeatable",
        repeat,
        [],
      )
      .option(
        "--allowed-dir <dir>",
        "a folder the RPC may name (download-dir, torrent files); repeatable (default: the download folder)",
        repeat,
        [],
      )
      .option("--max-active-downloads <n>", "most torrents downloading at once (default 5)", count)
      .option("--max-active-seeds <n>", "most torrents seeding at once (default: no limit)", count)
      .option(
        "--max-down <rate>",
        "most bytes per second received, all torrents, such as 2m",
        rateArgument,
      )
      .option(
        "--max-up <rate>",
        "most bytes per second sent, all torrents, such as 500k",
        rateArgument,
      )
      .option(
        "--seed-ratio <ratio>",
        "stop seeding at this upload ratio (default: seed until stopped)",
        ratioArgument,
      )
      .option("--watch-dir <dir>", "add .torrent files dropped in this folder")
      .option(
        "--on-complete <program>",
        "run this program when a torrent completes (TR_TORRENT_* and SHOAL_TORRENT_* in its environment)",
      )
      .option("--foreground", "also log to stderr")
      .option("-v, --verbose", "mirror the debug log to stderr")
      .option("--no-pex", "do not exchange peers with peers (PEX)")
      .option("--no-lsd", "no local service discovery (LSD)"),
  )
    .addHelpText(
      "after",
      `
The RPC speaks Transmission's protocol at /transmission/rpc: transmission-remote
and Transmission's remotes drive shoal as they drive transmission-daemon. It
listens on 127.0.0.1 unless --rpc-bind says otherwise, and refuses another
address without --rpc-username and --rpc-password. Paths from the RPC must be
inside an --allowed-dir. The log is <state-dir>/daemon.log.

Examples:
  shoal daemon -d ~/Downloads
  transmission-remote 127.0.0.1:9091 -a ubuntu.torrent
  shoal daemon --rpc-bind 0.0.0.0 --rpc-username me --rpc-password secret --rpc-allow 192.168.1.0/24
  shoal daemon --watch-dir ~/torrents --on-complete ~/bin/done.sh --max-active-downloads 3`,
    )
    .action(runDaemon);
}
