/**
 * Magnet links between two shoal sessions: one seeds a torrent, the other
 * is given only the info hash and the seed's address, fetches the metadata
 * (BEP 9) from it, keeps the connection it fetched it over, and downloads
 * the data byte for byte; the `.torrent` is saved for the next start.
 */
import { parseMagnet, readTorrentFile } from "../../lib/metainfo/mod.ts";
import { Session } from "../../lib/session/session.ts";
import type { TorrentState } from "../../lib/session/torrent_handle.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import { assertSameContent, multiFileFixture } from "../helpers/content.ts";
import { withTempDir } from "../helpers/tools.ts";

Deno.test("metadata: a magnet link with one shoal peer gets the metadata, downloads over the same connection, and saves the .torrent", () =>
  withTempDir(async (dir) => {
    const fixture = await multiFileFixture(dir);
    const torrent = await readTorrentFile(fixture.torrent);
    const seeder = new Session({ port: 0, host: "127.0.0.1" });
    const leecher = new Session({ port: 0, host: "127.0.0.1" });
    try {
      const seed = seeder.add(torrent, { downloadDir: fixture.dataDir, seed: true });
      await new Promise<void>((resolve) => seed.on("state", (s) => s === "seeding" && resolve()));
      const magnet = parseMagnet(
        `magnet:?xt=urn:btih:${torrent.infoHashHex}&x.pe=127.0.0.1:${seeder.port}`,
      );
      const handle = leecher.add(magnet, { downloadDir: `${dir}/down` });
      const states: TorrentState[] = [];
      handle.on("state", (state) => states.push(state));
      assertEquals(handle.state, "metadata");
      assertEquals(await handle.done, "complete");
      await assertSameContent(fixture, `${dir}/down`);
      assertEquals(handle.torrent?.infoHashHex, torrent.infoHashHex);
      assertEquals(states[0], "downloading", "no check: nothing was on disk");
      const saved = await readTorrentFile(`${dir}/down/.shoal/${torrent.infoHashHex}.torrent`);
      assertEquals(saved.infoHashHex, torrent.infoHashHex);
      assert(handle.status().peersTried <= 1, "the seed was dialled once");
    } finally {
      await leecher.close();
      await seeder.close();
    }
  }));
