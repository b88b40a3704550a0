/** BEP 42 node ids: the BEP's vectors, edge cases, exempt ranges, and ids made for any address. */
import fc from "fast-check";
import { bep42NodeId, crc32c, isBep42Exempt, isBep42Valid } from "../../lib/dht/node_id.ts";
import { ipv4Bytes, ipv6Bytes } from "../../lib/net/_ip.ts";
import { fromHex } from "../../lib/util/_bytes.ts";
import { assert, assertEquals } from "../helpers/assert.ts";

const ip = (host: string) => (ipv4Bytes(host) ?? ipv6Bytes(host))!;
const id = (hex: string) => fromHex(hex)!;

const VECTORS: [string, string][] = [
  ["124.31.75.21", "5fbfbff10c5d6a4ec8a88e4c6ab4c28b95eee401"],
  ["21.75.31.124", "5a3ce9c14e7a08645677bbd1cfe7d8f956d53256"],
  ["65.23.51.170", "a5d43220bc8f112a3d426c84764f8c2a1150e616"],
  ["84.124.73.14", "1b0321dd1bb1fe518101ceef99462b947a01ff41"],
  ["43.213.53.83", "e56f6cbf5b7c4be0237986d5243b87aa6d51305a"],
];

Deno.test("bep42: CRC-32C check value", () => {
  assertEquals(crc32c(new TextEncoder().encode("123456789")), 0xe3069283);
});

Deno.test("bep42: the BEP's vectors are valid, and making an id from each gives its first 21 bits", () => {
  for (const [host, hex] of VECTORS) {
    assert(isBep42Valid(id(hex), ip(host)), host);
    const made = bep42NodeId(ip(host), id(hex));
    assertEquals([made[0], made[1], made[2] & 0xf8, made[19]], [
      id(hex)[0],
      id(hex)[1],
      id(hex)[2] & 0xf8,
      id(hex)[19],
    ]);
  }
});

Deno.test("bep42: bits outside the prefix may change; the prefix, r or the address may not", () => {
  const flip = (hex: string, bit: number) => {
    const bytes = id(hex);
    bytes[bit >> 3] ^= 0x80 >> (bit & 7);
    return bytes;
  };
  assert(isBep42Valid(id("5fbfbff10c5d7a4ec8a88e4c6ab4c28b95eee401"), ip("124.31.75.21")));
  assert(isBep42Valid(flip(VECTORS[2][1], 21), ip("65.23.51.170")));
  assert(isBep42Valid(flip(VECTORS[3][1], 156), ip("84.124.73.14")));
  assert(!isBep42Valid(flip(VECTORS[1][1], 20), ip("21.75.31.124")));
  assert(!isBep42Valid(flip(VECTORS[4][1], 157), ip("43.213.53.83"))); // r's bits
  assert(!isBep42Valid(id(VECTORS[4][1]), ip("12.213.53.83")));
  assert(!isBep42Valid(new Uint8Array(19), ip("12.213.53.83")));
});

Deno.test("bep42: local addresses accept any id", () => {
  for (
    const host of [
      "10.213.53.83",
      "192.168.53.83",
      "127.0.0.1",
      "172.16.0.1",
      "::1",
      "fe80::1",
      "fd00::1",
      "::ffff:10.0.0.1",
    ]
  ) {
    assert(isBep42Exempt(ip(host)), host);
    assert(isBep42Valid(new Uint8Array(20), ip(host)), host);
  }
  assert(!isBep42Exempt(ip("8.8.8.8")));
  assert(!isBep42Exempt(ip("2a01:4f8::1")));
});

Deno.test("bep42: an id made for a public IPv6 address is valid for it, not once its prefix changes", () => {
  const address = ip("2a01:4f8::1");
  const made = bep42NodeId(address);
  assert(isBep42Valid(made, address));
  made[0] ^= 0x80;
  assert(!isBep42Valid(made, address));
});

Deno.test("bep42: an id made for any public IPv4 address is valid for it (fast-check)", () => {
  const address = fc.uint8Array({ minLength: 4, maxLength: 4 }).filter((bytes) =>
    !isBep42Exempt(bytes)
  );
  fc.assert(
    fc.property(address, fc.uint8Array({ minLength: 20, maxLength: 20 }), (bytes, random) => {
      assert(isBep42Valid(bep42NodeId(bytes, random), bytes));
    }),
  );
});
