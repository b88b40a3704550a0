/**
 * Peer exchange (BEP 11) with real libtorrent sessions over loopback, both
 * ways. Each libtorrent is told one peer only; whom else it meets it can
 * only have heard of through PEX.
 *
 * - shoal seeds; two libtorrent leechers know only shoal: they meet each
 *   other because shoal names each to the other.
 * - shoal downloads from a libtorrent seed; a second libtorrent knows only
 *   that seed and joins a second later (libtorrent's first PEX goes out
 *   once it has two peers): shoal dials it because the seed named it.
 *   shoal does not listen, so nobody can have dialled it instead.
 */
import { readTorrentFile } from "../../lib/metainfo/mod.ts";
import { Session } from "../../lib/session/session.ts";
import type { PeerSummary } from "../../lib/session/mod.ts";
import { assertEquals } from "../helpers/assert.ts";
import { assertSameContent, singleFileFixture } from "../helpers/content.ts";
import { type PeerProcess, spawnPeerProgram } from "../helpers/processes.ts";
import { testWithPrograms, withTempDir } from "../helpers/tools.ts";
import { freePort } from "../helpers/trackers.ts";
import { until } from "../helpers/until.ts";

const PEERS_DIR = new URL("../peers/", import.meta.url).pathname;

/** A libtorrent session that prints each peer it connects to and where it heard of it. */
async function libtorrent(
  mode: "seed" | "leech",
  torrent: string,
  dir: string,
  port: number,
  peer?: string,
  env: Record<string, string> = {},
): Promise<PeerProcess> {
  const stateDir = await Deno.makeTempDir({ prefix: "shoal-pex-libtorrent-" });
  const peerArgs = peer ? [peer.slice(0, peer.lastIndexOf(":")), peer.split(":").pop()!] : [];
  return spawnPeerProgram(
    "/usr/bin/python3",
    [`${PEERS_DIR}libtorrent_peer.py`, mode, torrent, dir, String(port), ...peerArgs],
    stateDir,
    { SHOAL_LT_PEERS: "1", ...env },
  );
}

testWithPrograms(
  "pex: two libtorrent leechers that know only shoal meet through shoal's peer exchange",
  ["python3-libtorrent"],
  () =>
    withTempDir(async (dir) => {
      const fixture = await singleFileFixture(dir, 6 * 1024 * 1024, [], 256 * 1024);
      const torrent = await readTorrentFile(fixture.torrent);
      // Slow enough that neither leecher is done (and so no longer looking) before they meet.
      const seeder = new Session({ port: 0, host: "127.0.0.1", maxUploadRate: 512 * 1024 });
      const leechers: PeerProcess[] = [];
      try {
        const seed = seeder.add(torrent, { downloadDir: fixture.dataDir, seed: true });
        await until(() => seed.state === "seeding", "shoal seeds", 10_000);
        const ports = [freePort(), freePort()];
        for (const [i, port] of ports.entries()) {
          if (i > 0) await new Promise((resolve) => setTimeout(resolve, 1000));
          leechers.push(
            await libtorrent(
              "leech",
              fixture.torrent,
              `${dir}/lt${i}`,
              port,
              `127.0.0.1:${seeder.port}`,
            ),
          );
        }
        // Either may dial the other; the one that dials heard of it through PEX (from shoal).
        const met = /PEER 127\.0\.0\.1:(\d+) pex/;
        await until(
          () =>
            leechers.some((leecher) => ports.includes(Number(met.exec(leecher.output.text)?.[1]))),
          () =>
            `a libtorrent leecher dials the other, heard of through PEX:\n${
              leechers.map((leecher) => leecher.output.text.slice(-1500)).join("\n--\n")
            }\nshoal's peers: ${
              JSON.stringify(
                seed.peers().map(({ address, client, progress }) => ({
                  address,
                  client,
                  progress,
                })),
              )
            }`,
          20_000,
        );
      } finally {
        for (const leecher of leechers) await leecher.stop();
        await seeder.close();
      }
    }),
);

testWithPrograms(
  "pex: shoal dials a peer it heard of only through libtorrent's peer exchange",
  ["python3-libtorrent"],
  () =>
    withTempDir(async (dir) => {
      const fixture = await singleFileFixture(dir, 8 * 1024 * 1024, [], 256 * 1024);
      const torrent = await readTorrentFile(fixture.torrent);
      const [seedPort, otherPort] = [freePort(), freePort()];
      // Slow, so that the other peer is still a leecher (the seed keeps it) when shoal joins.
      const seed = await libtorrent("seed", fixture.torrent, fixture.dataDir, seedPort, undefined, {
        SHOAL_LT_UPLOAD_LIMIT: String(512 * 1024),
      });
      let other: PeerProcess | undefined;
      const shoal = new Session({ port: 0, host: "127.0.0.1", listen: false });
      try {
        await seed.output.waitFor(/READY/, 20_000, "libtorrent seed");
        // It stays once complete (a seed from then on), so shoal can still reach it.
        other = await libtorrent(
          "seed",
          fixture.torrent,
          `${dir}/other`,
          otherPort,
          `127.0.0.1:${seedPort}`,
        );
        await seed.output.waitFor(/PEER /, 20_000, "the other libtorrent connects to the seed");
        // libtorrent names its peers to a newcomer in its first PEX, a moment after the handshake.
        await new Promise((resolve) => setTimeout(resolve, 1000));
        const handle = shoal.add(torrent, {
          downloadDir: `${dir}/shoal`,
          peers: [{ host: "127.0.0.1", port: seedPort }],
        });
        const named = (peer: PeerSummary) => peer.address === `127.0.0.1:${otherPort}`;
        await until(
          () => handle.peers().some(named),
          () =>
            `shoal connects to the peer the seed named: ${
              JSON.stringify(handle.peers().map((p) => [p.address, p.sources]))
            }\n${seed.output.text.slice(-1500)}\n--\n${other?.output.text.slice(-1500)}`,
          30_000,
        );
        const peer = handle.peers().find(named)!;
        assertEquals(peer.direction, "outgoing");
        assertEquals(peer.sources, [`pex 127.0.0.1:${seedPort}`]);
        assertEquals(await handle.done, "complete");
        await assertSameContent(fixture, `${dir}/shoal`);
      } finally {
        await other?.stop();
        await seed.stop();
        await shoal.close();
      }
    }),
);
