import { assert, assertEquals, assertThrows } from "../helpers/assert.ts";
import {
  isFileSelected,
  MagnetError,
  magnetFromTorrent,
  parseMagnet,
  parsePeerAddress,
  parseTorrent,
} from "../../lib/metainfo/mod.ts";
import { toBase32 } from "../../lib/util/_bytes.ts";
import { torrentBytes } from "../helpers/torrents.ts";

const HEX = "c12fe1c06bba254a9dc9f519b335aa7c1367a88a";

Deno.test("magnet: every parameter", () => {
  const link = parseMagnet(
    `magnet:?xt=urn:btih:${HEX.toUpperCase()}&dn=Big+Buck%20Bunny&tr=udp%3A%2F%2Ft.test%3A80` +
      `&tr=http://t2.test/a&tr=udp%3A%2F%2Ft.test%3A80&ws=http%3A%2F%2Fws.test%2F&x.pe=10.0.0.1:6881` +
      `&x.pe=[::1]:51413&x.pe=host.test:1&so=0,2,4-6&xl=123&kt=ignored`,
  );
  assertEquals(link.infoHashHex, HEX);
  assertEquals(link.displayName, "Big Buck Bunny");
  assertEquals(link.trackers, ["udp://t.test:80", "http://t2.test/a"]);
  assertEquals(link.webSeeds, ["http://ws.test/"]);
  assertEquals(link.peers, [
    { host: "10.0.0.1", port: 6881 },
    { host: "::1", port: 51413 },
    { host: "host.test", port: 1 },
  ]);
  assertEquals(link.selectOnly, [{ start: 0, end: 0 }, { start: 2, end: 2 }, { start: 4, end: 6 }]);
  assertEquals([0, 1, 2, 3, 4, 5, 6, 7].map((i) => isFileSelected(link, i)), [
    true,
    false,
    true,
    false,
    true,
    true,
    true,
    false,
  ]);
});

Deno.test("magnet: base32 hashes, bare hashes, numbered keys", () => {
  const bytes = parseMagnet(HEX).infoHash;
  const base32 = toBase32(bytes);
  assertEquals(parseMagnet(`magnet:?xt=urn:btih:${base32}`).infoHashHex, HEX);
  assertEquals(parseMagnet(`magnet:?xt=urn:btih:${base32.toLowerCase()}`).infoHashHex, HEX);
  assertEquals(parseMagnet(base32).infoHashHex, HEX);
  assertEquals(parseMagnet(`  ${HEX}  `).infoHashHex, HEX);
  assertEquals(parseMagnet(`MAGNET:?xt.1=urn:btih:${HEX}&tr.1=http://a/&tr.2=http://b/`).trackers, [
    "http://a/",
    "http://b/",
  ]);
  assert(isFileSelected(parseMagnet(HEX), 99));
});

Deno.test("magnet: malformed links are rejected clearly", () => {
  const cases: [string, string][] = [
    ["http://example.com/", "not a magnet link"],
    ["magnet:?dn=x", "no info hash"],
    ["magnet:?xt=urn:btih:1234", "neither 40 hex nor 32 base32"],
    [`magnet:?xt=urn:btih:${"g".repeat(40)}`, "neither 40 hex"],
    [`magnet:?xt=urn:btih:${HEX}&xt=urn:btih:${"0".repeat(40)}`, "two different"],
    [`magnet:?xt=urn:btmh:1220${"a".repeat(64)}`, "only a v2 info hash"],
    [`magnet:?xt=urn:btih:${HEX}&dn=%E0%A4%A`, "invalid percent-encoding"],
    [`magnet:?xt=urn:btih:${HEX}&x.pe=nope`, "not host:port"],
    [`magnet:?xt=urn:btih:${HEX}&x.pe=1.2.3.4:0`, "not host:port"],
    [`magnet:?xt=urn:btih:${HEX}&x.pe=1.2.3.4:70000`, "not host:port"],
    [`magnet:?xt=urn:btih:${HEX}&so=a-b`, "invalid entry"],
    [`magnet:?xt=urn:btih:${HEX}&so=5-2`, "runs backwards"],
    [`magnet:?xt=urn:btih:${HEX}&tr=${"x".repeat(70000)}`, "over 65536 characters"],
    [
      `magnet:?xt=urn:btih:${HEX}${
        Array.from({ length: 501 }, (_, i) => `&tr=http://t${i}/`).join("")
      }`,
      "more than 500 trackers",
    ],
  ];
  for (const [text, fragment] of cases) {
    const error = assertThrows(() => parseMagnet(text), MagnetError, fragment);
    assertEquals(error.exitCode, 3);
  }
});

Deno.test("magnet: a huge so range is stored as a range, not expanded", () => {
  const link = parseMagnet(`magnet:?xt=urn:btih:${HEX}&so=0-999999999`);
  assertEquals(link.selectOnly, [{ start: 0, end: 999999999 }]);
});

Deno.test("magnet: made from a torrent and parsed back", () => {
  const torrent = parseTorrent(torrentBytes({ name: "a file & more" }, {
    "announce-list": [["http://a.test/ann?x=1&y=2"], ["udp://b.test:80"]],
    "url-list": ["http://ws.test/f"],
  }));
  const link = parseMagnet(magnetFromTorrent(torrent));
  assertEquals(link.infoHashHex, torrent.infoHashHex);
  assertEquals(link.displayName, "a file & more");
  assertEquals(link.trackers, ["http://a.test/ann?x=1&y=2", "udp://b.test:80"]);
  assertEquals(link.webSeeds, ["http://ws.test/f"]);
});

Deno.test("magnet: peer addresses", () => {
  assertEquals(parsePeerAddress("[2001:db8::1]:80"), { host: "2001:db8::1", port: 80 });
  assertEquals(parsePeerAddress("2001:db8::1:80"), undefined);
  assertEquals(parsePeerAddress("a.b:65535"), { host: "a.b", port: 65535 });
});
