import fc from "fast-check";
import { assert, assertEquals } from "../helpers/assert.ts";
import { BencodeError, type BencodeValue, decode, encode } from "../../lib/bencode/mod.ts";

const bencodeValue: fc.Arbitrary<BencodeValue> = fc.letrec<{ value: BencodeValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.oneof(fc.maxSafeInteger(), fc.bigInt({ min: -(2n ** 80n), max: 2n ** 80n })).map(
      (
        n,
      ): BencodeValue => (typeof n === "bigint" && Number.isSafeInteger(Number(n)) ? Number(n) : n),
    ),
    fc.uint8Array({ maxLength: 64 }),
    fc.array(tie("value"), { maxLength: 6 }),
    fc.array(fc.tuple(fc.string({ unit: "binary-ascii", maxLength: 8 }), tie("value")), {
      maxLength: 6,
    })
      .map((entries) => new Map(entries)),
  ),
})).value;

Deno.test("property: decode(encode(x)) equals x", () => {
  fc.assert(
    fc.property(bencodeValue, (value) => {
      assertEquals(decode(encode(value)), value);
    }),
    { numRuns: 500 },
  );
});

Deno.test("property: encode is canonical, so encode(decode(b)) equals b for encoder output", () => {
  fc.assert(
    fc.property(bencodeValue, (value) => {
      const bytes = encode(value);
      assertEquals(encode(decode(bytes)), bytes);
    }),
    { numRuns: 300 },
  );
});

Deno.test("property: random bytes never throw anything but BencodeError", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      try {
        decode(bytes);
      } catch (error) {
        assert(error instanceof BencodeError, `threw ${error}`);
      }
    }),
    { numRuns: 3000 },
  );
});

Deno.test("property: mutated valid bencode never throws anything but BencodeError", () => {
  const mutated = fc.tuple(
    bencodeValue,
    fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
  )
    .map(([value, edits]) => {
      const bytes = encode(value);
      for (const [position, byte] of edits) {
        if (bytes.length > 0) bytes[position % bytes.length] = byte;
      }
      return bytes.subarray(0, bytes.length - (edits.length % 2));
    });
  fc.assert(
    fc.property(mutated, (bytes) => {
      try {
        decode(bytes, { mode: "lenient" });
      } catch (error) {
        assert(error instanceof BencodeError, `threw ${error}`);
      }
    }),
    { numRuns: 2000 },
  );
});
