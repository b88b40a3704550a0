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

import { createTorrent } from "../lib/metainfo/create.ts";
import { type Seeder, startSeeder } from "../tests/helpers/seeders.ts";
import { aria2LoopbackFlags } from "../tests/helpers/seeders.ts";
import { shoalArgs } from "../tests/helpers/tools.ts";
import { freePort, type RunningTracker, startOpentracker } from "../tests/helpers/trackers.ts";
import { type RunFigures, SIZE, timed, writeRandomGiB } from "./download.ts";

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
  const scratch = await Deno.makeTempDir({ prefix: "shoal-bench-spread-" });
  let tracker: RunningTracker | undefined;
  const seeders: Seeder[] = [];
  try {
    await Deno.mkdir(`${scratch}/data`);
    await writeRandomGiB(`${scratch}/data/big.bin`);
    const probe = await createTorrent(`${scratch}/data/big.bin`, { pieceLength: 1024 * 1024 });
    tracker = await startOpentracker([probe.torrent.infoHashHex]);
    const { bytes } = await createTorrent(`${scratch}/data/big.bin`, {
      pieceLength: 1024 * 1024,
      trackers: [[tracker.http]],
    });
    const torrentPath = `${scratch}/big.torrent`;
    await Deno.writeFile(torrentPath, bytes);
    for (let i = 0; i < 3; i++) {
      seeders.push(await startSeeder("libtorrent", torrentPath, `${scratch}/data`));
    }
    console.log(`  seeders: ${seeders.map((s) => s.address).join(", ")}; tracker ${tracker.http}`);
    const shoal: RunFigures[] = [];
    const aria2: RunFigures[] = [];
    for (let run = 0; run < RUNS; run++) {
      shoal.push(
        await timed(
          Deno.execPath(),
          shoalArgs([
            "download",
            torrentPath,
            "-d",
            `${scratch}/shoal`,
            "-p",
            String(freePort()),
            "--quiet",
          ]),
        ),
      );
      await Deno.remove(`${scratch}/shoal`, { recursive: true });
      aria2.push(
        await timed("aria2c", [
          ...aria2LoopbackFlags(freePort()),
          "--seed-time=0",
          "--console-log-level=warn",
          `--dir=${scratch}/aria2`,
          torrentPath,
        ]),
      );
      await Deno.remove(`${scratch}/aria2`, { recursive: true });
    }
    spread("shoal", shoal);
    spread("aria2c", aria2);
    console.log(
      `  runs: shoal ${shoal.map((r) => r.wall.toFixed(2)).join(", ")} s; aria2c ${
        aria2.map((r) => r.wall.toFixed(2)).join(", ")
      } s`,
    );
  } finally {
    await Promise.all(seeders.map((s) => s.stop()));
    await tracker?.stop();
    await Deno.remove(scratch, { recursive: true });
  }
}

if (import.meta.main) await benchSpread();
