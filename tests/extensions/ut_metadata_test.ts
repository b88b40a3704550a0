/** ut_metadata messages (BEP 9): their encoding, and what a malformed one is. */
import {
  decodeMetadataMessage,
  encodeMetadataMessage,
  metadataPieceCount,
  metadataPieceLength,
} from "../../lib/extensions/ut_metadata.ts";
import { PeerError } from "../../lib/wire/errors.ts";
import { assertEquals, assertThrows } from "../helpers/assert.ts";

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

Deno.test("ut_metadata: the messages of BEP 9, byte for byte, and back", () => {
  assertEquals(
    text(encodeMetadataMessage({ type: "request", piece: 0 })),
    "d8:msg_typei0e5:piecei0ee",
  );
  assertEquals(
    text(encodeMetadataMessage({ type: "reject", piece: 3 })),
    "d8:msg_typei2e5:piecei3ee",
  );
  const data = encodeMetadataMessage({
    type: "data",
    piece: 1,
    totalSize: 20000,
    data: new TextEncoder().encode("xyz"),
  });
  assertEquals(text(data), "d8:msg_typei1e5:piecei1e10:total_sizei20000eexyz");
  const decoded = decodeMetadataMessage(data);
  assertEquals(decoded?.type, "data");
  if (decoded?.type === "data") {
    assertEquals([decoded.piece, decoded.totalSize, text(decoded.data)], [1, 20000, "xyz"]);
  }
  assertEquals(decodeMetadataMessage(new TextEncoder().encode("d8:msg_typei0e5:piecei7ee")), {
    type: "request",
    piece: 7,
  });
  assertEquals(metadataPieceCount(16384 * 2 + 1), 3);
  assertEquals(metadataPieceLength(16384 * 2 + 1, 2), 1);
});

Deno.test("ut_metadata: an unknown msg_type is ignored; malformed messages are protocol errors", () => {
  assertEquals(
    decodeMetadataMessage(new TextEncoder().encode("d8:msg_typei9e5:piecei0ee")),
    undefined,
  );
  for (
    const bad of [
      "not bencode",
      "li1ee",
      "d5:piecei0ee",
      "d8:msg_typei0e5:piecei-1ee",
      "d8:msg_typei1e5:piecei0ee", // data without total_size
      `d8:msg_typei1e5:piecei0e10:total_sizei1ee${"x".repeat(16385)}`, // more than a piece
    ]
  ) {
    assertThrows(
      () => decodeMetadataMessage(new TextEncoder().encode(bad)),
      PeerError,
      "ut_metadata",
    );
  }
});
