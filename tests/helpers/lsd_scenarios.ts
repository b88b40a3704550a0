/**
 * Local service discovery (BEP 14) scenarios, each run by
 * `tests/discovery/lsd_test.ts` inside a network namespace that has only
 * loopback (with multicast on it): the multicast never leaves the machine.
 * The script refuses to run anywhere else. Each scenario has its peers
 * find each other by LSD alone (no tracker, no peer given), checks the
 * download byte for byte, and prints `OK` and what it saw.
 *
 * Usage (as root): `unshare -n bash -c 'ip link set lo up && ip link set lo
 * multicast on && ip route add 224.0.0.0/4 dev lo && deno run -A
 * --unstable-net tests/helpers/lsd_scenarios.ts <scenario>'`
 *
 * @module
 */

import { createTorrent } from "../../lib/metainfo/create.ts";
import { readTorrentFile } from "../../lib/metainfo/mod.ts";
import { Session } from "../../lib/session/session.ts";
import { assertSameContent, copyContent, singleFileFixture } from "./content.ts";
import { spawnPeerProgram } from "./processes.ts";
import {
  downloadWithCli,
  refuseUnlessLoopbackOnly,
  runScenario,
  watchSources,
} from "./isolated.ts";
import { freePort } from "./trackers.ts";
import { until } from "./until.ts";
import { LSD_IPV4 } from "../../lib/discovery/lsd_message.ts";

const PEERS_DIR = new URL("../peers/", import.meta.url).pathname;

refuseUnlessLoopbackOnly("multicast");

/** A shoal seed on 127.0.0.1 with LSD on, slow enough to be seen at work. */
async function shoalSeed(fixture: { torrent: string; dataDir: string }) {
  const torrent = await readTorrentFile(fixture.torrent);
  const session = new Session({ host: "127.0.0.1", port: 0, lsd: true, maxUploadRate: 1 << 20 });
  const handle = session.add(torrent, { downloadDir: fixture.dataDir, seed: true });
  await until(() => handle.state === "seeding", "the shoal seed is ready", 10_000);
  return { session, handle, torrent };
}

/** A socket in the IPv4 group that keeps every announce it hears, and can send its own. */
async function groupMember() {
  const socket = Deno.listenDatagram({
    transport: "udp",
    hostname: "0.0.0.0",
    port: LSD_IPV4.port,
    reuseAddress: true,
  });
  await socket.joinMulticastV4(LSD_IPV4.host, "127.0.0.1");
  const heard: string[] = [];
  const listening = (async () => {
    try {
      for await (const [datagram] of socket) heard.push(new TextDecoder().decode(datagram));
    } catch {
      // Closed.
    }
  })();
  const group = { transport: "udp" as const, hostname: LSD_IPV4.host, port: LSD_IPV4.port };
  return {
    heard,
    send: (text: string | Uint8Array) =>
      socket.send(typeof text === "string" ? new TextEncoder().encode(text) : text, group),
    close: async () => {
      socket.close();
      await listening;
    },
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const scenarios: Record<string, (dir: string) => Promise<string>> = {
  /**
   * What shoal sends and what it takes: one announce per torrent on start,
   * none again within the minute after a pause and resume; garbage,
   * announces for other torrents and floods do not get far.
   */
  async "rules"(dir) {
    const member = await groupMember();
    const fixture = await singleFileFixture(dir, 100_000);
    const seed = await shoalSeed(fixture);
    const hash = seed.torrent.infoHashHex;
    const ours = (text: string) => text.includes(`Port: ${seed.session.port}\r\n`);
    try {
      await until(() => member.heard.some(ours), "shoal's first announce", 5_000);
      await sleep(2500);
      const first = member.heard.filter(ours);
      if (first.length !== 1 || !first[0].includes(`Infohash: ${hash}\r\n`)) {
        throw new Error(`one announce with the torrent expected: ${JSON.stringify(first)}`);
      }
      if (!/^BT-SEARCH \* HTTP\/1\.1\r\nHost: 239\.192\.152\.143:6771\r\n/.test(first[0])) {
        throw new Error(`not a BEP 14 announce: ${JSON.stringify(first[0])}`);
      }
      // A private torrent (BEP 27) is never announced; a second public one is, once.
      const { torrent: hidden } = await createTorrent(`${fixture.dataDir}/single.bin`, {
        pieceLength: 16 * 1024,
        private: true,
      });
      const { torrent: second } = await createTorrent(`${fixture.dataDir}/single.bin`, {
        pieceLength: 32 * 1024,
      });
      for (const torrent of [hidden, second]) {
        seed.session.add(torrent, { downloadDir: fixture.dataDir, seed: true });
      }
      await seed.handle.pause();
      seed.handle.resume();
      await until(() => seed.handle.state === "seeding", "seeding again", 10_000);
      // A torrent just started goes out within 5 s of the last datagram.
      const announced = () => member.heard.filter(ours).join("");
      await until(() => announced().includes(second.infoHashHex), "the second torrent", 10_000);
      await sleep(1500);
      const all = announced();
      if (all.split(`Infohash: ${hash}`).length !== 2) {
        throw new Error("announced again within the minute after a resume");
      }
      if (all.includes(hidden.infoHashHex)) throw new Error("a private torrent was announced");
      if (!all.includes(second.infoHashHex)) {
        throw new Error("the second torrent was not announced");
      }
      // Hostile datagrams: garbage, bad ports, other torrents, then a flood naming 60 ports.
      const target = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      const accepting = (async () => {
        for await (const conn of target) conn.close();
      })().catch(() => {});
      const announce = (port: number | string, infoHash: string) =>
        `BT-SEARCH * HTTP/1.1\r\nHost: 239.192.152.143:6771\r\nPort: ${port}\r\nInfohash: ${infoHash}\r\n\r\n\r\n`;
      await member.send(new Uint8Array(5000));
      await member.send("GET / HTTP/1.1\r\n\r\n");
      await member.send(announce(0, hash));
      await member.send(announce("99999", hash));
      await member.send(announce((target.addr as Deno.NetAddr).port, "ab".repeat(20)));
      // Unicast to the LSD port is not multicast: nobody hears it.
      await sleep(300);
      const seenBefore = seed.handle.status().peersSeen;
      const unicast = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
      await unicast.send(new TextEncoder().encode(announce(19_999, hash)), {
        transport: "udp",
        hostname: "127.0.0.1",
        port: LSD_IPV4.port,
      }).catch(() => 0);
      unicast.close();
      await sleep(500);
      if (seed.handle.status().peersSeen !== seenBefore) {
        throw new Error("a unicast announce was heard");
      }
      for (let i = 0; i < 60; i++) await member.send(announce(20_000 + i, hash));
      await sleep(1000);
      const seen = seed.handle.status().peersSeen;
      target.close();
      await accepting;
      // The member's 4 garbage datagrams count against it, then 16 of the flood are heard.
      if (seen > 20) throw new Error(`${seen} addresses taken from one sender in a minute`);
      if (seed.handle.state !== "seeding") throw new Error(`the seed is ${seed.handle.state}`);
      return `one announce per torrent, none again after a resume, none for a private torrent; ${seen} of 60 flooded addresses taken`;
    } finally {
      await member.close();
      await seed.session.close();
    }
  },

  /** Two shoal sessions: the leecher knows nobody, and finds the seed on the LAN. */
  async "shoal-shoal"(dir) {
    const fixture = await singleFileFixture(dir, 2_000_003);
    const seed = await shoalSeed(fixture);
    const session = new Session({ host: "127.0.0.1", port: 0, lsd: true });
    try {
      const handle = session.add(seed.torrent, { downloadDir: `${dir}/down` });
      const watch = watchSources(handle);
      const result = await handle.done;
      watch.stop();
      if (result !== "complete") throw new Error(`the download ended ${result}`);
      await assertSameContent(fixture, `${dir}/down`);
      if (!watch.sources.has("lsd")) throw new Error(`no LSD peer: ${[...watch.sources]}`);
      return `downloaded from a peer found by LSD (${[...watch.sources].join(", ")})`;
    } finally {
      await session.close();
      await seed.session.close();
    }
  },

  /** `shoal download` (LSD on by default, bound to 127.0.0.1) finds a shoal seed on the LAN. */
  async "cli"(dir) {
    const fixture = await singleFileFixture(dir, 2_000_003);
    const seed = await shoalSeed(fixture);
    try {
      await downloadWithCli(fixture, fixture.torrent, dir, ["--no-dht"]);
      return "shoal download found the seed by LSD";
    } finally {
      await seed.session.close();
    }
  },

  /**
   * A libtorrent leecher with LSD on and a shoal seed: libtorrent starts
   * first (it listens once it has announced), and its log must show that
   * it heard shoal's announce and added shoal as a peer; whoever dials
   * first, the data must arrive.
   */
  async "libtorrent-leecher"(dir) {
    const fixture = await singleFileFixture(dir, 2_000_003);
    const stateDir = await Deno.makeTempDir({ prefix: "shoal-lsd-libtorrent-" });
    // Seed mode with no data: it downloads from whom it finds and stays.
    const libtorrent = spawnPeerProgram(
      "/usr/bin/python3",
      [`${PEERS_DIR}libtorrent_peer.py`, "seed", fixture.torrent, `${dir}/lt`, String(freePort())],
      stateDir,
      { SHOAL_LT_LSD: "1", SHOAL_LT_PEERS: "1" },
    );
    let seed: Awaited<ReturnType<typeof shoalSeed>> | undefined;
    try {
      await libtorrent.output.waitFor(/==> LSD/, 20_000, "libtorrent's first announce");
      seed = await shoalSeed(fixture);
      await libtorrent.output.waitFor(/READY/, 30_000, "libtorrent (complete)");
      await assertSameContent(fixture, `${dir}/lt`);
      const heard = `<== LSD: 127.0.0.1:${seed.session.port} ih: ${seed.torrent.infoHashHex}`;
      await libtorrent.output.waitFor(/lsd add_peer\(\)/, 5_000, "libtorrent adding shoal");
      if (!libtorrent.output.text.includes(heard)) {
        throw new Error(`libtorrent did not hear shoal's announce:\n${libtorrent.output.text}`);
      }
      return "libtorrent heard shoal's announce, added it and downloaded from it";
    } finally {
      await libtorrent.stop();
      await seed?.session.close();
    }
  },

  /** shoal, knowing nobody, finds a libtorrent seed with LSD on. */
  async "libtorrent-seed"(dir) {
    const fixture = await singleFileFixture(dir, 2_000_003);
    const data = await copyContent(fixture, `${dir}/lt-data`);
    const stateDir = await Deno.makeTempDir({ prefix: "shoal-lsd-libtorrent-" });
    const libtorrent = spawnPeerProgram(
      "/usr/bin/python3",
      [`${PEERS_DIR}libtorrent_peer.py`, "seed", fixture.torrent, data, String(freePort())],
      stateDir,
      { SHOAL_LT_LSD: "1", SHOAL_LT_UPLOAD_LIMIT: String(1 << 20) },
    );
    const session = new Session({ host: "127.0.0.1", port: 0, lsd: true });
    try {
      await libtorrent.output.waitFor(/READY/, 20_000, "the libtorrent seed");
      const handle = session.add(await readTorrentFile(fixture.torrent), {
        downloadDir: `${dir}/down`,
      });
      const watch = watchSources(handle);
      const result = await handle.done;
      watch.stop();
      if (result !== "complete") throw new Error(`the download ended ${result}`);
      await assertSameContent(fixture, `${dir}/down`);
      return `downloaded from libtorrent (${[...watch.sources].join(", ")})`;
    } finally {
      await session.close();
      await libtorrent.stop();
    }
  },
};

await runScenario(scenarios, 60);
