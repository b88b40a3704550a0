/**
 * Iterative lookups (`lib/dht/_lookup.ts`) over a simulated network: the
 * `ask` function stands for the sockets (lookups over real ones are in
 * `dht_test.ts`).
 */
import { assertEquals } from "../helpers/assert.ts";
import { lookup } from "../../lib/dht/_lookup.ts";
import type { NodeContact } from "../../lib/dht/compact_nodes.ts";

/** 50 nodes that each know the 8 next ones, and name a peer. */
function network(): NodeContact[] {
  return Array.from({ length: 50 }, (_, i) => {
    const id = new Uint8Array(20);
    id[0] = i;
    return { id, host: "10.0.0.1", port: 1000 + i };
  });
}

Deno.test("lookup: a callback that throws neither stops the lookup nor leaves a rejection unowned", async () => {
  const nodes = network();
  const result = await lookup({
    target: new Uint8Array(20),
    seeds: [nodes[49]],
    ask: (node) => {
      const i = node.port - 1000;
      return Promise.resolve({
        id: node.id,
        nodes: nodes.slice(Math.max(0, i - 8), i),
        peers: [{ host: "10.0.1.1", port: 2000 + i }],
      });
    },
    onPeers: () => {
      throw new Error("the caller's bug");
    },
  });
  // It went on to the closest nodes despite the throws.
  assertEquals(result.closest[0].node.port, 1000);
  assertEquals(result.peers.length, result.answers);
});
