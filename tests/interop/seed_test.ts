/**
 * shoal seeds alone (only shoal has the data) to real leechers over
 * loopback: aria2c (through opentracker), transmission-cli (shoal dials
 * it), libtorrent and WebTorrent; each ends with byte-identical files.
 */
import { readTorrentFile } from "../../lib/metainfo/mod.ts";
import { Session } from "../../lib/session/session.ts";
import type { PeerSummary } from "../../lib/swarm/swarm.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import { assertSameContent, type Fixture, multiFileFixture } from "../helpers/content.ts";
import { LEECHER_PROGRAMS, type LeecherKind, startLeecher } from "../helpers/leechers.ts";
import { testWithIPv6, testWithPrograms, withTempDir } from "../helpers/tools.ts";
import { startOpentracker } from "../helpers/trackers.ts";

async function seedTo(
  kind: LeecherKind,
  dir: string,
  fixture: Fixture,
  over: "IPv4" | "IPv6" = "IPv4",
  encryption?: "rc4" | "plaintext",
): Promise<PeerSummary | undefined> {
  const torrent = await readTorrentFile(fixture.torrent);
  // Over IPv6 the seeder listens the default way (every address, dual-stack).
  const seeder = new Session(over === "IPv4" ? { port: 0, host: "127.0.0.1" } : { port: 0 });
  try {
    const handle = seeder.add(torrent, {
      downloadDir: fixture.dataDir,
      seed: true,
      requireComplete: true,
    });
    assertEquals(await handle.done, "complete");
    assertEquals(handle.state, "seeding");
    const leecher = await startLeecher(
      kind,
      fixture.torrent,
      `${dir}/leech-${kind}`,
      over === "IPv4" ? `127.0.0.1:${seeder.port}` : `[::1]:${seeder.port}`,
      { encryption },
    );
    let seen: PeerSummary | undefined;
    const watch = setInterval(() => (seen ??= handle.peers()[0]), 5);
    try {
      // Transmission never dials loopback peers: the seeder dials it.
      if (kind === "transmission") handle.addPeers([{ host: "127.0.0.1", port: leecher.port }]);
      await leecher.done;
    } finally {
      clearInterval(watch);
      await leecher.stop();
    }
    // Transmission does not create empty files.
    const expected = kind === "transmission"
      ? { ...fixture, files: fixture.files.filter((f) => f.length > 0) }
      : fixture;
    await assertSameContent(expected, `${dir}/leech-${kind}`);
    assert(handle.status().uploaded >= torrent.totalLength, `uploaded ${handle.status().uploaded}`);
    return seen;
  } finally {
    await seeder.close();
  }
}

for (const kind of ["libtorrent", "webtorrent", "transmission"] as const) {
  testWithPrograms(
    `seed: shoal alone seeds a multi-file torrent to ${kind}`,
    LEECHER_PROGRAMS[kind],
    () =>
      withTempDir(async (dir) => {
        await seedTo(kind, dir, await multiFileFixture(dir));
      }),
  );
}

testWithIPv6(
  "seed: listening on every address, shoal seeds to libtorrent dialling it over IPv6 (::1)",
  LEECHER_PROGRAMS.libtorrent,
  () =>
    withTempDir(async (dir) => {
      await seedTo("libtorrent", dir, await multiFileFixture(dir), "IPv6");
    }),
);

for (const encryption of ["rc4", "plaintext"] as const) {
  testWithPrograms(
    `seed: libtorrent requiring an encrypted handshake (MSE) with ${encryption} payload is served`,
    LEECHER_PROGRAMS.libtorrent,
    () =>
      withTempDir(async (dir) => {
        const peer = await seedTo(
          "libtorrent",
          dir,
          await multiFileFixture(dir),
          "IPv4",
          encryption,
        );
        assert(peer, "the leecher was seen connected");
        assertEquals(peer.encryption, encryption === "rc4" ? "rc4" : "handshake");
      }),
  );
}

testWithPrograms("seed: shoal alone seeds to aria2c, which finds it through opentracker", [
  "aria2c",
  "opentracker",
], () =>
  withTempDir(async (dir) => {
    const probe = await multiFileFixture(`${dir}`);
    const tracker = await startOpentracker([(await readTorrentFile(probe.torrent)).infoHashHex]);
    try {
      await Deno.mkdir(`${dir}/t`);
      const fixture = await multiFileFixture(`${dir}/t`, [[tracker.http]]);
      await seedTo("aria2", dir, fixture);
    } finally {
      await tracker.stop();
    }
  }));
