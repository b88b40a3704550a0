/**
 * What the daemon does on its own, driven through its RPC (shoal's
 * RpcClient) with real peers on loopback: the watch folder (`.added`,
 * `.invalid`), `--on-complete` with Transmission's environment, the
 * download queue (`--max-active-downloads 1`: the second waits), a seed
 * ratio limit (a seed stops, `isFinished`), `torrent-set-location` with
 * `move`, a `filename` outside `--allowed-dir` refused, the `table`
 * format of `torrent-get`, and a kill -9 in the middle of a download
 * (after a restart it completes, byte-exact).
 */
import { assert, assertEquals, assertStringIncludes } from "../helpers/assert.ts";
import {
  assertSameContent,
  type Fixture,
  multiFileFixture,
  singleFileFixture,
} from "../helpers/content.ts";
import { type Seeder, startSeeder } from "../helpers/seeders.ts";
import { freePort, type RunningTracker, startOpentracker } from "../helpers/trackers.ts";
import { SHOAL_PERMISSIONS, testWithPrograms, withTempDir } from "../helpers/tools.ts";
import { startShoalDaemon } from "../helpers/shoal_daemon.ts";
import { until } from "../helpers/until.ts";
import { readTorrentFile } from "../../lib/metainfo/torrent.ts";
import { type RpcClient, RpcResultError } from "../../lib/rpc/client.ts";
import { bytesToBinary } from "../../lib/util/_bytes.ts";

interface Swarm {
  tracker: RunningTracker;
  fixtures: Fixture[];
  seeders: Seeder[];
  stop(): Promise<void>;
}

/** Fixtures announcing to a real opentracker, each seeded by a real libtorrent. */
async function swarm(dir: string, uploadLimit?: number): Promise<Swarm> {
  const probes = [
    await readTorrentFile((await singleFileFixture(`${dir}/probe1`, 2_000_003)).torrent),
    await readTorrentFile((await multiFileFixture(`${dir}/probe2`)).torrent),
  ];
  const tracker = await startOpentracker(probes.map((p) => p.infoHashHex));
  const fixtures = [
    await singleFileFixture(`${dir}/fx1`, 2_000_003, [[tracker.http]]),
    await multiFileFixture(`${dir}/fx2`, [[tracker.http]]),
  ];
  const seeders: Seeder[] = [];
  for (const fixture of fixtures) {
    seeders.push(
      await startSeeder("libtorrent", fixture.torrent, fixture.dataDir, { uploadLimit }),
    );
  }
  return {
    tracker,
    fixtures,
    seeders,
    stop: async () => {
      for (const seeder of seeders) await seeder.stop();
      await tracker.stop();
    },
  };
}

/** The folders the RPC may name: not the test folder (its fixtures must be refused). */
const allowed = (dir: string) => [`${dir}/downloads`, `${dir}/moved`];

interface Listed {
  id: number;
  name: string;
  status: number;
  percentDone: number;
  isFinished: boolean;
  downloadDir: string;
}

async function list(client: RpcClient): Promise<Listed[]> {
  const { torrents } = await client.call("torrent-get", {
    fields: ["id", "name", "status", "percentDone", "isFinished", "downloadDir"],
  });
  return (torrents as Listed[]).sort((a, b) => a.id - b.id);
}

testWithPrograms(
  "daemon: the watch folder adds .torrent files (.added, .invalid); --on-complete runs with TR_TORRENT_*; the queue holds the second download; a seed ratio limit stops a seed",
  ["python3-libtorrent", "opentracker"],
  () =>
    withTempDir(async (dir) => {
      const allowedDirs = allowed(dir);
      // A slow first seeder, so that the queue is seen while the first downloads.
      const net = await swarm(dir, 400_000);
      await Deno.mkdir(`${dir}/watch`);
      const script = `${dir}/done.sh`;
      await Deno.writeTextFile(
        script,
        `#!/bin/sh\nenv | grep -E '^(TR|SHOAL)_TORRENT_' | sort > "${dir}/done-$TR_TORRENT_ID.env"\n`,
      );
      await Deno.chmod(script, 0o755);
      const { daemon, client } = await startShoalDaemon(dir, {
        allowedDirs,
        permissions: [...SHOAL_PERMISSIONS, `--allow-run=${script}`],
        extra: [
          "--watch-dir",
          `${dir}/watch`,
          "--on-complete",
          script,
          "--max-active-downloads",
          "1",
        ],
      });
      try {
        // Ratio 0 (the RPC takes it; the flag wants a ratio above 0): a seed stops as it completes.
        await client.call("session-set", { seedRatioLimited: true, seedRatioLimit: 0 });
        await Deno.copyFile(net.fixtures[0].torrent, `${dir}/watch/first.torrent`);
        await until(async () => (await list(client)).length === 1, () => daemon.output.text);
        await Deno.copyFile(net.fixtures[1].torrent, `${dir}/watch/second.torrent`);
        await Deno.writeTextFile(`${dir}/watch/broken.torrent`, "d4:infoi1ee");
        await until(async () => (await list(client)).length === 2, () => daemon.output.text);
        await until(() => {
          const names = [...Deno.readDirSync(`${dir}/watch`)].map((e) => e.name).sort();
          return names.join(" ") ===
            "broken.torrent.invalid first.torrent.added second.torrent.added";
        }, () => [...Deno.readDirSync(`${dir}/watch`)].map((e) => e.name).join(" "));

        // One download at a time: the second waits (3: queued to download) while the first runs.
        const [first, second] = await list(client);
        assertEquals(first.status, 4, "the first downloads");
        assertEquals(second.status, 3, "the second waits in the queue");
        // Both complete; with a seed ratio limit of 0 each stops as it completes, finished.
        await until(async () => {
          const all = await list(client);
          return all.every((t) => t.percentDone === 1 && t.status === 0 && t.isFinished);
        }, () =>
          daemon.output.text, 120_000);
        await assertSameContent(net.fixtures[0], `${dir}/downloads`);
        await assertSameContent(net.fixtures[1], `${dir}/downloads`);

        for (const torrent of await list(client)) {
          await until(() => {
            try {
              return Deno.statSync(`${dir}/done-${torrent.id}.env`).size > 0;
            } catch {
              return false;
            }
          }, () =>
            `--on-complete did not run for ${torrent.name}`);
          const env = await Deno.readTextFile(`${dir}/done-${torrent.id}.env`);
          assertStringIncludes(env, `TR_TORRENT_NAME=${torrent.name}\n`);
          assertStringIncludes(env, `TR_TORRENT_DIR=${dir}/downloads\n`);
          assertStringIncludes(env, `TR_TORRENT_ID=${torrent.id}\n`);
          assertStringIncludes(env, "TR_TORRENT_HASH=");
          assertStringIncludes(env, `SHOAL_TORRENT_PATH=${dir}/downloads/${torrent.name}\n`);
        }
      } finally {
        await daemon.stop();
        await net.stop();
      }
    }),
);

testWithPrograms(
  "daemon: a kill -9 mid-download loses nothing (it completes byte-exact after a restart); set-location moves the files; a filename outside --allowed-dir and table format",
  ["python3-libtorrent", "opentracker"],
  () =>
    withTempDir(async (dir) => {
      const net = await swarm(dir, 300_000);
      const allowedDirs = allowed(dir);
      const rpcPort = freePort();
      let { daemon, client } = await startShoalDaemon(dir, { rpcPort, allowedDirs });
      try {
        const bytes = await Deno.readFile(net.fixtures[1].torrent);
        const added = await client.call("torrent-add", { metainfo: btoa(bytesToBinary(bytes)) });
        const id = (added["torrent-added"] as { id: number }).id;
        await until(async () => {
          const [t] = await list(client);
          return t.percentDone > 0.2 && t.percentDone < 0.9;
        }, () =>
          daemon.output.text, 60_000);
        daemon.child.kill("SIGKILL");
        await daemon.stop();

        ({ daemon, client } = await startShoalDaemon(dir, { rpcPort, allowedDirs }));
        const [again] = await list(client);
        assertEquals(again.id, id, "the same torrent, with the same id");
        await until(async () =>
          (await list(client))[0].percentDone === 1, () =>
          daemon.output.text, 120_000);
        await assertSameContent(net.fixtures[1], `${dir}/downloads`);

        // Moved into another allowed folder, its files go with it.
        await client.call("torrent-set-location", {
          ids: [id],
          location: `${dir}/moved`,
          move: true,
        });
        await until(async () =>
          (await list(client))[0].downloadDir === `${dir}/moved`
        );
        await assertSameContent(net.fixtures[1], `${dir}/moved`);
        await Deno.stat(`${dir}/downloads/multi`).then(
          () =>
            assert(false, "the old files are gone"),
          (error) =>
            assert(error instanceof Deno.errors.NotFound),
        );
        // A folder outside the allowed ones is refused, for a move and for a torrent file's path.
        const outside = await client.call("torrent-set-location", {
          ids: [id],
          location: "/tmp",
          move: true,
        }).then(() => undefined, (error) => error);
        assert(outside instanceof RpcResultError, String(outside));
        assertStringIncludes(outside.result, "--allowed-dir");
        const read = await client.call("torrent-add", { filename: net.fixtures[0].torrent })
          .then(() => undefined, (error) => error);
        assert(read instanceof RpcResultError, String(read));
        assertStringIncludes(read.result, "--allowed-dir");

        // The table format: a header row of the fields, then one row per torrent.
        const table = await client.call("torrent-get", {
          fields: ["id", "name", "percentDone"],
          format: "table",
        });
        assertEquals(table.torrents, [["id", "name", "percentDone"], [id, "multi", 1]]);
      } finally {
        await daemon.stop();
        await net.stop();
      }
    }),
);
