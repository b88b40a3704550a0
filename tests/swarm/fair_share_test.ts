/**
 * Every unchoked seeder gets requests: three real libtorrent seeders (which
 * accept up to 2,000 queued requests each) with the memory for unverified
 * pieces kept small, so that one or two deep pipelines could hold every
 * piece buffer. Sampled through the download, each seeder has requests
 * outstanding in 80% of the samples in which any has (before the fair share,
 * one of the three often had none for the whole download; when none has,
 * storage is what everyone waits for).
 */
import { createTorrent } from "../../lib/metainfo/create.ts";
import { Session } from "../../lib/session/session.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import { assertSameContent, copyContent, type Fixture } from "../helpers/content.ts";
import { type Seeder, startSeeder } from "../helpers/seeders.ts";
import { testWithPrograms, withTempDir, writeRandomFile } from "../helpers/tools.ts";
import { freePort } from "../helpers/trackers.ts";

const SIZE = 256 * 1024 * 1024;

testWithPrograms(
  "fair share: no unchoked seeder waits without requests while others hold the piece memory",
  ["python3-libtorrent"],
  () =>
    withTempDir(async (dir) => {
      await Deno.mkdir(`${dir}/data`);
      await writeRandomFile(`${dir}/data/big.bin`, SIZE, 7);
      const { bytes, torrent } = await createTorrent(`${dir}/data/big.bin`, {
        pieceLength: 1024 * 1024,
      });
      await Deno.writeFile(`${dir}/big.torrent`, bytes);
      const fixture: Fixture = {
        torrent: `${dir}/big.torrent`,
        dataDir: `${dir}/data`,
        files: [{ path: "big.bin", length: SIZE }],
      };
      const seeders: Seeder[] = [];
      try {
        for (let i = 0; i < 3; i++) {
          const data = await copyContent(fixture, `${dir}/seeder-${i}`);
          seeders.push(await startSeeder("libtorrent", fixture.torrent, data));
        }
        const session = new Session({ port: freePort(), host: "127.0.0.1" });
        const handle = session.add(torrent, {
          downloadDir: `${dir}/out`,
          peers: seeders.map((s) => ({ host: "127.0.0.1", port: s.port })),
          maxBufferedBytes: 16 * 1024 * 1024,
        });
        const samples = new Map<string, { unchoked: number; requesting: number; bytes: number }>();
        const timer = setInterval(() => {
          const status = handle.status();
          // The start (pipelines growing) and the end game are left out.
          const middle = status.piecesDone >= 8 && status.pieceCount - status.piecesDone >= 8;
          const peers = handle.peers();
          // When no seeder has requests, the memory is held by pieces waiting to be hashed and
          // written (storage is the bottleneck): that is no seeder's unfair share.
          const someAsked = peers.some((peer) => peer.requests > 0);
          for (const peer of peers) {
            const sample = samples.get(peer.address) ?? { unchoked: 0, requesting: 0, bytes: 0 };
            sample.bytes = peer.downloaded;
            if (middle && someAsked && !peer.choked) {
              sample.unchoked++;
              if (peer.requests > 0) sample.requesting++;
            }
            samples.set(peer.address, sample);
          }
        }, 20);
        assertEquals(await handle.done, "complete");
        clearInterval(timer);
        await session.close();
        await assertSameContent(fixture, `${dir}/out`);
        assertEquals(samples.size, 3, "all three seeders were connected");
        const total = [...samples.values()].reduce((sum, s) => sum + s.bytes, 0);
        for (const [address, sample] of samples) {
          assert(
            sample.requesting >= 0.8 * sample.unchoked,
            `${address} had requests in ${sample.requesting} of ${sample.unchoked} samples`,
          );
          // How much each sends is up to the seeders (they share one core here); that each is asked is ours.
          assert(
            sample.bytes > 0.01 * total,
            `each seeder sent data: ${[...samples.values()].map((s) => s.bytes).join(", ")}`,
          );
        }
      } finally {
        await Promise.all(seeders.map((s) => s.stop()));
      }
    }),
);
