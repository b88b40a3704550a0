/**
 * Peer exchange (BEP 11) over loopback: how soon two peers that know only
 * a hub meet through the hub's PEX. The hub is a slow seed (shoal, or
 * libtorrent in the same run); two libtorrent leechers each know only the
 * hub, the second joining once the first is connected. The figure is the
 * time from the second leecher's start to one leecher connecting to the
 * other, heard of through PEX (median of 3).
 *
 * @module
 */

import { readTorrentFile } from "../lib/metainfo/torrent.ts";
import { Session } from "../lib/session/session.ts";
import { singleFileFixture } from "../tests/helpers/content.ts";
import { type PeerProcess, spawnPeerProgram } from "../tests/helpers/processes.ts";
import { freePort } from "../tests/helpers/trackers.ts";

const RUNS = 3;
const PEERS_DIR = new URL("../tests/peers/", import.meta.url).pathname;
/** Upload limit of the hub, so that the leechers are still leeching when they meet. */
const HUB_RATE = 256 * 1024;

async function libtorrent(
  mode: "seed" | "leech",
  torrent: string,
  dir: string,
  port: number,
  env: Record<string, string>,
  peer?: string,
): Promise<PeerProcess> {
  const state = await Deno.makeTempDir({ prefix: "shoal-bench-pex-" });
  const peerArgs = peer ? peer.split(":") : [];
  return spawnPeerProgram(
    "/usr/bin/python3",
    [`${PEERS_DIR}libtorrent_peer.py`, mode, torrent, dir, String(port), ...peerArgs],
    state,
    { SHOAL_LT_PEERS: "1", ...env },
  );
}

/** One run: ms from the second leecher's start to the leechers meeting. */
async function meet(hub: "shoal" | "libtorrent", fixture: { torrent: string; dataDir: string }) {
  const scratch = await Deno.makeTempDir({ prefix: "shoal-bench-pex-run-" });
  let session: Session | undefined;
  let hubProcess: PeerProcess | undefined;
  const leechers: PeerProcess[] = [];
  try {
    let hubAddress: string;
    let hubHasPeer: () => boolean;
    if (hub === "shoal") {
      session = new Session({ port: 0, host: "127.0.0.1", maxUploadRate: HUB_RATE });
      const handle = session.add(await readTorrentFile(fixture.torrent), {
        downloadDir: fixture.dataDir,
        seed: true,
      });
      while (handle.state !== "seeding") await new Promise((r) => setTimeout(r, 20));
      hubAddress = `127.0.0.1:${session.port}`;
      hubHasPeer = () => handle.peers().length > 0;
    } else {
      const port = freePort();
      hubProcess = await libtorrent("seed", fixture.torrent, fixture.dataDir, port, {
        SHOAL_LT_UPLOAD_LIMIT: String(HUB_RATE),
      });
      await hubProcess.output.waitFor(/READY/, 20_000, "libtorrent hub");
      hubAddress = `127.0.0.1:${port}`;
      const output = hubProcess.output;
      hubHasPeer = () => /PEER /.test(output.text);
    }
    const ports = [freePort(), freePort()];
    leechers.push(
      await libtorrent("leech", fixture.torrent, `${scratch}/a`, ports[0], {}, hubAddress),
    );
    while (!hubHasPeer()) await new Promise((r) => setTimeout(r, 10));
    const started = performance.now();
    leechers.push(
      await libtorrent("leech", fixture.torrent, `${scratch}/b`, ports[1], {}, hubAddress),
    );
    const met = new RegExp(`PEER 127\\.0\\.0\\.1:(${ports.join("|")}) pex`);
    while (!leechers.some((leecher) => met.test(leecher.output.text))) {
      if (performance.now() - started > 90_000) throw new Error(`${hub}: no meeting in 90 s`);
      await new Promise((r) => setTimeout(r, 10));
    }
    return performance.now() - started;
  } finally {
    for (const leecher of leechers) await leecher.stop();
    await hubProcess?.stop();
    await session?.close();
    await Deno.remove(scratch, { recursive: true });
  }
}

/** Runs the benchmark and prints the figures. */
export async function benchPex(): Promise<void> {
  const scratch = await Deno.makeTempDir({ prefix: "shoal-bench-pex-" });
  try {
    const fixture = await singleFileFixture(scratch, 16 * 1024 * 1024, [], 256 * 1024);
    const figures: Record<string, number> = {};
    for (const hub of ["shoal", "libtorrent"] as const) {
      const times: number[] = [];
      for (let i = 0; i < RUNS; i++) times.push(await meet(hub, fixture));
      figures[hub] = times.sort((a, b) => a - b)[Math.floor(RUNS / 2)];
    }
    console.log(
      `  two libtorrent leechers meet through the hub's PEX: shoal as the hub ${
        figures.shoal.toFixed(0)
      } ms, libtorrent as the hub ${figures.libtorrent.toFixed(0)} ms`,
    );
  } finally {
    await Deno.remove(scratch, { recursive: true });
  }
}

if (import.meta.main) await benchPex();
