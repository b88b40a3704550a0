/**
 * Fuzz inputs, shared by the short runs in the test suite and `deno task fuzz`:
 * fast-check arbitraries that mix fully random bytes, soups of tokens that
 * parsers trip on, and mutations of real inputs (the seeds): bytes flipped,
 * replaced, inserted, deleted, duplicated, cut, spliced with another seed,
 * edge tokens and integers written in, and bencode values replaced, renamed
 * or copied (structure.ts). Every value comes from fast-check's seeded
 * generator, so a seed fixes the whole sequence.
 *
 * @module
 */

import fc from "fast-check";
import { concatBytes } from "../../lib/util/_bytes.ts";
import { mutateStructure, type StructuralMutation } from "./structure.ts";

const encoder = new TextEncoder();

/** Byte sequences that sit on the edges of the formats (bencode, magnet links). */
export const TOKENS: readonly Uint8Array[] = [
  // Integers at and past the edges.
  "i0e",
  "i-0e",
  "i00e",
  "i-e",
  "ie",
  "i-1e",
  "i9007199254740991e",
  "i9007199254740992e",
  "i-9007199254740993e",
  "i99999999999999999999e",
  "i18446744073709551616e",
  `i${"9".repeat(64)}e`,
  `i${"9".repeat(65)}e`,
  "i1.5e",
  "i 1e",
  // Length prefixes: empty, leading zero, huge, longer than any input.
  "0:",
  "01:a",
  "1:",
  "99999999:",
  "4294967296:",
  "999999999999999:",
  "9999999999999999:",
  "-1:",
  // Containers: empty, unterminated, deep.
  "le",
  "de",
  "e",
  "l",
  "d",
  "d1:a",
  "d1:ai1e1:ai2ee",
  "d1:bi1e1:ai2ee",
  "l".repeat(99),
  "l".repeat(101),
  "d1:a".repeat(101),
  "l".repeat(5000),
  "ld".repeat(60),
  // Keys the readers look up.
  "4:info",
  "6:pieces",
  "12:piece length",
  "6:length",
  "5:files",
  "4:path",
  "4:name",
  "4:attr",
  "13:announce-list",
  "8:url-list",
  "1:m",
  "4:reqq",
  "1:p",
  "1:v",
  "13:metadata_size",
  "5:peers",
  "6:peers6",
  "8:interval",
  "12:min interval",
  "14:failure reason",
  "15:warning message",
  "11:external ip",
  // Magnet links.
  "magnet:?",
  "xt=urn:btih:",
  "xt=urn:btmh:",
  "&",
  "=",
  "%",
  "%zz",
  "%ff",
  "%C3%A9",
  "%00",
  "+",
  "tr=",
  "tr.1=",
  "ws=",
  "dn=",
  "x.pe=",
  "so=",
  "0-4294967295",
  "[::1]:",
  ":65536",
  ":0",
  "0123456789abcdef0123456789abcdef01234567",
  "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567",
  // The handshake's protocol string.
  "\x13BitTorrent protocol",
].map((text) => encoder.encode(text));

/** Integers at the edges of binary fields (lengths, indices, ports, counts). */
export const EDGE_INTEGERS: readonly number[] = [
  0,
  1,
  2,
  5,
  8,
  9,
  13,
  0x7f,
  0x80,
  0xff,
  0x100,
  0x3fff,
  0x4000,
  0x4001,
  0x4009,
  0xffff,
  0x10000,
  0x10001,
  0x7fffffff,
  0x80000000,
  0xfffffffe,
  0xffffffff,
];

/** One change to a seed. Positions are reduced modulo the length they apply to. */
export type Mutation =
  | { kind: "flip"; at: number; bit: number }
  | { kind: "set"; at: number; byte: number }
  | { kind: "insert"; at: number; bytes: Uint8Array }
  | { kind: "delete"; at: number; length: number }
  | { kind: "truncate"; at: number }
  | { kind: "duplicate"; from: number; length: number; to: number }
  | { kind: "splice"; seed: number; at: number; from: number }
  | { kind: "token"; at: number; token: number; overwrite: boolean }
  | { kind: "integer"; at: number; value: number; width: 1 | 2 | 4 }
  | { kind: "digits"; at: number; value: number }
  | StructuralMutation;

/** Applies one mutation; `seeds` is what a splice takes its second half from. */
export function mutate(
  input: Uint8Array,
  mutation: Mutation,
  seeds: readonly Uint8Array[],
): Uint8Array {
  const length = input.length;
  switch (mutation.kind) {
    case "replace":
    case "rename":
    case "copy":
      return mutateStructure(input, mutation);
    case "flip": {
      if (length === 0) return input;
      const out = input.slice();
      out[mutation.at % length] ^= 1 << mutation.bit;
      return out;
    }
    case "set": {
      if (length === 0) return Uint8Array.of(mutation.byte);
      const out = input.slice();
      out[mutation.at % length] = mutation.byte;
      return out;
    }
    case "insert": {
      const at = mutation.at % (length + 1);
      return concatBytes([input.subarray(0, at), mutation.bytes, input.subarray(at)]);
    }
    case "delete": {
      const at = mutation.at % (length + 1);
      return concatBytes([input.subarray(0, at), input.subarray(at + mutation.length)]);
    }
    case "truncate":
      return input.subarray(0, mutation.at % (length + 1));
    case "duplicate": {
      const from = mutation.from % (length + 1);
      const range = input.subarray(from, from + mutation.length);
      const to = mutation.to % (length + 1);
      return concatBytes([input.subarray(0, to), range, input.subarray(to)]);
    }
    case "splice": {
      const other = seeds.length > 0 ? seeds[mutation.seed % seeds.length] : input;
      return concatBytes([
        input.subarray(0, mutation.at % (length + 1)),
        other.subarray(mutation.from % (other.length + 1)),
      ]);
    }
    case "token": {
      const token = TOKENS[mutation.token % TOKENS.length];
      const at = mutation.at % (length + 1);
      const skip = mutation.overwrite ? token.length : 0;
      return concatBytes([input.subarray(0, at), token, input.subarray(at + skip)]);
    }
    case "integer": {
      const at = mutation.at % (length + 1);
      const out = new Uint8Array(Math.max(length, at + mutation.width));
      out.set(input);
      for (let i = 0; i < mutation.width; i++) {
        out[at + i] = Math.floor(mutation.value / 256 ** (mutation.width - 1 - i)) & 0xff;
      }
      return out;
    }
    case "digits": {
      // A decimal number replacing the run of digits at the position (a bencode length or integer).
      let start = mutation.at % (length + 1);
      while (start > 0 && input[start - 1] >= 0x30 && input[start - 1] <= 0x39) start--;
      let end = start;
      while (end < length && input[end] >= 0x30 && input[end] <= 0x39) end++;
      return concatBytes([
        input.subarray(0, start),
        encoder.encode(String(mutation.value)),
        input.subarray(end),
      ]);
    }
  }
}

/** Applies the mutations in order. */
export function applyMutations(
  seed: Uint8Array,
  mutations: readonly Mutation[],
  seeds: readonly Uint8Array[],
): Uint8Array {
  let input = seed;
  for (const mutation of mutations) input = mutate(input, mutation, seeds);
  return input;
}

const position = fc.nat();
const edgeInteger = fc.oneof(
  fc.constantFrom(...EDGE_INTEGERS),
  fc.integer({ min: 0, max: 0xffffffff }),
);

/** A single mutation, any kind. */
export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("flip"), at: position, bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant("set"), at: position, byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({
    kind: fc.constant("insert"),
    at: position,
    bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }),
  }),
  fc.record({ kind: fc.constant("delete"), at: position, length: fc.integer({ min: 1, max: 64 }) }),
  fc.record({ kind: fc.constant("truncate"), at: position }),
  fc.record({
    kind: fc.constant("duplicate"),
    from: position,
    length: fc.integer({ min: 1, max: 256 }),
    to: position,
  }),
  fc.record({ kind: fc.constant("splice"), seed: fc.nat(), at: position, from: position }),
  fc.record({
    kind: fc.constant("token"),
    at: position,
    token: fc.nat(),
    overwrite: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant("integer"),
    at: position,
    value: edgeInteger,
    width: fc.constantFrom(1, 2, 4),
  }),
  fc.record({
    kind: fc.constant("digits"),
    at: position,
    value: fc.oneof(
      edgeInteger,
      fc.constantFrom(-1, 99999999, 9007199254740991, 9007199254740993, 1e21),
    ),
  }),
  fc.record({
    kind: fc.constant("replace"),
    slot: fc.nat(),
    value: fc.nat(),
    bytes: fc.uint8Array({ maxLength: 32 }),
  }),
  fc.record({ kind: fc.constant("rename"), slot: fc.nat(), key: fc.nat() }),
  fc.record({ kind: fc.constant("copy"), slot: fc.nat(), to: fc.nat() }),
) as fc.Arbitrary<Mutation>;

/** A seed (by index) with up to `maxMutations` mutations applied. */
export function mutatedSeed(
  seeds: readonly Uint8Array[],
  maxMutations = 6,
): fc.Arbitrary<Uint8Array> {
  if (seeds.length === 0) throw new RangeError("mutatedSeed needs at least one seed");
  return fc.tuple(
    fc.integer({ min: 0, max: seeds.length - 1 }),
    fc.array(mutation, { minLength: 0, maxLength: maxMutations }),
  ).map(([index, mutations]) => applyMutations(seeds[index], mutations, seeds));
}

/** Tokens and random bytes in a row: random input that still looks like the formats. */
export const tokenSoup: fc.Arbitrary<Uint8Array> = fc.array(
  fc.oneof(
    { weight: 3, arbitrary: fc.nat().map((i) => TOKENS[i % TOKENS.length]) },
    { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 8 }) },
    { weight: 1, arbitrary: fc.nat({ max: 100_000 }).map((n) => encoder.encode(`${n}:`)) },
  ),
  { maxLength: 24 },
).map((parts) => concatBytes(parts));

/**
 * The input of a fuzz target: mostly mutated seeds, some token soup, some
 * fully random bytes.
 *
 * @param seeds Real inputs of the parser.
 */
export function fuzzInput(seeds: readonly Uint8Array[]): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 512 }) },
    { weight: 1, arbitrary: tokenSoup },
    { weight: 6, arbitrary: mutatedSeed(seeds) },
  );
}
