/** The peer wire codec: every message round-trips, streams split anywhere parse the same, limits hold. */
import fc from "fast-check";
import { PeerError } from "../../lib/wire/errors.ts";
import {
  decodeMessage,
  MessageReader,
  type ReceivedMessage,
} from "../../lib/wire/message_reader.ts";
import { encodeMessage, type PeerMessage } from "../../lib/wire/messages.ts";
import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertRejects,
  assertThrows,
} from "../helpers/assert.ts";

const PIECES = 100;

const SAMPLES: PeerMessage[] = [
  { type: "keep-alive" },
  { type: "choke" },
  { type: "unchoke" },
  { type: "interested" },
  { type: "not-interested" },
  { type: "have", index: 99 },
  { type: "bitfield", bytes: new Uint8Array(13).fill(0xa5).map((v, i) => i === 12 ? 0xf0 : v) },
  { type: "request", index: 3, begin: 16384, length: 16384 },
  { type: "piece", index: 4, begin: 32768, block: new Uint8Array(16384).fill(9) },
  { type: "cancel", index: 3, begin: 0, length: 100 },
  { type: "port", port: 6881 },
  { type: "suggest", index: 5 },
  { type: "have-all" },
  { type: "have-none" },
  { type: "reject", index: 1, begin: 2, length: 3 },
  { type: "allowed-fast", index: 7 },
  { type: "extended", id: 0, payload: new TextEncoder().encode("d1:md11:ut_metadatai1eee") },
  { type: "unknown", id: 99, payload: new Uint8Array([1, 2, 3]) },
];

function plain(message: ReceivedMessage): unknown {
  return JSON.parse(JSON.stringify(message, (_k, v) => v instanceof Uint8Array ? [...v] : v));
}

/** A byte source that hands out `bytes` in chunks of the given sizes. */
function chunked(bytes: Uint8Array, sizes: number[]) {
  let offset = 0;
  let turn = 0;
  return {
    read(buffer: Uint8Array): Promise<number | null> {
      if (offset >= bytes.length) return Promise.resolve(null);
      const size = Math.min(
        buffer.length,
        bytes.length - offset,
        Math.max(1, sizes[turn++ % sizes.length] ?? 1),
      );
      buffer.set(bytes.subarray(offset, offset + size));
      offset += size;
      return Promise.resolve(size);
    },
  };
}

async function readAll(
  bytes: Uint8Array,
  sizes: number[],
  bufferSize?: number,
): Promise<unknown[]> {
  const out: unknown[] = [];
  await new MessageReader(chunked(bytes, sizes), { pieceCount: PIECES, bufferSize }).run((m) =>
    out.push(plain(m))
  );
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

Deno.test("peer wire: every message type round-trips through encode and decode", () => {
  for (const message of SAMPLES) {
    const bytes = encodeMessage(message);
    const length = new DataView(bytes.buffer).getUint32(0);
    assertEquals(length, bytes.length - 4);
    assertEquals(plain(decodeMessage(bytes.subarray(4), PIECES)), plain(message), message.type);
  }
});

Deno.test("peer wire: a stream split at any points parses to the same messages", async () => {
  const stream = concat(SAMPLES.map(encodeMessage));
  const expected = SAMPLES.map(plain);
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.integer({ min: 1, max: 40_000 }), { minLength: 1, maxLength: 20 }),
      fc.integer({ min: 64, max: 70_000 }),
      async (sizes, bufferSize) => {
        assertEquals(await readAll(stream, sizes, bufferSize), expected);
      },
    ),
    { numRuns: 60 },
  );
});

Deno.test("peer wire: blocks go straight into the target the caller gives, in one copy", async () => {
  const block = new Uint8Array(16384).map((_, i) => i & 0xff);
  const stream = concat([
    encodeMessage({ type: "unchoke" }),
    encodeMessage({ type: "piece", index: 2, begin: 16384, block }),
  ]);
  for (const sizes of [[1], [7, 3000], [100_000], [13, 5]]) {
    const piece = new Uint8Array(65536);
    const seen: ReceivedMessage[] = [];
    await new MessageReader(chunked(stream, sizes), {
      pieceCount: PIECES,
      blockTarget: (index, begin, length) =>
        index === 2 ? piece.subarray(begin, begin + length) : undefined,
    }).run((m) => seen.push(m));
    const last = seen[1];
    assert(last.type === "piece" && "inPlace" in last, `sizes ${sizes}`);
    assertEquals([...piece.subarray(16384, 32768)], [...block]);
  }
});

Deno.test("peer wire: messages larger than their type allows are refused before their body is read", async () => {
  const cases: [Uint8Array, string][] = [
    [new Uint8Array([0, 0, 0x40, 0x0a, 7]), "piece of 16 KiB + 10 bytes"],
    [new Uint8Array([0x7f, 0xff, 0xff, 0xff, 20]), "2 GiB extended message"],
    [new Uint8Array([0, 0, 0, 20, 5]), "bitfield of the wrong size for 100 pieces"],
    [new Uint8Array([0, 0, 0, 2, 0, 0]), "choke with a payload"],
    [new Uint8Array([0, 0, 0, 6, 4, 0, 0, 0, 1, 0]), "have of 6 bytes"],
  ];
  for (const [bytes, what] of cases) {
    const error = await assertRejects(() => readAll(bytes, [1000]), PeerError);
    assertInstanceOf(error, PeerError, what);
    assertEquals((error as PeerError).kind, "protocol", what);
  }
});

Deno.test("peer wire: a message cut off by the end of the stream is an error, a clean end is not", async () => {
  const whole = encodeMessage({ type: "have", index: 1 });
  assertEquals((await readAll(whole, [2])).length, 1);
  const error = await assertRejects(() => readAll(whole.subarray(0, 6), [2]), PeerError);
  assertEquals((error as PeerError).kind, "closed");
});

Deno.test("peer wire: decodeMessage checks exact sizes", () => {
  assertThrows(() => decodeMessage(new Uint8Array([6, 0, 0, 0]), PIECES), PeerError);
  assertThrows(() => decodeMessage(new Uint8Array([7, 0, 0]), PIECES), PeerError);
  assertThrows(() => decodeMessage(new Uint8Array([20]), PIECES), PeerError);
});
