/**
 * The download benchmark: a 1 GiB torrent over loopback from three real
 * seeders (aria2c, libtorrent, WebTorrent) found through opentracker,
 * downloaded by shoal and then, from the same swarm, by aria2c. Prints wall
 * time, CPU time and peak memory of both and their ratio, and, from a third
 * download through the library, how long the last 1% took.
 *
 * Needs opentracker, aria2c, python3-libtorrent, node with tests/peers
 * installed, and GNU time (`/usr/bin/time`, Debian package `time`).
 *
 * @module
 */

import { createTorrent } from "../lib/metainfo/create.ts";
import { readTorrentFile } from "../lib/metainfo/torrent.ts";
import { Session } from "../lib/session/session.ts";
import {
  aria2LoopbackFlags,
  type Seeder,
  type SeederKind,
  startSeeder,
} from "../tests/helpers/seeders.ts";
import { shoalArgs } from "../tests/helpers/tools.ts";
import { freePort, type RunningTracker, startOpentracker } from "../tests/helpers/trackers.ts";

/** The benchmark payload: 1 GiB. */
export const SIZE = 1024 * 1024 * 1024;

/** What GNU time measured for one program run. */
export interface RunFigures {
  /** Wall-clock seconds. */
  wall: number;
  /** User + system CPU seconds. */
  cpu: number;
  /** Peak resident memory in MiB. */
  peakMiB: number;
}

/** Runs a program under GNU time and returns its wall time, CPU time and peak memory. */
export async function timed(program: string, args: string[]): Promise<RunFigures> {
  const output = await new Deno.Command("/usr/bin/time", {
    args: ["-f", "TIME %e %U %S %M", program, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(output.stderr);
  const match = /TIME ([\d.]+) ([\d.]+) ([\d.]+) (\d+)/.exec(stderr);
  if (!output.success || !match) {
    throw new Error(
      `${program} failed:\n${new TextDecoder().decode(output.stdout).slice(-2000)}\n${
        stderr.slice(-2000)
      }`,
    );
  }
  return {
    wall: Number(match[1]),
    cpu: Number(match[2]) + Number(match[3]),
    peakMiB: Number(match[4]) / 1024,
  };
}

/** Writes 1 GiB of random bytes. */
export async function writeRandomGiB(path: string): Promise<void> {
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  const chunk = new Uint8Array(1024 * 1024);
  for (let written = 0; written < SIZE; written += chunk.length) {
    for (let i = 0; i < chunk.length; i += 65536) {
      crypto.getRandomValues(chunk.subarray(i, i + 65536));
    }
    await file.write(chunk);
  }
  file.close();
}

async function lastPercent(
  torrentPath: string,
  out: string,
): Promise<{ total: number; lastPercent: number; wasted: number; peersUsed: number }> {
  const torrent = await readTorrentFile(torrentPath);
  const session = new Session({ port: freePort(), host: "127.0.0.1" });
  const handle = session.add(torrent, { downloadDir: out });
  const start = performance.now();
  let at99: number | undefined;
  handle.on("piece", () => {
    if (at99 === undefined && handle.status().progress >= 0.99) at99 = performance.now();
  });
  await handle.done;
  const end = performance.now();
  const { wasted, peersUsed } = handle.status();
  await session.close();
  return {
    total: (end - start) / 1000,
    lastPercent: (end - (at99 ?? end)) / 1000,
    wasted,
    peersUsed,
  };
}

/** Prints one program's figures. */
export function show(name: string, f: RunFigures): void {
  console.log(
    `  ${name.padEnd(11)} wall ${f.wall.toFixed(2)} s, CPU ${f.cpu.toFixed(2)} s, peak RSS ${
      f.peakMiB.toFixed(0)
    } MiB, ${(SIZE / 1024 / 1024 / f.wall).toFixed(0)} MiB/s`,
  );
}

/** A 1 GiB torrent on opentracker with real seeders, in a scratch folder. */
export interface BenchSwarm {
  /** The scratch folder (its `data/` holds the payload). */
  scratch: string;
  /** The .torrent file. */
  torrentPath: string;
  /** The seeders. */
  seeders: Seeder[];
  /** The tracker. */
  tracker: RunningTracker;
  /** Stops the seeders and the tracker and removes the scratch folder. */
  stop(): Promise<void>;
}

/** Writes 1 GiB of random data, makes its torrent on a fresh opentracker and starts the seeders. */
export async function startBenchSwarm(prefix: string, kinds: SeederKind[]): Promise<BenchSwarm> {
  const scratch = await Deno.makeTempDir({ prefix });
  let tracker: RunningTracker | undefined;
  const seeders: Seeder[] = [];
  const stop = async () => {
    await Promise.all(seeders.map((s) => s.stop()));
    await tracker?.stop();
    await Deno.remove(scratch, { recursive: true });
  };
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
    for (const kind of kinds) seeders.push(await startSeeder(kind, torrentPath, `${scratch}/data`));
    console.log(
      `  seeders: ${
        seeders.map((s) => `${s.kind} on ${s.address}`).join(", ")
      }; tracker ${tracker.http}`,
    );
    return { scratch, torrentPath, seeders, tracker, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Downloads with the shoal CLI under GNU time, then removes the download. */
export async function timedShoal(torrentPath: string, out: string): Promise<RunFigures> {
  const figures = await timed(
    Deno.execPath(),
    shoalArgs(["download", torrentPath, "-d", out, "-p", String(freePort()), "--quiet"]),
  );
  await Deno.remove(out, { recursive: true });
  return figures;
}

/** Downloads with aria2c under GNU time, then removes the download. */
export async function timedAria2(torrentPath: string, out: string): Promise<RunFigures> {
  const figures = await timed("aria2c", [
    ...aria2LoopbackFlags(freePort()),
    "--seed-time=0",
    "--console-log-level=warn",
    `--dir=${out}`,
    torrentPath,
  ]);
  await Deno.remove(out, { recursive: true });
  return figures;
}

/** Runs the benchmark in a scratch folder and prints the figures. */
export async function benchDownload(): Promise<void> {
  const swarm = await startBenchSwarm("shoal-bench-download-", [
    "aria2",
    "libtorrent",
    "webtorrent",
  ]);
  try {
    const shoal = await timedShoal(swarm.torrentPath, `${swarm.scratch}/shoal`);
    const aria2 = await timedAria2(swarm.torrentPath, `${swarm.scratch}/aria2`);
    show("shoal", shoal);
    show("aria2c", aria2);
    console.log(
      `  shoal / aria2c: wall ${(shoal.wall / aria2.wall).toFixed(2)}, CPU ${
        (shoal.cpu / aria2.cpu).toFixed(2)
      }, peak RSS ${
        (shoal.peakMiB / aria2.peakMiB).toFixed(2)
      }  (goals: wall ≤ 1, peak RSS < 200 MiB)`,
    );
    const tail = await lastPercent(swarm.torrentPath, `${swarm.scratch}/library`);
    console.log(
      `  library download: ${tail.total.toFixed(2)} s in all, the last 1% took ${
        tail.lastPercent.toFixed(2)
      } s; ${tail.peersUsed} peers sent data, ${(tail.wasted / 1024 / 1024).toFixed(1)} MiB wasted`,
    );
  } finally {
    await swarm.stop();
  }
}

if (import.meta.main) await benchDownload();
