/**
 * The DHT flags of the commands that find peers (`download`, `seed`,
 * `info --fetch`): `--no-dht`, `--dht-port`, `--dht-bootstrap` and
 * `--dht-many-per-ip`, and the session options they make.
 *
 * @module
 */

import type { Command } from "./_commander.ts";
import { nodeArgument, portArgument } from "./_arguments.ts";
import type { SessionDhtOptions } from "../session/session.ts";

/** The DHT flags. */
export interface DhtFlags {
  /** False with `--no-dht`. */
  dht?: boolean;
  /** `--dht-port`. */
  dhtPort?: number;
  /** `--dht-bootstrap`, repeatable. */
  dhtBootstrap?: string[];
  /** `--dht-many-per-ip`. */
  dhtManyPerIp?: boolean;
}

/** Adds the DHT flags to a command. */
export function addDhtFlags(command: Command, prefix = ""): Command {
  return command
    .option(
      "--no-dht",
      `${prefix}do not find peers through the DHT or announce there; private torrents never do`,
    )
    .option(
      "--dht-port <port>",
      `${prefix}UDP port of the DHT node (default: --port)`,
      portArgument,
    )
    .option(
      "--dht-bootstrap <host:port>",
      `${prefix}a DHT node to join through; repeatable (default: the saved nodes and dht.libtorrent.org, dht.transmissionbt.com, …)`,
      nodeArgument,
      [],
    )
    .option(
      "--dht-many-per-ip",
      `${prefix}let many DHT nodes share one IP address (closed networks, tests)`,
    );
}

/**
 * The session's DHT options for the flags: off with `--no-dht`; the table
 * saved in `stateFile`.
 */
export function dhtOptions(flags: DhtFlags, stateFile?: string): SessionDhtOptions | false {
  if (flags.dht === false) return false;
  return {
    port: flags.dhtPort,
    bootstrap: flags.dhtBootstrap?.length ? flags.dhtBootstrap : undefined,
    stateFile,
    manyPerIp: flags.dhtManyPerIp,
  };
}
