/** The piece picker and its availability index. */
import fc from "fast-check";
import { AvailabilityIndex } from "../../lib/swarm/_availability.ts";
import { PiecePicker } from "../../lib/swarm/picker.ts";
import { Bitfield } from "../../lib/util/bitfield.ts";
import { assert, assertEquals } from "../helpers/assert.ts";

const BLOCK = 16384;

function bits(size: number, pieces: number[] | "all"): Bitfield {
  const field = new Bitfield(size);
  if (pieces === "all") field.setAll();
  else for (const piece of pieces) field.set(piece);
  return field;
}

function picker(
  pieceCount: number,
  pieceLength = 4 * BLOCK,
  extra: Partial<ConstructorParameters<typeof PiecePicker>[0]> = {},
) {
  return new PiecePicker({
    pieceCount,
    pieceSize: () => pieceLength,
    randomFirstPieces: 0,
    random: () => 0,
    ...extra,
  });
}

Deno.test("availability index: any sequence of changes keeps pieces sorted by availability", () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.tuple(fc.constantFrom("inc", "dec", "add", "remove"), fc.integer({ min: 0, max: 29 })),
        {
          maxLength: 400,
        },
      ),
      (operations) => {
        const index = new AvailabilityIndex(30);
        const model = new Array(30).fill(0);
        const waiting = new Set<number>();
        for (let piece = 0; piece < 30; piece += 2) {
          index.add(piece);
          waiting.add(piece);
        }
        for (const [op, piece] of operations) {
          if (op === "inc") {
            index.increment(piece);
            model[piece]++;
          } else if (op === "dec") {
            index.decrement(piece);
            model[piece] = Math.max(0, model[piece] - 1);
          } else if (op === "add") {
            index.add(piece);
            waiting.add(piece);
          } else {
            index.remove(piece);
            waiting.delete(piece);
          }
          index.assertConsistent();
        }
        assertEquals(index.waiting, waiting.size);
        const rarest = index.rarest(() => true, () => 0);
        if (waiting.size === 0) assertEquals(rarest, undefined);
        else assertEquals(model[rarest!], Math.min(...[...waiting].map((p) => model[p])));
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("picker: rarest first, and only pieces the peer has", () => {
  const p = picker(10);
  p.addPeerPieces(bits(10, [1, 2, 3]));
  p.addPeerPieces(bits(10, [2, 3]));
  p.addPeerPieces(bits(10, [3]));
  // Piece 1 is had by one peer, 2 by two, 3 by three.
  const requests = p.pick(0, bits(10, [1, 2, 3]), 4);
  assertEquals(new Set(requests.map((r) => r.index)), new Set([1]));
  assertEquals(requests.map((r) => r.begin), [0, BLOCK, 2 * BLOCK, 3 * BLOCK]);
  assertEquals(p.pick(1, bits(10, [2, 3]), 1)[0].index, 2);
  assertEquals(p.pick(2, bits(10, [5]), 4), []);
});

Deno.test("picker: pieces in progress are finished before new ones start", () => {
  const p = picker(10);
  const seed = bits(10, "all");
  p.addPeerPieces(seed);
  const first = p.pick(0, seed, 2);
  assertEquals(first.map((r) => r.index), [first[0].index, first[0].index]);
  const second = p.pick(1, seed, 2);
  assertEquals(second.map((r) => r.index), [first[0].index, first[0].index]);
  assertEquals(p.activeCount, 1);
});

Deno.test("picker: the first pieces are picked at random", () => {
  const seen = new Set<number>();
  for (let i = 0; i < 40; i++) {
    const p = new PiecePicker({ pieceCount: 100, pieceSize: () => BLOCK });
    seen.add(p.pick(0, bits(100, "all"), 1)[0].index);
  }
  assert(seen.size > 10, `only ${seen.size} different first pieces`);
});

Deno.test("picker: end game asks a second peer for blocks already requested, never a third", () => {
  const p = picker(1, 2 * BLOCK, { maxRequestsPerBlock: 2 });
  const all = bits(1, "all");
  assertEquals(p.pick(0, all, 10).length, 2);
  assert(p.endGame);
  assertEquals(p.pick(1, all, 10).length, 2);
  assertEquals(p.pick(2, all, 10).length, 0);
  assertEquals(p.pick(0, all, 10).length, 0, "never twice to the same peer");
  const outcome = p.blockReceived(1, 0, 0, BLOCK);
  assert(outcome.fresh);
  assertEquals(outcome.cancel, [0]);
  const late = p.blockReceived(0, 0, 0, BLOCK);
  assert(!late.fresh);
  const last = p.blockReceived(0, 0, BLOCK, BLOCK);
  assertEquals(last.cancel, [1]);
  assertEquals(last.completed?.index, 0);
});

Deno.test("picker: released blocks go back to the pool; failed pieces start over", () => {
  const p = picker(2, 2 * BLOCK);
  const all = bits(2, "all");
  const taken = p.pick(0, all, 4);
  assertEquals(taken.length, 4);
  p.release(0, taken[0].index, taken[0].begin);
  const again = p.pick(1, all, 1);
  assertEquals(again.map((r) => [r.index, r.begin]), [[taken[0].index, taken[0].begin]]);
  p.blockReceived(1, again[0].index, again[0].begin, BLOCK);
  const done = p.blockReceived(0, taken[1].index, taken[1].begin, BLOCK).completed!;
  assertEquals(p.pieceFailed(done.index)?.index, done.index);
  assertEquals(p.pick(2, all, 10).filter((r) => r.index === done.index).length, 2);
  p.pieceVerified(1 - done.index);
  assertEquals(p.missing, 1);
});

Deno.test("picker: no new piece starts while unverified pieces fill the memory cap", () => {
  const p = picker(10, 4 * BLOCK, { maxBufferedBytes: 8 * BLOCK });
  const all = bits(10, "all");
  assertEquals(p.pick(0, all, 100).length, 8);
  assertEquals(p.bufferedBytes, 8 * BLOCK);
  assertEquals(p.pick(1, all, 100).length, 0);
});

Deno.test("picker: a single piece larger than the cap still downloads", () => {
  const p = picker(1, 8 * BLOCK, { maxBufferedBytes: BLOCK });
  assertEquals(p.pick(0, bits(1, "all"), 100).length, 8);
});

Deno.test("bitfield: spare bits, counting, setAll", () => {
  assert(Bitfield.hasSpareBits(10, new Uint8Array([0xff, 0xc1])));
  assert(!Bitfield.hasSpareBits(10, new Uint8Array([0xff, 0xc0])));
  const field = new Bitfield(10);
  field.setAll();
  assertEquals([field.count, field.full, [...field.bytes]], [10, true, [0xff, 0xc0]]);
  field.clear(3);
  assertEquals([...field.indices()].length, 9);
  assert(!field.has(10) && !field.has(-1));
});

Deno.test("picker: a piece lost from disk is wanted and picked again, unless nothing is wanted", () => {
  const p = picker(4, 4 * BLOCK, { have: bits(4, "all") });
  assertEquals(p.missing, 0);
  p.addPeerPieces(bits(4, "all"));
  assertEquals(p.pieceLost(2), true);
  assertEquals(p.pieceLost(2), false, "lost once");
  assertEquals(p.missing, 1);
  assert(p.wants(2) && !p.have.has(2));
  assertEquals(p.pick(1, bits(4, "all"), 8).map((r) => r.index), [2, 2, 2, 2]);
  // Found good on disk again.
  p.pieceVerified(2);
  assertEquals(p.missing, 0);

  const seedOnly = picker(4, 4 * BLOCK, { have: bits(4, "all"), priorities: new Uint8Array(4) });
  assertEquals(seedOnly.pieceLost(1), true);
  assertEquals(seedOnly.missing, 0, "a seed that only reads does not want it");
  assertEquals(seedOnly.pick(1, bits(4, "all"), 8), []);
  seedOnly.pieceVerified(1);
  assertEquals(seedOnly.have.full, true);
});

Deno.test("picker: a peer that takes a piece back (lt_donthave) no longer counts for it", () => {
  const p = picker(2);
  p.peerHas(0);
  p.peerHas(0);
  assertEquals(p.availability(0), 2);
  p.peerLost(0);
  assertEquals(p.availability(0), 1);
});

Deno.test("picker: higher priorities start first; priorities change live and the missing count follows", () => {
  const p = picker(6, BLOCK, { priorities: Uint8Array.from([1, 2, 3, 0, 2, 1]) });
  assertEquals(p.missing, 5);
  const all = bits(6, "all");
  const order = () => p.pick(1, all, 1).map((r) => r.index);
  assertEquals(order(), [2]);
  const next = [...order(), ...order()].sort();
  assertEquals(next, [1, 4]);
  assert(!p.wants(3));
  // Piece 3 wanted now, high; piece 5 no longer: 3 comes before 0.
  assert(p.setPriorities(Uint8Array.from([1, 2, 3, 3, 2, 0])));
  assertEquals(p.missing, 5);
  assertEquals(order(), [3]);
  assertEquals(order(), [0]);
  assertEquals(order(), []);
  // A piece in progress that is no longer wanted is finished, and counts no more as missing.
  assert(p.setPriorities(new Uint8Array(6)));
  assertEquals(p.missing, 0);
  assert(p.active(0) !== undefined);
  assert(!p.setPriorities(new Uint8Array(6)), "nothing changed");
});

/** Starts pieces for `peer` one at a time (one block each) and returns their order. */
function startOrder(p: PiecePicker, have: Bitfield, pieces: number, peer = 0): number[] {
  const order: number[] = [];
  for (let i = 0; i < pieces; i++) {
    const [request] = p.pick(peer, have, 1);
    if (!request) break;
    order.push(request.index);
    // Finish the piece, so that the next pick starts a new one.
    for (let begin = 0; begin < p.active(request.index)!.length; begin += BLOCK) {
      p.blockReceived(peer, request.index, begin, BLOCK);
    }
    p.pieceVerified(request.index);
  }
  return order;
}

Deno.test("picker: sequential starts the early pieces, then in order, rarest first within the window", () => {
  const p = picker(20, BLOCK, { sequential: { early: [0, 19, 10], window: 3 } });
  const all = bits(20, "all");
  // Piece 2 is rarer than 1 (fewer peers have it than the pieces around it).
  for (const piece of [0, 1, 3, 4, 5, 6, 7, 8, 9]) p.peerHas(piece);
  assertEquals(
    startOrder(p, all, 20),
    // 11 (no peer has it) goes before 9 (one has it): both are within 3 of 9, the first missing.
    [0, 19, 10, 2, 1, 3, 4, 5, 6, 7, 8, 11, 9, 12, 13, 14, 15, 16, 17, 18],
  );
  assertEquals(p.missing, 0);
});

Deno.test("picker: sequential gives a peer without the window's pieces the first it has after them; failed pieces go back in front", () => {
  const p = picker(12, BLOCK, { sequential: { window: 2 } });
  assertEquals(startOrder(p, bits(12, [5, 9]), 1), [5]);
  assertEquals(startOrder(p, bits(12, "all"), 3), [0, 1, 2]);
  // A piece that fails its check is wanted again, before those after it.
  const [request] = p.pick(0, bits(12, "all"), 1);
  assertEquals(request.index, 3);
  p.blockReceived(0, 3, 0, BLOCK);
  p.pieceFailed(3);
  assertEquals(startOrder(p, bits(12, "all"), 2), [3, 4]);
  p.setSequential(undefined);
  assertEquals(p.sequential, false);
});

Deno.test("picker: a piece with a deadline is requested first, soonest first, and asked of a second peer once late", () => {
  let now = 1_000;
  const p = picker(10, 2 * BLOCK, { now: () => now });
  const all = bits(10, "all");
  assert(p.setDeadline(7, 5_000));
  assert(p.setDeadline(4, 3_000));
  const first = p.pick(0, all, 3);
  assertEquals(first.map((r) => [r.index, r.begin]), [[4, 0], [4, BLOCK], [7, 0]]);
  // Not late yet: a second peer gets the rest of piece 7, then other pieces.
  const second = p.pick(1, all, 2);
  assertEquals(second.map((r) => r.index), [7, 0]);
  assertEquals(second[0].begin, BLOCK);
  // Piece 4 is late: a third peer is asked for its blocks too.
  now = 3_500;
  const third = p.pick(2, all, 2);
  assertEquals(third.map((r) => [r.index, r.begin]), [[4, 0], [4, BLOCK]]);
  // Once verified the deadline is gone; pieces we have are ignored.
  p.blockReceived(2, 4, 0, BLOCK);
  p.blockReceived(2, 4, BLOCK, BLOCK);
  p.pieceVerified(4);
  assertEquals(p.deadlineCount, 1);
  assert(p.setDeadline(4, 0));
  assertEquals(p.deadlineCount, 1);
  p.clearDeadline();
  assertEquals(p.deadlineCount, 0);
});

Deno.test("picker: a piece with a deadline starts over the memory cap; a piece not wanted is not started for it", () => {
  const p = picker(10, 4 * BLOCK, {
    maxBufferedBytes: 4 * BLOCK,
    priorities: new Uint8Array(10).fill(2).fill(0, 8),
  });
  const all = bits(10, "all");
  assertEquals(p.pick(0, all, 4).map((r) => r.index), [0, 0, 0, 0]);
  // The cap is reached; nothing new starts, except a piece someone waits for.
  assertEquals(p.pick(1, all, 4).length, 0);
  p.setDeadline(6, 0);
  p.setDeadline(9, 0);
  assertEquals(p.pick(1, all, 8).map((r) => r.index), [6, 6, 6, 6]);
});
