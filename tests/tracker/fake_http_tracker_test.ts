/**
 * The HTTP tracker client against misbehaving trackers, each a real HTTP
 * server on loopback: failure reasons, warnings, garbage, truncated peer
 * lists, huge and slow replies, redirects, gzip, HTTP errors.
 */
import { assert, assertEquals, assertRejects } from "../helpers/assert.ts";
import { type BencodeInput } from "../../lib/bencode/types.ts";
import { encode } from "../../lib/bencode/encode.ts";
import { type AnnounceRequest } from "../../lib/tracker/types.ts";
import { announceUrl, httpAnnounce, httpScrape, scrapeUrl } from "../../lib/tracker/http.ts";
import { formatIpv6 } from "../../lib/net/compact.ts";
import { TrackerError } from "../../lib/tracker/errors.ts";
import { toHex } from "../../lib/util/_bytes.ts";

const INFO_HASH = Uint8Array.from({ length: 20 }, (_, i) => (i * 37 + 200) & 0xff);
const PEER_ID = new TextEncoder().encode("-SH0100-abcdefghijkl");

const REQUEST: AnnounceRequest = {
  infoHash: INFO_HASH,
  peerId: PEER_ID,
  port: 6881,
  uploaded: 1,
  downloaded: 2,
  left: 3,
  event: "started",
  numWant: 50,
  key: 0xdeadbeef,
};

/** Runs a real HTTP server on 127.0.0.1 for the test, then stops it. */
async function withServer(
  handler: (request: Request) => Response | Promise<Response>,
  fn: (base: string, requests: URL[]) => Promise<void>,
): Promise<void> {
  const requests: URL[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (request) => {
    requests.push(new URL(request.url));
    return handler(request);
  });
  try {
    await fn(`http://127.0.0.1:${server.addr.port}`, requests);
  } finally {
    await server.shutdown();
  }
}

function bencoded(value: BencodeInput, status = 200): Response {
  return new Response(encode(value), { status });
}

function compact(...peers: [number, number, number, number, number][]): Uint8Array {
  return Uint8Array.from(
    peers.flatMap(([a, b, c, d, port]) => [a, b, c, d, port >> 8, port & 255]),
  );
}

/** Raw bytes of a query parameter, percent-decoding without UTF-8 interpretation. */
function rawParameter(url: URL, name: string): Uint8Array {
  const match = new RegExp(`[?&]${name}=([^&]*)`).exec(url.search);
  assert(match, `no ${name} in ${url.search}`);
  const bytes: number[] = [];
  const text = match[1];
  for (let i = 0; i < text.length; i++) {
    if (text[i] === "%") {
      bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(text.charCodeAt(i));
  }
  return Uint8Array.from(bytes);
}

Deno.test("http tracker: sends every parameter, info hash and peer id as raw bytes", () =>
  withServer(
    () =>
      bencoded({
        interval: 900,
        "min interval": 60,
        complete: 4,
        incomplete: 5,
        peers: compact([10, 0, 0, 1, 6881], [127, 0, 0, 1, 51413]),
      }),
    async (base, requests) => {
      const reply = await httpAnnounce(`${base}/announce?passkey=secret`, REQUEST);
      assertEquals(reply.peers, [{ host: "10.0.0.1", port: 6881 }, {
        host: "127.0.0.1",
        port: 51413,
      }]);
      assertEquals([reply.interval, reply.minInterval, reply.complete, reply.incomplete], [
        900,
        60,
        4,
        5,
      ]);
      assertEquals(reply.problems, []);
      const url = requests[0];
      assertEquals(url.pathname, "/announce");
      assertEquals(url.searchParams.get("passkey"), "secret");
      assertEquals(rawParameter(url, "info_hash"), INFO_HASH);
      assertEquals(rawParameter(url, "peer_id"), PEER_ID);
      const expected = {
        port: "6881",
        uploaded: "1",
        downloaded: "2",
        left: "3",
        compact: "1",
        event: "started",
        numwant: "50",
        key: "deadbeef",
      };
      for (const [name, value] of Object.entries(expected)) {
        assertEquals(url.searchParams.get(name), value, name);
      }
    },
  ));

Deno.test("http tracker: event none is left out; trackerid is sent back", () => {
  const url = new URL(
    announceUrl("http://t/announce", { ...REQUEST, event: "none", trackerId: "a b" }),
  );
  assertEquals(url.searchParams.get("event"), null);
  assertEquals(url.searchParams.get("trackerid"), "a b");
});

Deno.test("http tracker: failure reason is surfaced verbatim", () =>
  withServer(
    () => bencoded({ "failure reason": "Torrent not registered: ünïcode" }),
    async (base) => {
      const error = await assertRejects(
        () => httpAnnounce(`${base}/announce`, REQUEST),
        TrackerError,
      );
      assertEquals([error.kind, error.message, error.exitCode], [
        "failure",
        "Torrent not registered: ünïcode",
        4,
      ]);
    },
  ));

Deno.test("http tracker: a failure reason with an HTTP error status is still the failure reason", () =>
  withServer(() => bencoded({ "failure reason": "banned client" }, 403), async (base) => {
    const error = await assertRejects(
      () => httpAnnounce(`${base}/announce`, REQUEST),
      TrackerError,
    );
    assertEquals([error.kind, error.message], ["failure", "banned client"]);
  }));

Deno.test("http tracker: warning message, tracker id, dictionary peers and peers6", () =>
  withServer(() =>
    bencoded({
      interval: 60,
      "warning message": "Please update",
      "tracker id": "T1",
      peers: [
        { ip: "192.0.2.7", port: 1000, "peer id": "x".repeat(20) },
        { ip: "bad", port: 0 },
        "junk",
      ],
      peers6: Uint8Array.from([...new Uint8Array(15), 1, 0x1a, 0xe1]),
    }), async (base) => {
    const reply = await httpAnnounce(`${base}/announce`, REQUEST);
    assertEquals(reply.warning, "Please update");
    assertEquals(reply.trackerId, "T1");
    assertEquals(reply.peers, [
      { host: "192.0.2.7", port: 1000, peerId: new TextEncoder().encode("x".repeat(20)) },
      { host: "::1", port: 6881 },
    ]);
  }));

Deno.test("http tracker: a truncated compact list keeps the whole entries", () =>
  withServer(() => {
    const peers = compact([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]);
    return bencoded({ interval: 60, peers: peers.subarray(0, 9) });
  }, async (base) => {
    const reply = await httpAnnounce(`${base}/announce`, REQUEST);
    assertEquals(reply.peers, [{ host: "1.2.3.4", port: 5 }]);
    assertEquals(reply.problems, ["The peer list ends with 3 stray bytes"]);
  }));

Deno.test("http tracker: garbage, non-dictionary and HTTP errors give clear errors", async () => {
  await withServer(() => new Response("<html>Service Unavailable</html>"), async (base) => {
    const error = await assertRejects(
      () => httpAnnounce(`${base}/announce`, REQUEST),
      TrackerError,
    );
    assertEquals(error.kind, "invalid-reply");
    assert(
      error.message.includes(`not bencoded: "<html>Service Unavailable</html>"`),
      error.message,
    );
  });
  await withServer(() => bencoded([1, 2]), async (base) => {
    const error = await assertRejects(
      () => httpAnnounce(`${base}/announce`, REQUEST),
      TrackerError,
    );
    assertEquals(error.kind, "invalid-reply");
  });
  await withServer(
    () => new Response("oops", { status: 502, statusText: "Bad Gateway" }),
    async (base) => {
      const error = await assertRejects(
        () => httpAnnounce(`${base}/announce`, REQUEST),
        TrackerError,
      );
      assertEquals([error.kind, error.message], [
        "http-status",
        "The tracker answered HTTP 502 Bad Gateway",
      ]);
    },
  );
});

Deno.test("http tracker: a reply over the size cap is refused without reading it all", () =>
  withServer(() => {
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent > 64 * 1024 * 1024) return controller.close();
        sent += 65536;
        controller.enqueue(new Uint8Array(65536).fill(0x61));
      },
    });
    return new Response(body);
  }, async (base) => {
    const error = await assertRejects(
      () => httpAnnounce(`${base}/announce`, REQUEST, { maxReplyBytes: 100_000 }),
      TrackerError,
    );
    assertEquals(error.kind, "too-large");
  }));

Deno.test("http tracker: a silent tracker times out", () =>
  withServer(async () => {
    await new Promise((resolve) => setTimeout(resolve, 2000));
    return bencoded({ interval: 1 });
  }, async (base) => {
    const started = performance.now();
    const error = await assertRejects(
      () => httpAnnounce(`${base}/announce`, REQUEST, { timeoutMs: 200 }),
      TrackerError,
    );
    assertEquals([error.kind, error.message], [
      "timeout",
      "The tracker did not answer within 0.2 s",
    ]);
    assert(performance.now() - started < 1900);
  }));

Deno.test("http tracker: a closed port is a network error", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const error = await assertRejects(
    () => httpAnnounce(`http://127.0.0.1:${port}/announce`, REQUEST),
    TrackerError,
  );
  assertEquals(error.kind, "network");
});

Deno.test("http tracker: redirects are followed and gzip is decoded", () =>
  withServer((request) => {
    const url = new URL(request.url);
    if (url.pathname === "/announce") {
      return new Response(null, { status: 302, headers: { location: `/real${url.search}` } });
    }
    const body = new Blob([encode({ interval: 77, peers: compact([9, 9, 9, 9, 99]) })]).stream()
      .pipeThrough(new CompressionStream("gzip"));
    return new Response(body, { headers: { "content-encoding": "gzip" } });
  }, async (base, requests) => {
    const reply = await httpAnnounce(`${base}/announce`, REQUEST);
    assertEquals([reply.interval, reply.peers], [77, [{ host: "9.9.9.9", port: 99 }]]);
    assertEquals(requests.map((u) => u.pathname), ["/announce", "/real"]);
    assertEquals(rawParameter(requests[1], "info_hash"), INFO_HASH);
  }));

Deno.test("http tracker: scrape URL per BEP 48", () => {
  assertEquals(scrapeUrl("http://t.test/announce"), "http://t.test/scrape");
  assertEquals(scrapeUrl("http://t.test/x/announce.php?k=1"), "http://t.test/x/scrape.php?k=1");
  assertEquals(scrapeUrl("http://t.test/a"), undefined);
  assertEquals(scrapeUrl("http://t.test/announce/x"), undefined);
  assertEquals(scrapeUrl("not a url"), undefined);
});

Deno.test("http tracker: scrape with binary info hash keys", () =>
  withServer((request) => {
    const url = new URL(request.url);
    assertEquals(url.pathname, "/scrape");
    const key = String.fromCharCode(...rawParameter(url, "info_hash"));
    return bencoded({
      files: new Map([[key, { complete: 3, incomplete: 4, downloaded: 5 }], ["short", {}]]),
    });
  }, async (base) => {
    const result = await httpScrape(`${base}/announce`, [INFO_HASH]);
    assertEquals(result.get(toHex(INFO_HASH)), { complete: 3, incomplete: 4, downloaded: 5 });
    assertEquals(result.size, 1);
  }));

Deno.test("peers: IPv6 addresses are formatted per RFC 5952", () => {
  const bytes = (groups: number[]) => Uint8Array.from(groups.flatMap((g) => [g >> 8, g & 255]));
  assertEquals(formatIpv6(bytes([0, 0, 0, 0, 0, 0, 0, 1])), "::1");
  assertEquals(formatIpv6(bytes([0x2001, 0xdb8, 0, 0, 1, 0, 0, 1])), "2001:db8::1:0:0:1");
  assertEquals(formatIpv6(bytes([0x2001, 0xdb8, 1, 2, 3, 4, 5, 6])), "2001:db8:1:2:3:4:5:6");
  assertEquals(formatIpv6(bytes([0x2001, 0, 1, 2, 3, 4, 5, 6])), "2001:0:1:2:3:4:5:6");
  assertEquals(formatIpv6(new Uint8Array(16)), "::");
});

Deno.test("http tracker: a TLS failure says why", () => {
  const server = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (server.addr as Deno.NetAddr).port;
  // A plain TCP server that closes at once: the TLS handshake cannot succeed.
  const accepting = (async () => {
    for await (const conn of server) conn.close();
  })();
  return httpAnnounce(`https://127.0.0.1:${port}/announce`, REQUEST, { timeoutMs: 3000 })
    .then(() => {
      throw new Error("expected a failure");
    }, (error) => {
      assert(error instanceof TrackerError);
      assertEquals(error.kind, "network");
      assert(/^Cannot reach the tracker: .+ \(.+\)$/.test(error.message), error.message);
    })
    .finally(async () => {
      server.close();
      await accepting.catch(() => {});
    });
});
