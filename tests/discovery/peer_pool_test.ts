import { PeerPool } from "../../lib/discovery/peer_pool.ts";
import { assert, assertEquals } from "../helpers/assert.ts";

const a = { host: "10.0.0.1", port: 6881 };
const b = { host: "10.0.0.2", port: 6881 };

Deno.test("peer pool: the one place peers are deduplicated; each remembers where it came from, first first", () => {
  const pool = new PeerPool();
  assertEquals(pool.add([a, b], "http://one/announce"), 2);
  assertEquals(pool.add([a], "udp://two:80"), 0);
  assertEquals(pool.add([a], "http://one/announce"), 0);
  assertEquals(pool.size, 2);
  assertEquals(pool.sources("10.0.0.1:6881"), ["http://one/announce", "udp://two:80"]);
  assertEquals(pool.sources("10.0.0.2:6881"), ["http://one/announce"]);
});

Deno.test("peer pool: an address given up after its failures comes back when a source lists it again", () => {
  const pool = new PeerPool({ maxFailures: 2, retryBaseMs: 0 });
  pool.add([a], "tracker");
  for (let i = 0; i < 2; i++) {
    assertEquals(pool.take(1).length, 1);
    pool.failed("10.0.0.1:6881");
  }
  assertEquals(pool.size, 0, "given up");
  assertEquals(pool.add([a], "tracker"), 1, "listed again: back");
  assertEquals(pool.take(1), [a]);
});

Deno.test("peer pool: a peer that dialled in is never dialled at its source port, and is known by the listen port it names", () => {
  const pool = new PeerPool({ retryBaseMs: 0 });
  const source = { host: "10.0.0.3", port: 51123 };
  assert(pool.markConnected("10.0.0.3:51123", source));
  assertEquals(pool.take(10), [], "the source port is not an address to dial");
  const key = pool.listensOn("10.0.0.3:51123", 6889);
  assertEquals(key, "10.0.0.3:6889");
  // A tracker lists it while it is connected: not dialled a second time.
  pool.add([{ host: "10.0.0.3", port: 6889 }], "tracker");
  assertEquals(pool.take(10), []);
  assertEquals(pool.sources(key), ["incoming", "tracker"]);
  // It leaves: its listen address may be dialled again; the source port never was.
  pool.disconnected(key, 0);
  assertEquals(pool.take(10, 1), [{ host: "10.0.0.3", port: 6889 }]);

  // One that never names its port is forgotten when it leaves.
  pool.markConnected("10.0.0.4:40000", { host: "10.0.0.4", port: 40000 });
  const before = pool.size;
  pool.disconnected("10.0.0.4:40000");
  assertEquals(pool.size, before - 1);
});

Deno.test("peer pool: an address with two connections at once (we dial it as it dials in) stays connected until both end", () => {
  const pool = new PeerPool({ retryBaseMs: 0 });
  pool.add([a], "tracker");
  assertEquals(pool.take(1), [a]); // our dial
  pool.markConnected("10.0.0.1:40000", { host: "10.0.0.1", port: 40000 });
  assertEquals(pool.listensOn("10.0.0.1:40000", 6881), "10.0.0.1:6881"); // it dials in
  pool.disconnected("10.0.0.1:6881", 0); // the duplicate is closed
  assert(pool.isConnected("10.0.0.1:6881"), "the other connection still uses it");
  assertEquals(pool.take(1, 1), []);
  pool.disconnected("10.0.0.1:6881", 0);
  assertEquals(pool.take(1, 1), [a]);
});

Deno.test("peer pool: a peer that dials in from its listen port is connected at that known address", () => {
  const pool = new PeerPool({ retryBaseMs: 0 });
  pool.add([a], "tracker");
  pool.markConnected("10.0.0.1:6881", a);
  assertEquals(pool.take(1), [], "not dialled while connected");
  pool.disconnected("10.0.0.1:6881", 0);
  assertEquals(pool.take(1, 1), [a]);
});

Deno.test("peer pool: connections from before a clear (BEP 27 tracker switch) do not touch the addresses added since", () => {
  const pool = new PeerPool({ retryBaseMs: 60_000 });
  pool.add([a], "old tracker");
  assertEquals(pool.take(1), [a]);
  const before = pool.epoch;
  pool.clear();
  pool.add([a], "new tracker");
  pool.disconnected("10.0.0.1:6881", 0, before); // the old connection ends
  assertEquals(pool.take(1, 1), [a], "dialled at once, not 60 s later");
  pool.failed("10.0.0.1:6881", 0, before);
  assert(pool.isConnected("10.0.0.1:6881"), "an old dial's failure does not free the new dial");
});

Deno.test("peer pool: an address given up and listed again gets one more try, not five", () => {
  const pool = new PeerPool({ maxFailures: 3, retryBaseMs: 0 });
  pool.add([a], "tracker");
  for (let i = 0; i < 3; i++) {
    pool.take(1);
    pool.failed("10.0.0.1:6881", 0);
  }
  assertEquals(pool.size, 0);
  pool.add([a], "tracker");
  assertEquals(pool.take(1, 1), [a]);
  pool.failed("10.0.0.1:6881", 1);
  assertEquals(pool.size, 0, "given up again after one failure");
});

Deno.test("peer pool: a private torrent (BEP 27) takes tracker, user and incoming peers, never PEX, DHT or LSD ones", () => {
  const pool = new PeerPool({ private: true });
  for (const kind of ["pex", "dht", "lsd"] as const) {
    assertEquals(pool.add([a], kind, kind), 0, kind);
  }
  assertEquals(pool.size, 0);
  assertEquals(pool.add([a], "http://tracker/announce", "tracker"), 1);
  assertEquals(pool.add([a], "pex", "pex"), 0);
  assertEquals(pool.sources("10.0.0.1:6881"), ["http://tracker/announce"], "not even remembered");
  assertEquals(pool.add([b], "user"), 1);
  assert(pool.markConnected("10.0.0.3:50000", { host: "10.0.0.3", port: 50000 }));
  // A public torrent takes them all.
  const open = new PeerPool();
  assertEquals(open.add([a], "dht", "dht") + open.add([b], "pex", "pex"), 2);
});

Deno.test("pool: what other peers pass on (PEX, LSD) fills at most three quarters of it, 8 ports per IP", () => {
  const pool = new PeerPool({ maxAddresses: 100 });
  const many = Array.from(
    { length: 200 },
    (_, i) => ({ host: `10.0.${i >> 8}.${i & 255}`, port: 1 }),
  );
  assertEquals(pool.add(many, "pex 10.9.9.9:1", "pex"), 75);
  assertEquals(pool.add([{ host: "10.1.0.1", port: 1 }], "lsd", "lsd"), 0, "gossip is full");
  const tracked = Array.from({ length: 40 }, (_, i) => ({ host: `10.2.0.${i}`, port: 1 }));
  assertEquals(pool.add(tracked, "http://tracker.example/announce"), 40, "trackers take the rest");
  assertEquals(pool.size, 100, "full: 15 idle addresses from gossip gave way");
  const ports = Array.from({ length: 20 }, (_, i) => ({ host: "10.3.0.1", port: 1000 + i }));
  assertEquals(new PeerPool().add(ports, "pex 10.9.9.9:1", "pex"), 8, "no port scan of one host");
  assertEquals(new PeerPool().add(ports, "user"), 20, "the user's are not gossip");
});
