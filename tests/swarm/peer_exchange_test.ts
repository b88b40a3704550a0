/**
 * The peer exchange's rules (BEP 11), on sessions stood in for: when a
 * message goes out and what it holds, and what is taken from what peers
 * send. The real thing against libtorrent is in tests/interop/pex_test.ts.
 */
import { decodePexMessage, PexFlags, type PexMessage } from "../../lib/extensions/ut_pex.ts";
import type { PeerAddress } from "../../lib/net/peer_address.ts";
import { PeerExchange, type PexVerdict } from "../../lib/swarm/peer_exchange.ts";
import type { PeerSession } from "../../lib/swarm/peer_session.ts";
import type { PeerMessage } from "../../lib/wire/messages.ts";
import { assert, assertEquals } from "../helpers/assert.ts";

/** What the exchange reads of a session, and what it sends it. */
interface StandIn {
  key: string;
  poolKey: string;
  extensions: Map<string, number>;
  countedAsSeed: boolean;
  connection: { direction: "outgoing" | "incoming"; encryption: string; closed: boolean };
  sent: PexMessage[];
  send(message: PeerMessage): void;
}

function peer(
  key: string,
  options: {
    incoming?: boolean;
    listenPort?: number;
    pex?: boolean;
    seed?: boolean;
    encrypted?: boolean;
  } = {},
): StandIn {
  const host = key.slice(0, key.lastIndexOf(":"));
  const sent: PexMessage[] = [];
  return {
    key,
    poolKey: options.listenPort ? `${host}:${options.listenPort}` : key,
    extensions: new Map(options.pex === false ? [] : [["ut_pex", 7]]),
    countedAsSeed: options.seed ?? false,
    connection: {
      direction: options.incoming ? "incoming" : "outgoing",
      encryption: options.encrypted ? "rc4" : "none",
      closed: false,
    },
    sent,
    send(message) {
      assertEquals(message.type, "extended");
      if (message.type === "extended") {
        assertEquals(message.id, 7, "sent under the peer's id for ut_pex");
        sent.push(decodePexMessage(message.payload));
      }
    },
  };
}

const sessions = (peers: StandIn[]) => peers as unknown as PeerSession[];
const hosts = (message: PexMessage | undefined) =>
  message?.added.map((entry) => `${entry.address.host}:${entry.address.port}`);
const MINUTE = 60_000;

Deno.test("pex: the first message goes out as soon as there is somebody to name, then at most one a minute, never empty", () => {
  const exchange = new PeerExchange();
  const a = peer("10.0.0.1:6881");
  const b = peer("10.0.0.2:6881");
  exchange.tick(sessions([a]), 0);
  assertEquals(a.sent.length, 0, "nobody to name: nothing sent");
  exchange.tick(sessions([a, b]), 1000);
  assertEquals(hosts(a.sent[0]), ["10.0.0.2:6881"]);
  assertEquals(hosts(b.sent[0]), ["10.0.0.1:6881"]);
  const c = peer("10.0.0.3:6881");
  exchange.tick(sessions([a, b, c]), 2000);
  assertEquals([a.sent.length, b.sent.length], [1, 1], "a minute has not passed");
  assertEquals(hosts(c.sent[0]), ["10.0.0.1:6881", "10.0.0.2:6881"]);
  // b leaves; a minute after their first message a and c hear the difference.
  exchange.forget(b as unknown as PeerSession);
  exchange.tick(sessions([a, c]), 1000 + MINUTE);
  assertEquals(a.sent.length, 2);
  assertEquals(hosts(a.sent[1]), ["10.0.0.3:6881"]);
  assertEquals(a.sent[1].dropped, [{ host: "10.0.0.2", port: 6881 }]);
  assertEquals(c.sent.length, 1, "c's minute is not over");
  exchange.tick(sessions([a, c]), 2000 + MINUTE);
  assertEquals(hosts(c.sent[1]), []);
  assertEquals(c.sent[1].dropped, [{ host: "10.0.0.2", port: 6881 }]);
  // Nothing changed since: nothing more, however long.
  exchange.tick(sessions([a, c]), 10 * MINUTE);
  assertEquals([a.sent.length, c.sent.length], [2, 2]);
});

Deno.test("pex: only peers whose listen address we know are named, with the flags we know, never to themselves", () => {
  const exchange = new PeerExchange();
  const dialled = peer("10.0.0.1:6881", { seed: true, encrypted: true });
  const toldPort = peer("10.0.0.2:40000", { incoming: true, listenPort: 51413 });
  const noPort = peer("10.0.0.3:40001", { incoming: true });
  const listener = peer("10.0.0.4:6881");
  const silent = peer("10.0.0.5:6881", { pex: false });
  exchange.tick(sessions([dialled, toldPort, noPort, listener, silent]), 0);
  assertEquals(silent.sent.length, 0, "it does not speak ut_pex");
  assertEquals(listener.sent[0].added, [
    {
      address: { host: "10.0.0.1", port: 6881 },
      flags: PexFlags.seed | PexFlags.encryption | PexFlags.reachable,
    },
    { address: { host: "10.0.0.2", port: 51413 }, flags: 0 },
    { address: { host: "10.0.0.5", port: 6881 }, flags: PexFlags.reachable },
  ]);
  assertEquals(hosts(toldPort.sent[0]), ["10.0.0.1:6881", "10.0.0.4:6881", "10.0.0.5:6881"]);
  assertEquals(hosts(noPort.sent[0])?.length, 4);
});

Deno.test("pex: at most 50 added per message; the rest follow a minute later", () => {
  const exchange = new PeerExchange();
  const others = Array.from({ length: 120 }, (_, i) => peer(`10.0.${i >> 8}.${i & 255}:6881`));
  const listener = peer("10.1.0.1:6881");
  const all = [listener, ...others];
  for (const [i, expected] of [50, 50, 20].entries()) {
    exchange.tick(sessions(all), i * MINUTE);
    assertEquals(listener.sent[i]?.added.length, expected);
  }
  const named = new Set(listener.sent.flatMap((message) => hosts(message)!));
  assertEquals(named.size, 120, "every one once");
});

/** A message naming `addresses`. */
const naming = (addresses: PeerAddress[]): PexMessage => ({
  added: addresses.map((address) => ({ address, flags: 0 })),
  dropped: [],
});
const taken = (verdict: PexVerdict) => verdict.kind === "take" ? verdict.addresses : [];
const takenCount = (verdict: PexVerdict) => taken(verdict).length;

Deno.test("pex: a sender's messages beyond two a minute are ignored; the seventh drops it", () => {
  const exchange = new PeerExchange();
  const sender = peer("10.0.0.1:6881") as unknown as PeerSession;
  const kinds: string[] = [];
  for (let i = 0; i < 7; i++) {
    kinds.push(exchange.received(sender, naming([{ host: "10.9.0.1", port: 1000 + i }]), i).kind);
  }
  assertEquals(kinds, ["take", "take", "ignore", "ignore", "ignore", "ignore", "misbehaved"]);
  // A minute later the window is clear again.
  const later = new PeerExchange();
  for (const at of [0, 30_000, 61_000, 91_000, 122_000]) {
    assertEquals(later.received(sender, naming([{ host: "10.9.0.1", port: 1 }]), at).kind, "take");
  }
});

Deno.test("pex: a message naming hundreds of peers is misbehaviour; of the rest, 50 at most are taken, 5 per IP", () => {
  const exchange = new PeerExchange();
  const sender = peer("8.8.8.8:6881") as unknown as PeerSession;
  const hundreds = Array.from(
    { length: 201 },
    (_, i) => ({ host: `9.0.${i >> 8}.${i & 255}`, port: 1 }),
  );
  assertEquals(exchange.received(sender, naming(hundreds), 0).kind, "misbehaved");
  const many = Array.from(
    { length: 120 },
    (_, i) => ({ host: `9.1.${i >> 8}.${i & 255}`, port: 1 }),
  );
  assertEquals(taken(exchange.received(sender, naming(many), 1)).length, 50);
  const onePlace = Array.from({ length: 20 }, (_, i) => ({ host: "9.2.0.1", port: 1000 + i }));
  assertEquals(taken(new PeerExchange().received(sender, naming(onePlace), 0)).length, 5);
});

Deno.test("pex: addresses that cannot be peers, or that are not the sender's to name, are left out", () => {
  const candidates = [
    { host: "0.0.0.0", port: 1 },
    { host: "224.0.0.1", port: 1 },
    { host: "255.255.255.255", port: 1 },
    { host: "::", port: 1 },
    { host: "ff02::1", port: 1 },
    { host: "127.0.0.1", port: 2 },
    { host: "::1", port: 2 },
    { host: "192.168.1.5", port: 3 },
    { host: "10.1.2.3", port: 3 },
    { host: "fe80::1", port: 3 },
    { host: "93.184.216.34", port: 4 },
    { host: "2001:db8::7", port: 4 },
    { host: "93.184.216.34", port: 4 }, // Twice in one message: once.
    // IPv4 inside IPv6, as hex: the IPv4 address it is decides.
    { host: "::ffff:7f00:1", port: 5 },
    { host: "::ffff:c0a8:101", port: 5 },
    { host: "64:ff9b::a00:1", port: 5 },
    { host: "::7f00:1", port: 5 }, // IPv4-compatible: deprecated, never a peer.
  ];
  const from = (key: string) =>
    taken(new PeerExchange().received(peer(key) as unknown as PeerSession, naming(candidates), 0))
      .map((address) => `${address.host}:${address.port}`);
  assertEquals(from("8.8.8.8:6881"), ["93.184.216.34:4", "2001:db8::7:4"]);
  assertEquals(from("192.168.1.2:6881"), [
    "192.168.1.5:3",
    "10.1.2.3:3",
    "fe80::1:3",
    "93.184.216.34:4",
    "2001:db8::7:4",
    "::ffff:c0a8:101:5",
    "64:ff9b::a00:1:5",
  ]);
  const local = from("127.0.0.1:6881");
  assert(
    local.includes("127.0.0.1:2") && local.includes("::1:2") && local.includes("::ffff:7f00:1:5"),
    "a peer on this machine names its neighbours",
  );
  assertEquals(local.length, 10);
  assertEquals(
    from("peer.example:6881"),
    from("8.8.8.8:6881"),
    "a peer dialled by name is a stranger",
  );
});

Deno.test("pex: peers known only by a host name are never named, and never make an empty message", () => {
  const exchange = new PeerExchange();
  const named = peer("seed.example:6881");
  const listener = peer("10.0.0.4:6881");
  exchange.tick(sessions([named, listener]), 0);
  assertEquals(listener.sent, [], "nothing to say: a PEX message cannot carry a name");
  assertEquals(hosts(named.sent[0]), ["10.0.0.4:6881"]);
  // The same peer under its IPv4 address and its IPv4-mapped one is one peer.
  const twice = [peer("10.0.0.7:6881"), peer("::ffff:10.0.0.7:6881")];
  const third = peer("10.0.0.8:6881");
  new PeerExchange().tick(sessions([...twice, third]), 0);
  assertEquals(third.sent[0].added.length, 1);
});

Deno.test("pex: one IP gets at most 100 addresses taken a minute, however often it reconnects", () => {
  const exchange = new PeerExchange();
  let taken = 0;
  for (let connection = 0; connection < 4; connection++) {
    const sender = peer(`8.8.8.8:${40_000 + connection}`) as unknown as PeerSession;
    for (let message = 0; message < 2; message++) {
      const addresses = Array.from(
        { length: 50 },
        (_, i) => ({ host: `9.${connection}.${message}.${i}`, port: 1 }),
      );
      taken += takenCount(
        exchange.received(sender, naming(addresses), connection * 1000 + message),
      );
    }
  }
  assertEquals(taken, 100);
  const later = peer("8.8.8.8:50000") as unknown as PeerSession;
  assertEquals(
    takenCount(exchange.received(later, naming([{ host: "9.9.9.9", port: 1 }]), 61_000)),
    1,
  );
});

Deno.test("pex: once off (a private torrent), nothing is sent and nothing taken", () => {
  const exchange = new PeerExchange();
  const a = peer("10.0.0.1:6881");
  const b = peer("10.0.0.2:6881");
  exchange.disable();
  exchange.tick(sessions([a, b]), 0);
  assertEquals([a.sent.length, b.sent.length], [0, 0]);
  assertEquals(
    exchange.received(a as unknown as PeerSession, naming([{ host: "10.0.0.9", port: 1 }]), 0).kind,
    "ignore",
  );
  assertEquals(new PeerExchange({ enabled: false }).enabled, false);
});
