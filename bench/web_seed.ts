/**
 * The web seed benchmark: a 1 GiB file served by nginx (Debian's) on a
 * loopback port, and a torrent with nginx as its only source (a BEP 19
 * web seed, no tracker, no peer). Downloaded by shoal, by aria2c from the
 * same torrent (aria2 uses `url-list` too), by aria2c as a plain HTTP
 * client of the same URL with 4 connections (`-x4 -s4`, shoal's 4 request
 * slots), and by curl (one connection: what nginx gives one reader). Prints
 * wall time, CPU time and peak memory of each and shoal's ratio to aria2c.
 *
 * Needs nginx, aria2c, curl and GNU time (`/usr/bin/time`).
 *
 * @module
 */

import { createTorrent } from "../lib/metainfo/create.ts";
import { startNginx } from "../tests/helpers/nginx.ts";
import { aria2LoopbackFlags } from "../tests/helpers/seeders.ts";
import { shoalArgs } from "../tests/helpers/tools.ts";
import { freePort } from "../tests/helpers/trackers.ts";
import { type RunFigures, show, timed, writeRandomGiB } from "./download.ts";

/** Runs the benchmark in a scratch folder and prints the figures. */
export async function benchWebSeed(): Promise<void> {
  const scratch = await Deno.makeTempDir({ prefix: "shoal-bench-webseed-" });
  try {
    await Deno.mkdir(`${scratch}/data`);
    await writeRandomGiB(`${scratch}/data/big.bin`);
    const nginx = await startNginx(`${scratch}/data`);
    try {
      const url = `${nginx.url}big.bin`;
      const { bytes } = await createTorrent(`${scratch}/data/big.bin`, {
        pieceLength: 1024 * 1024,
        webSeeds: [url],
      });
      const torrentPath = `${scratch}/big.torrent`;
      await Deno.writeFile(torrentPath, bytes);
      console.log(`  web seed: nginx at ${url}`);

      const run = async (out: string, program: string, args: string[]): Promise<RunFigures> => {
        const figures = await timed(program, args);
        await Deno.remove(out, { recursive: true });
        return figures;
      };
      const shoalOut = `${scratch}/shoal`;
      const shoal = await run(
        shoalOut,
        Deno.execPath(),
        shoalArgs(["download", torrentPath, "-d", shoalOut, "-p", String(freePort()), "--quiet"]),
      );
      const aria2Out = `${scratch}/aria2`;
      const aria2 = await run(aria2Out, "aria2c", [
        ...aria2LoopbackFlags(freePort()),
        "--seed-time=0",
        "--console-log-level=warn",
        `--dir=${aria2Out}`,
        torrentPath,
      ]);
      const httpOut = `${scratch}/http`;
      const aria2Http = await run(httpOut, "aria2c", [
        "-x4",
        "-s4",
        "--min-split-size=64M",
        "--summary-interval=0",
        "--console-log-level=warn",
        "--file-allocation=none",
        `--dir=${httpOut}`,
        url,
      ]);
      const curlOut = `${scratch}/curl`;
      await Deno.mkdir(curlOut);
      const curl = await run(curlOut, "curl", ["-sSf", "-o", `${curlOut}/big.bin`, url]);
      show("shoal", shoal);
      show("aria2c bt", aria2);
      show("aria2c -x4", aria2Http);
      show("curl", curl);
      console.log(
        `  shoal / aria2c (torrent): wall ${(shoal.wall / aria2.wall).toFixed(2)}, CPU ${
          (shoal.cpu / aria2.cpu).toFixed(2)
        }, peak RSS ${(shoal.peakMiB / aria2.peakMiB).toFixed(2)}; shoal / aria2c -x4: wall ${
          (shoal.wall / aria2Http.wall).toFixed(2)
        }  (goal: wall ≤ 1 beside aria2c)`,
      );
      const requests = (await nginx.requests()).filter((request) =>
        request.path === "/big.bin" && request.range !== "-"
      );
      console.log(`  nginx answered ${requests.length} requests with a Range in all`);
    } finally {
      await nginx.stop();
    }
  } finally {
    await Deno.remove(scratch, { recursive: true });
  }
}

if (import.meta.main) await benchWebSeed();
