/** Handshakes (BEP 3 reserved bits for BEP 6 and 10) and the extension handshake (BEP 10). */
import { PeerError } from "../../lib/wire/errors.ts";
import {
  decodeExtensionHandshake,
  encodeExtensionHandshake,
} from "../../lib/wire/extension_handshake.ts";
import {
  encodeHandshake,
  handshakeFeatures,
  ourReservedBytes,
  readHandshake,
} from "../../lib/wire/handshake.ts";
import { assertEquals, assertRejects, assertThrows } from "../helpers/assert.ts";
import { latin1 } from "../helpers/bytes.ts";

function source(bytes: Uint8Array) {
  let offset = 0;
  return {
    read(buffer: Uint8Array): Promise<number | null> {
      if (offset >= bytes.length) return Promise.resolve(null);
      const n = Math.min(buffer.length, bytes.length - offset, 11);
      buffer.set(bytes.subarray(offset, offset + n));
      offset += n;
      return Promise.resolve(n);
    },
  };
}

const infoHash = new Uint8Array(20).fill(1);
const peerId = new TextEncoder().encode("-SH0100-abcdefghijkl");

Deno.test("handshake: ours announces the fast extension and the extension protocol", async () => {
  const bytes = encodeHandshake({ reserved: ourReservedBytes(), infoHash, peerId });
  const extra = new Uint8Array([0, 0, 0, 1, 1]);
  const { handshake, rest } = await readHandshake(
    source(new Uint8Array([...bytes, ...extra])),
    infoHash,
  );
  assertEquals(handshakeFeatures(handshake.reserved), { fast: true, extensions: true, dht: false });
  assertEquals([...handshake.peerId], [...peerId]);
  assertEquals([...rest], [...extra].slice(0, rest.length));
});

Deno.test("handshake: another torrent, another protocol or a short handshake is refused", async () => {
  const other = encodeHandshake({
    reserved: new Uint8Array(8),
    infoHash: new Uint8Array(20),
    peerId,
  });
  const wrongHash = await assertRejects(() => readHandshake(source(other), infoHash), PeerError);
  assertEquals((wrongHash as PeerError).kind, "handshake");
  const http = new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n".padEnd(68, " "));
  await assertRejects(() => readHandshake(source(http)), PeerError);
  await assertRejects(() => readHandshake(source(other.subarray(0, 40))), PeerError);
});

Deno.test("extension handshake: round trip, odd values ignored, garbage refused", () => {
  const encoded = encodeExtensionHandshake({
    extensions: new Map([["ut_metadata", 3]]),
    client: "shoal 0.1.0",
    requestQueue: 500,
    listenPort: 6881,
  });
  const decoded = decodeExtensionHandshake(encoded);
  assertEquals(decoded.client, "shoal 0.1.0");
  assertEquals([decoded.requestQueue, decoded.listenPort], [500, 6881]);
  assertEquals(decoded.extensions.get("ut_metadata"), 3);
  const odd = decodeExtensionHandshake(
    latin1("d1:md1:xi999ee1:pi70000e4:reqqi99999999e1:v3:\xffabe"),
  );
  assertEquals([odd.extensions.size, odd.listenPort, odd.requestQueue], [0, undefined, 2048]);
  assertThrows(() => decodeExtensionHandshake(new TextEncoder().encode("i42e")), PeerError);
  assertThrows(() => decodeExtensionHandshake(new TextEncoder().encode("d1:m")), PeerError);
});
