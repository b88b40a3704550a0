/**
 * Hostile DHT nodes, as real UDP sockets, for the "hostile" scenario of
 * `dht_scenarios.ts` (run only in a loopback-only namespace: the liar
 * has 200 sockets). What one attacker can do to a shoal
 * node: garbage, floods of queries, replies nobody asked for, replies
 * too big for the decoder, and a node that names fresh, ever closer nodes
 * forever. The node must stay bounded and keep serving others.
 *
 * @module
 */

import { encodeCompactNodes } from "../../lib/dht/compact_nodes.ts";
import { DhtNode } from "../../lib/dht/dht_node.ts";
import { decodeKrpc, encodeKrpc, type KrpcMessage } from "../../lib/dht/krpc.ts";
import { isBep42Valid } from "../../lib/dht/node_id.ts";
import { compactPeer } from "../../lib/net/compact.ts";

const text = new TextEncoder();

/** A UDP socket on `host` that sends KRPC and collects what comes back. */
class Attacker {
  readonly socket: Deno.DatagramConn;
  readonly received: KrpcMessage[] = [];
  readonly #reading: Promise<void>;

  constructor(host: string, port = 0) {
    this.socket = Deno.listenDatagram({ transport: "udp", hostname: host, port });
    this.#reading = this.#read();
  }

  get port(): number {
    return (this.socket.addr as Deno.NetAddr).port;
  }

  async #read(): Promise<void> {
    try {
      for (;;) {
        const [datagram] = await this.socket.receive();
        try {
          if (this.received.length < 100_000) this.received.push(decodeKrpc(datagram));
        } catch {
          // The victim sends nothing malformed; ignore it if it did (the count would show).
        }
      }
    } catch {
      // Closed.
    }
  }

  async send(bytes: Uint8Array, port: number): Promise<void> {
    await this.socket.send(bytes, { transport: "udp", hostname: "127.0.0.1", port });
  }

  async ping(port: number, transaction: number): Promise<void> {
    await this.send(
      encodeKrpc({
        kind: "query",
        transaction: new Uint8Array([transaction >> 8, transaction & 0xff]),
        method: "ping",
        args: { id: randomId() },
      }),
      port,
    );
  }

  async close(): Promise<void> {
    this.socket.close();
    await this.#reading;
  }
}

function randomId(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(20));
}

/** Garbage of every kind a parser can trip on. */
function garbage(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < 200; i++) {
    out.push(crypto.getRandomValues(new Uint8Array(1 + (i * 37) % 1400)));
  }
  out.push(text.encode("l".repeat(5000) + "e".repeat(5000)));
  out.push(text.encode("d1:t2:aa1:y1:q1:q4:ping1:ad" + "d1:a".repeat(500)));
  out.push(text.encode("d1:t2:aa1:y1:q1:q4:ping1:ad2:id999999999:")); // a huge string length
  out.push(text.encode("d1:t2:ab1:y1:q1:q9:get_peers1:ad2:id3:abcee")); // short id, no info_hash
  out.push(text.encode("d1:t2:ac1:y1:r1:rd2:id20:" + "x".repeat(20) + "5:nodes7:garbageee"));
  out.push(new Uint8Array(60_000).fill(0x64)); // "ddd…", far over the datagram limit
  out.push(text.encode("i-0e"));
  out.push(new Uint8Array(0));
  return out;
}

/**
 * A node that answers every query at once, naming 8 fresh nodes closer to
 * the target each time: all of them itself, on one of its 200 ports (on
 * 127.0.0.1; the victim allows many nodes per IP). A lookup that trusted
 * it would never end.
 */
class Liar {
  readonly sockets = Array.from(
    { length: 200 },
    () => Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 }),
  );
  queries = 0;
  #depth = 0;
  readonly #serving: Promise<void[]>;

  constructor() {
    this.#serving = Promise.all(this.sockets.map((socket) => this.#serve(socket)));
  }

  get port(): number {
    return (this.sockets[0].addr as Deno.NetAddr).port;
  }

  async #serve(socket: Deno.DatagramConn): Promise<void> {
    try {
      for (;;) {
        const [datagram, from] = await socket.receive();
        let query: KrpcMessage;
        try {
          query = decodeKrpc(datagram);
        } catch {
          continue;
        }
        if (query.kind !== "query") continue;
        this.queries++;
        const target = query.args.target ?? query.args.infoHash ?? randomId();
        this.#depth = Math.min(this.#depth + 1, 150);
        const nodes = Array.from({ length: 8 }, () => {
          // Shares ever more leading bytes with the target: closer than the last ones.
          const id = randomId();
          id.set(target.subarray(0, Math.floor(this.#depth / 8)));
          const port = this.sockets[Math.floor(Math.random() * this.sockets.length)].addr;
          return { id, host: "127.0.0.1", port: (port as Deno.NetAddr).port };
        });
        const reply = encodeKrpc({
          kind: "response",
          transaction: query.transaction,
          result: {
            id: randomId(),
            nodes: encodeCompactNodes(nodes, 4),
            token: text.encode("liar"),
          },
        });
        await socket.send(reply, from).catch(() => {});
      }
    } catch {
      // Closed.
    }
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.close();
    await this.#serving;
  }
}

/**
 * BEP 42: three nodes (on 127.0.0.2, .3 and .4) that each say they see us
 * at 203.0.113.7; once three agree, our node id follows that address,
 * and the nodes it knew stay in its table. Returns what it saw.
 */
export async function bep42Scenario(): Promise<string> {
  const external = "203.0.113.7";
  const voters = ["127.0.0.2", "127.0.0.3", "127.0.0.4"].map((host) =>
    Deno.listenDatagram({ transport: "udp", hostname: host, port: 0 })
  );
  const serving = voters.map(async (socket) => {
    try {
      for (;;) {
        const [datagram, from] = await socket.receive();
        const query = decodeKrpc(datagram);
        if (query.kind !== "query") continue;
        const reply = encodeKrpc({
          kind: "response",
          transaction: query.transaction,
          result: { id: randomId() },
          ip: compactPeer({ host: external, port: (from as Deno.NetAddr).port })!.bytes,
        });
        await socket.send(reply, from).catch(() => {});
      }
    } catch {
      // Closed.
    }
  });
  const bootstrap = voters.map((socket) =>
    `${(socket.addr as Deno.NetAddr).hostname}:${(socket.addr as Deno.NetAddr).port}`
  );
  const node = new DhtNode({ bind: ["127.0.0.1"], port: 0, bootstrap });
  try {
    const before = node.id;
    await node.ready();
    await wait(200);
    const ip = new Uint8Array([203, 0, 113, 7]);
    if (isBep42Valid(before, ip)) throw new Error("the random id was valid already (1 in 2^21)");
    if (!isBep42Valid(node.id, ip)) throw new Error("the node id did not follow the address");
    if (node.size < 3) throw new Error(`the table lost its nodes: ${node.size}`);
    return `three nodes agreed on ${external}: the node id became ${
      toHexPrefix(node.id)
    }… (BEP 42), ${node.size} nodes kept`;
  } finally {
    await node.close();
    for (const socket of voters) socket.close();
    await Promise.all(serving);
  }
}

function toHexPrefix(bytes: Uint8Array): string {
  return [...bytes.subarray(0, 4)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The "hostile" scenario: returns what it saw, throws on a failure. */
export async function hostileScenario(): Promise<string> {
  const victim = new DhtNode({ bind: ["127.0.0.1"], port: 0, bootstrap: [] });
  const attacker = new Attacker("127.0.0.1");
  const bystander = new Attacker("127.0.0.2");
  const liar = new Liar();
  const trusting = new DhtNode({
    bind: ["127.0.0.1"],
    port: 0,
    bootstrap: [`127.0.0.1:${liar.port}`],
    manyPerIp: true,
  });
  const seen: string[] = [];
  try {
    await Promise.all([victim.ready(), trusting.ready()]);

    // Garbage, and replies to queries never sent: dropped, nothing enters the table.
    // Paced, so that the kernel's receive buffer does not drop them before the node sees them.
    for (const [i, datagram] of garbage().entries()) {
      await attacker.send(datagram, victim.port);
      if (i % 10 === 0) await wait(1);
    }
    for (let i = 0; i < 500; i++) {
      if (i % 10 === 0) await wait(1);
      await attacker.send(
        encodeKrpc({
          kind: "response",
          transaction: crypto.getRandomValues(new Uint8Array(2)),
          result: { id: randomId(), nodes: new Uint8Array(0) },
        }),
        victim.port,
      );
    }
    await wait(300);
    const afterGarbage = victim.stats();
    if (afterGarbage.nodes !== 0) {
      throw new Error(`${afterGarbage.nodes} nodes entered from garbage`);
    }
    if (afterGarbage.dropped < 700) {
      throw new Error(`only ${afterGarbage.dropped} datagrams dropped`);
    }
    seen.push(`${afterGarbage.dropped} garbage and unasked-for datagrams dropped`);

    // A flood of pings from one address: at most 25 a second are answered, and a
    // bystander at another address is still served.
    const before = attacker.received.length;
    const started = performance.now();
    for (let i = 0; i < 3000; i++) await attacker.ping(victim.port, i);
    const seconds = (performance.now() - started) / 1000;
    // Once the socket's buffer has drained (the kernel drops what overflows it, for anyone).
    await wait(200);
    for (let i = 0; i < 3000; i++) await attacker.ping(victim.port, i);
    await wait(200);
    await bystander.ping(victim.port, 1);
    await wait(300);
    const answered = attacker.received.length - before;
    const allowed = 25 * (Math.ceil(seconds + 0.4) + 2);
    if (answered > allowed) {
      throw new Error(`${answered} of 6000 flooded pings answered in ${seconds.toFixed(1)} s`);
    }
    if (!bystander.received.some((message) => message.kind === "response")) {
      throw new Error("the bystander's ping went unanswered during the flood");
    }
    seen.push(`${answered} of 6000 flooded pings answered, the bystander served`);

    // A liar that names fresh, ever closer nodes forever: the lookup still ends,
    // within its query budget, and the table stays within its bounds.
    const lookup = await trusting.getPeers(randomId());
    if (lookup.queries > 100) throw new Error(`the lookup sent ${lookup.queries} queries`);
    if (liar.queries < 20) throw new Error(`the liar was asked only ${liar.queries} times`);
    const table = trusting.stats();
    if (table.nodes > 160 * 8) throw new Error(`the table grew to ${table.nodes} nodes`);
    seen.push(
      `a lookup through a node naming fresh nodes forever ended after ${lookup.queries} queries (${
        lookup.ms.toFixed(0)
      } ms), ${table.nodes} nodes in the table`,
    );
    return seen.join("; ");
  } finally {
    await Promise.all([victim.close(), trusting.close()]);
    await Promise.all([attacker.close(), bystander.close(), liar.close()]);
  }
}
