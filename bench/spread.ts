/**
 * The spread benchmark: 1 GiB over loopback from three libtorrent seeders
 * (found through opentracker), downloaded by shoal five times and by aria2c
 * five times from the same swarm. Prints min, median and max for each, and
 * how far the slowest shoal run is from the fastest (goal: within 20%, at
 * a median of at least 650 MiB/s on the 2-core development machine).
 *
 * Every run uses a fresh port: a libtorrent seeder will not connect again to
 * an address that finished.
 *
 * @module
 */

import { type RunFigures, SIZE, startBenchSwarm, timedAria2, timedShoal } from "./download.ts";

/** Runs per client. */
const RUNS = 5;

function spread(name: string, runs: RunFigures[]): void {
  const walls = runs.map((r) => r.wall).sort((a, b) => a - b);
  const rate = (wall: number) => (SIZE / 1024 / 1024 / wall).toFixed(0);
  const median = walls[Math.floor(walls.length / 2)];
  const peak = Math.max(...runs.map((r) => r.peakMiB));
  console.log(
    `  ${name.padEnd(7)} wall min ${walls[0].toFixed(2)} s, median ${median.toFixed(2)} s, max ${
      walls.at(-1)!.toFixed(2)
    } s (${rate(walls.at(-1)!)}–${rate(walls[0])} MiB/s, median ${rate(median)}); slowest/fastest ${
      (walls.at(-1)! / walls[0]).toFixed(2)
    }; peak RSS up to ${peak.toFixed(0)} MiB`,
  );
}

/** Runs the benchmark in a scratch folder and prints the figures. */
export async function benchSpread(): Promise<void> {
  const swarm = await startBenchSwarm("shoal-bench-spread-", [
    "libtorrent",
    "libtorrent",
    "libtorrent",
  ]);
  try {
    const shoal: RunFigures[] = [];
    const aria2: RunFigures[] = [];
    for (let run = 0; run < RUNS; run++) {
      shoal.push(await timedShoal(swarm.torrentPath, `${swarm.scratch}/shoal`));
      aria2.push(await timedAria2(swarm.torrentPath, `${swarm.scratch}/aria2`));
    }
    spread("shoal", shoal);
    spread("aria2c", aria2);
    console.log(
      `  runs: shoal ${shoal.map((r) => r.wall.toFixed(2)).join(", ")} s; aria2c ${
        aria2.map((r) => r.wall.toFixed(2)).join(", ")
      } s`,
    );
  } finally {
    await swarm.stop();
  }
}

if (import.meta.main) await benchSpread();
