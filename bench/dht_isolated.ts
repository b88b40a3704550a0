/**
 * The DHT benchmark, run by `bench/dht.ts` inside a network namespace
 * with only loopback (it refuses to run anywhere else): a DHT of 30 shoal
 * nodes in which one info hash is announced, then lookups of it by shoal
 * nodes and, in the same DHT and the same run, by libtorrent (the
 * reference); and the memory one routing-table entry and one stored peer
 * take.
 *
 * @module
 */

import { PeerStore } from "../lib/dht/peer_store.ts";
import { RoutingTable } from "../lib/dht/routing_table.ts";
import { shoalDht } from "../tests/helpers/dht_nodes.ts";
import { spawnPeerProgram } from "../tests/helpers/processes.ts";
import { hasProgram } from "../tests/helpers/tools.ts";

const NODES = 30;
const LT_RUNS = 5;
const LT_DHT = new URL("../tests/peers/libtorrent_dht.py", import.meta.url).pathname;

if (Deno.networkInterfaces().some((i) => i.name !== "lo")) {
  console.error("refusing to run a DHT: this is not a loopback-only namespace");
  Deno.exit(3);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function mean(values: number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}

function toHex(bytes: Uint8Array): string {
  return [...bytes].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

async function lookups(): Promise<void> {
  const dht = await shoalDht(NODES);
  const { nodes } = dht;
  try {
    const infoHash = crypto.getRandomValues(new Uint8Array(20));
    await nodes[1].announce(infoHash, 7007);
    const queries: number[] = [];
    const ms: number[] = [];
    const firstMs: number[] = [];
    let found = 0;
    for (const node of nodes.slice(2)) {
      const start = performance.now();
      let first = 0;
      const lookup = await node.getPeers(infoHash, {
        onPeers: () => void (first ||= performance.now() - start),
      });
      if (first) firstMs.push(first);
      if (lookup.peers.some((peer) => peer.port === 7007)) found++;
      queries.push(lookup.queries);
      ms.push(lookup.ms);
    }
    console.log(
      `  shoal lookup in a DHT of ${NODES} shoal nodes: ${found} of ${queries.length} found the peer; ` +
        `${mean(queries).toFixed(1)} queries, median ${
          median(firstMs).toFixed(1)
        } ms to the first peers, ${median(ms).toFixed(1)} ms to the end of the lookup`,
    );
    if (!hasProgram("python3-libtorrent")) {
      console.log("  libtorrent lookup: skipped (python3-libtorrent is needed)");
      return;
    }
    const ltQueries: number[] = [];
    const ltMs: number[] = [];
    for (let i = 0; i < LT_RUNS; i++) {
      const state = await Deno.makeTempDir({ prefix: "shoal-bench-dht-" });
      const via = nodes[2 + i];
      const lt = spawnPeerProgram(
        "/usr/bin/python3",
        [LT_DHT, "get-peers", toHex(infoHash), "0", `127.0.0.1:${via.port}`],
        state,
      );
      try {
        await lt.output.waitFor(/FOUND|NOT FOUND/, 30_000, "libtorrent get-peers");
        const match = /FOUND (\S+) (\S+)/.exec(lt.output.text);
        if (match && !lt.output.text.includes("NOT FOUND")) {
          ltMs.push(Number(match[1]) * 1000);
          if (match[2] !== "?") ltQueries.push(Number(match[2]));
        }
      } finally {
        await lt.stop();
      }
    }
    console.log(
      `  libtorrent lookup in the same DHT: ${ltMs.length} of ${LT_RUNS} found the peer; ${
        ltQueries.length ? mean(ltQueries).toFixed(1) : "?"
      } queries, median ${ltMs.length ? median(ltMs).toFixed(1) : "?"} ms to the first peers`,
    );
  } finally {
    await dht.close();
  }
}

function heapUsed(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
  return Deno.memoryUsage().heapUsed;
}

/** Ids sharing exactly `depth` leading bits with `id`. */
function idAtDepth(id: Uint8Array, depth: number): Uint8Array {
  const out = crypto.getRandomValues(new Uint8Array(20));
  for (let bit = 0; bit <= depth; bit++) {
    const byte = bit >> 3;
    const mask = 0x80 >> (bit & 7);
    const want = bit < depth ? id[byte] & mask : ~id[byte] & mask;
    out[byte] = (out[byte] & ~mask) | want;
  }
  return out;
}

function memory(): void {
  // Routing tables: every bucket full (8 nodes at each of 160 depths), 10 tables.
  const before = heapUsed();
  const tables: RoutingTable[] = [];
  let entries = 0;
  for (let t = 0; t < 10; t++) {
    const id = crypto.getRandomValues(new Uint8Array(20));
    const table = new RoutingTable(id, { manyPerIp: true });
    let port = 1;
    for (let depth = 0; depth < 160; depth++) {
      for (let i = 0; i < 8; i++) {
        table.confirmed(
          { id: idAtDepth(id, depth), host: `10.${t}.${depth}.${i}`, port: port++ },
          true,
          Date.now(),
        );
      }
    }
    entries += table.size;
    tables.push(table);
  }
  const perEntry = (heapUsed() - before) / entries;
  // The peer store: 10,000 IPv4 peers over 50 torrents (its per-torrent bound is 200).
  const storeBefore = heapUsed();
  const store = new PeerStore();
  for (let h = 0; h < 50; h++) {
    const infoHash = crypto.getRandomValues(new Uint8Array(20));
    for (let p = 0; p < 200; p++) store.add(infoHash, new Uint8Array([10, h, p, 1, 0x1a, 0xe1]), 0);
  }
  const perPeer = (heapUsed() - storeBefore) / store.size;
  console.log(
    `  memory: ${
      (perEntry * 1000 / 1024).toFixed(0)
    } KiB per 1,000 routing-table entries (${entries} entries in 10 full tables; at most 1,280 per table), ` +
      `${
        (perPeer * 10_000 / 1024 / 1024).toFixed(2)
      } MiB per 10,000 stored peers (${store.size} stored; bounded at 200 per torrent and 2,000 torrents)`,
  );
  if (tables.length === 0 || store.size === 0) throw new Error("nothing measured");
}

await lookups();
memory();
