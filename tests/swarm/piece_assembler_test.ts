/** The piece assembler: buffers, blocks read in place, the hand-over to the verifier. */
import { type AssembledPiece, PieceAssembler } from "../../lib/swarm/piece_assembler.ts";
import { blockKey } from "../../lib/swarm/peer_session.ts";
import { PiecePicker } from "../../lib/swarm/picker.ts";
import { Bitfield } from "../../lib/util/bitfield.ts";
import { assert, assertEquals } from "../helpers/assert.ts";

const BLOCK = 16384;

/** A picker and an assembler over `pieceCount` pieces of `blocks` blocks, with a verifier the test answers. */
function parts(pieceCount: number, blocks: number) {
  const picker = new PiecePicker({
    pieceCount,
    pieceSize: () => blocks * BLOCK,
    randomFirstPieces: 0,
    random: () => 0,
  });
  const checks: { index: number; data: Uint8Array; answer: (valid: boolean) => void }[] = [];
  const verified: AssembledPiece[] = [];
  const failed: AssembledPiece[] = [];
  const tasks: Promise<void>[] = [];
  const assembler = new PieceAssembler({
    pieceSize: () => blocks * BLOCK,
    complete: (index) => picker.allReceived(index),
    verifyAndWrite: (index, data) =>
      new Promise((resolve) =>
        checks.push({ index, data, answer: (valid) => resolve({ valid, data }) })
      ),
    verified: (piece) => verified.push(piece),
    failed: (piece) => failed.push(piece),
    fatal: (_index, error) => {
      throw error;
    },
    spawn: (task) => void tasks.push(task),
  });
  const all = new Bitfield(pieceCount);
  all.setAll();
  /** `peer` sends block (`index`, `begin`), its bytes all `fill`. */
  const receive = (peer: number, index: number, begin: number, fill = peer) => {
    const outcome = picker.blockReceived(peer, index, begin, BLOCK);
    assembler.put(index, begin, new Uint8Array(BLOCK).fill(fill), peer, {
      fresh: outcome.fresh,
      inPlace: false,
    });
    if (outcome.completed) assembler.maybeFinish(index);
    return outcome;
  };
  return { picker, assembler, checks, verified, failed, tasks, all, receive };
}

Deno.test("assembler: blocks are copied into their piece, which goes to the verifier once complete", async () => {
  const { picker, assembler, checks, verified, tasks, all, receive } = parts(1, 2);
  const blocks = picker.pick(0, all, 2);
  receive(0, 0, blocks[1].begin, 2);
  assertEquals(checks.length, 0);
  receive(0, 0, blocks[0].begin, 1);
  assertEquals(checks.length, 1);
  assert(assembler.finishing(0));
  assertEquals([checks[0].data[0], checks[0].data[BLOCK]], [1, 2]);
  checks[0].answer(true);
  await Promise.all(tasks);
  assertEquals(verified.map((piece) => [piece.index, [...piece.senders]]), [[0, [0, 0]]]);
  assert(!assembler.finishing(0));
});

Deno.test("assembler: a block read in place holds its piece back from the verifier until it ends", async () => {
  const { picker, assembler, checks, failed, tasks, all, receive } = parts(1, 2);
  picker.pick(0, all, 1); // block 0 from peer 0
  picker.pick(1, all, 1); // block 1 from peer 1, read in place
  assert(picker.mayPlace(1, 0, BLOCK));
  const target = assembler.target(1, 0, BLOCK, BLOCK)!;
  assertEquals(target.length, BLOCK);
  assertEquals(assembler.target(1, 0, BLOCK, BLOCK), undefined, "one block at a time per peer");
  assert(assembler.beingPlaced(blockKey(0, BLOCK)));
  assertEquals(assembler.placingKey(1), blockKey(0, BLOCK));
  target.fill(9);
  const outcome = picker.blockReceived(1, 0, BLOCK, BLOCK);
  assembler.put(0, BLOCK, target, 1, { fresh: outcome.fresh, inPlace: true });
  receive(0, 0, 0); // complete, but a block is still being placed
  assertEquals(checks.length, 0);
  assertEquals(assembler.placed(1), 0);
  assert(!assembler.beingPlaced(blockKey(0, BLOCK)));
  assembler.maybeFinish(0);
  assertEquals(checks.length, 1);
  assertEquals(checks[0].data[BLOCK], 9);
  checks[0].answer(false);
  await Promise.all(tasks);
  assertEquals(failed.map((piece) => [...piece.contributors].sort()), [[0, 1]]);
});

Deno.test("assembler: a liar's blocks are taken out of unfinished pieces and asked of others", async () => {
  const { picker, assembler, checks, failed, tasks, all, receive } = parts(2, 4);
  const liar = picker.pick(0, all, 3); // piece 0, blocks 0–2
  const honest = picker.pick(1, all, 5); // piece 0 block 3, piece 1 blocks 0–3
  for (const r of liar) receive(0, r.index, r.begin);
  // Piece 0's last block is being read in place from the honest peer.
  assertEquals([honest[0].index, honest[0].begin], [0, 3 * BLOCK]);
  const target = assembler.target(1, 0, 3 * BLOCK, BLOCK)!;
  // Piece 1 is being hashed: it is left to its check.
  for (const r of honest.slice(1)) receive(1, r.index, r.begin);
  receive(0, 1, 0); // a late copy: piece 1 block 0 was received already
  const forget = (index: number, block: number) => picker.forgetBlock(index, block);
  assertEquals(assembler.forgetSender(0, forget), 3);
  assertEquals([picker.active(0)!.receivedCount, picker.active(0)!.freeCount], [0, 3]);
  const again = picker.pick(1, all, 10);
  assertEquals(again.map((r) => r.begin / BLOCK), [0, 1, 2]);
  assertEquals(assembler.forgetSender(0, forget), 0);
  target.fill(1);
  const outcome = picker.blockReceived(1, 0, 3 * BLOCK, BLOCK);
  assembler.put(0, 3 * BLOCK, target, 1, { fresh: outcome.fresh, inPlace: true });
  assertEquals(assembler.placed(1), 0);
  assertEquals(picker.active(0)!.receivedCount, 1);
  for (const r of again) receive(1, r.index, r.begin);
  assertEquals(checks.map((check) => check.index), [1, 0]);
  for (const check of checks) check.answer(false);
  await Promise.all(tasks);
  assertEquals(failed.map((piece) => [piece.index, [...piece.contributors]]), [[1, [1]], [0, [1]]]);
  assertEquals([...failed[1].senders], [1, 1, 1, 1]);
});
