import { assert, assertEquals, assertInstanceOf, assertThrows } from "../helpers/assert.ts";
import { BencodeError, decode, decodeWithDetails, isDict } from "../../lib/bencode/mod.ts";
import { ascii, latin1 } from "../helpers/bytes.ts";

function decodeText(text: string) {
  return decode(ascii(text));
}

function assertBencodeError(text: string, offset: number, fragment: string): void {
  const error = assertThrows(() => decode(latin1(text)), BencodeError);
  assertEquals(error.offset, offset, `offset for ${JSON.stringify(text)}: ${error.message}`);
  assert(error.message.includes(fragment), `"${error.message}" should mention "${fragment}"`);
  assert(error.message.includes(`byte ${offset}`), error.message);
}

Deno.test("decode: integers, strings, lists, dictionaries", () => {
  assertEquals(decodeText("i42e"), 42);
  assertEquals(decodeText("i-7e"), -7);
  assertEquals(decodeText("i0e"), 0);
  assertEquals(decodeText("4:spam"), ascii("spam"));
  assertEquals(decodeText("0:"), new Uint8Array());
  assertEquals(decodeText("l4:spami1ee"), [ascii("spam"), 1]);
  const dict = decodeText("d3:bar4:spam3:fooi42ee");
  assert(isDict(dict));
  assertEquals([...dict.keys()], ["bar", "foo"]);
  assertEquals(dict.get("foo"), 42);
});

Deno.test("decode: byte strings stay bytes, including invalid UTF-8", () => {
  const value = decode(latin1("3:\xff\x00\xfe"));
  assertInstanceOf(value, Uint8Array);
  assertEquals([...value], [0xff, 0x00, 0xfe]);
});

Deno.test("decode: binary dictionary keys round-trip as binary strings", () => {
  const dict = decode(latin1("d2:\xff\x01i1ee"));
  assert(isDict(dict));
  assertEquals([...dict.keys()], ["\xff\x01"]);
});

Deno.test("decode: integers beyond the safe range become bigint", () => {
  assertEquals(decodeText("i9007199254740991e"), 9007199254740991);
  assertEquals(decodeText("i9007199254740992e"), 9007199254740992n);
  assertEquals(decodeText("i-123456789012345678901234567890e"), -123456789012345678901234567890n);
});

Deno.test("decode: strict integer rules with offsets", () => {
  assertBencodeError("i03e", 0, "leading zero");
  assertBencodeError("i-0e", 0, "negative zero");
  assertBencodeError("ie", 0, "no digits");
  assertBencodeError("i-e", 0, "no digits");
  assertBencodeError("i12", 0, "not terminated");
  assertBencodeError("i1x2e", 2, "not a digit");
  assertBencodeError(`i${"1".repeat(65)}e`, 0, "longer than 64 digits");
  assertBencodeError("l i1ee", 1, "unexpected byte 0x20");
});

Deno.test("decode: byte string rules with offsets", () => {
  assertBencodeError("5:abc", 0, "runs past the end");
  assertBencodeError("02:ab", 0, "leading zero");
  assertBencodeError("3abc", 1, "not followed by ':'");
  assertBencodeError("99999999999999999:a", 0, "absurdly long");
  assertBencodeError("4294967296:x", 0, "runs past the end");
});

Deno.test("decode: lists and dictionaries must be terminated", () => {
  assertBencodeError("l", 0, "list is not terminated");
  assertBencodeError("li1e", 0, "list is not terminated");
  assertBencodeError("d1:a", 4, "has no value");
  assertBencodeError("d1:ae", 4, "has no value");
  assertBencodeError("d1:ai1e", 0, "dictionary is not terminated");
  assertBencodeError("di1ei2ee", 1, "key is not a byte string");
  assertBencodeError("", 0, "unexpected end of input");
});

Deno.test("decode: trailing data is refused unless allowed", () => {
  assertBencodeError("i1ei2e", 3, "trailing data");
  const details = decodeWithDetails(ascii("d1:ai1eeRAW"), { allowTrailing: true });
  assertEquals(details.end, 8);
});

Deno.test("decode: strict mode refuses unsorted keys, lenient records them", () => {
  assertBencodeError("d1:bi1e1:ai2ee", 7, "not sorted");
  const details = decodeWithDetails(ascii("d1:bi1e1:ai2ee"), { mode: "lenient" });
  assertEquals(details.unsortedKeysAt, 7);
  assert(isDict(details.value));
  assertEquals(details.value.get("a"), 2);
  assertEquals(decodeWithDetails(ascii("d1:ai1ee"), { mode: "lenient" }).unsortedKeysAt, undefined);
});

Deno.test("decode: duplicate keys are refused in both modes", () => {
  assertBencodeError("d1:ai1e1:ai2ee", 7, "duplicate");
  assertThrows(
    () => decode(ascii("d1:ai1e1:ai2ee"), { mode: "lenient" }),
    BencodeError,
    "duplicate",
  );
});

Deno.test("decode: keys sort by raw bytes, not by text", () => {
  // 0x7f sorts before 0xc3 as bytes.
  assert(isDict(decode(latin1("d1:\x7fi1e2:\xc3\xa9i2ee"))));
  assertThrows(() => decode(latin1("d2:\xc3\xa9i2e1:\x7fi1ee")), BencodeError, "not sorted");
});

Deno.test("decode: nesting beyond the limit is refused", () => {
  const deep = "l".repeat(101) + "e".repeat(101);
  assertBencodeError(deep, 100, "deeper than the limit of 100");
  assertEquals(decode(ascii("l".repeat(100) + "e".repeat(100))) instanceof Array, true);
  assertThrows(() => decode(ascii("llee"), { maxDepth: 1 }), BencodeError, "limit of 1");
  // A million-deep input fails fast rather than overflowing the stack.
  assertThrows(() => decode(ascii("l".repeat(1_000_000))), BencodeError, "deeper");
});

Deno.test("decode: spans give the exact bytes of nested containers", () => {
  const input = ascii("d4:infod6:lengthi3e4:name1:ae5:otherli1eee");
  const details = decodeWithDetails(input, { recordSpans: true });
  assert(isDict(details.value));
  const info = details.value.get("info");
  assert(info !== undefined);
  const span = details.spanOf(info);
  assertEquals(span, { start: 7, end: 29 });
  assert(span !== undefined);
  assertEquals(
    new TextDecoder().decode(input.subarray(span.start, span.end)),
    "d6:lengthi3e4:name1:ae",
  );
  const other = details.value.get("other");
  assert(other !== undefined);
  assertEquals(details.spanOf(other), { start: 36, end: 41 });
  assertEquals(decodeWithDetails(input).spanOf(info), undefined);
});

Deno.test("decode: byte strings are views, not copies", () => {
  const input = ascii("10:0123456789");
  const value = decode(input);
  assertInstanceOf(value, Uint8Array);
  assertEquals(value.buffer, input.buffer);
  assertEquals(value.byteOffset, 3);
});

Deno.test("decode: spans can be kept to the top levels; lists and dictionaries can be capped", () => {
  const input = ascii("d4:infod5:filesld1:ai1eeee3:keyi1ee");
  const details = decodeWithDetails(input, { recordSpans: true, maxSpanDepth: 2 });
  const root = details.value as Map<string, unknown>;
  const info = root.get("info") as Map<string, unknown>;
  assertEquals(details.spanOf(info as never), { start: 7, end: 26 });
  assertEquals(details.spanOf(info.get("files") as never), undefined, "depth 3 is not recorded");
  assertEquals(decode(ascii("li1ei2ei3ee"), { maxItems: 3 }), [1, 2, 3]);
  const error = assertThrows(() => decode(ascii("li1ei2ei3ei4ee"), { maxItems: 3 }), BencodeError);
  assert(error.message.includes("more than 3 items"), error.message);
  assertThrows(() => decode(ascii("d1:ai1e1:bi2ee"), { maxItems: 1 }), BencodeError);
  // Keys read straight from the input keep every check.
  assertThrows(() => decode(ascii("d01:ai1ee")), BencodeError);
  assertThrows(() => decode(ascii("d2:ai1ee")), BencodeError);
  const latin = decode(latin1("d3:\xe9t\xe9i1ee")) as Map<string, unknown>;
  assertEquals([...latin.keys()], ["\xe9t\xe9"]);
});
