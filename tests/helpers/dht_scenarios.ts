/**
 * DHT (BEP 5) scenarios, each run by `tests/dht/dht_test.ts` inside a
 * network namespace that has only loopback: no DHT traffic can leave the
 * machine. The script refuses to run anywhere else. Every node bootstraps
 * from loopback nodes only, except in "safety", which checks that the
 * built-in bootstrap list goes nowhere here. Each scenario prints `OK`
 * and what it saw.
 *
 * Usage (as root): `unshare -n bash -c 'ip link set lo up && deno run -A
 * --unstable-net tests/helpers/dht_scenarios.ts <scenario>'`
 *
 * @module
 */

import { DhtNode } from "../../lib/dht/dht_node.ts";
import { decodeKrpc, encodeKrpc } from "../../lib/dht/krpc.ts";
import { decode, encode } from "../../lib/bencode/mod.ts";
import type { BencodeDict } from "../../lib/bencode/types.ts";
import { createTorrent } from "../../lib/metainfo/create.ts";
import { toHex } from "../../lib/util/_bytes.ts";
import { bep42Scenario, hostileScenario } from "./dht_attackers.ts";
import { type ShoalDht, shoalDht, untilAnnounced } from "./dht_nodes.ts";
import { closeQuietly, dialLoopback, handshake, message, readExactly, writeAll } from "./wire.ts";
import { parseMagnet } from "../../lib/metainfo/magnet.ts";
import { parseTorrent, readTorrentFile, type Torrent } from "../../lib/metainfo/mod.ts";
import type { TorrentHandle } from "../../lib/session/torrent_handle.ts";
import { Session } from "../../lib/session/session.ts";
import { assertSameContent, copyContent, singleFileFixture } from "./content.ts";
import { spawnPeerProgram } from "./processes.ts";
import { aria2LoopbackFlags } from "./seeders.ts";
import {
  downloadWithCli,
  refuseUnlessLoopbackOnly,
  runScenario,
  watchSources,
} from "./isolated.ts";
import { run, SHOAL_CLI } from "./tools.ts";
import { freePort, startOpentracker } from "./trackers.ts";
import { until } from "./until.ts";

const LT_DHT = new URL("../peers/libtorrent_dht.py", import.meta.url).pathname;
const WEBTORRENT = new URL("../peers/webtorrent_peer.mjs", import.meta.url).pathname;

refuseUnlessLoopbackOnly("run a DHT");

/** A free UDP and TCP port on 127.0.0.1 (libtorrent uses one number for both). */
function freeUdpPort(): number {
  for (;;) {
    const port = freePort();
    try {
      Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port }).close();
      return port;
    } catch {
      // Taken for UDP: another.
    }
  }
}

const text = new TextEncoder();

function randomId(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(20));
}

/** A libtorrent program of `tests/peers/libtorrent_dht.py`. */
async function libtorrent(args: string[]) {
  const stateDir = await Deno.makeTempDir({ prefix: "shoal-dht-libtorrent-" });
  return spawnPeerProgram("/usr/bin/python3", [LT_DHT, ...args], stateDir);
}

/** A libtorrent DHT node on 127.0.0.1 (`libtorrent_dht.py node`), once it is up. */
async function libtorrentNode(): Promise<{ bootstrap: string; stop: () => Promise<void> }> {
  const port = freeUdpPort();
  const node = await libtorrent(["node", String(port)]);
  try {
    await node.output.waitFor(/READY/, 20_000, "the libtorrent node");
  } catch (error) {
    await node.stop();
    throw error;
  }
  return { bootstrap: `127.0.0.1:${port}`, stop: node.stop };
}

/** Seeds `torrent` from `dataDir` in `session`, once its data is checked. */
async function seedIn(session: Session, torrent: Torrent, dataDir: string): Promise<TorrentHandle> {
  const handle = session.add(torrent, { downloadDir: dataDir, seed: true });
  await until(() => handle.state === "seeding", "the seed is ready", 10_000);
  return handle;
}

/** A shoal session on 127.0.0.1 with the DHT on, bootstrapping from `bootstrap`. */
function dhtSession(bootstrap: string[], options: { maxUploadRate?: number } = {}): Session {
  const line = (level: string) => (message: string) =>
    Deno.env.get("SHOAL_DHT_DEBUG") &&
    console.error(`${performance.now().toFixed(0)} ${level} ${message}`);
  return new Session({
    log: { debug: line("debug"), info: line("info"), warn: line("warn"), error: line("error") },
    host: "127.0.0.1",
    port: freeUdpPort(),
    dht: { bootstrap, manyPerIp: true },
    ...options,
  });
}

/** How to start a leecher that finds its peers in the DHT. */
type DhtLeecher = (
  magnet: string,
  saveDir: string,
  port: number,
  bootstrap: string,
) => { program: string; args: string[]; done: RegExp };

/**
 * A DHT of one libtorrent node and four shoal nodes, and a shoal seed in
 * it; a leecher bootstrapped from the seed's node downloads a bare magnet
 * link. No tracker, no peer given, no LSD or PEX: the two can only meet
 * through the DHT (whichever dials; the result says which).
 */
async function clientFindsShoal(dir: string, leecher: DhtLeecher): Promise<string> {
  const fixture = await singleFileFixture(dir, 2_000_003);
  const torrent = await readTorrentFile(fixture.torrent);
  const router = await libtorrentNode();
  const bootstrap = [router.bootstrap];
  let dht: ShoalDht | undefined;
  const session = dhtSession(bootstrap);
  let client: ReturnType<typeof spawnPeerProgram> | undefined;
  let watch: ReturnType<typeof watchSources> | undefined;
  try {
    dht = await shoalDht(4, { bootstrap });
    const handle = await seedIn(session, torrent, fixture.dataDir);
    await untilAnnounced(dht.nodes[0], torrent.infoHash, session.port);
    const started = performance.now();
    const plan = leecher(
      `magnet:?xt=urn:btih:${torrent.infoHashHex}`,
      `${dir}/leech`,
      freeUdpPort(),
      `127.0.0.1:${session.dht!.port}`,
    );
    const stateDir = await Deno.makeTempDir({ prefix: "shoal-dht-leecher-" });
    client = spawnPeerProgram(plan.program, plan.args, stateDir);
    watch = watchSources(handle);
    await client.output.waitFor(plan.done, 60_000, plan.program);
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    await assertSameContent(fixture, `${dir}/leech`);
    const how = watch.sources.has("incoming") ? "it dialled shoal" : "shoal dialled it";
    return `${plan.program} downloaded a bare magnet link from shoal found through the DHT in ${seconds} s (${how})`;
  } finally {
    watch?.stop();
    await client?.stop();
    await session.close();
    await dht?.close();
    await router.stop();
  }
}

const scenarios: Record<string, (dir: string) => Promise<string>> = {
  /**
   * A libtorrent seeder announces only to the DHT (through a libtorrent
   * bootstrap node); shoal, given a bare magnet link, finds it there and
   * downloads.
   */
  async "libtorrent-seed"(dir) {
    const fixture = await singleFileFixture(dir, 2_000_003);
    const data = await copyContent(fixture, `${dir}/lt-data`);
    const torrent = await readTorrentFile(fixture.torrent);
    const router = await libtorrentNode();
    const seed = await libtorrent([
      "seed",
      fixture.torrent,
      data,
      String(freeUdpPort()),
      router.bootstrap,
    ]);
    let session: Session | undefined;
    try {
      await seed.output.waitFor(/ANNOUNCED/, 20_000, "the libtorrent seed");
      session = dhtSession([router.bootstrap]);
      const handle = session.add(parseMagnet(`magnet:?xt=urn:btih:${torrent.infoHashHex}`), {
        downloadDir: `${dir}/down`,
      });
      const watch = watchSources(handle);
      const result = await handle.done.finally(watch.stop);
      if (result !== "complete") throw new Error(`the download ended ${result}`);
      await assertSameContent(fixture, `${dir}/down`);
      if (!watch.sources.has("dht")) {
        throw new Error(`no peer came from the DHT: ${[...watch.sources]}`);
      }
      return `a bare magnet link downloaded from libtorrent found in the DHT (${
        [...watch.sources].join(", ")
      })`;
    } finally {
      await session?.close();
      await seed.stop();
      await router.stop();
    }
  },

  /**
   * Reverse: a shoal seed announces to the DHT (its own node and a
   * libtorrent node); a libtorrent leecher bootstrapped from shoal's node
   * finds shoal through the DHT and downloads a bare magnet link.
   */
  async "libtorrent-leecher"(dir) {
    const fixture = await singleFileFixture(dir, 2_000_003);
    const torrent = await readTorrentFile(fixture.torrent);
    const router = await libtorrentNode();
    let leecher: Awaited<ReturnType<typeof libtorrent>> | undefined;
    const session = dhtSession([router.bootstrap], { maxUploadRate: 1 << 20 });
    try {
      await seedIn(session, torrent, fixture.dataDir);
      leecher = await libtorrent([
        "leech",
        `magnet:?xt=urn:btih:${torrent.infoHashHex}`,
        `${dir}/lt`,
        String(freeUdpPort()),
        `127.0.0.1:${session.dht!.port}`,
      ]);
      await leecher.output.waitFor(/DONE/, 45_000, "the libtorrent leecher");
      // libtorrent's lookup must have found shoal ("DHT REPLY n", n peers); which of the two
      // dials first is a race (shoal's own lookups find libtorrent's announce too).
      await leecher.output.waitFor(/DHT REPLY [1-9]/, 20_000, "the libtorrent leecher's lookup");
      await assertSameContent(fixture, `${dir}/lt`);
      const output = leecher.output.text;
      const dialled = new RegExp(`PEER 127\\.0\\.0\\.1:${session.port} .*dht`).test(output);
      return `libtorrent, bootstrapped from shoal, found shoal in the DHT and downloaded from it (${
        dialled ? "it dialled shoal" : "shoal dialled it first"
      })`;
    } finally {
      await leecher?.stop();
      await session.close();
      await router.stop();
    }
  },

  /** aria2c, given a bare magnet link and a shoal node as its DHT entry point, finds shoal's seed. */
  async "aria2-leecher"(dir) {
    return await clientFindsShoal(dir, (magnet, saveDir, port, bootstrap) => ({
      program: "aria2c",
      args: [
        ...aria2LoopbackFlags(port).filter((flag) => !flag.startsWith("--enable-dht")),
        "--enable-dht=true",
        "--enable-dht6=false",
        `--dht-entry-point=${bootstrap}`,
        `--dht-listen-port=${port}`,
        `--dht-file-path=${saveDir}.dht`,
        "--seed-time=0",
        `--dir=${saveDir}`,
        magnet,
      ],
      // "Download complete" comes first for the metadata, then for the file; then it exits.
      done: /Download complete: .*single\.bin/,
    }));
  },

  /** WebTorrent, given a bare magnet link and a shoal node to bootstrap from, finds shoal's seed. */
  async "webtorrent-leecher"(dir) {
    return await clientFindsShoal(dir, (magnet, saveDir, port, bootstrap) => ({
      program: "node",
      args: [WEBTORRENT, "dht-leech", magnet, saveDir, String(port), bootstrap],
      done: /DONE/,
    }));
  },

  /**
   * PORT (BEP 5) over a real connection: a peer whose handshake has the
   * DHT bit hears shoal's DHT port after the bitfield, and the node a
   * peer names with PORT is pinged and joins the table once it answers.
   * For a private torrent: no DHT bit, no PORT.
   */
  async "port-message"(dir) {
    const fixture = await singleFileFixture(dir, 100_000);
    // The torrent file names a DHT node (its "nodes" list): shoal pings it when it is added.
    const named = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    const root = decode(await Deno.readFile(fixture.torrent)) as BencodeDict;
    root.set("nodes", [[text.encode("127.0.0.1"), (named.addr as Deno.NetAddr).port]]);
    const torrent = parseTorrent(encode(root));
    const privateBytes = (await createTorrent(`${fixture.dataDir}/single.bin`, {
      pieceLength: 16 * 1024,
      private: true,
    })).bytes;
    const privateTorrent = parseTorrent(privateBytes);
    const session = dhtSession([]);
    const node = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    const nodePort = (node.addr as Deno.NetAddr).port;
    try {
      for (const t of [torrent, privateTorrent]) await seedIn(session, t, fixture.dataDir);
      const [fromFile] = await Promise.race([
        named.receive(),
        new Promise<never>((_, reject) =>
          setTimeout(() => reject(new Error("the torrent file's node was not pinged")), 3000)
        ),
      ]);
      if (decodeKrpc(fromFile).kind !== "query") throw new Error("not a query to the file's node");
      const greet = async (infoHash: Uint8Array) => {
        const conn = await dialLoopback(session.port);
        const ours = handshake(infoHash, "PT", true);
        ours[27] |= 0x01; // We run a DHT node.
        await writeAll(conn, ours);
        const reply = await readExactly(conn, 68);
        if (!reply) throw new Error("no handshake");
        const messages: { id: number; body: Uint8Array }[] = [];
        const deadline = Date.now() + 1000;
        while (Date.now() < deadline && !messages.some((m) => m.id === 9)) {
          const length = await Promise.race([
            readExactly(conn, 4),
            new Promise<undefined>((resolve) =>
              setTimeout(() => resolve(undefined), deadline - Date.now())
            ),
          ]);
          if (!length) break;
          const size = new DataView(length.buffer).getUint32(0);
          if (size === 0) continue;
          const body = await readExactly(conn, size);
          if (!body) break;
          messages.push({ id: body[0], body: body.subarray(1) });
        }
        return { conn, dhtBit: (reply[27] & 0x01) !== 0, messages };
      };

      const open = await greet(torrent.infoHash);
      if (!open.dhtBit) throw new Error("no DHT bit in shoal's handshake");
      const port = open.messages.find((m) => m.id === 9);
      if (!port) throw new Error(`no PORT: ${open.messages.map((m) => m.id)}`);
      const announced = new DataView(port.body.buffer, port.body.byteOffset).getUint16(0);
      if (announced !== session.dht!.port) throw new Error(`PORT said ${announced}`);
      if (open.messages[0].id !== 5 && open.messages[0].id !== 14 && open.messages[0].id !== 20) {
        throw new Error(`PORT before the pieces: ${open.messages.map((m) => m.id)}`);
      }
      // We name our node; shoal pings it, and it joins the table when it answers.
      await writeAll(open.conn, message(9, new Uint8Array([nodePort >> 8, nodePort & 0xff])));
      const [datagram, from] = await Promise.race([
        node.receive(),
        new Promise<never>((_, reject) =>
          setTimeout(() => reject(new Error("no ping after PORT")), 3000)
        ),
      ]);
      const ping = decodeKrpc(datagram);
      if (ping.kind !== "query" || ping.method !== "ping") throw new Error(`got ${ping.kind}`);
      await node.send(
        encodeKrpc({ kind: "response", transaction: ping.transaction, result: { id: randomId() } }),
        from,
      );
      await until(() => session.dht!.size === 1, "the node named by PORT joins the table", 3000);
      // One PORT per connection is taken: a peer repeating it with other ports gets no pings.
      const other = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
      const otherPort = (other.addr as Deno.NetAddr).port;
      await writeAll(open.conn, message(9, new Uint8Array([otherPort >> 8, otherPort & 0xff])));
      const pinged = await Promise.race([
        other.receive().then(() => true, () => false),
        new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 1000)),
      ]);
      other.close();
      if (pinged) throw new Error("a second PORT on one connection was taken");
      closeQuietly(open.conn);

      const closed = await greet(privateTorrent.infoHash);
      closeQuietly(closed.conn);
      if (closed.dhtBit) throw new Error("a DHT bit in the handshake of a private torrent");
      if (closed.messages.some((m) => m.id === 9)) throw new Error("PORT for a private torrent");
      return "shoal pings the node a torrent file names, sends PORT after its pieces to a peer with the DHT bit and pings the node a PORT names (it joined the table), once per connection; a private torrent has neither";
    } finally {
      named.close();
      node.close();
      await session.close();
    }
  },

  /**
   * The CLI in a DHT of shoal nodes: `shoal dht` joins and saves its
   * table, `shoal dht get-peers` finds a seed from the saved table alone,
   * and `shoal download` of a bare magnet link finds it and downloads.
   */
  async cli(dir) {
    const fixture = await singleFileFixture(dir, 300_001);
    const torrent = await readTorrentFile(fixture.torrent);
    const dht = await shoalDht(6);
    const [entry] = dht.entry;
    const session = dhtSession([entry]);
    const everything = ["--allow-read", "--allow-write", "--allow-net", "--allow-env"];
    const shoal = (args: string[], permissions = everything) =>
      run(
        Deno.execPath(),
        ["run", "--quiet", ...permissions, "--unstable-net", SHOAL_CLI, ...args],
        {
          env: { NO_COLOR: "1" },
        },
      );
    try {
      await seedIn(session, torrent, fixture.dataDir);
      await untilAnnounced(dht.nodes[1], torrent.infoHash, session.port);
      const state = `${dir}/state`;
      const common = ["--dht-many-per-ip", "--bind", "127.0.0.1", "--state-dir", state, "--json"];
      // The narrowest permissions the README gives for shoal dht with --state-dir.
      await Deno.mkdir(state);
      const narrowest = [`--allow-read=${state}`, `--allow-write=${state}`, "--allow-net"];
      const joined = await shoal(["dht", "--dht-bootstrap", entry, ...common], narrowest);
      if (joined.code !== 0) throw new Error(`shoal dht exited ${joined.code}: ${joined.stderr}`);
      const table = JSON.parse(joined.stdout);
      if (table.nodes < 1) throw new Error(`shoal dht: ${joined.stdout}`);
      const saved = JSON.parse(await Deno.readTextFile(`${state}/dht.json`));
      if (!(saved.nodes?.length >= 1)) throw new Error(`nothing saved: ${JSON.stringify(saved)}`);
      // With net access to some hosts only, there is no DHT, and it says why.
      const narrowed = await shoal(
        ["dht", "--dht-bootstrap", entry, ...common],
        [...narrowest.slice(0, 2), "--allow-net=127.0.0.1"],
      );
      if (narrowed.code !== 4 || !narrowed.stderr.includes("--allow-net with no list")) {
        throw new Error(
          `shoal dht with --allow-net=127.0.0.1: ${narrowed.code} ${narrowed.stderr}`,
        );
      }

      // No --dht-bootstrap: the saved table is all it has here (the built-in names do not resolve).
      const looked = await shoal(["dht", "get-peers", torrent.infoHashHex, ...common]);
      if (looked.code !== 0) throw new Error(`get-peers exited ${looked.code}: ${looked.stderr}`);
      const lookup = JSON.parse(looked.stdout);
      if (!lookup.peers.includes(`127.0.0.1:${session.port}`)) {
        throw new Error(`get-peers did not find the seed: ${looked.stdout}`);
      }

      await downloadWithCli(fixture, `magnet:?xt=urn:btih:${torrent.infoHashHex}`, dir, [
        ...["--dht-bootstrap", entry, "--dht-many-per-ip", "--no-lsd"],
      ]);
      return `shoal dht joined (${table.nodes} nodes, ${saved.nodes.length} saved); get-peers from the saved table found the seed after ${lookup.queries} queries in ${lookup.ms} ms; shoal download of a bare magnet link found it and downloaded`;
    } finally {
      await session.close();
      await dht.close();
    }
  },

  /**
   * A magnet link whose torrent turns out private (BEP 27): once its
   * metadata says so, its DHT lookups stop. The DHT's one other node is a
   * spy that counts the `get_peers` queries for the torrent and answers
   * with nothing: a public torrent would look again 30 s later.
   */
  async "private-magnet"(dir) {
    const fixture = await singleFileFixture(dir, 100_000);
    const privateTorrent = parseTorrent(
      (await createTorrent(`${fixture.dataDir}/single.bin`, {
        pieceLength: 16 * 1024,
        private: true,
      }))
        .bytes,
    );
    const spy = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    const asked: number[] = [];
    const listening = (async () => {
      try {
        for (;;) {
          const [datagram, from] = await spy.receive();
          const query = decodeKrpc(datagram);
          if (query.kind !== "query") continue;
          if (
            query.method === "get_peers" &&
            toHex(query.args.infoHash ?? new Uint8Array()) === privateTorrent.infoHashHex
          ) {
            asked.push(performance.now());
          }
          const result = { id: randomId(), token: text.encode("spy") };
          await spy.send(
            encodeKrpc({ kind: "response", transaction: query.transaction, result }),
            from,
          );
        }
      } catch {
        // Closed.
      }
    })();
    const seed = new Session({ host: "127.0.0.1", port: freeUdpPort() });
    const session = dhtSession([`127.0.0.1:${(spy.addr as Deno.NetAddr).port}`]);
    try {
      await seedIn(seed, privateTorrent, fixture.dataDir);
      const magnet = parseMagnet(
        `magnet:?xt=urn:btih:${privateTorrent.infoHashHex}&x.pe=127.0.0.1:${seed.port}`,
      );
      const handle = session.add(magnet, { downloadDir: `${dir}/down` });
      const result = await handle.done;
      if (result !== "complete") throw new Error(`the download ended ${result}`);
      const knownAt = performance.now();
      const before = asked.length;
      await new Promise((resolve) => setTimeout(resolve, 34_000));
      const after = asked.filter((at) => at > knownAt).length;
      if (after > 0) {
        throw new Error(`${after} DHT lookups of the private torrent after its metadata came`);
      }
      return `the private torrent's metadata came from its seed; ${before} lookup${
        before === 1 ? "" : "s"
      } of it in the DHT before, none in the 34 s after`;
    } finally {
      await session.close();
      await seed.close();
      spy.close();
      await listening;
    }
  },

  /**
   * Started with its bootstrap node down, a node tries again (5 s later,
   * then backing off) and joins once that node is up.
   */
  async rebootstrap() {
    const port = freeUdpPort();
    const node = new DhtNode({
      bind: ["127.0.0.1"],
      port: 0,
      manyPerIp: true,
      bootstrap: [`127.0.0.1:${port}`],
    });
    let later: DhtNode | undefined;
    try {
      await node.ready();
      if (node.size !== 0) throw new Error("a node answered from a closed port");
      later = new DhtNode({ bind: ["127.0.0.1"], port, manyPerIp: true, bootstrap: [] });
      const started = performance.now();
      await until(() => node.size > 0, "the node joins once its bootstrap node is up", 15_000);
      return `the first bootstrap found nobody; the node joined ${
        ((performance.now() - started) / 1000).toFixed(1)
      } s after its bootstrap node came up`;
    } finally {
      await node.close();
      await later?.close();
    }
  },

  /**
   * The UDP tracker client sends from the DHT's socket: a download whose
   * only peer source is a UDP tracker (opentracker) completes, and the
   * downloading session opened no UDP socket beyond its DHT's.
   */
  async "shared-udp"(dir) {
    const fixture = await singleFileFixture(dir, 300_001);
    const plain = await readTorrentFile(fixture.torrent);
    const tracker = await startOpentracker([plain.infoHashHex]);
    const torrent = parseTorrent(
      (await createTorrent(`${fixture.dataDir}/single.bin`, {
        pieceLength: 16 * 1024,
        trackers: [[tracker.udp]],
      })).bytes,
    );
    const seed = new Session({ host: "127.0.0.1", port: freeUdpPort() });
    let session: Session | undefined;
    try {
      await seedIn(seed, torrent, fixture.dataDir);
      await new Promise((resolve) => setTimeout(resolve, 300)); // Its announce is in.
      const before = await udpSockets();
      session = dhtSession([]);
      const handle = session.add(torrent, { downloadDir: `${dir}/down` });
      const result = await handle.done;
      if (result !== "complete") throw new Error(`the download ended ${result}`);
      await assertSameContent(fixture, `${dir}/down`);
      const opened = (await udpSockets()) - before;
      if (opened !== 1) {
        throw new Error(`the session opened ${opened} UDP sockets, not its DHT's one`);
      }
      return "a download whose peers came from a UDP tracker announced from the DHT's socket (no other UDP socket opened)";
    } finally {
      await session?.close();
      await seed.close();
      await tracker.stop();
    }
  },

  /** BEP 42: once three nodes agree on our address, our id follows it. */
  bep42: () => bep42Scenario(),

  /** Garbage, floods, unasked-for replies and a lying node: the node stays bounded. */
  hostile: () => hostileScenario(),

  /**
   * IPv4 and IPv6 (BEP 32): 10 shoal nodes on 127.0.0.1 and ::1 join
   * through both families; a peer announced over IPv6 is found over IPv6
   * (`values` of 18 bytes), and the tables hold nodes of both families
   * (`nodes6`, `want`).
   */
  async "ipv6"() {
    const dht = await shoalDht(10, { bind: ["127.0.0.1", "::1"] });
    const { nodes } = dht;
    try {
      const infoHash = randomId();
      const announced = await nodes[3].announce(infoHash, 7006);
      if (announced.announced < 1) throw new Error("the announce reached no node");
      const lookup = await nodes[8].getPeers(infoHash);
      const families = new Set(lookup.peers.filter((p) => p.port === 7006).map((p) => p.host));
      if (!families.has("::1")) throw new Error(`no IPv6 peer found: ${[...families]}`);
      const hosts = new Set(nodes.flatMap((node) => node.savedNodes().map((n) => n.host)));
      if (!hosts.has("::1") || !hosts.has("127.0.0.1")) {
        throw new Error(`the tables hold ${[...hosts]}`);
      }
      return `a peer announced over both families was found at ${
        [...families].join(" and ")
      }; the tables hold IPv4 and IPv6 nodes`;
    } finally {
      await dht.close();
    }
  },

  /**
   * 30 shoal nodes: one announces an info hash, and every other finds it;
   * queries per lookup and time.
   */
  async "shoal-30"() {
    const count = 30;
    const dht = await shoalDht(count);
    const { nodes } = dht;
    try {
      const infoHash = crypto.getRandomValues(new Uint8Array(20));
      const announced = await nodes[7].announce(infoHash, 7007);
      if (announced.announced < 1) throw new Error("the announce reached no node");
      let found = 0;
      let queries = 0;
      let ms = 0;
      for (const [i, node] of nodes.entries()) {
        if (i === 7) continue;
        const lookup = await node.getPeers(infoHash);
        if (lookup.peers.some((peer) => peer.port === 7007)) found++;
        queries += lookup.queries;
        ms += lookup.ms;
      }
      if (found !== count - 1) throw new Error(`only ${found} of ${count - 1} lookups found it`);
      return `${found} of ${count - 1} lookups found the peer: ${
        (queries / (count - 1)).toFixed(1)
      } queries and ${(ms / (count - 1)).toFixed(1)} ms per lookup`;
    } finally {
      await dht.close();
    }
  },

  /**
   * `shoal download` of a bare magnet link with the DHT on and its
   * built-in bootstrap list: here no name resolves, so nothing is sent and
   * the download gives up (its stall timeout).
   */
  async "safety"(dir) {
    const before = await udpDatagramsOut();
    const result = await run(Deno.execPath(), [
      "run",
      "--quiet",
      "--allow-read",
      "--allow-write",
      "--allow-net",
      "--allow-env",
      "--unstable-net",
      SHOAL_CLI,
      "download",
      `magnet:?xt=urn:btih:${"ab".repeat(20)}`,
      "-d",
      `${dir}/down`,
      "-p",
      String(freeUdpPort()),
      "--no-lsd",
      "--stall-timeout",
      "6s",
      "-v",
    ]);
    const after = await udpDatagramsOut();
    if (result.code !== 4) throw new Error(`shoal exited ${result.code}: ${result.stderr}`);
    for (const name of ["dht.libtorrent.org", "dht.transmissionbt.com"]) {
      if (!result.stderr.includes(`cannot resolve the bootstrap node ${name}`)) {
        throw new Error(`no word of ${name}:\n${result.stderr}`);
      }
    }
    const sent = /DHT: (\d+) queries sent/.exec(result.stderr)?.[1];
    if (sent !== "0") throw new Error(`the DHT sent ${sent} queries:\n${result.stderr}`);
    // Only loopback exists here, so any datagram that was sent stayed on this machine; with a
    // resolver off the machine (unreachable from here) not even DNS goes out, and none may.
    const resolver = (await Deno.readTextFile("/etc/resolv.conf").catch(() => ""))
      .match(/nameserver\s+(\S+)/)?.[1] ?? "none";
    const localResolver = /^(127\.|::1$)/.test(resolver);
    if (!localResolver && after !== before) {
      throw new Error(`${after - before} UDP datagrams were sent in the namespace`);
    }
    return `no bootstrap name resolved, the DHT sent no query; UDP datagrams sent in the namespace: ${
      after - before
    } (resolver ${resolver})`;
  },
};

/** UDP sockets open in the namespace (`/proc/net/udp` and `udp6`). */
async function udpSockets(): Promise<number> {
  let count = 0;
  for (const file of ["/proc/net/udp", "/proc/net/udp6"]) {
    const text = await Deno.readTextFile(file).catch(() => "");
    count += text.trim().split("\n").length - 1;
  }
  return count;
}

/** The namespace's count of UDP datagrams sent (`/proc/net/snmp`). */
async function udpDatagramsOut(): Promise<number> {
  const lines = (await Deno.readTextFile("/proc/net/snmp")).split("\n")
    .filter((line) => line.startsWith("Udp:"));
  const [names, values] = lines.map((line) => line.split(/\s+/));
  return Number(values[names.indexOf("OutDatagrams")]);
}

await runScenario(scenarios, 90);
