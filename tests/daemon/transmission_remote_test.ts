/**
 * `shoal daemon` driven by Debian's real `transmission-remote` (3.00, RPC
 * version 16, the old names): a torrent added, listed, shown, its files
 * chosen, stopped and started, limited, verified, downloaded from a real
 * libtorrent seeder (found through a real opentracker) byte for byte, and
 * removed with its data; a magnet link added; the state kept across a
 * restart; with a password, and refused with a wrong one.
 */
import { assert, assertEquals, assertMatch, assertStringIncludes } from "../helpers/assert.ts";
import { assertSameContent, multiFileFixture } from "../helpers/content.ts";
import { startSeeder } from "../helpers/seeders.ts";
import { freePort, startOpentracker } from "../helpers/trackers.ts";
import { run, spawnShoal, testWithPrograms, withTempDir } from "../helpers/tools.ts";
import { readTorrentFile } from "../../lib/metainfo/torrent.ts";
import { startShoalDaemon } from "../helpers/shoal_daemon.ts";

async function remote(rpc: string, ...args: string[]): Promise<string> {
  const result = await run("transmission-remote", [rpc, ...args]);
  if (result.code !== 0) {
    throw new Error(`transmission-remote ${args.join(" ")}: ${result.stdout}${result.stderr}`);
  }
  return result.stdout;
}

/** `-l` until it matches (a state that is on its way), or the last listing when time is up. */
async function listUntil(rpc: string, pattern: RegExp, limitMs = 60_000): Promise<string> {
  const deadline = Date.now() + limitMs;
  let shown = "";
  while (Date.now() < deadline) {
    shown = await remote(rpc, "-l");
    if (pattern.test(shown)) return shown;
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  return shown;
}

testWithPrograms(
  "daemon: transmission-remote adds, lists, shows, selects, stops, starts, limits, verifies and removes; the download is byte-exact",
  ["transmission-remote", "python3-libtorrent", "opentracker"],
  () =>
    withTempDir(async (dir) => {
      // The info hash does not depend on the tracker: known first, for opentracker's list.
      const probe = await readTorrentFile((await multiFileFixture(`${dir}/probe`)).torrent);
      const tracker = await startOpentracker([probe.infoHashHex]);
      const seeded = await multiFileFixture(`${dir}/fx`, [[tracker.http]]);
      const seededTorrent = await readTorrentFile(seeded.torrent);
      assertEquals(seededTorrent.infoHashHex, probe.infoHashHex);
      const seeder = await startSeeder("libtorrent", seeded.torrent, seeded.dataDir);
      const { daemon, rpc } = await startShoalDaemon(dir);
      try {
        // Added paused, so that its files can be chosen first.
        assertStringIncludes(
          await remote(rpc, "--start-paused", "-a", seeded.torrent),
          "success",
        );
        const stopped = /\s1\s+0%\s.*Stopped\s+multi/;
        assertMatch(await listUntil(rpc, stopped), stopped);
        const info = await remote(rpc, "-t", "1", "-i");
        assertStringIncludes(info, `Hash: ${seededTorrent.infoHashHex}`);
        assertStringIncludes(info, "Name: multi");
        const files = await remote(rpc, "-t", "1", "-f");
        assertStringIncludes(files, "multi (5 files)");
        assertStringIncludes(files, "multi/top.dat");
        // z.bin (index 4) not wanted; a limit of 100,000 kB/s; then started.
        await remote(rpc, "-t", "1", "-G", "4");
        const chosen = await remote(rpc, "-t", "1", "-f");
        assertMatch(chosen, /4:\s+0%\s+Normal\s+No\s.*multi\/z\.bin/, chosen);
        await remote(rpc, "-t", "1", "-d", "100000");
        assertStringIncludes(await remote(rpc, "-t", "1", "-i"), "Download Limit: 100.0 MB/s");
        await remote(rpc, "-t", "1", "-s");
        const seeding = /\s1\s+100%.*(Seeding|Idle)/;
        const shown = await listUntil(rpc, seeding);
        assertMatch(shown, seeding, shown);
        // The wanted files are byte-exact; z.bin was never created whole.
        const wanted = { ...seeded, files: seeded.files.filter((f) => !f.path.endsWith("z.bin")) };
        await assertSameContent(wanted, `${dir}/downloads`);
        // Stop and start.
        await remote(rpc, "-t", "1", "-S");
        assertMatch(await listUntil(rpc, /Stopped/), /Stopped/);
        await remote(rpc, "-t", "1", "-s");
        // Verify: checked again, still complete.
        await remote(rpc, "-t", "1", "-v");
        assertMatch(await listUntil(rpc, seeding, 30_000), seeding);
        // A magnet link is added too (its metadata would come from peers).
        await remote(rpc, "-a", `magnet:?xt=urn:btih:${"ab".repeat(20)}&dn=later`);
        assertMatch(await remote(rpc, "-l"), /\s2\s.*later/);
        // Removed with its data.
        await remote(rpc, "-t", "1", "--remove-and-delete");
        const after = await remote(rpc, "-l");
        assert(!after.includes("multi"), after);
        const left = await Array.fromAsync(Deno.readDir(`${dir}/downloads`)).catch(() => []);
        assert(!left.some((entry) => entry.name === "multi"), "the data is deleted");
      } finally {
        await daemon.stop();
        await seeder.stop();
        await tracker.stop();
      }
    }),
);

testWithPrograms(
  "daemon: with a username and password transmission-remote needs them; a wrong one is refused; the torrent list survives a restart",
  ["transmission-remote"],
  () =>
    withTempDir(async (dir) => {
      const fixture = await multiFileFixture(`${dir}/fx`);
      const auth = ["--rpc-username", "me", "--rpc-password", "s3cret"];
      let { daemon, rpc } = await startShoalDaemon(dir, { extra: auth });
      try {
        const refused = await run("transmission-remote", [rpc, "-l"]);
        assert(refused.code !== 0, "no credentials: refused");
        assertStringIncludes(refused.stdout + refused.stderr, "401");
        const wrong = await run("transmission-remote", [rpc, "-n", "me:wrong", "-l"]);
        assert(wrong.code !== 0, "a wrong password: refused");
        assertStringIncludes(
          await remote(rpc, "-n", "me:s3cret", "--start-paused", "-a", fixture.torrent),
          "success",
        );
        // A folder outside --allowed-dir is refused, for the session and for a torrent.
        const outside = await run("transmission-remote", [rpc, "-n", "me:s3cret", "-w", "/etc"]);
        assertStringIncludes(outside.stdout + outside.stderr, "outside the folders");
        const escape = await run("transmission-remote", [
          rpc,
          "-n",
          "me:s3cret",
          "-w",
          `${dir}/../elsewhere`,
          "-a",
          fixture.torrent,
        ]);
        assertStringIncludes(escape.stdout + escape.stderr, "outside the folders");
        await daemon.stop();
        // kill -9 would do the same: every change is saved when it is made.
        ({ daemon, rpc } = await startShoalDaemon(dir, { extra: auth }));
        assertMatch(await remote(rpc, "-n", "me:s3cret", "-l"), /\s1\s.*multi/);
      } finally {
        await daemon.stop();
      }
    }),
);

Deno.test("daemon: an RPC on an address other machines reach needs a password", async () => {
  await withTempDir(async (dir) => {
    const daemon = spawnShoal([
      "daemon",
      "--state-dir",
      `${dir}/state`,
      "--rpc-bind",
      "0.0.0.0",
      "--rpc-port",
      String(freePort()),
      "-p",
      "0",
    ]);
    const status = await daemon.child.status;
    await daemon.output.done;
    assertEquals(status.code, 2);
    assertStringIncludes(daemon.output.text, "--rpc-username and --rpc-password");
  });
});
