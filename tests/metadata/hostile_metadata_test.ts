/**
 * Hostile metadata peers (real socket servers on 127.0.0.2, so that a ban
 * by IP spares the honest peer on 127.0.0.1): wrong metadata, an absurd
 * `metadata_size`, pieces out of range or of the wrong length, endless
 * rejects, silence, metadata nobody asked for. shoal still gets the
 * metadata from the honest peer (a shoal seed), downloads byte for byte,
 * and bans the liar.
 */
import { readTorrentFile } from "../../lib/metainfo/mod.ts";
import { type MagnetLink, parseMagnet } from "../../lib/metainfo/magnet.ts";
import { Session } from "../../lib/session/session.ts";
import type { TorrentHandle } from "../../lib/session/torrent_handle.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import { assertSameContent, type Fixture } from "../helpers/content.ts";
import { type MetadataPeerBehaviour, startMetadataPeer } from "../helpers/metadata_peer.ts";
import { until } from "../helpers/until.ts";
import { withTempDir, writeRandomFile } from "../helpers/tools.ts";
import { createTorrent } from "../../lib/metainfo/create.ts";

/** 600 small files with long names: an info dictionary of about 11 metadata pieces. */
async function fixtureWithBigInfo(dir: string): Promise<Fixture> {
  const dataDir = `${dir}/data`;
  await Deno.mkdir(`${dataDir}/many`, { recursive: true });
  const files = [];
  for (let i = 0; i < 600; i++) {
    const path = `many/${String(i).padStart(4, "0")}-${"y".repeat(240)}.bin`;
    await writeRandomFile(`${dataDir}/${path}`, 100 + i, i + 7);
    files.push({ path, length: 100 + i });
  }
  const { bytes } = await createTorrent(`${dataDir}/many`, { pieceLength: 16 * 1024 });
  await Deno.writeFile(`${dir}/many.torrent`, bytes);
  return { torrent: `${dir}/many.torrent`, dataDir, files };
}

/** Runs a download by magnet link beside a hostile metadata peer and an honest shoal seed. */
async function withHostilePeer(
  behaviour: MetadataPeerBehaviour,
  check: (context: {
    handle: TorrentHandle;
    hostile: ReturnType<typeof startMetadataPeer>;
    addHonest: () => void;
    magnet: (peers: string[]) => MagnetLink;
  }) => Promise<void>,
): Promise<void> {
  await withTempDir(async (dir) => {
    const fixture = await fixtureWithBigInfo(dir);
    const torrent = await readTorrentFile(fixture.torrent);
    assert(
      torrent.infoBytes.length > 8 * 16 * 1024,
      "more metadata pieces than one peer is asked for at once",
    );
    const seeder = new Session({ port: 0, host: "127.0.0.1" });
    const leecher = new Session({
      port: 0,
      host: "127.0.0.1",
      log: Deno.env.get("SHOAL_TEST_LOG")
        ? {
          debug: (m) => console.log("D", m),
          info: (m) => console.log("I", m),
          warn: (m) => console.log("W", m),
          error: (m) => console.log("E", m),
        }
        : undefined,
    });
    const hostile = startMetadataPeer(torrent.infoHash, torrent.infoBytes, {
      host: "127.0.0.2",
      ...behaviour,
    });
    try {
      const seed = seeder.add(torrent, { downloadDir: fixture.dataDir, seed: true });
      await until(() => seed.state === "seeding", "the seed is ready");
      const magnet = (peers: string[]) =>
        parseMagnet(
          `magnet:?xt=urn:btih:${torrent.infoHashHex}${peers.map((p) => `&x.pe=${p}`).join("")}`,
        );
      let handle: TorrentHandle | undefined;
      await check({
        get handle() {
          return handle!;
        },
        hostile,
        addHonest: () => handle!.addPeers([{ host: "127.0.0.1", port: seeder.port }]),
        magnet: (peers) => {
          handle = leecher.add(magnet(peers), {
            downloadDir: `${dir}/down`,
            timeouts: { connectMs: 2000 },
          });
          return magnet(peers);
        },
      });
      assertEquals(await handle!.done, "complete");
      await assertSameContent(fixture, `${dir}/down`);
    } finally {
      await leecher.close();
      await seeder.close();
      await hostile.stop();
    }
  });
}

Deno.test("hostile metadata: a peer that sends wrong metadata alone is banned; the honest peer gives the right one", () =>
  withHostilePeer({ answer: "corrupt" }, async (context) => {
    context.magnet([context.hostile.address]);
    await until(() => context.handle.status().peersBanned === 1, "the liar banned");
    assertEquals(context.handle.state, "metadata", "the wrong metadata was not taken");
    const connections = context.hostile.connections;
    context.addHonest();
    assertEquals(await context.handle.done, "complete");
    assertEquals(context.hostile.connections, connections, "a banned peer is not dialled again");
  }));

Deno.test("hostile metadata: a peer announcing 1 GiB of metadata is not asked", () =>
  withHostilePeer({ announceSize: 1 << 30 }, async (context) => {
    context.magnet([context.hostile.address, "127.0.0.1:1"]);
    await until(() => context.hostile.connections >= 1, "the hostile peer dialled");
    context.addHonest();
    assertEquals(await context.handle.done, "complete");
    assertEquals(context.hostile.requests, 0);
  }));

for (
  const [what, behaviour] of [
    ["pieces out of range and of the wrong length", { answer: "outOfRange" }],
    ["endless rejects", { answer: "reject" }],
    ["no answer at all", { answer: "ignore" }],
    ["metadata nobody asked for", { unsolicited: 40, answer: "ignore" }],
  ] as [string, MetadataPeerBehaviour][]
) {
  Deno.test(`hostile metadata: beside a peer sending ${what}, the metadata comes from the honest one`, () =>
    withHostilePeer(behaviour, async (context) => {
      context.magnet([context.hostile.address]);
      await until(
        () => context.hostile.requests > 0 || (behaviour.unsolicited ?? 0) > 0,
        "the hostile peer asked",
      );
      context.addHonest();
      assertEquals(await context.handle.done, "complete");
      if (behaviour.answer === "reject") {
        assert(
          context.hostile.requests <= 8,
          `asked ${context.hostile.requests} times after rejects`,
        );
      }
    }));
}
