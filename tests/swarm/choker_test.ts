/** The choker, as a pure function of peer statistics and time. */
import { choke, type ChokerPeer } from "../../lib/swarm/choker.ts";
import { assert, assertEquals } from "../helpers/assert.ts";

function peer(id: number, fields: Partial<ChokerPeer> = {}): ChokerPeer {
  return {
    id,
    interested: true,
    downloadRate: 0,
    uploadRate: 0,
    snubbed: false,
    connectedAt: -1_000_000,
    unchoked: false,
    ...fields,
  };
}

const NOW = 1_000_000;

Deno.test("choker: while downloading, the 4 peers that send us most get the slots; snubbers and the uninterested none", () => {
  const peers = [
    peer(1, { downloadRate: 100 }),
    peer(2, { downloadRate: 500 }),
    peer(3, { downloadRate: 300 }),
    peer(4, { downloadRate: 900, snubbed: true }),
    peer(5, { downloadRate: 200 }),
    peer(6, { downloadRate: 400 }),
    peer(7, { downloadRate: 10_000, interested: false }),
  ];
  const { unchoke, state } = choke(peers, false, {}, NOW, { random: () => 0 });
  for (const id of [2, 6, 3, 5]) assert(unchoke.has(id), `peer ${id} has a regular slot`);
  assert(!unchoke.has(7), "not interested");
  assertEquals(unchoke.size, 5, "4 regular slots and 1 optimistic");
  assert(state.optimistic === 1 || state.optimistic === 4, `optimistic: ${state.optimistic}`);
});

Deno.test("choker: the optimistic unchoke stays 30 s, then moves; the newest never-unchoked peer first, else new peers 3 times as likely", () => {
  const peers = Array.from({ length: 8 }, (_, i) => peer(i, { downloadRate: 100 - i }));
  const first = choke(peers, false, {}, NOW, { random: () => 0.5 });
  const optimistic = first.state.optimistic!;
  assert(optimistic >= 4, "the optimistic peer is not one of the regular four");
  const later = choke(peers, false, first.state, NOW + 10_000, { random: () => 0.99 });
  assertEquals(later.state.optimistic, optimistic, "kept for 30 s");
  const moved = choke(peers, false, first.state, NOW + 30_000, { random: () => 0.99 });
  assert(moved.state.optimistic !== optimistic, "moved after 30 s");

  // A peer that never had a slot gets the optimistic one first, the newest of them first.
  const never = [...peers.slice(0, 6), peer(6, { connectedAt: NOW - 5000 }), peer(7)];
  assertEquals(choke(never, false, {}, NOW, { random: () => 0 }).state.optimistic, 6);

  // When every waiting peer has had a slot: among four choked peers, one new gets 3/6 of the draws.
  let newcomer = 0;
  const hadSlots = peers.map((p) => ({ ...p, unchokedSince: NOW - 100_000 }));
  const fresh = [
    ...hadSlots.slice(0, 7),
    peer(7, { connectedAt: NOW - 1000, unchokedSince: NOW - 100_000 }),
  ];
  for (let i = 0; i < 600; i++) {
    const r = i / 600;
    if (choke(fresh, false, {}, NOW, { random: () => r }).state.optimistic === 7) newcomer++;
  }
  assert(newcomer > 250 && newcomer < 350, `newcomer picked ${newcomer} of 600 times`);
});

Deno.test("choker: while seeding, the fastest receivers hold the slots until their turn is over", () => {
  const peers = Array.from({ length: 6 }, (_, i) => peer(i, { uploadRate: 1000 * (i + 1) }));
  const first = choke(peers, true, {}, NOW, { random: () => 0 });
  for (const id of [5, 4, 3, 2]) assert(first.unchoke.has(id), `peer ${id}`);
  // Ten seconds later the same peers keep their slots ...
  const held = peers.map((p) =>
    first.unchoke.has(p.id) ? { ...p, unchoked: true, unchokedSince: NOW } : p
  );
  const again = choke(held, true, first.state, NOW + 10_000, { random: () => 0 });
  for (const id of [5, 4, 3, 2]) assert(again.unchoke.has(id), `peer ${id} keeps its slot`);
  // ... and after a full turn, the peer that never had a slot gets one.
  const waiting = peers.find((p) => !first.unchoke.has(p.id))!;
  const turn = choke(held, true, first.state, NOW + 31_000, { random: () => 0 });
  assert(
    turn.unchoke.has(waiting.id),
    `peer ${waiting.id} waited; unchoked now: ${[...turn.unchoke]}`,
  );
});

Deno.test("choker: nobody interested, nobody unchoked", () => {
  const { unchoke, state } = choke([peer(1, { interested: false })], false, {}, NOW);
  assertEquals([unchoke.size, state.optimistic], [0, undefined]);
});

Deno.test("choker: a peer that wastes its slot loses it, and waits behind peers that did not", () => {
  const peers = [
    peer(1, { unchoked: true, unchokedSince: NOW - 5000, wasting: true, wastedTurnAt: NOW }),
    peer(2, { unchokedSince: NOW - 200_000, wastedTurnAt: NOW - 60_000 }),
    peer(3, { connectedAt: NOW - 500_000, unchokedSince: NOW - 200_000 }),
    peer(4, { hostTurns: 3, unchokedSince: NOW - 200_000 }),
    peer(5, { hostTurns: 1, unchokedSince: NOW - 200_000 }),
  ];
  const { unchoke } = choke(peers, true, {}, NOW, { slots: 2, random: () => 0 });
  assert(!unchoke.has(1), "the waster lost its slot");
  for (const id of [3, 5]) assert(unchoke.has(id), `peer ${id} has a regular slot`);
  // The optimistic slot skips the peer that wasted a turn lately while others wait.
  assert(unchoke.has(4) && !unchoke.has(2), `unchoked: ${[...unchoke]}`);
});
