import { SmartBan } from "../../lib/swarm/_smart_ban.ts";
import { assertEquals } from "../helpers/assert.ts";

const BLOCK = 16384;

function piece(blocks: number, fill: number): Uint8Array {
  return new Uint8Array(blocks * BLOCK).fill(fill);
}

Deno.test("smart ban: a peer that alone sent two bad pieces is guilty; its count goes when it leaves", () => {
  const ban = new SmartBan();
  const senders = Int32Array.from([7, 7]);
  assertEquals(ban.failed(0, piece(2, 1), senders, new Set([7])), undefined);
  assertEquals(ban.soleFailures(7), 1);
  assertEquals(ban.failed(1, piece(2, 1), senders, new Set([7])), 7);
  ban.forget(7);
  assertEquals(ban.soleFailures(7), 0);
  assertEquals(ban.keptBytes, 0, "a sole sender's piece is not kept");
});

Deno.test("smart ban: with several senders, those whose blocks differ from the good copy are guilty", () => {
  const ban = new SmartBan();
  const good = piece(4, 5);
  const bad = good.slice();
  bad[BLOCK + 3] ^= 1; // block 1, from peer 2
  bad[3 * BLOCK] ^= 1; // block 3, from peer 4
  assertEquals(ban.failed(9, bad, Int32Array.from([1, 2, 3, 4]), new Set([1, 2, 3, 4])), undefined);
  assertEquals(ban.keptBytes, 4 * BLOCK);
  assertEquals([...ban.verified(9, good)].sort(), [2, 4]);
  assertEquals(ban.keptBytes, 0);
  assertEquals(ban.verified(9, good).size, 0, "judged once");
});

Deno.test("smart ban: bad copies are kept up to a bound, one per piece", () => {
  const ban = new SmartBan(3 * BLOCK);
  const senders = Int32Array.from([1, 2]);
  ban.failed(0, piece(2, 1), senders, new Set([1, 2]));
  ban.failed(0, piece(2, 1), senders, new Set([1, 2]));
  assertEquals(ban.keptBytes, 2 * BLOCK, "a second bad copy of one piece is not counted again");
  ban.failed(1, piece(2, 1), senders, new Set([1, 2]));
  assertEquals(ban.keptBytes, 2 * BLOCK, "over the bound: not kept");
  assertEquals(ban.verified(1, piece(2, 0)).size, 0);
});
