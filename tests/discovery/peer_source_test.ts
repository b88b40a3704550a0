/**
 * Peer sources (AddTorrentOptions.peerSources) against a real seeder
 * (libtorrent): a public torrent downloads from the peers a source names; a
 * private one (BEP 27) takes none from a DHT source, and still takes the
 * user's. Sources start and stop with the torrent.
 */
import { createTorrent } from "../../lib/metainfo/create.ts";
import { readTorrentFile } from "../../lib/metainfo/torrent.ts";
import type { PeerAddress } from "../../lib/net/peer_address.ts";
import type { PeerSource } from "../../lib/discovery/peer_source.ts";
import { Session } from "../../lib/session/session.ts";
import { assertEquals } from "../helpers/assert.ts";
import { assertSameContent, singleFileFixture } from "../helpers/content.ts";
import { startSeeder } from "../helpers/seeders.ts";
import { testWithPrograms, withTempDir } from "../helpers/tools.ts";
import { until } from "../helpers/until.ts";

/** A source of the given kind that names `peers` when started, and counts its starts and stops. */
function countingSource(kind: PeerSource["kind"], peers: PeerAddress[]) {
  const counts = { starts: 0, stops: 0 };
  const source: PeerSource = {
    kind,
    start(found) {
      counts.starts++;
      found(peers, kind);
    },
    stop() {
      counts.stops++;
      return Promise.resolve();
    },
  };
  return { source, counts };
}

for (const isPrivate of [false, true]) {
  testWithPrograms(
    `peer sources: a ${
      isPrivate
        ? "private torrent takes no DHT peer (BEP 27), only the user's"
        : "public torrent downloads from a DHT source's peer"
    }`,
    ["python3-libtorrent"],
    () =>
      withTempDir(async (dir) => {
        const fixture = await singleFileFixture(dir, 300_000);
        const { bytes } = await createTorrent(`${fixture.dataDir}/single.bin`, {
          pieceLength: 16 * 1024,
          private: isPrivate,
        });
        await Deno.writeFile(fixture.torrent, bytes);
        const torrent = await readTorrentFile(fixture.torrent);
        const seeder = await startSeeder("libtorrent", fixture.torrent, fixture.dataDir);
        const session = new Session({ port: 0, host: "127.0.0.1" });
        const seederAddress = { host: "127.0.0.1", port: seeder.port };
        try {
          const dht = countingSource("dht", [seederAddress]);
          const handle = session.add(torrent, {
            downloadDir: `${dir}/down`,
            seed: true, // so that it runs again after the pause
            peerSources: [dht.source],
          });
          if (isPrivate) {
            await new Promise((resolve) => setTimeout(resolve, 1500));
            const status = handle.status();
            assertEquals([status.peersSeen, status.peersTried, status.piecesDone], [0, 0, 0]);
            // The user's peers are the user's choice: a private torrent takes them.
            handle.addPeers([seederAddress]);
          }
          assertEquals(await handle.done, "complete");
          await assertSameContent(fixture, `${dir}/down`);
          await handle.pause();
          handle.resume();
          await until(() => handle.state === "seeding", "seeding again", 5000);
          await handle.stop();
          assertEquals(dht.counts, { starts: 2, stops: 2 });
        } finally {
          await session.close();
          await seeder.stop();
        }
      }),
  );
}
