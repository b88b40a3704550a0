import { assertEquals, assertThrows } from "../helpers/assert.ts";
import { BencodeError, decode, encode } from "../../lib/bencode/mod.ts";
import { ascii, latin1 } from "../helpers/bytes.ts";

function text(bytes: Uint8Array): string {
  return String.fromCharCode(...bytes);
}

Deno.test("encode: every type", () => {
  assertEquals(text(encode(42)), "i42e");
  assertEquals(text(encode(-3)), "i-3e");
  assertEquals(text(encode(-0)), "i0e");
  assertEquals(text(encode(2n ** 70n)), "i1180591620717411303424e");
  assertEquals(text(encode("spam")), "4:spam");
  assertEquals(text(encode("é")), "2:\xc3\xa9");
  assertEquals(text(encode(latin1("\xff\x00"))), "2:\xff\x00");
  assertEquals(text(encode([1, "a", []])), "li1e1:alee");
});

Deno.test("encode: dictionary keys are sorted by raw bytes", () => {
  assertEquals(
    text(encode({ zeta: 1, alpha: 2, "\xff": 3, Beta: 4 })),
    "d4:Betai4e5:alphai2e4:zetai1e1:\xffi3ee",
  );
  assertEquals(text(encode(new Map([["b", 1], ["a", 2]]))), "d1:ai2e1:bi1ee");
});

Deno.test("encode: undefined entries are left out", () => {
  assertEquals(text(encode({ a: 1, b: undefined })), "d1:ai1ee");
});

Deno.test("encode: refuses values bencode cannot carry", () => {
  assertThrows(() => encode(1.5), BencodeError, "not an integer");
  assertThrows(() => encode(Number.MAX_SAFE_INTEGER + 2), BencodeError, "use bigint");
  assertThrows(() => encode(NaN), BencodeError);
  assertThrows(() => encode({ "é€": 1 }), BencodeError, "not a binary string");
});

Deno.test("encode: output of a decoded torrent-like value is byte-identical", () => {
  const input = ascii(
    "d8:announce9:http://t/4:infod6:lengthi5e4:name1:a12:piece lengthi16384e6:pieces0:ee",
  );
  assertEquals(encode(decode(input)), input);
});
