/**
 * A DHT of shoal nodes on loopback, for the DHT scenarios and the DHT
 * benchmark (both run only in a loopback-only network namespace).
 *
 * @module
 */

import { DhtNode } from "../../lib/dht/dht_node.ts";

/** Nodes started by {@linkcode shoalDht}. */
export interface ShoalDht {
  /** The nodes, the first one first. */
  nodes: DhtNode[];
  /** Where the others joined: `host:port` of the first node, one per family it binds. */
  entry: string[];
  /** Closes every node. */
  close(): Promise<void>;
}

/**
 * Starts `count` shoal nodes (many per IP) on `bind` (default 127.0.0.1)
 * and waits until each has joined: through `bootstrap` when given, else
 * the first knows nobody and the others join through it.
 */
export async function shoalDht(
  count: number,
  options: { bind?: string[]; bootstrap?: string[] } = {},
): Promise<ShoalDht> {
  const bind = options.bind ?? ["127.0.0.1"];
  const settings = { bind, manyPerIp: true, port: 0 };
  const first = new DhtNode({ ...settings, bootstrap: options.bootstrap ?? [] });
  const entry = bind.map((host) => `${host.includes(":") ? `[${host}]` : host}:${first.port}`);
  const nodes = [first];
  for (let i = 1; i < count; i++) {
    nodes.push(new DhtNode({ ...settings, bootstrap: options.bootstrap ?? entry }));
  }
  await Promise.all(nodes.map((node) => node.ready()));
  return { nodes, entry, close: async () => void await Promise.all(nodes.map((n) => n.close())) };
}

/** Waits until `node` finds a peer on `port` for `infoHash` (an announce has landed). */
export async function untilAnnounced(
  node: DhtNode,
  infoHash: Uint8Array,
  port: number,
): Promise<void> {
  for (let i = 0; i < 50; i++) {
    if ((await node.getPeers(infoHash)).peers.some((peer) => peer.port === port)) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error("the seed's announce never reached the DHT");
}
