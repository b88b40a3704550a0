import { decodeDontHave, encodeDontHave, ltDontHave } from "../../lib/extensions/mod.ts";
import { ExtensionRegistry } from "../../lib/wire/extension_registry.ts";
import { PeerError } from "../../lib/wire/errors.ts";
import {
  decodeExtensionHandshake,
  encodeExtensionHandshake,
} from "../../lib/wire/extension_handshake.ts";
import { assertEquals, assertThrows } from "../helpers/assert.ts";

Deno.test("lt_donthave: the piece index is four bytes, big endian", () => {
  assertEquals([...encodeDontHave(0x01020304)], [1, 2, 3, 4]);
  assertEquals(decodeDontHave(new Uint8Array([0, 0, 0x01, 0x2c])), 300);
  assertEquals(decodeDontHave(encodeDontHave(4_294_967_295)), 4_294_967_295);
});

Deno.test("lt_donthave: a payload that is not four bytes is a protocol error", () => {
  for (const length of [0, 3, 5, 64]) {
    assertThrows(() => decodeDontHave(new Uint8Array(length)), PeerError, `${length} bytes`);
  }
});

Deno.test("extension registry: our ids start at 1, messages go to their extension", () => {
  const heard: [string, number][] = [];
  const registry = new ExtensionRegistry<string>([
    ltDontHave((peer, index) => heard.push([peer, index])),
    { name: "ut_other", onMessage: () => heard.push(["other", -1]) },
  ]);
  assertEquals([...registry.localIds()], [["lt_donthave", 1], ["ut_other", 2]]);
  assertEquals(registry.route("A", 1, encodeDontHave(9)), true);
  assertEquals(registry.route("B", 2, new Uint8Array()), true);
  assertEquals(registry.route("C", 3, encodeDontHave(9)), false);
  assertEquals(heard, [["A", 9], ["other", -1]]);
  assertThrows(() => registry.route("A", 1, new Uint8Array(2)), PeerError);
});

Deno.test("extension registry: we send under the peer's id, never to a peer without it", () => {
  const payload = encodeDontHave(1);
  assertEquals(
    ExtensionRegistry.message(new Map([["lt_donthave", 7]]), "lt_donthave", payload),
    { type: "extended", id: 7, payload },
  );
  assertEquals(ExtensionRegistry.message(new Map(), "lt_donthave", payload), undefined);
  // BEP 10: id 0 in the peer's m means it disabled the extension.
  assertEquals(
    ExtensionRegistry.message(new Map([["lt_donthave", 0]]), "lt_donthave", payload),
    undefined,
  );
});

Deno.test("extension registry: one name twice is refused", () => {
  const extension = ltDontHave<string>(() => {});
  assertThrows(() => new ExtensionRegistry([extension, extension]), RangeError, "twice");
});

Deno.test("extension registry: extensions add fields to our handshake, never the protocol's own keys", () => {
  const registry = new ExtensionRegistry<string>([
    ltDontHave(() => {}),
    {
      name: "ut_metadata",
      onMessage: () => {},
      handshakeFields: () => new Map([["metadata_size", 31337], ["m", 0], ["p", 1]]),
    },
    { name: "late", onMessage: () => {}, handshakeFields: () => new Map([["metadata_size", 1]]) },
  ]);
  const payload = encodeExtensionHandshake(
    { extensions: registry.localIds(), listenPort: 6881, client: "shoal test" },
    registry.handshakeFields(),
  );
  const read = decodeExtensionHandshake(payload);
  assertEquals(read.metadataSize, 31337, "the first extension's value");
  assertEquals(read.listenPort, 6881, "not an extension's p");
  assertEquals([...read.extensions], [["late", 3], ["lt_donthave", 1], ["ut_metadata", 2]]);
});
