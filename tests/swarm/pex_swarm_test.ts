/**
 * Peer exchange (BEP 11) in running sessions over loopback: three shoal
 * sessions that meet through it; what shoal tells a peer and whom it
 * dials when told; peers that flood it or name hundreds of addresses; and
 * private torrents (BEP 27) and `pex: false`, which neither name nor take.
 * The PEX peers are real socket servers on their own 127.0.0.x (bans are
 * by IP).
 */
import { createTorrent } from "../../lib/metainfo/create.ts";
import { parseMagnet, readTorrentFile, type Torrent } from "../../lib/metainfo/mod.ts";
import { Session } from "../../lib/session/session.ts";
import type { TorrentHandle } from "../../lib/session/torrent_handle.ts";
import type { PeerSummary } from "../../lib/session/mod.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import { assertSameContent, type Fixture, singleFileFixture } from "../helpers/content.ts";
import { startMetadataPeer } from "../helpers/metadata_peer.ts";
import { type PexPeer, startPexPeer } from "../helpers/pex_peer.ts";
import { runShoal, withTempDir } from "../helpers/tools.ts";
import { freePort } from "../helpers/trackers.ts";
import { until } from "../helpers/until.ts";
import { parsePeerAddress } from "../../lib/net/peer_address.ts";

/** A TCP listener standing for a peer named through PEX: it counts who dials it. */
function namedPeer(): { address: string; dialled: () => number; stop: () => Promise<void> } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let dialled = 0;
  const accepting = (async () => {
    for await (const conn of listener) {
      dialled++;
      conn.close();
    }
  })().catch(() => {});
  return {
    address: `127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    dialled: () => dialled,
    stop: async () => {
      listener.close();
      await accepting;
    },
  };
}

/** The compact form of an IPv4 `host:port`, as it appears in a PEX message. */
function compact(address: string): string {
  const { host, port } = parsePeerAddress(address)!;
  return String.fromCharCode(...host.split(".").map(Number), port >> 8, port & 255);
}

/** A shoal seed and a shoal leecher (that keeps seeding) of `fixture`, with more peers for the leecher. */
async function withSwarm(
  fixture: Fixture,
  torrent: Torrent,
  dir: string,
  peers: string[],
  test: (leecher: TorrentHandle, seederAddress: string) => Promise<void>,
  pex?: boolean,
): Promise<void> {
  // Slow: the leecher stays connected to the seed (two peers at once) for a few seconds.
  const seeder = new Session({ port: 0, host: "127.0.0.1", maxUploadRate: 256 * 1024 });
  const leecher = new Session({ port: 0, host: "127.0.0.1" });
  try {
    const seed = seeder.add(torrent, { downloadDir: fixture.dataDir, seed: true });
    await until(() => seed.state === "seeding", "the seed is ready", 10_000);
    const seederAddress = `127.0.0.1:${seeder.port}`;
    const handle = leecher.add(torrent, {
      downloadDir: `${dir}/down`,
      seed: true,
      pex,
      peers: [seederAddress, ...peers].map((peer) => parsePeerAddress(peer)!),
    });
    await test(handle, seederAddress);
    await until(() => handle.state === "seeding", "the leecher completes", 20_000);
    await assertSameContent(fixture, `${dir}/down`);
  } finally {
    await leecher.close();
    await seeder.close();
  }
}

Deno.test("pex: three shoal sessions, two of which know only the first, meet through its peer exchange", () =>
  withTempDir(async (dir) => {
    const fixture = await singleFileFixture(dir, 4 * 1024 * 1024, [], 256 * 1024);
    const torrent = await readTorrentFile(fixture.torrent);
    // Slow, so that neither leecher is done (and no longer looking) before they meet.
    const first = new Session({ port: 0, host: "127.0.0.1", maxUploadRate: 512 * 1024 });
    const others = [0, 1].map(() => new Session({ port: 0, host: "127.0.0.1" }));
    try {
      const seed = first.add(torrent, { downloadDir: fixture.dataDir, seed: true });
      await until(() => seed.state === "seeding", "the seed is ready", 10_000);
      const handles = others.map((session, i) =>
        session.add(torrent, {
          downloadDir: `${dir}/down${i}`,
          peers: [{ host: "127.0.0.1", port: first.port }],
        })
      );
      const viaPex = `pex 127.0.0.1:${first.port}`;
      // The one that dials has the other as an outgoing peer heard of through PEX (the other
      // side's incoming peer has the same sources once it names its listen port).
      const dialledViaPex = (p: PeerSummary) =>
        p.direction === "outgoing" && p.sources.includes(viaPex);
      await until(
        () => handles.some((handle) => handle.peers().some(dialledViaPex)),
        () =>
          `a leecher dials the other, named by the first: ${
            JSON.stringify(handles.map((h) => h.peers()))
          }`,
        15_000,
      );
      const [a, b] = handles;
      const dialled = [...a.peers(), ...b.peers()].find(dialledViaPex)!;
      assert(
        [`127.0.0.1:${others[0].port}`, `127.0.0.1:${others[1].port}`].includes(dialled.address),
        "the one dialled is the other leecher, at its listen port",
      );
      for (const handle of handles) await handle.stop();
    } finally {
      for (const session of [...others, first]) await session.close();
    }
  }));

Deno.test("pex: shoal names its other peers to a peer that speaks ut_pex, and dials the peers it is named", () =>
  withTempDir(async (dir) => {
    const fixture = await singleFileFixture(dir);
    const torrent = await readTorrentFile(fixture.torrent);
    const named = namedPeer();
    const pexPeer = startPexPeer(torrent.infoHash, {
      host: "127.0.0.2",
      names: [named.address],
      answerAfterMs: 300,
    });
    try {
      await withSwarm(fixture, torrent, dir, [pexPeer.address], async (_, seederAddress) => {
        await until(() => named.dialled() > 0, "shoal dials the peer it was named", 10_000);
        await until(() => pexPeer.received.length > 0, "shoal sends a PEX message", 10_000);
        const [sent] = pexPeer.received;
        assert(sent.includes(`5:added6:${compact(seederAddress)}`), `the seed is named: ${sent}`);
        // Reachable (we dialled it), and a seed once its bitfield has come.
        const flags = sent.charCodeAt(sent.indexOf("7:added.f1:") + 11);
        assert(flags === 0x10 || flags === 0x12, `flags: ${flags}`);
        assert(!sent.includes(compact(pexPeer.address)), "never the peer itself");
        assert(/6:ut_pexi[1-9]\d*e/.test(pexPeer.handshakes[0]), "ut_pex is announced");
        // Its handshake came with its first messages: ours still go first (extended id 0).
        assertEquals(pexPeer.order[0], "20/0", `first messages: ${pexPeer.order}`);
      });
    } finally {
      await pexPeer.stop();
      await named.stop();
    }
  }));

Deno.test("pex: a peer that sends PEX messages many times a second, or names hundreds of peers, is dropped", () =>
  withTempDir(async (dir) => {
    const fixture = await singleFileFixture(dir);
    const torrent = await readTorrentFile(fixture.torrent);
    const flooder = startPexPeer(torrent.infoHash, {
      host: "127.0.0.2",
      names: ["10.0.0.1:6881"],
      messages: 10,
    });
    const hundreds = Array.from({ length: 300 }, (_, i) => `10.1.${i >> 8}.${i & 255}:6881`);
    const lister = startPexPeer(torrent.infoHash, { host: "127.0.0.3", names: hundreds });
    try {
      await withSwarm(
        fixture,
        torrent,
        dir,
        [flooder.address, lister.address],
        async (handle, seederAddress) => {
          const dropped = (peer: PexPeer) => peer.closedByPeer > 0;
          await until(() => dropped(flooder) && dropped(lister), "both are dropped", 10_000);
          assert(
            handle.peers().some((peer) => peer.address === seederAddress),
            "the honest seed stays",
          );
          assert(handle.status().peersSeen < 10, `none of the 300: ${handle.status().peersSeen}`);
        },
      );
    } finally {
      await flooder.stop();
      await lister.stop();
    }
  }));

for (
  const [why, pex, isPrivate] of [["a private torrent", undefined, true], [
    "pex: false",
    false,
    false,
  ]] as const
) {
  Deno.test(`pex: with ${why}, ut_pex is announced as 0, nobody is named and nobody taken`, () =>
    withTempDir(async (dir) => {
      const base = await singleFileFixture(dir);
      const { bytes } = await createTorrent(`${base.dataDir}/single.bin`, {
        pieceLength: 16 * 1024,
        private: isPrivate,
      });
      await Deno.writeFile(base.torrent, bytes);
      const torrent = await readTorrentFile(base.torrent);
      const named = namedPeer();
      const pexPeer = startPexPeer(torrent.infoHash, { host: "127.0.0.2", names: [named.address] });
      try {
        await withSwarm(base, torrent, dir, [pexPeer.address], async () => {
          await until(() => pexPeer.handshakes.length > 0, "shoal's extension handshake", 10_000);
          assert(pexPeer.handshakes[0].includes("6:ut_pexi0e"), pexPeer.handshakes[0]);
          // Two of shoal's once-a-second ticks with two peers: PEX would have gone out by now.
          await new Promise((resolve) => setTimeout(resolve, 2500));
          assertEquals(pexPeer.received, []);
          assertEquals(named.dialled(), 0);
        }, pex);
      } finally {
        await pexPeer.stop();
        await named.stop();
      }
    }));
}

Deno.test("pex: a magnet link whose metadata says private takes ut_pex back in a new extension handshake", () =>
  withTempDir(async (dir) => {
    const base = await singleFileFixture(dir);
    const { torrent } = await createTorrent(`${base.dataDir}/single.bin`, {
      pieceLength: 16 * 1024,
      private: true,
    });
    const peer = startMetadataPeer(torrent.infoHash, torrent.infoBytes);
    const session = new Session({ port: 0, host: "127.0.0.1" });
    try {
      const magnet = parseMagnet(`magnet:?xt=urn:btih:${torrent.infoHashHex}&x.pe=${peer.address}`);
      const handle = session.add(magnet, { downloadDir: `${dir}/down` });
      await until(() => peer.handshakes.length >= 2, "a second extension handshake", 10_000);
      assert(/6:ut_pexi[1-9]\d*e/.test(peer.handshakes[0]), "ut_pex while the metadata is fetched");
      assert(peer.handshakes[1].includes("6:ut_pexi0e"), peer.handshakes[1]);
      assertEquals(handle.torrent?.private, true);
      await handle.stop();
    } finally {
      await session.close();
      await peer.stop();
    }
  }));

Deno.test("pex: shoal download --no-pex announces ut_pex as 0", () =>
  withTempDir(async (dir) => {
    const fixture = await singleFileFixture(dir);
    const torrent = await readTorrentFile(fixture.torrent);
    const pexPeer = startPexPeer(torrent.infoHash, { host: "127.0.0.2" });
    const seeder = new Session({ port: 0, host: "127.0.0.1" });
    try {
      const seed = seeder.add(torrent, { downloadDir: fixture.dataDir, seed: true });
      await until(() => seed.state === "seeding", "the seed is ready", 10_000);
      const result = await runShoal([
        "download",
        fixture.torrent,
        "-d",
        `${dir}/down`,
        "-p",
        String(freePort()),
        "--no-pex",
        "--peer",
        pexPeer.address,
        "--peer",
        `127.0.0.1:${seeder.port}`,
        "-q",
      ]);
      assertEquals(result.code, 0, result.stderr);
      await assertSameContent(fixture, `${dir}/down`);
      assert(pexPeer.handshakes.length > 0, "shoal's extension handshake reached the PEX peer");
      assert(
        pexPeer.handshakes.every((text) => text.includes("6:ut_pexi0e")),
        pexPeer.handshakes[0],
      );
    } finally {
      await seeder.close();
      await pexPeer.stop();
    }
  }));
