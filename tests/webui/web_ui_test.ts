/**
 * The daemon's web interface in a real browser: Debian's Chromium, driven
 * by playwright-core (tests/peers/webui_user.mjs), adds a torrent by
 * upload and one by magnet link, downloads both from real libtorrent
 * seeders (byte-exact), pauses and resumes, deselects a file, removes a
 * torrent with its data, and takes screenshots at 1920 and 360 px wide
 * (saved in test-artifacts/webui/). The page asks nothing of any other
 * server, and is never wider than the window.
 */
import { assert, assertEquals, assertStringIncludes } from "../helpers/assert.ts";
import { multiFileFixture, singleFileFixture } from "../helpers/content.ts";
import { startSeeder } from "../helpers/seeders.ts";
import { startOpentracker } from "../helpers/trackers.ts";
import { testWithPrograms, withTempDir } from "../helpers/tools.ts";
import { readTorrentFile } from "../../lib/metainfo/torrent.ts";
import { startShoalDaemon } from "../helpers/shoal_daemon.ts";

const DRIVER = new URL("../peers/webui_user.mjs", import.meta.url).pathname;
const SHOTS = new URL("../../test-artifacts/webui/", import.meta.url).pathname;

testWithPrograms(
  "web interface: in Chromium, a torrent added by upload and one by magnet reach 100 % from real seeders; pause, resume, deselect, remove; screenshots",
  ["chromium", "playwright-core", "python3-libtorrent", "opentracker"],
  () =>
    withTempDir(async (dir) => {
      // The upload's seeder is found through a real opentracker; the info hash does not
      // depend on the tracker, so it is known first, for opentracker's list.
      const probe = await readTorrentFile((await multiFileFixture(`${dir}/probe`)).torrent);
      const tracker = await startOpentracker([probe.infoHashHex]);
      const uploaded = await multiFileFixture(`${dir}/fx-multi`, [[tracker.http]]);
      const magnetFixture = await singleFileFixture(`${dir}/fx-single`, 3_000_017);
      const magnetTorrent = await readTorrentFile(magnetFixture.torrent);
      const seederA = await startSeeder("libtorrent", uploaded.torrent, uploaded.dataDir);
      const seederB = await startSeeder("libtorrent", magnetFixture.torrent, magnetFixture.dataDir);
      const { daemon, url, client } = await startShoalDaemon(dir);
      try {
        const magnet =
          `magnet:?xt=urn:btih:${magnetTorrent.infoHashHex}&dn=single.bin&x.pe=${seederB.address}`;
        await Deno.mkdir(SHOTS, { recursive: true });
        const driver = new Deno.Command("node", {
          args: [
            DRIVER,
            JSON.stringify({
              url,
              torrent: uploaded.torrent,
              torrentName: "multi",
              unwanted: "multi/top.dat",
              magnet,
              magnetName: "single.bin",
              shots: SHOTS,
              profile: `${dir}/chromium-profile`,
            }),
          ],
          stdout: "piped",
          stderr: "piped",
          env: { NODE_PATH: new URL("../peers/node_modules", import.meta.url).pathname },
        }).spawn();
        const output = await driver.output();
        const stdout = new TextDecoder().decode(output.stdout);
        const stderr = new TextDecoder().decode(output.stderr);
        assert(
          output.success,
          `the browser's steps failed:\n${stdout}\n${stderr}\n${daemon.output.text}`,
        );
        assertStringIncludes(stdout, "DONE");

        // What the browser did, as the daemon has it.
        const { torrents } = await client.call("torrent-get", {
          fields: ["name", "percentDone", "fileStats", "files"],
        });
        const kept = torrents as {
          name: string;
          percentDone: number;
          fileStats: { wanted: boolean }[];
          files: { name: string }[];
        }[];
        assertEquals(kept.map((t) => t.name), ["multi"], "the magnet's torrent was removed");
        const wanted = kept[0].files.map((file, i) => [file.name, kept[0].fileStats[i].wanted]);
        assertEquals(
          wanted.filter(([, w]) => !w).map(([name]) => name),
          ["multi/top.dat"],
          "the file unticked in the browser",
        );
        for (const file of uploaded.files) {
          if (file.path === "multi/top.dat") continue;
          const expected = await Deno.readFile(`${uploaded.dataDir}/${file.path}`);
          const actual = await Deno.readFile(`${dir}/downloads/${file.path}`);
          assertEquals(actual, expected, `${file.path} is byte-exact`);
        }
        await Deno.stat(`${dir}/downloads/single.bin`).then(
          () => assert(false, "the magnet's data was deleted with it"),
          (error) => assert(error instanceof Deno.errors.NotFound),
        );
        for (const width of [1920, 360]) {
          assert((await Deno.stat(`${SHOTS}webui-${width}.png`)).size > 1000);
        }
      } finally {
        await daemon.stop();
        await seederA.stop();
        await seederB.stop();
        await tracker.stop();
      }
    }),
);
