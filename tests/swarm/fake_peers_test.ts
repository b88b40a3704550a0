/**
 * Downloads through the library API with misbehaving fake peers beside an
 * honest one: the download completes byte for byte, the liar is banned,
 * and protocol breakers are disconnected.
 */
import { createTorrent, readTorrentFile } from "../../lib/metainfo/mod.ts";
import type { Torrent } from "../../lib/metainfo/torrent.ts";
import { Session } from "../../lib/session/session.ts";
import type {
  AddTorrentOptions,
  TorrentHandle,
  TorrentStatus,
} from "../../lib/session/torrent_handle.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import { until } from "../helpers/until.ts";
import { assertSameContent, type Fixture, singleFileFixture } from "../helpers/content.ts";
import { type FakePeer, type FakePeerBehaviour, startFakePeer } from "../helpers/fake_peer.ts";
import { withTempDir, writeRandomFile } from "../helpers/tools.ts";

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
      peers: peers.map((peer) => ({ host: peer.host, port: peer.port })),
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

/** Runs a session with `peer` as the only peer until `check` returns (or throws), then stops everything. */
async function withLonePeer(
  dir: string,
  s: Scenario,
  peer: FakePeer,
  options: Partial<AddTorrentOptions>,
  check: (handle: TorrentHandle) => Promise<void>,
): Promise<void> {
  const session = new Session({ port: 0, host: "127.0.0.1" });
  try {
    const handle = session.add(s.torrent, {
      downloadDir: `${dir}/out`,
      peers: [{ host: "127.0.0.1", port: peer.port }],
      ...options,
    });
    await check(handle);
  } finally {
    await session.close();
    await peer.stop();
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
      // Its own IP: bans are by IP, and the honest peer must not share them.
      const bad = startFakePeer(s.torrent, s.content, { host: "127.0.0.2", ...behaviour });
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

Deno.test("fake peers: every peer hears have for each verified piece; interest follows what a peer has that we lack", () =>
  withTempDir(async (dir) => {
    const s = await scenario(dir);
    const partial = startFakePeer(s.torrent, s.content, { claim: 5 });
    // Slow, so pieces 5 and up arrive well after the partial peer's five are in.
    const full = startFakePeer(s.torrent, s.content, { delayMs: 40 });
    await download(dir, s, [partial, full]);
    const INTERESTED = 2, NOT_INTERESTED = 3;
    assertEquals(partial.received[0], INTERESTED, `first messages: ${partial.received}`);
    const notInterestedAt = partial.received.indexOf(NOT_INTERESTED);
    assert(notInterestedAt > 0, "not interested once we had the partial peer's pieces");
    assertEquals(partial.received.indexOf(INTERESTED, 1), -1, "never interested again");
    // Told while we were still downloading from the other peer.
    const havesAfter = partial.received.slice(notInterestedAt).filter((id) => id === 4).length;
    assert(havesAfter > 0, `haves after not interested: ${havesAfter}`);
    // Haves for its own pieces too (it has them, but learns our progress from them).
    for (let piece = 0; piece < 5; piece++) assert(partial.haves.includes(piece), `have ${piece}`);
    // Every piece verified while it was connected, which is all but those of the last moment.
    assert(partial.haves.length >= s.torrent.pieceCount - 2, `heard ${partial.haves.length}`);
  }));

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

Deno.test("fake peers: a peer sending blocks nobody asked for is dropped after 16, its blocks unused", () =>
  withTempDir(async (dir) => {
    const s = await scenario(dir);
    const pushy = startFakePeer(s.torrent, s.content, { unrequestedBlocks: 300 });
    await withLonePeer(dir, s, pushy, {}, async (handle) => {
      await until(() => pushy.closedByClient >= 1, "the peer to be closed", 10_000);
      assertEquals(handle.status().piecesDone, 0);
    });
  }));

Deno.test("fake peers: fast extension — have all, allowed fast while choked, rejected requests go elsewhere", () =>
  withTempDir(async (dir) => {
    const s = await scenario(dir);
    const choking = startFakePeer(s.torrent, s.content, { fast: true, chokeAllowing: [0, 1, 2] });
    const status = await download(dir, s, [
      choking,
      startFakePeer(s.torrent, s.content, { fast: true, delayMs: 3 }),
    ]);
    assertEquals(status.piecesDone, s.torrent.pieceCount);
    assert(choking.blocksSent >= 1, "allowed-fast pieces were requested while choked");
  }));

Deno.test("fake peers: a peer that never answers the handshake is given up after the handshake timeout", () =>
  withTempDir(async (dir) => {
    const s = await scenario(dir);
    const mute = startFakePeer(s.torrent, s.content, { mute: true });
    await withLonePeer(dir, s, mute, { timeouts: { handshakeMs: 200 } }, async (handle) => {
      await until(() => mute.closedByClient >= 1, "the peer to be closed", 10_000);
      assertEquals(handle.status().peersConnected, 0);
    });
  }));

Deno.test("fake peers: keep-alives are sent when quiet, and a peer that sends nothing is dropped", () =>
  withTempDir(async (dir) => {
    const s = await scenario(dir);
    const quiet = startFakePeer(s.torrent, s.content, { quietAfterHandshake: true });
    await withLonePeer(
      dir,
      s,
      quiet,
      { timeouts: { keepAliveMs: 100, idleMs: 2500 } },
      async (handle) => {
        await until(() => quiet.closedByClient >= 1, "the peer to be closed", 10_000);
        assert(quiet.keepAlives >= 1, "a keep-alive was sent before the peer was dropped");
        assertEquals(handle.status().piecesDone, 0);
      },
    );
  }));

Deno.test("fake peers: a piece a peer takes back (lt_donthave) is not asked of it; 10,000 flaps of have and lt_donthave cost nothing", () =>
  withTempDir(async (dir) => {
    const s = await scenario(dir);
    const taker = startFakePeer(s.torrent, s.content, {
      host: "127.0.0.2",
      takeBack: { piece: 3, flaps: 10_000 },
    });
    const honest = startFakePeer(s.torrent, s.content);
    const started = performance.now();
    const session = new Session({ port: 0, host: "127.0.0.1" });
    try {
      const handle = session.add(s.torrent, {
        downloadDir: `${dir}/out`,
        peers: [taker, honest].map((peer) => ({ host: peer.host, port: peer.port })),
      });
      assertEquals(await handle.done, "complete");
      await assertSameContent(s.fixture, `${dir}/out`);
      const seconds = (performance.now() - started) / 1000;
      console.log(`  complete in ${seconds.toFixed(2)} s beside 20,000 have/lt_donthave messages`);
      assertEquals(
        taker.takenBackRequests,
        0,
        "piece 3 was not asked of the peer that took it back",
      );
      assert(taker.requests > 0, "the peer was used for the other pieces");
      const seen = handle.peers().find((peer) => peer.address.startsWith("127.0.0.2"));
      if (seen) assertEquals(seen.progress, (s.torrent.pieceCount - 1) / s.torrent.pieceCount);
      assertEquals(handle.status().peersBanned, 0);
    } finally {
      await session.close();
      await taker.stop();
      await honest.stop();
    }
  }));

Deno.test("fake peers: pieces of a file skipped mid-download that finish afterwards leave the peer wanted for the rest", () =>
  withTempDir(async (dir) => {
    // File a: pieces 0 to 7 (32 KiB each); file b: pieces 8 to 12.
    const data = `${dir}/data/set`;
    await Deno.mkdir(data, { recursive: true });
    await writeRandomFile(`${data}/a.bin`, 8 * 32 * 1024, 1);
    const b = await writeRandomFile(`${data}/b.bin`, 4 * 32 * 1024 + 1000, 2);
    const { torrent } = await createTorrent(data, { pieceLength: 32 * 1024 });
    const content = new Uint8Array(torrent.totalLength);
    for (const [i, name] of ["a.bin", "b.bin"].entries()) {
      content.set(await Deno.readFile(`${data}/${name}`), torrent.files[i].offset);
    }
    // Slow blocks: the pieces of a in progress when it is skipped finish after the change.
    const peer = startFakePeer(torrent, content, { delayMs: 150 });
    const session = new Session({ port: 0, host: "127.0.0.1" });
    try {
      const handle = session.add(torrent, {
        downloadDir: `${dir}/out`,
        peers: [{ host: peer.host, port: peer.port }],
        filePriorities: ["normal", "skip"],
        // One piece at a time: b's wait for the one of a in progress, and each other.
        maxBufferedBytes: 32 * 1024,
      });
      await new Promise<void>((resolve) => handle.on("piece", () => resolve()));
      // The next piece of a starts in the buffer the first one left.
      await new Promise((resolve) => setTimeout(resolve, 50));
      await handle.setFilePriorities(["skip", "normal"]);
      // The piece of a that finished after this took one from the count of pieces wanted
      // from the peer, which fell to zero with the last piece of b not started: not
      // interested any more, the download stalled.
      const done = await Promise.race([
        handle.done,
        new Promise<string>((resolve) => setTimeout(() => resolve("stalled"), 20_000)),
      ]);
      assertEquals(done, "complete", `state ${handle.state}, ${handle.status().bytesDone} bytes`);
      assertEquals(await Deno.readFile(`${dir}/out/set/b.bin`), b);
    } finally {
      await session.close();
      await peer.stop();
    }
  }));
