/**
 * The transports a peer connection can run on: `node:net` from a chosen
 * local address (for `--bind` beyond loopback) carries bytes both ways in
 * order with backpressure, reports the end of the stream and is cancelled
 * by its signal; `dialFrom` picks the address of the peer's family and
 * refuses what a loopback binding cannot reach.
 */
import { dialWithNode } from "../../lib/wire/_node_dial.ts";
import { writeFully } from "../../lib/wire/stream.ts";
import { dialFrom, listenTcp, tcpTransport } from "../../lib/wire/transport.ts";
import { testWithIPv6 } from "../helpers/tools.ts";
import { assert, assertEquals, assertRejects } from "../helpers/assert.ts";

async function readAll(stream: { read(b: Uint8Array): Promise<number | null> }, length: number) {
  const out = new Uint8Array(length);
  let filled = 0;
  while (filled < length) {
    const n = await stream.read(out.subarray(filled, Math.min(length, filled + 70_000)));
    if (n === null) break;
    filled += n;
  }
  return out.subarray(0, filled);
}

Deno.test("transport: node:net from a chosen address carries 8 MiB each way in order, then the end", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const size = 8 * 1024 * 1024;
  const outgoing = crypto.getRandomValues(new Uint8Array(65536));
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i += outgoing.length) data.set(outgoing, i);
  try {
    const [stream, accepted] = await Promise.all([
      dialWithNode(
        { host: "127.0.0.1", port: listener.addr.port },
        "127.0.0.1",
        new AbortController().signal,
      ),
      listener.accept(),
    ]);
    assertEquals(accepted.remoteAddr.hostname, "127.0.0.1");
    // Both directions at once; the reader of each side is slower than the writer.
    const [, received, , echoed] = await Promise.all([
      writeFully(stream, data),
      readAll(accepted, size),
      writeFully(accepted, data),
      readAll(stream, size),
    ]);
    assertEquals(received.length, size);
    assert(received.every((byte, i) => byte === data[i]), "the bytes arrived in order");
    assert(echoed.every((byte, i) => byte === data[i]), "and the other way too");
    accepted.close();
    assertEquals(await stream.read(new Uint8Array(10)), null);
    stream.close();
  } finally {
    listener.close();
  }
});

Deno.test("transport: a node:net dial ends when its signal aborts, and fails when nobody listens", async () => {
  const controller = new AbortController();
  controller.abort(new Error("given up"));
  await assertRejects(
    () => dialWithNode({ host: "127.0.0.1", port: 2 }, "127.0.0.1", controller.signal),
    Error,
  );
  await assertRejects(
    () => dialWithNode({ host: "127.0.0.1", port: 2 }, "127.0.0.1", new AbortController().signal),
    Error,
    "ECONNREFUSED",
  );
});

Deno.test("transport: dialFrom refuses a family it has no address of, and the world from loopback", async () => {
  const dial = dialFrom(["127.0.0.1"]);
  const signal = new AbortController().signal;
  await assertRejects(
    () => dial({ host: "::1", port: 6881 }, signal),
    Error,
    "no --bind address is an IPv6",
  );
  await assertRejects(
    () => dial({ host: "192.0.2.1", port: 6881 }, signal),
    Error,
    "192.0.2.1 is beyond this machine and shoal is bound to 127.0.0.1",
  );
});

testWithIPv6(
  "transport: a TCP listener hands over each connection as a stream with its address; an IPv4 peer on a dual-stack socket shows as IPv4",
  [],
  async () => {
    const listener = listenTcp("::", 0);
    const incoming = (async () => {
      const out = [];
      for await (const stream of listener) {
        out.push(stream);
        if (out.length === 2) break;
      }
      return out;
    })();
    const signal = new AbortController().signal;
    const a = await tcpTransport({ host: "127.0.0.1", port: listener.local.port }, signal);
    const b = await tcpTransport({ host: "::1", port: listener.local.port }, signal);
    const [first, second] = await incoming;
    assertEquals([first.remote.host, second.remote.host].sort(), ["127.0.0.1", "::1"]);
    await a.write(new Uint8Array([7]));
    const byte = new Uint8Array(1);
    const from = first.remote.host === "127.0.0.1" ? first : second;
    assertEquals(await from.read(byte), 1);
    assertEquals(byte[0], 7);
    for (const stream of [a, b, first, second]) stream.close();
    listener.close();
    listener.close(); // twice is fine
  },
);
