/** One connection's protocol (PeerSession), over an in-memory stream pair: no sockets. */
import { PeerConnection } from "../../lib/wire/connection.ts";
import { PeerError } from "../../lib/wire/errors.ts";
import { encodeExtensionHandshake } from "../../lib/wire/extension_handshake.ts";
import { ourReservedBytes } from "../../lib/wire/handshake.ts";
import { MessageReader, type ReceivedMessage } from "../../lib/wire/message_reader.ts";
import { BLOCK_SIZE, encodeMessage, type PeerMessage } from "../../lib/wire/messages.ts";
import { blockKey, PeerSession, type PeerSessionEvents } from "../../lib/swarm/peer_session.ts";
import { Bitfield } from "../../lib/util/bitfield.ts";
import { silentLogger } from "../../lib/util/log.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import { until } from "../helpers/until.ts";
import { memoryStreamPair } from "../helpers/memory_stream.ts";

const PIECES = 8;
const BLOCK = BLOCK_SIZE;

/** A session on one end of a memory pipe, and the peer's end, which sends raw messages and records ours. */
function connect({ fast = true } = {}) {
  const [ours, theirs] = memoryStreamPair();
  const reserved = fast ? ourReservedBytes() : new Uint8Array(8);
  const connection = new PeerConnection(
    ours,
    "127.0.0.1:6881",
    { reserved, infoHash: new Uint8Array(20), peerId: new Uint8Array(20).fill(1) },
    new Uint8Array(0),
    "outgoing",
  );
  const session = new PeerSession(0, connection, PIECES, silentLogger);
  const seen: string[] = [];
  const record = (what: string) => () => void seen.push(what);
  const events: PeerSessionEvents = {
    pieces: (_session, bits) => void seen.push(`pieces ${[...bits.indices()]}`),
    have: (_session, index) => void seen.push(`have ${index}`),
    choked: record("choked"),
    mayRequest: record("mayRequest"),
    interest: record("interest"),
    request: (peer, request) => {
      seen.push(`request ${request.index}/${request.begin}`);
      peer.uploadQueue.push({ index: request.index, begin: request.begin, length: request.length });
    },
    released: (_session, index, begin) => void seen.push(`released ${index}/${begin}`),
    block: (_session, block) =>
      void seen.push(`block ${block.index}/${block.begin}${block.late ? " late" : ""}`),
    unrequestedBlock: (_session, block) => void seen.push(`unrequested ${block.data.length}`),
    extensionHandshake: record("extensionHandshake"),
    dhtPort: record("dhtPort"),
    extended: (_session, id, payload) => void seen.push(`extended ${id} ${payload.length}`),
    blockTarget: () => undefined,
  };
  const ended = session.run(events);
  const received: ReceivedMessage[] = [];
  const reading = new MessageReader(theirs, { pieceCount: PIECES })
    .run((message) => void received.push(structuredClone(message)))
    .catch(() => {});
  const send = (message: PeerMessage | Uint8Array) =>
    theirs.write(message instanceof Uint8Array ? message : encodeMessage(message));
  const close = async () => {
    connection.close();
    await Promise.all([ended, reading]);
  };
  return { session, seen, received, send, ended, close };
}

const types = (messages: ReceivedMessage[]) => messages.map((message) => message.type);

Deno.test("peer session: the wire state under BEP 3 names, and the pieces the peer has", async () => {
  const { session, seen, received, send, close } = connect();
  assertEquals(
    [session.amChoking, session.amInterested, session.peerChoking, session.peerInterested],
    [true, false, true, false],
  );
  const bits = new Bitfield(PIECES);
  bits.set(0);
  bits.set(3);
  await send({ type: "bitfield", bytes: bits.bytes });
  await send({ type: "unchoke" });
  await send({ type: "interested" });
  await send({ type: "have", index: 5 });
  await send({ type: "have", index: 5 });
  await send({ type: "have", index: 3 });
  await until(() => seen.length >= 4, "the messages", 1000);
  assertEquals(seen, ["pieces 0,3", "mayRequest", "interest", "have 5"]);
  assertEquals([session.peerChoking, session.peerInterested], [false, true]);
  assertEquals([...session.bits.indices()], [0, 3, 5]);
  assert(session.setInterested(true));
  assert(!session.setInterested(true), "no change, nothing sent");
  await until(() => received.length >= 1, "the messages", 1000);
  assertEquals(types(received), ["interested"]);
  await close();
});

Deno.test("peer session: a second piece list is taken as have messages", async () => {
  const { session, seen, send, close } = connect();
  await send({ type: "have-none" });
  const bits = new Bitfield(PIECES);
  bits.set(2);
  await send({ type: "bitfield", bytes: bits.bytes });
  await until(() => seen.length >= 2, "the messages", 1000);
  assertEquals(seen, ["pieces ", "have 2"]);
  assert(session.bitsReceived);
  await close();
});

Deno.test("peer session: our requests are answered, taken back (a late block still counts), or never made", async () => {
  const { session, seen, received, send, close } = connect();
  session.request([
    { index: 0, begin: 0, length: BLOCK },
    { index: 0, begin: BLOCK, length: BLOCK },
    { index: 1, begin: 0, length: BLOCK },
  ]);
  await until(() => received.length >= 3, "the messages", 1000);
  assertEquals(types(received), ["request", "request", "request"]);
  const block = new Uint8Array(BLOCK);
  await send({ type: "piece", index: 0, begin: 0, block });
  await until(() => seen.length >= 1, "the messages", 1000);
  assertEquals(session.requests.size, 2);
  assert(session.roundTripMs !== undefined);
  assert(session.takeBack(blockKey(0, BLOCK), true) !== undefined);
  await until(() => received.length >= 4, "the messages", 1000);
  assertEquals(received[3], { type: "cancel", index: 0, begin: BLOCK, length: BLOCK });
  await send({ type: "piece", index: 0, begin: BLOCK, block });
  await send({ type: "piece", index: 2, begin: 0, block });
  await send({ type: "reject", index: 1, begin: 0, length: BLOCK });
  await until(() => seen.length >= 4, "the messages", 1000);
  assertEquals(seen, ["block 0/0", "block 0/16384 late", `unrequested ${BLOCK}`, "released 1/0"]);
  assertEquals([session.requests.size, session.unrequestedBlocks], [0, 1]);
  await close();
});

Deno.test("peer session: a block of another length than asked goes back and drops the peer", async () => {
  const { session, seen, send, ended } = connect();
  session.request([{ index: 0, begin: 0, length: BLOCK }]);
  await send({ type: "piece", index: 0, begin: 0, block: new Uint8Array(100) });
  const error = await ended;
  assertEquals(error?.kind, "protocol");
  assertEquals(seen, ["released 0/0"]);
});

Deno.test("peer session: what breaks the protocol closes the connection", async () => {
  const cases: [string, PeerMessage | Uint8Array, boolean][] = [
    ["bitfield with spare bits", { type: "bitfield", bytes: new Uint8Array([0xff, 1]) }, true],
    ["have out of range", { type: "have", index: PIECES }, true],
    ["have all without fast", { type: "have-all" }, false],
    ["reject without fast", { type: "reject", index: 0, begin: 0, length: BLOCK }, false],
    ["allowed fast without fast", { type: "allowed-fast", index: 0 }, false],
    ["a block of a piece that does not exist", {
      type: "piece",
      index: PIECES,
      begin: 0,
      block: new Uint8Array(1),
    }, true],
    ["a malformed extension handshake", {
      type: "extended",
      id: 0,
      payload: new TextEncoder().encode("i1e"),
    }, true],
  ];
  for (const [what, message, fast] of cases) {
    const { send, ended } = connect({ fast });
    await send(message).catch(() => {});
    const error = await ended;
    assert(error instanceof PeerError, what);
    assertEquals(error.kind, "protocol", what);
  }
});

Deno.test("peer session: choking the peer rejects its queued requests; a cancel takes one out", async () => {
  const { session, seen, received, send, close } = connect();
  session.unchoke(1000);
  assertEquals([session.amChoking, session.unchokedSince, session.turns], [false, 1000, 1]);
  await send({ type: "request", index: 0, begin: 0, length: BLOCK });
  await send({ type: "request", index: 0, begin: BLOCK, length: BLOCK });
  await send({ type: "cancel", index: 0, begin: 0, length: BLOCK });
  await until(() => seen.length >= 2 && session.uploadQueue.length === 1, "the messages", 1000);
  assertEquals(session.uploadQueue, [{ index: 0, begin: BLOCK, length: BLOCK }]);
  assert(session.lastRequestAt !== undefined);
  session.choke();
  assertEquals(session.uploadQueue, []);
  await until(() => received.length >= 3, "the messages", 1000);
  assertEquals(types(received), ["unchoke", "choke", "reject"]);
  assertEquals(received[2], { type: "reject", index: 0, begin: BLOCK, length: BLOCK });
  await close();
});

Deno.test("peer session: the extension handshake sets client, extensions and reqq; other extended messages go on", async () => {
  const { session, seen, send, close } = connect();
  const payload = encodeExtensionHandshake({
    extensions: new Map([["lt_donthave", 3]]),
    client: "Tester 1.0",
    requestQueue: 100,
  });
  await send({ type: "extended", id: 0, payload });
  await send({ type: "extended", id: 1, payload: new Uint8Array(4) });
  await until(() => seen.length >= 2, "the messages", 1000);
  assertEquals(seen, ["extensionHandshake", "extended 1 4"]);
  assertEquals(session.client, "Tester 1.0");
  assertEquals([...session.extensions], [["lt_donthave", 3]]);
  assertEquals(session.queueLimit, 100);
  await close();
});

Deno.test("peer session: our pieces go out as have none / have all with the fast extension, else as a bitfield", async () => {
  for (const fast of [true, false]) {
    const have = new Bitfield(PIECES);
    const { session, received, close } = connect({ fast });
    session.sendPieces(have);
    have.setAll();
    session.sendPieces(have);
    await until(() => received.length >= (fast ? 2 : 1), "the messages", 1000);
    assertEquals(types(received), fast ? ["have-none", "have-all"] : ["bitfield"]);
    await close();
  }
});
