/**
 * The UDP tracker client against scripted trackers, each a real UDP socket
 * on loopback: wrong transaction ids, error packets, silence and the
 * retransmit schedule, short packets, replies from other addresses,
 * connection id reuse and expiry, IPv6.
 */
import { assert, assertEquals, assertRejects } from "../helpers/assert.ts";
import { type AnnounceRequest, TrackerError, UdpTrackerClient } from "../../lib/tracker/mod.ts";

const REQUEST: AnnounceRequest = {
  infoHash: new Uint8Array(20).fill(7),
  peerId: new TextEncoder().encode("-SH0100-abcdefghijkl"),
  port: 6881,
  uploaded: 11,
  downloaded: 22,
  left: 33,
  event: "started",
  key: 0xcafef00d,
  numWant: 25,
};

interface Received {
  action: number;
  transaction: number;
  packet: Uint8Array;
  at: number;
}

type Reply = (
  packet: Received,
  send: (bytes: Uint8Array) => Promise<void>,
  client: Deno.NetAddr,
) => Promise<void> | void;

/** A scripted UDP tracker; `reply` decides what to send for each packet. */
async function withFakeTracker(
  reply: Reply,
  fn: (url: string, received: Received[]) => Promise<void>,
  hostname = "127.0.0.1",
): Promise<void> {
  const socket = Deno.listenDatagram({ transport: "udp", hostname, port: 0 });
  const received: Received[] = [];
  const loop = (async () => {
    try {
      for await (const [packet, from] of socket) {
        const view = new DataView(packet.buffer, packet.byteOffset, packet.byteLength);
        const entry = {
          action: view.getUint32(8),
          transaction: view.getUint32(12),
          packet,
          at: performance.now(),
        };
        received.push(entry);
        await reply(
          entry,
          (bytes) => socket.send(bytes, from).then(() => {}),
          from as Deno.NetAddr,
        );
      }
    } catch {
      // closed
    }
  })();
  const port = (socket.addr as Deno.NetAddr).port;
  try {
    await fn(
      `udp://${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}/announce`,
      received,
    );
  } finally {
    socket.close();
    await loop;
  }
}

function packet(...fields: [number, "u32" | "u64"][]): Uint8Array {
  const size = fields.reduce((n, [, kind]) => n + (kind === "u32" ? 4 : 8), 0);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let offset = 0;
  for (const [value, kind] of fields) {
    if (kind === "u32") view.setUint32(offset, value);
    else view.setBigUint64(offset, BigInt(value));
    offset += kind === "u32" ? 4 : 8;
  }
  return out;
}

function connectReply(transaction: number, connectionId = 0x1234): Uint8Array {
  return packet([0, "u32"], [transaction, "u32"], [connectionId, "u64"]);
}

function announceReply(
  transaction: number,
  peers: number[][] = [[10, 0, 0, 1, 0x1a, 0xe1]],
): Uint8Array {
  const head = packet([1, "u32"], [transaction, "u32"], [120, "u32"], [5, "u32"], [6, "u32"]);
  return Uint8Array.from([...head, ...peers.flat()]);
}

/** For a connect packet the action sits at offset 8; for others the connection id comes first. */
function actionOf(entry: Received): number {
  const view = new DataView(entry.packet.buffer, entry.packet.byteOffset, entry.packet.byteLength);
  return entry.packet.length === 16 && view.getBigUint64(0) === 0x41727101980n
    ? 0
    : view.getUint32(8);
}

const honest: Reply = async (entry, send) => {
  if (actionOf(entry) === 0) await send(connectReply(entry.transaction));
  else await send(announceReply(entry.transaction));
};

Deno.test("udp tracker: connect then announce, with every field in place", () =>
  withFakeTracker(honest, async (url, received) => {
    const client = new UdpTrackerClient();
    try {
      const reply = await client.announce(url, REQUEST);
      assertEquals(reply.peers, [{ host: "10.0.0.1", port: 6881 }]);
      assertEquals([reply.interval, reply.incomplete, reply.complete], [120, 5, 6]);
    } finally {
      client.close();
    }
    assertEquals(received.length, 2);
    const announce = new DataView(received[1].packet.buffer);
    assertEquals(received[1].packet.length, 98);
    assertEquals(announce.getBigUint64(0), 0x1234n);
    assertEquals(announce.getUint32(8), 1);
    assertEquals(received[1].packet.subarray(16, 36), REQUEST.infoHash);
    assertEquals(received[1].packet.subarray(36, 56), REQUEST.peerId);
    assertEquals(
      [announce.getBigUint64(56), announce.getBigUint64(64), announce.getBigUint64(72)],
      [22n, 33n, 11n],
    );
    assertEquals([
      announce.getUint32(80),
      announce.getUint32(88),
      announce.getInt32(92),
      announce.getUint16(96),
    ], [
      2,
      0xcafef00d,
      25,
      6881,
    ]);
  }));

Deno.test("udp tracker: a wrong transaction id, a short packet and a wrong action are ignored", () =>
  withFakeTracker(async (entry, send) => {
    if (actionOf(entry) === 0) {
      await send(connectReply(entry.transaction + 1));
      await send(new Uint8Array([0, 0, 0]));
      await send(packet([1, "u32"], [entry.transaction, "u32"], [0, "u64"]));
      await send(connectReply(entry.transaction));
    } else await send(announceReply(entry.transaction));
  }, async (url) => {
    const reasons: string[] = [];
    const client = new UdpTrackerClient({ onIgnoredPacket: (reason) => reasons.push(reason) });
    try {
      const reply = await client.announce(url, REQUEST);
      assertEquals(reply.peers.length, 1);
      assertEquals(client.ignoredPackets, 3);
      assert(reasons[0].includes("unknown transaction id"), reasons[0]);
      assert(reasons[1].includes("too short"), reasons[1]);
      assert(reasons[2].includes("action 1 where 0 was expected"), reasons[2]);
    } finally {
      client.close();
    }
  }));

Deno.test("udp tracker: a reply from another address is ignored", () =>
  withFakeTracker(async (entry, send, client) => {
    if (actionOf(entry) !== 0) return send(announceReply(entry.transaction));
    // An impostor on another port answers first, with its own connection id.
    const impostor = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    await impostor.send(connectReply(entry.transaction, 0x6666), client);
    impostor.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await send(connectReply(entry.transaction));
  }, async (url, received) => {
    const client = new UdpTrackerClient();
    try {
      await client.announce(url, REQUEST);
      assertEquals(client.ignoredPackets, 1);
      assertEquals(new DataView(received[1].packet.buffer).getBigUint64(0), 0x1234n);
    } finally {
      client.close();
    }
  }));

Deno.test("udp tracker: an error packet is surfaced verbatim", () =>
  withFakeTracker(async (entry, send) => {
    if (actionOf(entry) === 0) return send(connectReply(entry.transaction));
    const message = new TextEncoder().encode("info hash not whitelisted");
    await send(Uint8Array.from([...packet([3, "u32"], [entry.transaction, "u32"]), ...message]));
  }, async (url) => {
    const client = new UdpTrackerClient();
    try {
      const error = await assertRejects(() => client.announce(url, REQUEST), TrackerError);
      assertEquals([error.kind, error.message], ["failure", "info hash not whitelisted"]);
    } finally {
      client.close();
    }
  }));

Deno.test("udp tracker: retransmits on the 2^n schedule, then gives up", () =>
  withFakeTracker(() => {}, async (url, received) => {
    const client = new UdpTrackerClient({ retransmitBaseMs: 40, maxRetransmits: 2 });
    try {
      const error = await assertRejects(() => client.announce(url, REQUEST), TrackerError);
      assertEquals(error.kind, "timeout");
      assertEquals(error.message, "The tracker did not answer after 3 tries over 0.3s");
    } finally {
      client.close();
    }
    assertEquals(received.map(actionOf), [0, 0, 0]);
    const gaps = received.slice(1).map((entry, i) => entry.at - received[i].at);
    assert(
      gaps[0] >= 35 && gaps[1] >= 75,
      `gaps ${
        gaps.map((g) => g.toFixed(0))
      } should be at least 40 and 80 ms (timers never fire early)`,
    );
  }));

Deno.test("udp tracker: the time waited is said in round seconds, as shoal tracker's 15 s over three tries", () =>
  withFakeTracker(() => {}, async (url) => {
    // What checkTrackers does with --timeout 1: a seventh of it, then twice that, then four times.
    const client = new UdpTrackerClient({ retransmitBaseMs: 1000 / 7, maxRetransmits: 2 });
    try {
      const error = await assertRejects(() => client.announce(url, REQUEST), TrackerError);
      assertEquals(error.message, "The tracker did not answer after 3 tries over 1s");
    } finally {
      client.close();
    }
  }));

Deno.test("udp tracker: a tracker that drops the first packets is reached by retransmission", () => {
  let dropped = 0;
  return withFakeTracker(async (entry, send, client) => {
    if (dropped < 2) {
      dropped++;
      return;
    }
    await honest(entry, send, client);
  }, async (url, received) => {
    const client = new UdpTrackerClient({ retransmitBaseMs: 30, maxRetransmits: 4 });
    try {
      assertEquals((await client.announce(url, REQUEST)).peers.length, 1);
    } finally {
      client.close();
    }
    assertEquals(received.map(actionOf), [0, 0, 0, 1]);
  });
});

Deno.test("udp tracker: a connection id is reused for its lifetime, then renewed", () =>
  withFakeTracker(honest, async (url, received) => {
    const client = new UdpTrackerClient({ connectionIdTtlMs: 150 });
    try {
      await client.announce(url, REQUEST);
      await client.announce(url, { ...REQUEST, event: "none" });
      assertEquals(received.map(actionOf), [0, 1, 1]);
      await new Promise((resolve) => setTimeout(resolve, 200));
      await client.announce(url, { ...REQUEST, event: "none" });
      assertEquals(received.map(actionOf), [0, 1, 1, 0, 1]);
    } finally {
      client.close();
    }
  }));

Deno.test("udp tracker: scrape", () =>
  withFakeTracker(async (entry, send) => {
    if (actionOf(entry) === 0) return send(connectReply(entry.transaction));
    assertEquals(entry.packet.length, 16 + 40);
    await send(
      packet(
        [2, "u32"],
        [entry.transaction, "u32"],
        [1, "u32"],
        [2, "u32"],
        [3, "u32"],
        [4, "u32"],
        [5, "u32"],
        [6, "u32"],
      ),
    );
  }, async (url) => {
    const client = new UdpTrackerClient();
    try {
      const results = await client.scrape(url, [new Uint8Array(20), new Uint8Array(20).fill(1)]);
      assertEquals(results, [
        { complete: 1, downloaded: 2, incomplete: 3 },
        { complete: 4, downloaded: 5, incomplete: 6 },
      ]);
    } finally {
      client.close();
    }
  }));

Deno.test("udp tracker: IPv6 trackers give 18-byte peer entries", () =>
  withFakeTracker(async (entry, send) => {
    if (actionOf(entry) === 0) return send(connectReply(entry.transaction));
    const peer = [0x20, 0x01, 0x0d, 0xb8, ...new Uint8Array(11), 0x05, 0x1a, 0xe1];
    await send(announceReply(entry.transaction, [peer, [...peer.slice(0, 17)]]));
  }, async (url) => {
    const client = new UdpTrackerClient();
    try {
      const reply = await client.announce(url, REQUEST);
      assertEquals(reply.peers, [{ host: "2001:db8::5", port: 6881 }]);
      assertEquals(reply.problems, ["The peer list ends with 17 stray bytes"]);
    } finally {
      client.close();
    }
  }, "::1"));

Deno.test("udp tracker: bad URLs are refused", async () => {
  const client = new UdpTrackerClient();
  try {
    for (const url of ["udp://nohost", "http://127.0.0.1:1/", "nonsense"]) {
      const error = await assertRejects(() => client.announce(url, REQUEST), TrackerError);
      assertEquals(error.kind, "network");
    }
  } finally {
    client.close();
  }
});

Deno.test("udp tracker: a timeout signal ends the request as a timeout", () =>
  withFakeTracker(() => {}, async (url) => {
    const client = new UdpTrackerClient();
    try {
      const error = await assertRejects(
        () => client.announce(url, REQUEST, { signal: AbortSignal.timeout(100) }),
        TrackerError,
      );
      assertEquals([error.kind, error.message], ["timeout", "The tracker did not answer in time"]);
    } finally {
      client.close();
    }
  }));

Deno.test("udp tracker: requests leave no abort listener on a long-lived signal", () =>
  withFakeTracker(honest, async (url) => {
    const client = new UdpTrackerClient();
    const controller = new AbortController();
    let added = 0;
    let removed = 0;
    const add = controller.signal.addEventListener.bind(controller.signal);
    const remove = controller.signal.removeEventListener.bind(controller.signal);
    controller.signal.addEventListener = ((...args: Parameters<typeof add>) => {
      added++;
      return add(...args);
    }) as typeof add;
    controller.signal.removeEventListener = ((...args: Parameters<typeof remove>) => {
      removed++;
      return remove(...args);
    }) as typeof remove;
    try {
      for (let i = 0; i < 5; i++) {
        await client.announce(url, REQUEST, { signal: controller.signal });
      }
      assert(added > 0);
      assertEquals(removed, added);
    } finally {
      client.close();
    }
  }));
