/**
 * `shoal dht`: a diagnostic DHT node. It joins the DHT (from the saved
 * nodes and `--dht-bootstrap`, else the built-in bootstrap nodes), prints
 * its routing table, and with `get-peers <infohash|magnet>` looks up a
 * torrent's peers, printing them, the queries and the time.
 *
 * @module
 */

import type { Command } from "../_commander.ts";
import { NetworkError } from "../../errors.ts";
import { DhtNode, type DhtStats } from "../../dht/dht_node.ts";
import { loadTorrentSource } from "../../metainfo/source.ts";
import { formatPeerAddress } from "../../net/peer_address.ts";
import { toHex } from "../../util/_bytes.ts";
import { type Logger, silentLogger } from "../../util/log.ts";
import { bindArgument, durationArgument, nodeArgument, portArgument } from "../_arguments.ts";
import { userStateHome } from "../_state_dir.ts";
import { writeErr, writeOut } from "../output.ts";

/** Options of the dht command. */
export interface DhtCommandOptions {
  dhtPort: number;
  dhtBootstrap: string[];
  dhtManyPerIp?: boolean;
  bind: string[];
  stateDir?: string;
  /** How long to let the node join before printing, in seconds. */
  wait?: number;
  json?: boolean;
  verbose?: boolean;
}

/** Opens the node the options describe, and waits for it to join. */
async function openNode(options: DhtCommandOptions): Promise<DhtNode> {
  const stateDir = options.stateDir ?? (userStateHome() && `${userStateHome()}/shoal`);
  const log: Logger = options.verbose
    ? { ...silentLogger, debug: writeLine, info: writeLine, warn: writeLine, error: writeLine }
    : { ...silentLogger, warn: writeLine, error: writeLine };
  let node: DhtNode;
  try {
    node = new DhtNode({
      port: options.dhtPort,
      bind: options.bind.length ? options.bind : undefined,
      bootstrap: options.dhtBootstrap.length ? options.dhtBootstrap : undefined,
      stateFile: stateDir ? `${stateDir}/dht.json` : undefined,
      manyPerIp: options.dhtManyPerIp,
      log,
    });
  } catch (error) {
    throw new NetworkError(`Cannot start a DHT node: ${(error as Error).message}`, {
      cause: error,
    });
  }
  await node.ready();
  if (options.wait) await new Promise((resolve) => setTimeout(resolve, options.wait! * 1000));
  return node;
}

function writeLine(line: string): void {
  writeErr(`${line}\n`);
}

/** The routing table, as lines. */
function formatStats(stats: DhtStats): string {
  const lines = [
    `DHT node ${stats.id} on UDP port ${stats.port}`,
    `Routing table: ${stats.nodes} nodes in ${stats.buckets.length} buckets`,
    "  depth  nodes  questionable  replacements",
    ...stats.buckets.map((bucket) =>
      `  ${String(bucket.depth).padStart(5)}  ${String(bucket.nodes).padStart(5)}  ${
        String(bucket.questionable).padStart(12)
      }  ${String(bucket.replacements).padStart(12)}`
    ),
    `Peers stored for others: ${stats.storedPeers} (${stats.storedInfoHashes} torrents)`,
  ];
  return lines.join("\n") + "\n";
}

/** `shoal dht`: joins and prints the routing table. */
export async function runDht(options: DhtCommandOptions): Promise<void> {
  const node = await openNode(options);
  try {
    const stats = node.stats();
    if (options.json) writeOut(JSON.stringify(stats) + "\n");
    else writeOut(formatStats(stats));
    if (stats.nodes === 0) {
      throw new NetworkError(
        "No DHT node answered; name one that is up with --dht-bootstrap host:port",
      );
    }
  } finally {
    await node.close();
  }
}

/** `shoal dht get-peers`: looks up a torrent's peers. */
export async function runDhtGetPeers(input: string, options: DhtCommandOptions): Promise<void> {
  const source = await loadTorrentSource(input);
  const infoHash = source.kind === "magnet" ? source.magnet.infoHash : source.torrent.infoHash;
  const node = await openNode(options);
  try {
    const found = await node.getPeers(infoHash);
    const peers = found.peers.map(formatPeerAddress);
    if (options.json) {
      writeOut(
        JSON.stringify({
          infoHash: toHex(infoHash),
          peers,
          queries: found.queries,
          answers: found.answers,
          ms: Math.round(found.ms),
          nodes: node.size,
        }) + "\n",
      );
    } else {
      for (const peer of peers) writeOut(`${peer}\n`);
      writeOut(
        `${peers.length} peers for ${
          toHex(infoHash)
        } after ${found.queries} queries (${found.answers} answered) in ${
          Math.round(found.ms)
        } ms; ${node.size} nodes in the routing table\n`,
      );
    }
    if (found.answers === 0) {
      throw new NetworkError(
        "No DHT node answered; name one that is up with --dht-bootstrap host:port",
      );
    }
  } finally {
    await node.close();
  }
}

/** Adds the dht command to the program. */
export function addDhtCommand(program: Command): void {
  const common = (command: Command) =>
    command
      .option(
        "--dht-port <port>",
        "UDP port of the node (any free one if taken)",
        portArgument,
        6881,
      )
      .option(
        "--dht-bootstrap <host:port>",
        "a node to join through; repeatable (default: the saved nodes and the built-in list)",
        nodeArgument,
        [],
      )
      .option("--dht-many-per-ip", "let many nodes share one IP address (closed networks, tests)")
      .option(
        "--bind <address>",
        "an address of this machine to use; repeatable (default: all)",
        bindArgument,
        [],
      )
      .option(
        "--state-dir <dir>",
        "where the routing table is saved (default: $XDG_STATE_HOME/shoal)",
      )
      .option("--wait <duration>", "let the node join this long before answering", durationArgument)
      .option("--json", "print a stable machine-readable form")
      .option("-v, --verbose", "print the node's log to stderr");
  const dht = common(
    program.command("dht")
      .description("join the DHT and print the routing table; get-peers looks up a torrent"),
  )
    .addHelpText(
      "after",
      "\nExamples:\n  shoal dht\n  shoal dht --dht-bootstrap 127.0.0.1:6881 --json\n  shoal dht get-peers 'magnet:?xt=urn:btih:…'",
    )
    .action(runDht);
  // The options are `shoal dht`'s: commander gives a parent's options to the parent wherever
  // they stand on the line, so get-peers reads them from there.
  dht.command("get-peers")
    .description("look up the peers of a torrent in the DHT (takes the options of shoal dht)")
    .argument("<torrent>", "an info hash, a magnet link or a .torrent file")
    .addHelpText(
      "after",
      "\nOptions: those of shoal dht (shoal dht --help), before or after the torrent.\n\nExample:\n  shoal dht get-peers --dht-bootstrap 127.0.0.1:6881 --json 'magnet:?xt=urn:btih:…'",
    )
    .action((input: string, _options: unknown, command: Command) =>
      runDhtGetPeers(input, command.optsWithGlobals() as DhtCommandOptions)
    );
}
