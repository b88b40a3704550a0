/**
 * `shoal remote` against shoal's daemon and against Debian's real
 * `transmission-daemon` (3.00), run with the narrow permissions the README
 * gives it: add (a .torrent sent from here, a magnet link, a duplicate),
 * list, info, select (only some files, skip, priorities), resume, pause,
 * remove with data, `--json` throughout; a wrong password (exit 1) and no
 * daemon (exit 4). Against shoal the download from a real libtorrent
 * seeder completes byte-exact with the file left out missing.
 * (Transmission 3.00 never dials loopback peers, so against it nothing
 * downloads.)
 */
import { assert, assertEquals, assertMatch, assertStringIncludes } from "../helpers/assert.ts";
import { type Fixture, multiFileFixture } from "../helpers/content.ts";
import { startSeeder } from "../helpers/seeders.ts";
import { freePort, startOpentracker } from "../helpers/trackers.ts";
import { run, SHOAL_CLI, spawnShoal, testWithPrograms, withTempDir } from "../helpers/tools.ts";
import { startTransmissionDaemon } from "../helpers/transmission_daemon.ts";
import { until } from "../helpers/until.ts";
import { readTorrentFile } from "../../lib/metainfo/torrent.ts";

interface Target {
  rpc: string;
  username: string;
  password: string;
  /** Where the daemon puts downloads. */
  downloadDir: string;
}

/** Runs `shoal remote` as the README says: the RPC's address, the torrent's folder, the password variable. */
async function remote(target: Target, readDir: string, ...args: string[]) {
  return await run(Deno.execPath(), [
    "run",
    "--quiet",
    "--no-prompt",
    `--allow-net=${target.rpc}`,
    `--allow-read=${readDir}`,
    "--allow-env=SHOAL_RPC_PASSWORD",
    SHOAL_CLI,
    "remote",
    "--rpc",
    target.rpc,
    "--username",
    target.username,
    ...args,
  ], { env: { NO_COLOR: "1", SHOAL_RPC_PASSWORD: target.password } });
}

async function ok(target: Target, readDir: string, ...args: string[]): Promise<string> {
  const result = await remote(target, readDir, ...args);
  if (result.code !== 0) {
    throw new Error(
      `shoal remote ${args.join(" ")}: exit ${result.code}\n${result.stdout}${result.stderr}`,
    );
  }
  return result.stdout;
}

interface JsonTorrent {
  id: number;
  name: string;
  status: number;
  percentDone: number;
  files: { name: string }[];
  fileStats: { wanted: boolean; priority: number }[];
}

async function json<T>(target: Target, readDir: string, ...args: string[]): Promise<T> {
  return JSON.parse(await ok(target, readDir, "--json", ...args)) as T;
}

/** What both daemons must do alike; returns the torrent's id, left paused with file `top.dat` skipped. */
async function manage(target: Target, fixture: Fixture, fixtureDir: string, magnetHash: string) {
  const added = await ok(target, fixtureDir, "add", "--paused", fixture.torrent);
  assertMatch(added, /^Added: multi \(id \d+, [0-9a-f]{40}\)/);
  assertStringIncludes(
    await ok(target, fixtureDir, "add", fixture.torrent),
    "Already there: multi",
  );
  const [magnet] = await json<{ id: number; duplicate: boolean }[]>(
    target,
    fixtureDir,
    "add",
    "--paused",
    `magnet:?xt=urn:btih:${magnetHash}&dn=elsewhere`,
  );
  assertEquals(magnet.duplicate, false);

  const listed = await ok(target, fixtureDir, "list");
  assertMatch(listed, /^ID\s+Done\s+Have\s+ETA\s+Down\s+Up\s+Ratio\s+Status\s+Name$/m);
  assertMatch(listed, /\s0%\s.*Paused\s+multi$/m);
  assertMatch(listed, /^Sum:.*2 torrents$/m);
  const torrents = await json<JsonTorrent[]>(target, fixtureDir, "list");
  const id = torrents.find((t) => t.name === "multi")!.id;
  assertEquals(torrents.length, 2);

  const info = await ok(target, fixtureDir, "info", String(id));
  assertStringIncludes(info, "Files (5):");
  assertMatch(info, /State:\s+Paused/);
  const files = (await json<JsonTorrent>(target, fixtureDir, "info", String(id))).files;
  const number = (path: string) => String(files.findIndex((f) => f.name === path) + 1);

  // Only three files, then one more, then the big one skipped and a priority.
  await ok(
    target,
    fixtureDir,
    "select",
    String(id),
    [number("multi/a/b/nested.bin"), number("multi/c/d/e/deep.txt"), number("multi/z.bin")].join(
      ",",
    ),
  );
  let stats = (await json<JsonTorrent>(target, fixtureDir, "info", String(id))).fileStats;
  assertEquals(stats.filter((s) => s.wanted).length, 3);
  const shown = await ok(
    target,
    fixtureDir,
    "select",
    String(id),
    "--get",
    `${number("multi/empty.txt")},${number("multi/top.dat")}`,
    "--priority",
    `skip:${number("multi/top.dat")}`,
    "--priority",
    `high:${number("multi/z.bin")}`,
  );
  assertMatch(shown, /skip\s+normal\s+0%\s+2 MiB\s+multi\/top\.dat/);
  assertMatch(shown, /get\s+high\s+0%\s+64 KiB\s+multi\/z\.bin/);
  stats = (await json<JsonTorrent>(target, fixtureDir, "info", String(id))).fileStats;
  const byName = (path: string) => stats[Number(number(path)) - 1];
  assertEquals(byName("multi/top.dat").wanted, false);
  assertEquals(byName("multi/empty.txt").wanted, true);
  assertEquals(byName("multi/z.bin").priority, 1);

  // A bad file number and a torrent that is not there: usage errors (exit 2).
  const bad = await remote(target, fixtureDir, "select", String(id), "9");
  assertEquals(bad.code, 2, bad.stderr);
  const missing = await remote(target, fixtureDir, "info", "999");
  assertEquals(missing.code, 2, missing.stderr);
  assertStringIncludes(missing.stderr, "no torrent 999");

  // Resume and pause the magnet (which has no peers) and remove it.
  assertStringIncludes(
    await ok(target, fixtureDir, "resume", String(magnet.id)),
    "Resumed 1 torrent",
  );
  await until(async () => {
    const all = await json<JsonTorrent[]>(target, fixtureDir, "list");
    return all.find((t) => t.id === magnet.id)!.status !== 0;
  });
  await ok(target, fixtureDir, "pause", "all");
  await until(async () => {
    const all = await json<JsonTorrent[]>(target, fixtureDir, "list");
    return all.every((t) => t.status === 0);
  });
  assertStringIncludes(
    await ok(target, fixtureDir, "remove", String(magnet.id)),
    "Removed 1 torrent",
  );
  assertEquals((await json<JsonTorrent[]>(target, fixtureDir, "list")).length, 1);

  // Refusals.
  const wrong = await remote({ ...target, password: "wrong" }, fixtureDir, "list");
  assertEquals(wrong.code, 1, wrong.stderr);
  assertStringIncludes(wrong.stderr, "refused the user name and password");
  const nobody = await remote({ ...target, rpc: `127.0.0.1:${freePort()}` }, fixtureDir, "list");
  assertEquals(nobody.code, 4, nobody.stderr);
  assertStringIncludes(nobody.stderr, "Cannot reach the RPC");
  return id;
}

async function removeWithData(target: Target, fixtureDir: string, id: number) {
  assertStringIncludes(
    await ok(target, fixtureDir, "remove", String(id), "--delete-data"),
    "and their data",
  );
  assertEquals(await json<unknown[]>(target, fixtureDir, "list"), []);
  await until(async () => {
    try {
      await Deno.stat(`${target.downloadDir}/multi`);
      return false;
    } catch {
      return true;
    }
  }, () => "the data was not deleted");
}

const MAGNET_HASH = "0123456789abcdef0123456789abcdef01234567";

testWithPrograms(
  "shoal remote drives shoal's daemon: add, list, info, select, resume, pause, remove; the download is byte-exact",
  ["python3-libtorrent", "opentracker"],
  () =>
    withTempDir(async (dir) => {
      const probe = await readTorrentFile((await multiFileFixture(`${dir}/probe`)).torrent);
      const tracker = await startOpentracker([probe.infoHashHex, MAGNET_HASH]);
      const fixture = await multiFileFixture(`${dir}/fx`, [[tracker.http]]);
      const seeder = await startSeeder("libtorrent", fixture.torrent, fixture.dataDir);
      const rpcPort = freePort();
      const target = {
        rpc: `127.0.0.1:${rpcPort}`,
        username: "me",
        password: "secret",
        downloadDir: `${dir}/downloads`,
      };
      const daemon = spawnShoal([
        "daemon",
        "--state-dir",
        `${dir}/state`,
        "-d",
        target.downloadDir,
        "-p",
        "0",
        "--rpc-port",
        String(rpcPort),
        "--rpc-username",
        target.username,
        "--rpc-password",
        target.password,
      ]);
      try {
        await until(() => daemon.output.text.includes("RPC on"), () => daemon.output.text);
        const id = await manage(target, fixture, `${dir}/fx`, MAGNET_HASH);
        await ok(target, `${dir}/fx`, "resume", String(id));
        await until(async () => {
          const [t] = await json<JsonTorrent[]>(target, `${dir}/fx`, "list");
          return t.percentDone === 1;
        }, () =>
          daemon.output.text, 120_000);
        for (const file of fixture.files) {
          const path = `${target.downloadDir}/${file.path}`;
          if (file.path === "multi/top.dat") {
            // Skipped: at most the pieces it shares with wanted files were written.
            const size = await Deno.stat(path).then((s) =>
              s.size, () =>
              0);
            assert(size < file.length, "the skipped file was not downloaded whole");
            continue;
          }
          assertEquals(
            await Deno.readFile(path),
            await Deno.readFile(`${fixture.dataDir}/${file.path}`),
            `${file.path} is byte-exact`,
          );
        }
        assertMatch(await ok(target, `${dir}/fx`, "list"), /100%.*Seeding\s+multi$/m);
        await removeWithData(target, `${dir}/fx`, id);
      } finally {
        await daemon.stop();
        await seeder.stop();
        await tracker.stop();
      }
    }),
);

testWithPrograms(
  "shoal remote drives Debian's transmission-daemon: add, list, info, select, resume, pause, remove",
  ["transmission-daemon"],
  () =>
    withTempDir(async (dir) => {
      const fixture = await multiFileFixture(`${dir}/fx`);
      const transmission = await startTransmissionDaemon(dir, { "start-added-torrents": true });
      try {
        const id = await manage(transmission, fixture, `${dir}/fx`, MAGNET_HASH);
        await removeWithData(transmission, `${dir}/fx`, id);
      } finally {
        await transmission.stop();
      }
    }),
);
