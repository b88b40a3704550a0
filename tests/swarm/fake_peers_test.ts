/**
 * Downloads through the library API with misbehaving fake peers beside an
 * honest one: the download completes byte for byte, the liar is banned,
 * and protocol breakers are disconnected.
 */
import { readTorrentFile } from "../../lib/metainfo/mod.ts";
import type { Torrent } from "../../lib/metainfo/torrent.ts";
import { Session } from "../../lib/session/session.ts";
import type { AddTorrentOptions, TorrentStatus } from "../../lib/session/torrent_handle.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import { assertSameContent, type Fixture, singleFileFixture } from "../helpers/content.ts";
import { type FakePeer, type FakePeerBehaviour, startFakePeer } from "../helpers/fake_peer.ts";
import { withTempDir } from "../helpers/tools.ts";

interface Scenario {
  fixture: Fixture;
  torrent: Torrent;
  content: Uint8Array;
}

async function scenario(dir: string, length = 300_001): Promise<Scenario> {
  const fixture = await singleFileFixture(dir, length);
  const torrent = await readTorrentFile(fixture.torrent);
  const content = await Deno.readFile(`${fixture.dataDir}/single.bin`);
  return { fixture, torrent, content };
}

async function download(
  dir: string,
  { torrent, fixture }: Scenario,
  peers: FakePeer[],
  options: Partial<AddTorrentOptions> = {},
): Promise<TorrentStatus> {
  const session = new Session({ port: 0, host: "127.0.0.1" });
  try {
    const handle = session.add(torrent, {
      downloadDir: `${dir}/out`,
      peers: peers.map((peer) => ({ host: "127.0.0.1", port: peer.port })),
      ...options,
    });
    assertEquals(await handle.done, "complete");
    await assertSameContent(fixture, `${dir}/out`);
    return handle.status();
  } finally {
    await session.close();
    await Promise.all(peers.map((peer) => peer.stop()));
  }
}

function withBadPeer(
  name: string,
  behaviour: FakePeerBehaviour,
  check: (status: TorrentStatus, bad: FakePeer, honest: FakePeer) => void,
  honestBehaviour: FakePeerBehaviour = {},
  options: Partial<AddTorrentOptions> = {},
): void {
  Deno.test(`fake peers: ${name}`, () =>
    withTempDir(async (dir) => {
      const s = await scenario(dir);
      const bad = startFakePeer(s.torrent, s.content, behaviour);
      const honest = startFakePeer(s.torrent, s.content, honestBehaviour);
      const status = await download(dir, s, [bad, honest], options);
      check(status, bad, honest);
    }));
}

withBadPeer(
  "a peer sending corrupt blocks is banned and its pieces come again from an honest peer",
  { corrupt: () => true },
  (status, bad) => {
    assert(status.hashFailures >= 1, `hash failures: ${status.hashFailures}`);
    assertEquals(status.peersBanned, 1);
    assert(bad.blocksSent > 0, "the liar was asked for blocks");
  },
  { delayMs: 5 },
);

withBadPeer(
  "a peer announcing an oversized message is disconnected",
  { oversized: true },
  (_status, bad) => {
    assertEquals(bad.requests, 0);
    assert(bad.closedByClient >= 1, "shoal closed the connection");
  },
);

withBadPeer(
  "a peer that never answers requests does not stall the download",
  { silent: true },
  (status, bad) => {
    assert(bad.requests > 0, "the silent peer was asked");
    assertEquals(status.piecesDone, status.pieceCount);
  },
  { delayMs: 2 },
  { requestTimeoutMs: 1000 },
);

withBadPeer(
  "a peer that disconnects in the middle of a block loses nothing",
  { disconnectMidPiece: true },
  (status) => assertEquals(status.hashFailures, 0),
);

withBadPeer(
  "a peer answering with another info hash is dropped",
  { wrongInfoHash: true },
  (_status, bad) => {
    assertEquals(bad.requests, 0);
    assert(bad.connections >= 1);
  },
);

withBadPeer(
  "a peer sending a bitfield with spare bits set is disconnected",
  { spareBits: true },
  (_status, bad) => {
    assertEquals(bad.requests, 0);
    assert(bad.closedByClient >= 1);
  },
);

withBadPeer(
  "a peer sending have for a piece that does not exist is disconnected",
  { haveOutOfRange: true },
  (_status, bad) => {
    assertEquals(bad.requests, 0);
    assert(bad.closedByClient >= 1);
  },
);

Deno.test("fake peers: a silent peer holding the last blocks is overtaken in end game", () =>
  withTempDir(async (dir) => {
    const s = await scenario(dir, 200_000);
    // Only the silent peer at first: it is asked for every block.
    const silent = startFakePeer(s.torrent, s.content, { silent: true });
    const session = new Session({ port: 0, host: "127.0.0.1" });
    try {
      const handle = session.add(s.torrent, {
        downloadDir: `${dir}/out`,
        peers: [{ host: "127.0.0.1", port: silent.port }],
        // Long enough that only end game, not the timeout, can finish in time.
        requestTimeoutMs: 600_000,
      });
      while (silent.requests < s.torrent.pieceCount) await new Promise((r) => setTimeout(r, 20));
      const honest = startFakePeer(s.torrent, s.content);
      handle.addPeers([{ host: "127.0.0.1", port: honest.port }]);
      assertEquals(await handle.done, "complete");
      await assertSameContent(s.fixture, `${dir}/out`);
      await honest.stop();
    } finally {
      await session.close();
      await silent.stop();
    }
  }));
