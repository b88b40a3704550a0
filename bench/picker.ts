/**
 * Picker scaling: a whole download's worth of picking (every block picked,
 * received and every piece verified) with 200 peers, at 10,000 and 100,000
 * pieces. Linear work means the second takes about 10 times the first, not
 * 100 times.
 *
 * @module
 */

import { PiecePicker } from "../lib/swarm/picker.ts";
import { Bitfield } from "../lib/util/bitfield.ts";

/** Figures of one picker run. */
export interface PickerFigures {
  /** Pieces in the simulated torrent. */
  pieces: number;
  /** Peers simulated. */
  peers: number;
  /** Seconds to register every peer's pieces. */
  connectSeconds: number;
  /** Seconds to pick, receive and verify every block. */
  downloadSeconds: number;
  /** Blocks handled. */
  blocks: number;
}

function randomBits(size: number, density: number, random: () => number): Bitfield {
  const bits = new Bitfield(size);
  for (let i = 0; i < size; i++) if (random() < density) bits.set(i);
  return bits;
}

/** A small seeded generator, so runs are comparable. */
function xorshift(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
}

/** Simulates a download of `pieces` pieces of 4 blocks from `peers` peers (a quarter of them seeds). */
export function benchPicker(pieces: number, peers = 200): PickerFigures {
  const random = xorshift(42);
  const blocksPerPiece = 4;
  const picker = new PiecePicker({
    pieceCount: pieces,
    pieceSize: () => blocksPerPiece * 16384,
    random,
  });
  const peerBits = Array.from(
    { length: peers },
    (_, i) => i % 4 === 0 ? randomBits(pieces, 1, random) : randomBits(pieces, 0.5, random),
  );
  let t = performance.now();
  for (const bits of peerBits) picker.addPeerPieces(bits);
  const connectSeconds = (performance.now() - t) / 1000;
  t = performance.now();
  let blocks = 0;
  while (picker.missing > 0) {
    let progressed = false;
    for (let peer = 0; peer < peers && picker.missing > 0; peer++) {
      for (const request of picker.pick(peer, peerBits[peer], 16)) {
        progressed = true;
        blocks++;
        const outcome = picker.blockReceived(peer, request.index, request.begin, request.length);
        if (outcome.completed) picker.pieceVerified(outcome.completed.index);
      }
    }
    if (!progressed) throw new Error("The simulated download stalled");
  }
  return { pieces, peers, connectSeconds, downloadSeconds: (performance.now() - t) / 1000, blocks };
}

/** Prints the figures for 10,000 and 100,000 pieces and their ratio. */
export function printPickerBench(): void {
  const small = benchPicker(10_000);
  const large = benchPicker(100_000);
  for (const f of [small, large]) {
    console.log(
      `  ${f.pieces.toLocaleString("en")} pieces, ${f.peers} peers: register peers ${
        (f.connectSeconds * 1000).toFixed(0)
      } ms, pick+receive ${f.blocks.toLocaleString("en")} blocks ${
        (f.downloadSeconds * 1000).toFixed(0)
      } ms (${Math.round(f.blocks / f.downloadSeconds).toLocaleString("en")} blocks/s)`,
    );
  }
  console.log(
    `  10x the pieces took ${
      (large.downloadSeconds / small.downloadSeconds).toFixed(1)
    }x the time (linear: ~10x, quadratic: ~100x)`,
  );
}

if (import.meta.main) printPickerBench();
