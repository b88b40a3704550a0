/**
 * Time to metadata (BEP 9) over loopback: a magnet link's info dictionary
 * of about 1 MiB and about 10 MiB (torrents of many files) is fetched from
 * a libtorrent seeder, given as the only peer, or found through a tracker
 * (opentracker). shoal and libtorrent fetch the same magnet link in the
 * same run; each figure is the median of 3, from adding the magnet link to
 * having checked metadata (goal: under 100 ms from a given peer).
 *
 * @module
 */

import { createTorrent } from "../lib/metainfo/create.ts";
import { parseMagnet } from "../lib/metainfo/magnet.ts";
import { readTorrentFile } from "../lib/metainfo/torrent.ts";
import { Session } from "../lib/session/session.ts";
import { startSeeder } from "../tests/helpers/seeders.ts";
import { freePort, startOpentracker } from "../tests/helpers/trackers.ts";

const RUNS = 3;
const PEERS_DIR = new URL("../tests/peers/", import.meta.url).pathname;

/** Writes `count` one-byte files with long names, so that the info dictionary grows. */
async function manyFiles(root: string, count: number): Promise<void> {
  await Deno.mkdir(root, { recursive: true });
  for (let i = 0; i < count; i++) {
    const name = `${String(i).padStart(6, "0")}-${"n".repeat(225)}.bin`;
    await Deno.writeFile(`${root}/${name}`, new Uint8Array([i & 0xff]));
  }
}

/** shoal: from `session.add` to the metadata event. */
async function shoalFetch(magnet: string): Promise<number> {
  const session = new Session({ port: freePort(), host: "127.0.0.1" });
  const state = await Deno.makeTempDir({ prefix: "shoal-bench-meta-" });
  try {
    const started = performance.now();
    const handle = session.add(parseMagnet(magnet), {
      downloadDir: state,
      metadataOnly: true,
      saveTorrent: false,
    });
    await handle.done;
    return performance.now() - started;
  } finally {
    await session.close();
    await Deno.remove(state, { recursive: true });
  }
}

/** libtorrent: from `add_torrent` to `has_metadata`, as the script measures it. */
async function libtorrentFetch(magnet: string, peer?: string): Promise<number> {
  const state = await Deno.makeTempDir({ prefix: "shoal-bench-lt-" });
  try {
    const args = [`${PEERS_DIR}libtorrent_peer.py`, "metadata", magnet, state, String(freePort())];
    if (peer) args.push(...peer.split(":"));
    const output = await new Deno.Command("/usr/bin/python3", { args, stderr: "piped" }).output();
    const text = new TextDecoder().decode(output.stdout);
    const found = /METADATA ([\d.]+)/.exec(text);
    if (!found) throw new Error(`libtorrent did not get the metadata: ${text}`);
    return Number(found[1]) * 1000;
  } finally {
    await Deno.remove(state, { recursive: true });
  }
}

async function median(fetch: () => Promise<number>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) times.push(await fetch());
  return times.sort((a, b) => a - b)[Math.floor(RUNS / 2)];
}

/** Runs the benchmark in a scratch folder and prints the figures. */
export async function benchMetadata(): Promise<void> {
  const scratch = await Deno.makeTempDir({ prefix: "shoal-bench-metadata-" });
  try {
    for (const [label, files] of [["1 MiB", 4_400], ["10 MiB", 44_000]] as const) {
      const root = `${scratch}/${files}/many`;
      await manyFiles(root, files);
      const probe = await createTorrent(root, { pieceLength: 16 * 1024 });
      const size = probe.torrent.infoBytes.length;
      const tracker = await startOpentracker([probe.torrent.infoHashHex]);
      try {
        const { bytes } = await createTorrent(root, {
          pieceLength: 16 * 1024,
          trackers: [[tracker.http]],
        });
        const path = `${scratch}/${files}.torrent`;
        await Deno.writeFile(path, bytes);
        const hash = (await readTorrentFile(path)).infoHashHex;
        const seeder = await startSeeder("libtorrent", path, `${scratch}/${files}`);
        try {
          const given = `magnet:?xt=urn:btih:${hash}&x.pe=${seeder.address}`;
          const viaTracker = `magnet:?xt=urn:btih:${hash}&tr=${encodeURIComponent(tracker.http)}`;
          const rows = [
            [
              "given peer",
              await median(() => shoalFetch(given)),
              await median(() => libtorrentFetch(given, seeder.address)),
            ],
            [
              "tracker",
              await median(() => shoalFetch(viaTracker)),
              await median(() => libtorrentFetch(viaTracker)),
            ],
          ] as const;
          for (const [how, shoal, libtorrent] of rows) {
            console.log(
              `  ${label} info dictionary (${(size / 1048576).toFixed(2)} MiB), ${how}: shoal ${
                shoal.toFixed(0)
              } ms, libtorrent ${libtorrent.toFixed(0)} ms (shoal ${
                (libtorrent / shoal).toFixed(1)
              }× as fast)`,
            );
          }
        } finally {
          await seeder.stop();
        }
      } finally {
        await tracker.stop();
      }
    }
  } finally {
    await Deno.remove(scratch, { recursive: true });
  }
}
