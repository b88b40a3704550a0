/** The routing table (BEP 5): buckets, splits, replacement, the one-entry-per-IP rule, refresh. */
import {
  BUCKET_SIZE,
  commonPrefixBits,
  compareDistance,
  QUESTIONABLE_AFTER_MS,
  RoutingTable,
} from "../../lib/dht/routing_table.ts";
import { assert, assertEquals } from "../helpers/assert.ts";

const zero = new Uint8Array(20);
/** An id whose first byte is `first` and the rest `rest`. */
const idOf = (first: number, rest = 0) => {
  const id = new Uint8Array(20).fill(rest);
  id[0] = first;
  return id;
};
const node = (id: Uint8Array, n: number) => ({ id, host: "127.0.0.1", port: 10_000 + n });
const NOW = 1_000_000_000;

Deno.test("routing table: distances and prefixes", () => {
  assertEquals(commonPrefixBits(zero, zero), 160);
  assertEquals(commonPrefixBits(zero, idOf(0x80)), 0);
  assertEquals(commonPrefixBits(zero, idOf(0x01)), 7);
  assert(compareDistance(idOf(1), idOf(2), zero) < 0);
  assert(compareDistance(idOf(3), idOf(2), idOf(2)) > 0);
});

Deno.test("routing table: only nodes that answered enter; a full bucket holding our id splits, a far one does not", () => {
  const table = new RoutingTable(zero, { manyPerIp: true });
  assertEquals(table.confirmed(node(idOf(0x80), 0), false, NOW), "refused"); // Only queried us.
  assertEquals(table.confirmed(node(zero, 99), true, NOW), "refused"); // Our own id.
  // 8 far nodes (first bit 1) and 8 near ones (first bit 0): the first bucket splits once.
  for (let i = 0; i < 8; i++) {
    assertEquals(table.confirmed(node(idOf(0x80 + i), i), true, NOW), "added");
  }
  for (let i = 0; i < 8; i++) {
    assertEquals(table.confirmed(node(idOf(0x40 + i), 10 + i), true, NOW), "added");
  }
  assertEquals(table.size, 16);
  assertEquals(table.buckets(NOW).map((b) => b.nodes), [8, 8]);
  // The far bucket is full and does not hold our id: a ninth far node waits as a replacement.
  assertEquals(table.confirmed(node(idOf(0xf0), 20), true, NOW), "replacement");
  assertEquals([table.size, table.entries], [16, 17]);
  // Near ones keep splitting towards our id.
  for (let i = 0; i < 8; i++) table.confirmed(node(idOf(0x01, i + 1), 30 + i), true, NOW);
  assert(table.buckets(NOW).length > 2);
  assertEquals(table.closest(idOf(0x01, 3), 1)[0].port, 10_032);
});

Deno.test("routing table: a bad node gives its place to the freshest replacement; a failing replacement goes", () => {
  const table = new RoutingTable(zero, { manyPerIp: true, bucketSize: 2 });
  table.confirmed(node(idOf(0x80), 1), true, NOW);
  table.confirmed(node(idOf(0x40), 2), true, NOW); // Splits: 0x80 far, 0x40 near.
  table.confirmed(node(idOf(0x81), 3), true, NOW);
  assertEquals(table.confirmed(node(idOf(0x82), 4), true, NOW), "replacement");
  assertEquals(table.confirmed(node(idOf(0x83), 5), true, NOW), "replacement");
  table.failed("127.0.0.1:10005"); // A replacement that fails is forgotten.
  assertEquals(table.get("127.0.0.1:10005"), undefined);
  table.failed("127.0.0.1:10001");
  assertEquals(table.closest(idOf(0x80), 1)[0].port, 10_001); // Questionable, still there.
  table.failed("127.0.0.1:10001"); // Bad: replaced.
  assertEquals(table.get("127.0.0.1:10001"), undefined);
  assertEquals(table.closest(idOf(0x80), 2).map((n) => n.port).sort(), [10_003, 10_004]);
});

Deno.test("routing table: a bad node with no replacement stays out of answers and is replaced by the next node", () => {
  const table = new RoutingTable(zero, { manyPerIp: true, bucketSize: 1 });
  table.confirmed(node(idOf(0x80), 1), true, NOW);
  table.confirmed(node(idOf(0x40), 2), true, NOW);
  table.failed("127.0.0.1:10001");
  table.failed("127.0.0.1:10001");
  assertEquals(table.closest(idOf(0x80), 8).map((n) => n.port), [10_002]);
  assertEquals(table.confirmed(node(idOf(0x90), 3), true, NOW), "added");
  assertEquals(table.get("127.0.0.1:10001"), undefined);
});

Deno.test("routing table: one entry per IP unless manyPerIp; an address that changes its id loses its entry", () => {
  const table = new RoutingTable(zero);
  assertEquals(table.confirmed(node(idOf(0x80), 1), true, NOW), "added");
  assertEquals(table.confirmed(node(idOf(0x90), 2), true, NOW), "refused"); // Same IP, other port.
  assertEquals(table.confirmed({ id: idOf(0x90), host: "10.0.0.2", port: 1 }, true, NOW), "added");
  // 127.0.0.1:10001 comes back with another id: the old entry goes, the new one enters.
  assertEquals(table.confirmed(node(idOf(0xa0), 1), true, NOW), "added");
  assertEquals(table.closest(idOf(0x80), 8).map((n) => n.id[0]).sort(), [0x90, 0xa0]);
});

Deno.test("routing table: a node whose id follows BEP 42 takes the place of one that does not", () => {
  const table = new RoutingTable(zero, { manyPerIp: true, bucketSize: 1 });
  table.confirmed(node(idOf(0x40), 9), true, NOW);
  table.confirmed(node(idOf(0x80), 1), true, NOW, false);
  assertEquals(table.confirmed(node(idOf(0x90), 2), true, NOW, false), "replacement");
  assertEquals(table.confirmed(node(idOf(0xa0), 3), true, NOW, true), "added");
  assertEquals(table.closest(idOf(0x80), 8).map((n) => n.port).sort(), [10_003, 10_009]);
});

Deno.test("routing table: a query from a known address with another id (its source may be forged) changes nothing; a reply replaces the entry", () => {
  const table = new RoutingTable(zero, { manyPerIp: true });
  table.confirmed(node(idOf(0x80), 1), true, NOW);
  assertEquals(table.confirmed(node(idOf(0x90), 1), false, NOW), "refused");
  assertEquals(table.get("127.0.0.1:10001")?.id, idOf(0x80));
  table.confirmed(node(idOf(0x90), 1), true, NOW);
  assertEquals(table.nodes().map((entry) => entry.id), [idOf(0x90)]);
});

Deno.test("routing table: silent nodes turn questionable after 15 minutes; stale buckets give refresh targets inside them", () => {
  const table = new RoutingTable(zero, { manyPerIp: true });
  for (let i = 0; i < BUCKET_SIZE + 2; i++) table.confirmed(node(idOf(0x80 + i * 4), i), true, NOW);
  assertEquals(table.questionable(NOW + 60_000).length, 0);
  assertEquals(table.questionable(NOW + QUESTIONABLE_AFTER_MS).length, table.size);
  // A node that queries us stays good.
  table.confirmed(node(idOf(0x80), 0), false, NOW + QUESTIONABLE_AFTER_MS);
  assertEquals(table.questionable(NOW + QUESTIONABLE_AFTER_MS).length, table.size - 1);
  // One bucket at a time, each once, until every stale bucket is refreshed.
  const targets: Uint8Array[] = [];
  for (let target; (target = table.staleTarget(NOW + QUESTIONABLE_AFTER_MS));) targets.push(target);
  assertEquals(targets.length, table.buckets(NOW).length);
  const depths = targets.map((target) =>
    Math.min(commonPrefixBits(target, zero), targets.length - 1)
  );
  assertEquals(new Set(depths).size, targets.length); // One in each bucket.
  assertEquals(table.staleTarget(NOW + QUESTIONABLE_AFTER_MS + 1), undefined); // Refreshed.
  for (let depth = 0; depth < 40; depth++) {
    assertEquals(commonPrefixBits(table.randomIdAt(depth), zero), depth);
  }
});
