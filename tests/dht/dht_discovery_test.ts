/**
 * The DHT as a torrent's peer source: when its lookups run. The node is a
 * stand-in that counts lookups and answers at once (the scheduling is
 * under test; lookups over real sockets are in `dht_test.ts`).
 */
import { assertEquals } from "../helpers/assert.ts";
import { until } from "../helpers/until.ts";
import { DhtDiscovery } from "../../lib/dht/dht_discovery.ts";
import type { DhtNode, PeerLookup } from "../../lib/dht/dht_node.ts";

function countingNode(): { node: DhtNode; lookups: string[] } {
  const lookups: string[] = [];
  type Options = { onPeers?: (peers: never[]) => void };
  const answer = (kind: string) => (...args: unknown[]) => {
    lookups.push(kind);
    const options = args.at(-1) as Options;
    const peers = [{ host: "127.0.0.1", port: 7000 }];
    options.onPeers?.(peers as never[]);
    const result: PeerLookup = { peers, closest: [], queries: 1, answers: 1, ms: 1, announced: 0 };
    return Promise.resolve(result);
  };
  const node = { getPeers: answer("get_peers"), announce: answer("announce") };
  return { node: node as unknown as DhtNode, lookups };
}

Deno.test("dht discovery: a lookup at start, an announce once allowed, and one more when short of peers only after the soonest-again time", async () => {
  const { node, lookups } = countingNode();
  const dht = new DhtDiscovery(node, { port: 6881, soonestAgainMs: 200 });
  const source = dht.source(new Uint8Array(20));
  const found: number[] = [];
  source.start((peers) => found.push(peers.length));
  await until(() => lookups.length === 1, "the first lookup", 2000);
  source.announce(true);
  await until(() => lookups.length === 2, "the announce", 2000);
  assertEquals(lookups, ["get_peers", "announce"]);
  source.wantMore?.(); // Just looked: not yet.
  await new Promise((resolve) => setTimeout(resolve, 50));
  assertEquals(lookups.length, 2);
  await new Promise((resolve) => setTimeout(resolve, 250));
  source.wantMore?.();
  await until(() => lookups.length === 3, "the lookup when short of peers", 2000);
  assertEquals(lookups[2], "announce");
  assertEquals(found, [1, 1, 1]);
  await source.stop();
  await dht.close();
});
