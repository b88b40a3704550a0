/**
 * The upload benchmark: shoal seeds 1 GiB to an aria2c leecher over
 * loopback; then aria2c seeds the same data to an identical aria2c
 * leecher. Both leechers find their seeder through opentracker. Prints the
 * leecher's wall time in each case and their ratio (goal: shoal as a seeder
 * no slower than aria2c).
 *
 * @module
 */

import { createTorrent } from "../lib/metainfo/create.ts";
import { readTorrentFile } from "../lib/metainfo/torrent.ts";
import { Session } from "../lib/session/session.ts";
import { aria2LoopbackFlags, startSeeder } from "../tests/helpers/seeders.ts";
import { freePort, startOpentracker } from "../tests/helpers/trackers.ts";
import { show, SIZE, timed, writeRandomGiB } from "./download.ts";

/** Runs the benchmark in a scratch folder and prints the figures. */
export async function benchUpload(): Promise<void> {
  const scratch = await Deno.makeTempDir({ prefix: "shoal-bench-upload-" });
  try {
    await Deno.mkdir(`${scratch}/data`);
    await writeRandomGiB(`${scratch}/data/big.bin`);
    const probe = await createTorrent(`${scratch}/data/big.bin`, { pieceLength: 1024 * 1024 });
    const tracker = await startOpentracker([probe.torrent.infoHashHex]);
    try {
      const { bytes } = await createTorrent(`${scratch}/data/big.bin`, {
        pieceLength: 1024 * 1024,
        trackers: [[tracker.http]],
      });
      const torrentPath = `${scratch}/big.torrent`;
      await Deno.writeFile(torrentPath, bytes);
      const leech = (dir: string) =>
        timed("aria2c", [
          ...aria2LoopbackFlags(freePort()),
          "--seed-time=0",
          "--console-log-level=warn",
          `--dir=${dir}`,
          torrentPath,
        ]);

      const session = new Session({ port: freePort(), host: "127.0.0.1" });
      const handle = session.add(await readTorrentFile(torrentPath), {
        downloadDir: `${scratch}/data`,
        seed: true,
        requireComplete: true,
      });
      await handle.done;
      const fromShoal = await leech(`${scratch}/from-shoal`);
      await session.close();
      await Deno.remove(`${scratch}/from-shoal`, { recursive: true });

      const aria2 = await startSeeder("aria2", torrentPath, `${scratch}/data`);
      const fromAria2 = await leech(`${scratch}/from-aria2`);
      await aria2.stop();
      await Deno.remove(`${scratch}/from-aria2`, { recursive: true });

      show("from shoal", fromShoal);
      show("from aria2c", fromAria2);
      console.log(
        `  aria2c leecher's wall time, shoal seeding / aria2c seeding: ${
          (fromShoal.wall / fromAria2.wall).toFixed(2)
        }  (goal: ≤ 1; ${(SIZE / 1024 ** 3).toFixed(0)} GiB each)`,
      );
    } finally {
      await tracker.stop();
    }
  } finally {
    await Deno.remove(scratch, { recursive: true });
  }
}

if (import.meta.main) await benchUpload();
