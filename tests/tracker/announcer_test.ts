/**
 * The announcer against fake HTTP trackers (real servers on loopback) that
 * record every announce: tiers, promotion, events, intervals, backoff,
 * private torrents, deduplicated peers, and stopping.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { until } from "../helpers/until.ts";
import { type BencodeInput, encode } from "../../lib/bencode/mod.ts";
import {
  Announcer,
  type AnnouncerOptions,
  type DiscoveredPeer,
  type TrackerStatus,
  UdpTrackerClient,
} from "../../lib/tracker/mod.ts";
import { silentLogger } from "../../lib/util/log.ts";

interface FakeTracker {
  url: string;
  /** The `event` of each announce received ("none" when absent). */
  events: string[];
  times: number[];
  close(): Promise<void>;
}

type Behaviour = (event: string) => BencodeInput | "error" | "hang";

function fakeTracker(behaviour: Behaviour): FakeTracker {
  const events: string[] = [];
  const times: number[] = [];
  const hanging = new Set<() => void>();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (request) => {
      const event = new URL(request.url).searchParams.get("event") ?? "none";
      events.push(event);
      times.push(performance.now());
      const reply = behaviour(event);
      if (reply === "error") return new Response("down", { status: 503 });
      if (reply === "hang") {
        await new Promise<void>((resolve) => {
          hanging.add(resolve);
          setTimeout(resolve, 3000);
        });
        return new Response(encode({ interval: 1 }));
      }
      return new Response(encode(reply));
    },
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}/announce`,
    events,
    times,
    close: async () => {
      for (const resolve of hanging) resolve();
      await server.shutdown();
    },
  };
}

function compact(...ports: number[]): Uint8Array {
  return Uint8Array.from(ports.flatMap((port) => [10, 0, 0, 1, port >> 8, port & 255]));
}

const ok = (interval = 1, ...ports: number[]): Behaviour => () => ({
  interval,
  peers: compact(...ports),
});

function options(
  trackers: string[][],
  overrides: Partial<AnnouncerOptions> = {},
): AnnouncerOptions {
  return {
    infoHash: new Uint8Array(20).fill(1),
    peerId: new TextEncoder().encode("-SH0100-announcertst"),
    port: 6881,
    trackers,
    private: false,
    stats: () => ({ uploaded: 0, downloaded: 0, left: 100 }),
    udp: new UdpTrackerClient(),
    minimumIntervalSeconds: 0.2,
    retryBaseMs: 50,
    random: () => 0.99, // keeps the torrent's order when shuffling
    ...overrides,
  };
}

async function withTrackers(
  behaviours: Behaviour[],
  fn: (trackers: FakeTracker[]) => Promise<void>,
): Promise<void> {
  const trackers = behaviours.map(fakeTracker);
  try {
    await fn(trackers);
  } finally {
    await Promise.all(trackers.map((t) => t.close()));
  }
}

Deno.test("announcer: falls back to the next tier when the first is dead", () =>
  withTrackers([() => "error", ok(60, 1001)], async ([dead, alive]) => {
    const peers: DiscoveredPeer[] = [];
    const opts = options([[dead.url], [alive.url]], {
      private: true,
      onPeers: (p) => peers.push(...p),
    });
    const announcer = new Announcer(opts);
    announcer.start();
    await until(() => peers.length > 0, "peers", 5000);
    assertEquals(peers, [{ host: "10.0.0.1", port: 1001, source: alive.url }]);
    const [first, second] = announcer.statuses();
    assertEquals([first.tier, first.state, first.lastError], [
      1,
      "failed",
      "The tracker answered HTTP 503 Service Unavailable",
    ]);
    assertEquals([second.tier, second.state, second.peersReturned], [2, "working", 1]);
    assert(second.nextAnnounce !== undefined);
    await announcer.stop();
    assertEquals(alive.events, ["started", "stopped"]);
    assertEquals(dead.events, ["started"]);
    opts.udp.close();
  }));

Deno.test("announcer: the tracker that answers moves to the front of its tier", () =>
  withTrackers([() => "error", ok(1)], async ([dead, alive]) => {
    const opts = options([[dead.url, alive.url]], { maximumIntervalSeconds: 0.3 });
    const announcer = new Announcer(opts);
    announcer.start();
    await until(() => alive.events.length >= 3, "three announces", 5000);
    await announcer.stop();
    // Only the first round tried the dead tracker; afterwards the live one is first.
    assertEquals(dead.events, ["started"]);
    assertEquals(alive.events.slice(0, 3), ["started", "none", "none"]);
    assertEquals(announcer.statuses().map((s) => s.url), [alive.url, dead.url]);
    opts.udp.close();
  }));

Deno.test("announcer: events: started once, completed, stopped", () =>
  withTrackers([ok(1)], async ([tracker]) => {
    const opts = options([[tracker.url]], { maximumIntervalSeconds: 0.3 });
    const announcer = new Announcer(opts);
    announcer.start();
    await until(() => tracker.events.length >= 2, "a regular announce", 5000);
    announcer.complete();
    await until(() => tracker.events.includes("completed"), "completed", 5000);
    await until(() => tracker.events.length >= 4, "another regular announce", 5000);
    await announcer.stop();
    const events = tracker.events;
    assertEquals(events.filter((e) => e === "started").length, 1);
    assertEquals(events.filter((e) => e === "completed").length, 1);
    assertEquals(events[0], "started");
    assertEquals(events.at(-1), "stopped");
    assert(events.indexOf("completed") < events.length - 2, events.join(","));
    opts.udp.close();
  }));

Deno.test("announcer: one never started (a paused torrent's check) stops at once, tells no tracker and keeps its trackers idle", () =>
  withTrackers([ok(1)], async ([tracker]) => {
    const opts = options([[tracker.url]]);
    const announcer = new Announcer(opts);
    await announcer.stop();
    announcer.start(); // Stopped for good: nothing is sent.
    await new Promise((resolve) => setTimeout(resolve, 100));
    assertEquals(tracker.events, []);
    assertEquals(announcer.statuses().map((s) => s.state), ["idle"]);
    opts.udp.close();
  }));

Deno.test("announcer: a download that completes while started is on its way, then stops at once, still tells completed", () =>
  withTrackers([ok(60)], async ([tracker]) => {
    const opts = options([[tracker.url]], { stopTimeoutMs: 2000 });
    const announcer = new Announcer(opts);
    announcer.start(); // started is in flight…
    announcer.complete(); // …when the last piece is verified…
    await announcer.stop(); // …and the program exits.
    assertEquals(tracker.events, ["started", "completed", "stopped"]);
    opts.udp.close();
  }));

Deno.test("announcer: completed owed at stop goes before stopped", () =>
  withTrackers([ok(60)], async ([tracker]) => {
    const opts = options([[tracker.url]], { stopTimeoutMs: 2000 });
    const announcer = new Announcer(opts);
    announcer.start();
    await until(() => announcer.statuses()[0].state === "working", "started answered", 5000);
    announcer.complete();
    await announcer.stop();
    assertEquals(tracker.events, ["started", "completed", "stopped"]);
    opts.udp.close();
  }));

Deno.test("announcer: the min interval wins over a shorter interval", () =>
  withTrackers(
    [() => ({ interval: 1, "min interval": 2, peers: new Uint8Array() })],
    async ([tracker]) => {
      const opts = options([[tracker.url]], { minimumIntervalSeconds: 0 });
      const announcer = new Announcer(opts);
      announcer.start();
      await until(() => tracker.events.length >= 2, "two announces", 5000);
      await announcer.stop();
      const gap = tracker.times[1] - tracker.times[0];
      assert(gap >= 1990, `a gap of ${Math.round(gap)} ms: min interval 2 s, not interval 1 s`);
      opts.udp.close();
    },
  ));

Deno.test("announcer: a failing tier backs off exponentially", () =>
  withTrackers([() => "error"], async ([tracker]) => {
    const opts = options([[tracker.url]], { retryBaseMs: 60 });
    const announcer = new Announcer(opts);
    announcer.start();
    await until(() => tracker.events.length >= 4, "four tries", 5000);
    await announcer.stop();
    const gaps = tracker.times.slice(1, 4).map((t, i) => t - tracker.times[i]);
    assert(
      gaps[0] >= 55 && gaps[1] >= 115 && gaps[2] >= 235,
      `gaps ${gaps.map(Math.round)} double from 60 ms`,
    );
    // Never answered, so it never had "started" and gets no "stopped".
    assert(!tracker.events.includes("stopped"));
    opts.udp.close();
  }));

Deno.test("announcer: a public torrent announces every tier, a private one only the first that works", async () => {
  for (const isPrivate of [false, true]) {
    await withTrackers([ok(60, 1), ok(60, 2)], async ([a, b]) => {
      const opts = options([[a.url], [b.url]], { private: isPrivate });
      const announcer = new Announcer(opts);
      announcer.start();
      await until(() => a.events.length >= 1, "first tier", 5000);
      await new Promise((resolve) => setTimeout(resolve, 200));
      await announcer.stop();
      assertEquals(a.events, ["started", "stopped"]);
      assertEquals(b.events, isPrivate ? [] : ["started", "stopped"]);
      opts.udp.close();
    });
  }
});

Deno.test("announcer: every reply's peers are passed on with their tracker; the peer pool deduplicates (tests/discovery/peer_pool_test.ts)", () =>
  withTrackers([ok(1, 1, 2), ok(1, 2, 3)], async ([a, b]) => {
    const peers: DiscoveredPeer[] = [];
    const opts = options([[a.url], [b.url]], {
      onPeers: (p) => peers.push(...p),
      maximumIntervalSeconds: 0.3,
    });
    const announcer = new Announcer(opts);
    announcer.start();
    await until(() => a.events.length >= 2 && b.events.length >= 2, "two rounds", 5000);
    await announcer.stop();
    assertEquals([...new Set(peers.map((p) => p.port))].sort(), [1, 2, 3]);
    // Listed again in the second round: passed on again (a pool that gave up on a peer takes it back).
    assert(peers.filter((p) => p.port === 1).length >= 2, "peer 1 in each of a's replies");
    assert(peers.filter((p) => p.port === 2).some((p) => p.source === a.url));
    assert(peers.filter((p) => p.port === 2).some((p) => p.source === b.url));
    assert(
      peers.every((p) => (p.port === 1 ? a.url : p.port === 3 ? b.url : p.source) === p.source),
    );
    opts.udp.close();
  }));

Deno.test("announcer: stop() gives up on a tracker that hangs on stopped", () =>
  withTrackers(
    [(event) => (event === "stopped" ? "hang" : { interval: 60 })],
    async ([tracker]) => {
      const opts = options([[tracker.url]], { stopTimeoutMs: 200 });
      const announcer = new Announcer(opts);
      announcer.start();
      await until(() => tracker.events.length >= 1, "started", 5000);
      await until(() => announcer.statuses()[0].state === "working", "an answer", 5000);
      const started = performance.now();
      await announcer.stop();
      assert(performance.now() - started < 2500, "stop() returned before the tracker did");
      assertEquals(tracker.events, ["started", "stopped"]);
      assertEquals(announcer.statuses()[0].state, "failed");
      opts.udp.close();
    },
  ));

Deno.test("announcer: unsupported tracker kinds fail without stopping the others", () =>
  withTrackers([ok(60, 7)], async ([tracker]) => {
    const peers: DiscoveredPeer[] = [];
    const opts = options([["wss://tracker.example/announce", tracker.url]], {
      onPeers: (p) => peers.push(...p),
    });
    const announcer = new Announcer(opts);
    announcer.start();
    await until(() => peers.length > 0, "peers", 5000);
    await announcer.stop();
    const wss = announcer.statuses().find((s) => s.url.startsWith("wss:"));
    assertEquals(wss?.lastError, `Trackers of the kind "wss:" are not supported`);
    opts.udp.close();
  }));

Deno.test("announcer: a private torrent stays with its tracker until that one fails", () => {
  let primaryDown = true;
  let backupDown = false;
  return withTrackers([
    () => (primaryDown ? "error" : { interval: 1, peers: compact(1, 2) }),
    () => (backupDown ? "error" : { interval: 1, peers: compact(2) }),
  ], async ([primary, backup]) => {
    const changes: string[] = [];
    const peers: DiscoveredPeer[] = [];
    const opts = options([[primary.url], [backup.url]], {
      onPeers: (p) => peers.push(...p),
      private: true,
      maximumIntervalSeconds: 0.2,
      retryBaseMs: 20,
      onTrackerChange: (url) => changes.push(url),
    });
    const announcer = new Announcer(opts);
    announcer.start();
    await until(() => backup.events.length >= 1, "the backup", 5000);
    // The primary recovers, but the backup has not failed: stay with it.
    primaryDown = false;
    await until(() => backup.events.length >= 3, "more backup announces", 5000);
    assertEquals(primary.events, ["started"]);
    assertEquals(changes, []);
    // Now the backup fails: switch to the primary, and say so.
    backupDown = true;
    // The change is reported once the primary's reply is in, a moment after it sees the request.
    await until(() => changes.length > 0, "the switch to the primary", 5000);
    assertEquals(changes, [primary.url]);
    assert(primary.events.length >= 2, `primary announces: ${primary.events}`);
    // BEP 27: every peer is dropped on the switch; the new tracker's peers come after it, even one
    // the previous tracker listed too (peer 2 below).
    const switched = peers.length;
    await until(
      () => peers.slice(switched).some((p) => p.port === 2 && p.source === primary.url),
      "peer 2 from the primary",
      5000,
    );
    assert(peers.slice(switched).every((p) => p.source === primary.url));
    await announcer.stop();
    opts.udp.close();
  });
});

Deno.test("announcer: a silent UDP tracker shows as failing from its first timeout, each change reported once and logged", async () => {
  const silent = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const url = `udp://127.0.0.1:${(silent.addr as Deno.NetAddr).port}/announce`;
  const changes: TrackerStatus[] = [];
  const warnings: string[] = [];
  const opts = options([[url]], {
    udp: new UdpTrackerClient({ retransmitBaseMs: 100 }),
    udpRetransmits: 2,
    retryBaseMs: 400,
    onStatusChange: (status) => changes.push(status),
    log: { ...silentLogger, warn: (message) => warnings.push(message) },
  });
  const announcer = new Announcer(opts);
  try {
    announcer.start();
    await until(() => announcer.statuses()[0].state === "failed", "the first timeout", 2000);
    assertEquals(
      announcer.statuses()[0].lastError,
      "no answer after 0.1s, asking again (waiting up to 0.2s)",
    );
    await until(() => announcer.statuses()[0].nextAnnounce !== undefined, "giving up", 3000);
    const status = announcer.statuses()[0];
    assertEquals(status.lastError, "The tracker did not answer after 3 tries over 0.7s");
    assert(status.nextAnnounce!.getTime() - Date.now() > 200, "the retry is scheduled");
    // The next round fails the same way: nothing more is said.
    const first = status.lastAnnounce!.getTime();
    await until(
      () => (announcer.statuses()[0].lastAnnounce?.getTime() ?? 0) > first + 500,
      "a second round",
      4000,
    );
    assertEquals(
      changes.map((c) => c.lastError),
      // It starts failing, then gives up: the retry between and the next round only update the status.
      [
        "no answer after 0.1s, asking again (waiting up to 0.2s)",
        "The tracker did not answer after 3 tries over 0.7s",
      ],
    );
    assertEquals(warnings.length, 2);
    assert(warnings.every((w) => w.startsWith(`tracker ${url}: `)), warnings.join("\n"));
  } finally {
    await announcer.stop();
    opts.udp.close();
    silent.close();
  }
});

Deno.test("announcer: our own address in a tracker's reply is neither counted nor passed on", () =>
  withTrackers(
    [() => ({
      interval: 60,
      peers: Uint8Array.from([127, 0, 0, 1, 6881 >> 8, 6881 & 255, 10, 0, 0, 2, 0x1a, 0xe2]),
    })],
    async ([tracker]) => {
      const found: DiscoveredPeer[] = [];
      const opts = options([[tracker.url]], { onPeers: (peers) => found.push(...peers) });
      const announcer = new Announcer(opts);
      announcer.start();
      await until(() => announcer.statuses()[0].state === "working", "an answer", 5000);
      assertEquals(announcer.statuses()[0].peersReturned, 1);
      assertEquals(found.map((p) => `${p.host}:${p.port}`), ["10.0.0.2:6882"]);
      await announcer.stop();
      opts.udp.close();
    },
  ));
