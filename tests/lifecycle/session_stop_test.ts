/**
 * Stopping a whole download at random moments, many times, with a real
 * tracker (opentracker, over HTTP and UDP) and real seeders (aria2c and
 * libtorrent): in the library, no promise is left rejected without a
 * handler and `done` says `complete` exactly when every piece is on disk;
 * from the command line, Ctrl-C gives 130 exactly when the download is
 * incomplete, a finished download always exits 0, and no run prints a
 * stack trace.
 */
import { readTorrentFile } from "../../lib/metainfo/mod.ts";
import { Session } from "../../lib/session/session.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import {
  assertSameContent,
  copyContent,
  type Fixture,
  singleFileFixture,
} from "../helpers/content.ts";
import { RejectionWatch } from "../helpers/rejections.ts";
import { type Seeder, startSeeder } from "../helpers/seeders.ts";
import { runShoal, shoalArgs, testWithPrograms, withTempDir } from "../helpers/tools.ts";
import { freePort, type RunningTracker, startOpentracker } from "../helpers/trackers.ts";

const PROGRAMS = ["opentracker", "aria2c", "python3-libtorrent"];
const SIZE = 6 * 1024 * 1024;
/** Slow enough (about 3 s for the whole torrent) that random stops land in every phase. */
const RATE = 2 * 1024 * 1024;

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

interface Swarm {
  fixture: Fixture;
  tracker: RunningTracker;
  seeders: Seeder[];
  stop(): Promise<void>;
}

/** A torrent on opentracker (UDP and HTTP tiers), seeded by aria2c and libtorrent. */
async function startSwarm(dir: string): Promise<Swarm> {
  const probe = await singleFileFixture(`${dir}/probe`, SIZE);
  const infoHash = (await readTorrentFile(probe.torrent)).infoHashHex;
  const tracker = await startOpentracker([infoHash]);
  // Trackers have host names: the UDP one is named, so announces begin with a lookup.
  const udpByName = tracker.udp.replace("127.0.0.1", "localhost");
  const fixture = await singleFileFixture(dir, SIZE, [[udpByName], [tracker.http]]);
  const seeders: Seeder[] = [];
  try {
    for (const kind of ["aria2", "libtorrent"] as const) {
      seeders.push(
        await startSeeder(kind, fixture.torrent, await copyContent(fixture, `${dir}/${kind}`)),
      );
    }
  } catch (error) {
    await Promise.all(seeders.map((s) => s.stop()));
    await tracker.stop();
    throw error;
  }
  return {
    fixture,
    tracker,
    seeders,
    stop: async () => {
      await Promise.all(seeders.map((s) => s.stop()));
      await tracker.stop();
    },
  };
}

async function isComplete(fixture: Fixture, out: string): Promise<boolean> {
  const verify = await runShoal(["verify", fixture.torrent, "-d", out, "--json"]);
  return JSON.parse(verify.stdout).complete === true;
}

testWithPrograms(
  "lifecycle: a session closed at random moments of a real download never leaves a rejection unhandled",
  PROGRAMS,
  () =>
    withTempDir(async (dir) => {
      const swarm = await startSwarm(dir);
      const torrent = await readTorrentFile(swarm.fixture.torrent);
      const watch = new RejectionWatch();
      const outcomes: string[] = [];
      try {
        for (let run = 0; run < 24; run++) {
          // Runs share a folder in threes, so later runs resume, check or find it complete.
          const out = `${dir}/lib-${Math.floor(run / 3)}`;
          const session = new Session({
            port: freePort(),
            host: "127.0.0.1",
            maxDownloadRate: RATE,
          });
          const handle = session.add(torrent, { downloadDir: out, resumeIntervalMs: 200 });
          // The last run of each folder is left to finish (a stop then comes after completion).
          const stopAfter = run % 3 === 2 ? 60_000 : Math.random() ** 2 * 2500;
          await Promise.race([handle.done, pause(stopAfter)]);
          // Sometimes the handle is stopped first, as Ctrl-C does; always the session.
          if (run % 2 === 0) handle.stop();
          await session.close();
          const outcome = await handle.done;
          outcomes.push(outcome);
          assertEquals(outcome === "complete", await isComplete(swarm.fixture, out), `run ${run}`);
          if (outcome === "complete") await assertSameContent(swarm.fixture, out);
        }
      } finally {
        await watch.stop();
        await swarm.stop();
      }
      assertEquals(watch.reasons.length, 0, watch.describe());
      assert(outcomes.includes("stopped") && outcomes.includes("complete"), outcomes.join(" "));
    }),
);

testWithPrograms(
  "lifecycle: shoal download interrupted at random moments exits 130 exactly when incomplete, 0 when complete",
  PROGRAMS,
  () =>
    withTempDir(async (dir) => {
      const swarm = await startSwarm(dir);
      try {
        const codes: number[] = [];
        for (let run = 0; run < 14; run++) {
          const out = `${dir}/cli-${Math.floor(run / 2)}`;
          const child = new Deno.Command(Deno.execPath(), {
            args: shoalArgs([
              "download",
              swarm.fixture.torrent,
              "-d",
              out,
              "-p",
              String(freePort()),
              "--max-down",
              String(RATE),
              "--quiet",
            ]),
            stdin: "null",
            stdout: "piped",
            stderr: "piped",
          }).spawn();
          const output = child.output();
          // The second run of each folder is left to finish.
          if (run % 2 === 0) {
            await Promise.race([output, pause(300 + Math.random() * 3500)]);
            try {
              child.kill("SIGINT");
            } catch {
              // It had finished.
            }
          }
          const result = await output;
          const stderr = new TextDecoder().decode(result.stderr);
          const complete = await isComplete(swarm.fixture, out);
          codes.push(result.code);
          assert(!/Uncaught|a bug|\n\s+at /.test(stderr), `run ${run} printed:\n${stderr}`);
          assertEquals(result.code, complete ? 0 : 130, `run ${run}: ${stderr}`);
          if (run % 2 === 1) assertEquals(result.code, 0, `run ${run} was left to finish`);
        }
        assert(codes.includes(130), codes.join(" "));
      } finally {
        await swarm.stop();
      }
    }),
);
