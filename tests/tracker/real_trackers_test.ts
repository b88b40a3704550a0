/**
 * The HTTP and UDP tracker clients against real trackers on loopback:
 * opentracker (Debian) and bittorrent-tracker (npm).
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import {
  Announcer,
  type AnnounceRequest,
  type AnnounceResult,
  type DiscoveredPeer,
  httpAnnounce,
  httpScrape,
  type ScrapeResult,
  UdpTrackerClient,
} from "../../lib/tracker/mod.ts";
import { toHex } from "../../lib/util/_bytes.ts";
import { testWithPrograms } from "../helpers/tools.ts";
import {
  type RunningTracker,
  startBittorrentTracker,
  startOpentracker,
} from "../helpers/trackers.ts";

/**
 * An info hash of ASCII bytes only: bittorrent-tracker's HTTP scrape reply
 * encodes info hash keys as UTF-8 text, which equals the raw bytes only then.
 */
function asciiInfoHash(seed: number): Uint8Array {
  return Uint8Array.from({ length: 20 }, (_, i) => 0x41 + ((seed * 7 + i * 3) % 26));
}

function peerId(n: number): Uint8Array {
  return new TextEncoder().encode(`-TT0001-${String(n).padStart(12, "0")}`);
}

function request(
  infoHash: Uint8Array,
  n: number,
  overrides: Partial<AnnounceRequest> = {},
): AnnounceRequest {
  return {
    infoHash,
    peerId: peerId(n),
    port: 40000 + n,
    uploaded: 0,
    downloaded: 0,
    left: 1000,
    event: "started",
    numWant: 50,
    key: n,
    ...overrides,
  };
}

type Protocol = "http" | "udp";

interface Client {
  announce(url: string, request: AnnounceRequest): Promise<AnnounceResult>;
  scrape(url: string, infoHash: Uint8Array): Promise<ScrapeResult | undefined>;
}

function clientFor(protocol: Protocol, udp: UdpTrackerClient): Client {
  if (protocol === "http") {
    return {
      announce: (url, r) => httpAnnounce(url, r),
      scrape: async (url, hash) => (await httpScrape(url, [hash])).get(toHex(hash)),
    };
  }
  return {
    announce: (url, r) => udp.announce(url, r),
    scrape: async (url, hash) => (await udp.scrape(url, [hash]))[0],
  };
}

/** Ports of the loopback peers in a reply, without the announcing peer itself (trackers may include it). */
function ports(result: AnnounceResult, self: number): number[] {
  return result.peers.filter((p) => p.host === "127.0.0.1" && p.port !== 40000 + self).map((p) =>
    p.port
  )
    .sort();
}

async function exerciseTracker(
  tracker: RunningTracker,
  protocol: Protocol,
  infoHash: Uint8Array,
): Promise<void> {
  const udp = new UdpTrackerClient({ retransmitBaseMs: 500, maxRetransmits: 3 });
  try {
    const client = clientFor(protocol, udp);
    const url = protocol === "http" ? tracker.http : tracker.udp;
    const first = await client.announce(url, request(infoHash, 1));
    assert(first.interval > 0, `interval ${first.interval}`);
    const second = await client.announce(url, request(infoHash, 2));
    assertEquals(ports(second, 2), [40001], `${protocol}: the second peer learns the first`);
    const seeder = await client.announce(
      url,
      request(infoHash, 3, { left: 0, event: "completed" }),
    );
    assertEquals(ports(seeder, 3), [40001, 40002]);
    assertEquals([seeder.complete, seeder.incomplete], [1, 2]);

    const scraped = await client.scrape(url, infoHash);
    assertEquals(scraped?.complete, 1, `${protocol} scrape complete`);
    assertEquals(scraped?.incomplete, 2, `${protocol} scrape incomplete`);

    await client.announce(url, request(infoHash, 1, { event: "stopped" }));
    const after = await client.announce(url, request(infoHash, 2, { event: "none" }));
    assertEquals(ports(after, 2), [40003], `${protocol}: stopped removed the first peer`);
    assertEquals((await client.scrape(url, infoHash))?.incomplete, 1);
  } finally {
    udp.close();
  }
}

for (const protocol of ["http", "udp"] as const) {
  testWithPrograms(
    `tracker: opentracker over ${protocol}: peers, scrape, stopped`,
    ["opentracker"],
    async () => {
      const infoHash = asciiInfoHash(protocol === "http" ? 1 : 2);
      const tracker = await startOpentracker([toHex(infoHash)]);
      try {
        await exerciseTracker(tracker, protocol, infoHash);
      } finally {
        await tracker.stop();
      }
    },
  );

  testWithPrograms(
    `tracker: bittorrent-tracker over ${protocol}: peers, scrape, stopped`,
    ["bittorrent-tracker", "node"],
    async () => {
      const tracker = await startBittorrentTracker();
      try {
        await exerciseTracker(tracker, protocol, asciiInfoHash(protocol === "http" ? 3 : 4));
      } finally {
        await tracker.stop();
      }
    },
  );
}

testWithPrograms(
  "tracker: opentracker refuses an info hash not on its whitelist",
  ["opentracker"],
  async () => {
    const tracker = await startOpentracker([toHex(asciiInfoHash(9))]);
    try {
      const error = await httpAnnounce(tracker.http, request(asciiInfoHash(10), 1)).catch((e) => e);
      assertEquals(error.kind, "failure");
      assert(/not authorized/i.test(error.message), error.message);
    } finally {
      await tracker.stop();
    }
  },
);

testWithPrograms("tracker: one UDP client serves two trackers and two torrents at once", [
  "opentracker",
  "bittorrent-tracker",
  "node",
], async () => {
  const a = asciiInfoHash(11);
  const b = asciiInfoHash(12);
  const open = await startOpentracker([toHex(a), toHex(b)]);
  const bt = await startBittorrentTracker();
  const udp = new UdpTrackerClient({ retransmitBaseMs: 500, maxRetransmits: 3 });
  try {
    const results = await Promise.all([
      udp.announce(open.udp, request(a, 1)),
      udp.announce(open.udp, request(b, 2)),
      udp.announce(bt.udp, request(a, 3)),
      udp.announce(bt.udp, request(b, 4)),
    ]);
    assertEquals(results.length, 4);
    const again = await Promise.all([
      udp.announce(open.udp, request(a, 5)),
      udp.announce(bt.udp, request(b, 6)),
    ]);
    assertEquals(ports(again[0], 5), [40001]);
    assertEquals(ports(again[1], 6), [40004]);
    assertEquals(udp.ignoredPackets, 0);
  } finally {
    udp.close();
    await Promise.all([open.stop(), bt.stop()]);
  }
});

testWithPrograms("tracker: the announcer against opentracker over UDP and HTTP tiers", [
  "opentracker",
], async () => {
  const infoHash = asciiInfoHash(20);
  const tracker = await startOpentracker([toHex(infoHash)]);
  const udp = new UdpTrackerClient({ retransmitBaseMs: 500, maxRetransmits: 2 });
  try {
    // Two other peers are already in the swarm.
    await httpAnnounce(tracker.http, request(infoHash, 1));
    await udp.announce(tracker.udp, request(infoHash, 2, { left: 0 }));
    const found: DiscoveredPeer[] = [];
    const announcer = new Announcer({
      infoHash,
      peerId: peerId(9),
      port: 40009,
      trackers: [[tracker.udp], [tracker.http]],
      private: false,
      stats: () => ({ uploaded: 0, downloaded: 0, left: 500 }),
      udp,
      onPeers: (peers) => found.push(...peers),
    });
    announcer.start();
    const deadline = Date.now() + 5000;
    while (announcer.statuses().some((s) => s.state !== "working") && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assertEquals(announcer.statuses().map((s) => s.state), ["working", "working"]);
    assertEquals(announcer.statuses().map((s) => [s.seeders, s.leechers]), [[1, 2], [1, 2]]);
    const others = found.filter((p) => p.port !== 40009);
    // Both tiers list both peers; the peer pool keeps one of each (tests/discovery/peer_pool_test.ts).
    assertEquals([...new Set(others.map((p) => p.port))].sort(), [40001, 40002]);
    assert(others.every((p) => p.source === tracker.udp || p.source === tracker.http));
    await announcer.stop();
    assertEquals(
      (await udp.scrape(tracker.udp, [infoHash]))[0].incomplete,
      1,
      "stopped removed us",
    );
  } finally {
    udp.close();
    await tracker.stop();
  }
});
