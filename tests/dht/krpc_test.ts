/** KRPC (BEP 5): the example packets of the BEP, round trips, and what is refused. */
import fc from "fast-check";
import {
  decodeKrpc,
  encodeKrpc,
  KrpcDecodeError,
  type KrpcMessage,
  MAX_KRPC_DATAGRAM,
  MAX_VALUES,
} from "../../lib/dht/krpc.ts";
import { encodeCompactNodes, parseCompactNodes } from "../../lib/dht/compact_nodes.ts";
import { assert, assertEquals, assertThrows } from "../helpers/assert.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (value: Uint8Array | undefined) => new TextDecoder().decode(value);

Deno.test("krpc: the example packets of BEP 5 decode to what they say", () => {
  const ping = decodeKrpc(bytes("d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe"));
  assert(ping.kind === "query");
  assertEquals([ping.method, text(ping.transaction), text(ping.args.id)], [
    "ping",
    "aa",
    "abcdefghij0123456789",
  ]);
  const findNode = decodeKrpc(bytes(
    "d1:ad2:id20:abcdefghij01234567896:target20:mnopqrstuvwxyz123456e1:q9:find_node1:t2:aa1:y1:qe",
  ));
  assert(findNode.kind === "query");
  assertEquals(text(findNode.args.target), "mnopqrstuvwxyz123456");
  const peers = decodeKrpc(bytes(
    "d1:rd2:id20:abcdefghij01234567895:token8:aoeusnth6:valuesl6:axje.u6:idhtnmee1:t2:aa1:y1:re",
  ));
  assert(peers.kind === "response");
  assertEquals(text(peers.result.token), "aoeusnth");
  assertEquals(peers.result.values?.map(text), ["axje.u", "idhtnm"]);
  const announce = decodeKrpc(bytes(
    "d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz1234564:porti6881e5:token8:aoeusnthe1:q13:announce_peer1:t2:aa1:y1:qe",
  ));
  assert(announce.kind === "query");
  assertEquals([announce.args.port, text(announce.args.token)], [6881, "aoeusnth"]);
  const error = decodeKrpc(bytes("d1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee"));
  assertEquals(error.kind === "error" && [error.code, error.message], [
    201,
    "A Generic Error Ocurred",
  ]);
});

Deno.test("krpc: implied_port stands in for a missing port; want and ro are read", () => {
  const message = decodeKrpc(encodeKrpc({
    kind: "query",
    transaction: bytes("t1"),
    method: "announce_peer",
    args: {
      id: new Uint8Array(20),
      infoHash: new Uint8Array(20),
      impliedPort: true,
      token: bytes("x"),
      want: ["n4", "n6"],
    },
    readOnly: true,
  }));
  assert(message.kind === "query");
  assertEquals([message.args.impliedPort, message.args.port, message.args.want, message.readOnly], [
    true,
    undefined,
    ["n4", "n6"],
    true,
  ]);
});

Deno.test("krpc: what a query lacks is refused with its transaction id (to answer 203); garbage is refused", () => {
  const refused = (input: string | Uint8Array) => {
    try {
      decodeKrpc(typeof input === "string" ? bytes(input) : input);
    } catch (error) {
      assert(error instanceof KrpcDecodeError);
      return { query: error.query, transaction: text(error.transaction) };
    }
    throw new Error("accepted");
  };
  // A short id, a missing target, an announce without a token, a port out of range.
  assertEquals(refused("d1:ad2:id3:abce1:q4:ping1:t2:aa1:y1:qe"), {
    query: true,
    transaction: "aa",
  });
  assertEquals(
    refused("d1:ad2:id20:abcdefghij0123456789e1:q9:find_node1:t2:ab1:y1:qe").query,
    true,
  );
  assertEquals(
    refused(
      "d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz1234564:porti1ee1:q13:announce_peer1:t2:aa1:y1:qe",
    ).query,
    true,
  );
  assertEquals(
    refused(
      "d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz1234564:porti70000e5:token1:xe1:q13:announce_peer1:t2:aa1:y1:qe",
    ).query,
    true,
  );
  // Not bencode, not a dictionary, no transaction, a response without an id, a huge datagram, deep nesting.
  for (
    const input of [
      "hello",
      "li1ee",
      "d1:y1:qe",
      "d1:rd2:idi1ee1:t2:aa1:y1:re",
      "d1:t2:aa1:y1:ze",
      `d1:t${"l".repeat(50)}${"e".repeat(50)}e`,
    ]
  ) assertEquals(refused(input).query, false, input);
  assertThrows(() => decodeKrpc(new Uint8Array(MAX_KRPC_DATAGRAM + 1)), KrpcDecodeError);
});

Deno.test("krpc: malformed optional fields of a response are dropped, not trusted", () => {
  const message = decodeKrpc(bytes(
    "d2:ip3:abc1:rd2:id20:abcdefghij01234567895:token65:" + "x".repeat(65) +
      "6:valuesl6:axje.u3:badi5eee1:t2:aa1:y1:re",
  ));
  assert(message.kind === "response");
  assertEquals([message.ip, message.result.token, message.result.values?.length], [
    undefined,
    undefined,
    1,
  ]);
});

const id = fc.uint8Array({ minLength: 20, maxLength: 20 });
const tx = fc.uint8Array({ minLength: 1, maxLength: 4 });
const message: fc.Arbitrary<KrpcMessage> = fc.oneof(
  fc.record({
    kind: fc.constant("query" as const),
    transaction: tx,
    method: fc.constantFrom("ping", "find_node", "get_peers"),
    args: fc.record({ id, target: id, infoHash: id }),
  }),
  fc.record({
    kind: fc.constant("response" as const),
    transaction: tx,
    result: fc.record({
      id,
      nodes: fc.uint8Array({ maxLength: 26 * 8 }),
      token: fc.uint8Array({ maxLength: 20 }),
      values: fc.array(fc.uint8Array({ minLength: 6, maxLength: 6 }), { maxLength: 50 }),
    }),
  }),
  fc.record({
    kind: fc.constant("error" as const),
    transaction: tx,
    code: fc.integer({ min: 201, max: 204 }),
    message: fc.stringMatching(/^[ -~]{0,40}$/),
  }),
);

Deno.test("krpc: every message survives encode and decode (fast-check)", () => {
  fc.assert(fc.property(message, (original) => {
    const back = decodeKrpc(encodeKrpc(original));
    assertEquals(back.kind, original.kind);
    assertEquals([...back.transaction], [...original.transaction]);
    if (original.kind === "query" && back.kind === "query") {
      assertEquals([...back.args.id], [...original.args.id]);
      if (original.method === "find_node") {
        assertEquals([...back.args.target!], [...original.args.target!]);
      }
    }
    if (original.kind === "response" && back.kind === "response") {
      assertEquals(back.result.values?.length, original.result.values?.length);
      assertEquals([...back.result.nodes!], [...original.result.nodes!]);
    }
    if (original.kind === "error" && back.kind === "error") {
      assertEquals([back.code, back.message], [original.code, original.message]);
    }
  }));
});

Deno.test("krpc: random bytes never throw anything but KrpcDecodeError (fast-check)", () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (input) => {
    try {
      decodeKrpc(input);
    } catch (error) {
      assert(error instanceof KrpcDecodeError, String(error));
    }
  }));
});

Deno.test("compact nodes: IPv4 and IPv6 round trips; port 0, short tails and other families left out", () => {
  const nodes = [
    { id: new Uint8Array(20).fill(1), host: "10.0.0.1", port: 6881 },
    { id: new Uint8Array(20).fill(2), host: "2001:db8::1", port: 51413 },
    { id: new Uint8Array(20).fill(3), host: "10.0.0.3", port: 0 },
  ];
  const v4 = encodeCompactNodes(nodes, 4);
  assertEquals(v4.length, 26);
  assertEquals(parseCompactNodes(v4, 4).map((n) => `${n.host}:${n.port}`), ["10.0.0.1:6881"]);
  const v6 = encodeCompactNodes(nodes, 6);
  assertEquals(parseCompactNodes(v6, 6).map((n) => `${n.host}:${n.port}`), ["2001:db8::1:51413"]);
  const tail = new Uint8Array(v4.length + 10);
  tail.set(v4);
  assertEquals(parseCompactNodes(tail, 4).length, 1);
  assertEquals(parseCompactNodes(new Uint8Array(26 * 100), 4).length, 0); // port 0 throughout
});

Deno.test("krpc: a get_peers response with more values than are read keeps the first MAX_VALUES (an honest node is not failed for it)", () => {
  const values = Array.from(
    { length: 300 },
    (_, i) => new Uint8Array([10, 0, i >> 8, i & 0xff, 0x1a, 0xe1]),
  );
  const bytes = encodeKrpc({
    kind: "response",
    transaction: new Uint8Array([1, 2]),
    result: { id: new Uint8Array(20), values, token: new Uint8Array([1, 2, 3, 4]) },
  });
  const back = decodeKrpc(bytes);
  assert(back.kind === "response");
  assertEquals(back.result.values?.length, MAX_VALUES);
});
