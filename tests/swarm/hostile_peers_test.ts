/**
 * One hostile peer beside an honest real seeder (aria2c) must not stall or
 * poison the download: blocks nobody asked for never reach a piece and get
 * their sender's IP banned across reconnects; a liar's pieces come again
 * from the honest seeder. Attackers are real sockets from their own
 * loopback address (bans are by IP); each test prints the honest
 * download's time alone and under attack.
 */
import { readTorrentFile } from "../../lib/metainfo/mod.ts";
import type { Torrent } from "../../lib/metainfo/torrent.ts";
import { Session } from "../../lib/session/session.ts";
import type { AddTorrentOptions, TorrentStatus } from "../../lib/session/torrent_handle.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import { type Attack, discardAll, startAttack } from "../helpers/attackers.ts";
import { assertSameContent, type Fixture, singleFileFixture } from "../helpers/content.ts";
import { startFakePeer } from "../helpers/fake_peer.ts";
import { type Seeder, startSeeder } from "../helpers/seeders.ts";
import { testWithPrograms, withTempDir } from "../helpers/tools.ts";
import { handshake, message, readExactly, uint32, writeAll } from "../helpers/wire.ts";

/** Downloads `fixture` from `peers` into `out`; `attack` starts once the session listens. */
async function download(
  fixture: Fixture,
  torrent: Torrent,
  peers: string[],
  out: string,
  attack?: (port: number) => Attack,
  options: Partial<AddTorrentOptions> = {},
): Promise<{ status: TorrentStatus; seconds: number }> {
  const session = new Session({ port: 0, host: "127.0.0.1" });
  const attacker = attack?.(session.port);
  try {
    const started = performance.now();
    const handle = session.add(torrent, {
      downloadDir: out,
      peers: peers.map((address) => {
        const at = address.lastIndexOf(":");
        return { host: address.slice(0, at), port: Number(address.slice(at + 1)) };
      }),
      ...options,
    });
    assertEquals(await handle.done, "complete");
    const seconds = (performance.now() - started) / 1000;
    await assertSameContent(fixture, out);
    return { status: handle.status(), seconds };
  } finally {
    await attacker?.stop();
    await session.close();
  }
}

async function withAria2(
  size: number,
  fn: (dir: string, fixture: Fixture, torrent: Torrent, seeder: Seeder) => Promise<void>,
  pieceLength?: number,
): Promise<void> {
  await withTempDir(async (dir) => {
    const fixture = await singleFileFixture(dir, size, [], pieceLength);
    const torrent = await readTorrentFile(fixture.torrent);
    const seeder = await startSeeder("aria2", fixture.torrent, fixture.dataDir);
    try {
      await fn(dir, fixture, torrent, seeder);
    } finally {
      await seeder.stop();
    }
  });
}

/**
 * Connects in, says it has nothing, sends `blocks` blocks of junk for
 * random pieces (under any byte budget), and leaves; then does it again.
 */
function junkSender(port: number, torrent: Torrent, blocks = 250): Attack {
  return startAttack({
    port,
    from: "127.0.0.66",
    script: async (conn) => {
      await writeAll(conn, handshake(torrent.infoHash, "JB"));
      if (!(await readExactly(conn, 68))) return;
      const reading = discardAll(conn);
      await writeAll(conn, message(5, new Uint8Array(Math.ceil(torrent.pieceCount / 8))));
      for (let i = 0; i < blocks; i++) {
        const index = Math.floor(Math.random() * torrent.pieceCount);
        const size = torrent.pieceMap.pieceSize(index);
        const begin = Math.floor(Math.random() * Math.ceil(size / 16384)) * 16384;
        const junk = crypto.getRandomValues(new Uint8Array(Math.min(16384, size - begin)));
        await writeAll(conn, message(7, uint32(index), uint32(begin), junk));
      }
      conn.close();
      await reading;
    },
  });
}

testWithPrograms(
  "hostile peers: blocks nobody asked for never reach a piece; their sender is banned by IP across reconnects",
  ["aria2c"],
  () =>
    // 256 KiB pieces: 16 blocks each, so junk can land beside blocks still on their way.
    withAria2(16_000_000, async (dir, fixture, torrent, seeder) => {
      const alone = await download(fixture, torrent, [seeder.address], `${dir}/alone`);
      let attack: Attack | undefined;
      const attacked = await download(
        fixture,
        torrent,
        [seeder.address],
        `${dir}/attacked`,
        (port) => attack = junkSender(port, torrent),
      );
      console.log(
        `honest download ${alone.seconds.toFixed(2)} s alone, ${
          attacked.seconds.toFixed(2)
        } s beside the junk sender (${
          attack!.connections
        } connections; wasted ${attacked.status.wasted} B)`,
      );
      assertEquals(attacked.status.hashFailures, 0, "no junk block reached a piece");
      assert(attack!.connections >= 1, "the attacker connected");
    }, 256 * 1024),
);

Deno.test("hostile peers: a peer that keeps sending unasked blocks is dropped, and banned when its IP does it again", () =>
  withTempDir(async (dir) => {
    const fixture = await singleFileFixture(dir, 2_000_000);
    const torrent = await readTorrentFile(fixture.torrent);
    const session = new Session({ port: 0, host: "127.0.0.1" });
    const attack = junkSender(session.port, torrent, 100);
    try {
      // Nobody seeds: every block that arrives is unasked.
      const handle = session.add(torrent, { downloadDir: `${dir}/out` });
      const deadline = Date.now() + 10_000;
      while (handle.status().peersBanned === 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const banned = handle.status();
      assertEquals(banned.peersBanned, 1);
      assertEquals(banned.piecesDone, 0);
      // Two connections, each dropped at its 17th unasked block.
      assert(
        banned.wasted > 16 * 16384 && banned.wasted <= 2 * 17 * 16384,
        `wasted ${banned.wasted} B`,
      );
      // Banned: later connections are closed before a block is read.
      await new Promise((resolve) => setTimeout(resolve, 500));
      const wasted = handle.status().wasted;
      await new Promise((resolve) => setTimeout(resolve, 500));
      assertEquals(handle.status().wasted, wasted);
      assert(attack.connections >= 3, `${attack.connections} connections`);
    } finally {
      await attack.stop();
      await session.close();
    }
  }));

testWithPrograms(
  "hostile peers: a liar's pieces come again from the honest seeder once it is banned (20 runs, byte-exact)",
  ["aria2c"],
  () =>
    withAria2(4 * 1024 * 1024, async (dir, fixture, torrent, seeder) => {
      const content = await Deno.readFile(`${fixture.dataDir}/single.bin`);
      const liar = startFakePeer(torrent, content, { corrupt: () => true, host: "127.0.0.2" });
      try {
        const times: number[] = [];
        for (let run = 0; run < 20; run++) {
          const { status, seconds } = await download(
            fixture,
            torrent,
            [liar.address, seeder.address],
            `${dir}/run-${run}`,
          );
          assert(status.peersBanned <= 1, `${status.peersBanned} banned`);
          times.push(seconds);
          await Deno.remove(`${dir}/run-${run}`, { recursive: true });
        }
        times.sort((a, b) => a - b);
        console.log(
          `beside a liar: 20 runs, median ${times[10].toFixed(2)} s, slowest ${
            times[19].toFixed(2)
          } s; the liar sent ${liar.blocksSent} blocks`,
        );
      } finally {
        await liar.stop();
      }
    }),
);
