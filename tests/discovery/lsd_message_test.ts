/** LSD announces (BEP 14): the datagram shoal sends, byte for byte, and what it reads. */
import {
  encodeLsdAnnounce,
  MAX_LSD_DATAGRAM,
  parseLsdAnnounce,
} from "../../lib/discovery/lsd_message.ts";
import { toHex } from "../../lib/util/_bytes.ts";
import { assert, assertEquals } from "../helpers/assert.ts";

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const bytes = (value: string) => new TextEncoder().encode(value);
const hash = (byte: number) => new Uint8Array(20).fill(byte);

Deno.test("lsd: an announce is BEP 14's request, with the group as Host, our port, the info hashes and a cookie", () => {
  const { datagram, count } = encodeLsdAnnounce(4, 6881, [hash(0xab), hash(0x01)], "c0ffee");
  assertEquals(count, 2);
  assertEquals(
    text(datagram),
    "BT-SEARCH * HTTP/1.1\r\nHost: 239.192.152.143:6771\r\nPort: 6881\r\n" +
      `Infohash: ${"ab".repeat(20)}\r\nInfohash: ${"01".repeat(20)}\r\n` +
      "cookie: c0ffee\r\n\r\n\r\n",
  );
  const v6 = text(encodeLsdAnnounce(6, 51413, [hash(2)], "x").datagram);
  assert(v6.includes("\r\nHost: [ff15::efc0:988f]:6771\r\n"), v6);
});

Deno.test("lsd: as many info hashes as fit in 1400 bytes go in one announce; the rest wait for the next", () => {
  const hashes = Array.from({ length: 60 }, (_, i) => hash(i));
  const { datagram, count } = encodeLsdAnnounce(6, 65535, hashes, "0123456789ab");
  assert(datagram.length <= MAX_LSD_DATAGRAM, `${datagram.length} bytes`);
  assert(count > 20 && count < 60, `${count}`);
  const read = parseLsdAnnounce(datagram)!;
  assertEquals(read.infoHashes.map(toHex), hashes.slice(0, count).map(toHex));
  assertEquals([read.port, read.cookie], [65535, "0123456789ab"]);
});

Deno.test("lsd: announces are read as other clients write them: any case, bare line feeds, extra headers", () => {
  // libtorrent writes "Infohash" and "cookie"; others write "infohash" or add headers.
  const read = parseLsdAnnounce(
    bytes(
      "BT-SEARCH * HTTP/1.1\nhost: 239.192.152.143:6771\nPORT: 51413\nX-Other: 1\n" +
        `INFOHASH: ${"AB".repeat(20)}\ninfohash: not-a-hash\nInfohash: ${"cd".repeat(20)}\n\n\n`,
    ),
  );
  assertEquals(read?.port, 51413);
  assertEquals(read?.infoHashes.map(toHex), ["ab".repeat(20), "cd".repeat(20)]);
  assertEquals(read?.cookie, undefined);
});

Deno.test("lsd: what is not an announce is nothing: other requests, bad ports, no info hash, oversized", () => {
  const good = `BT-SEARCH * HTTP/1.1\r\nPort: 6881\r\nInfohash: ${"ab".repeat(20)}\r\n\r\n`;
  assert(parseLsdAnnounce(bytes(good)));
  for (
    const bad of [
      "",
      "GET / HTTP/1.1\r\nPort: 6881\r\n",
      good.replace("BT-SEARCH *", "BT-SEARCH /"),
      good.replace("6881", "0"),
      good.replace("6881", "65536"),
      good.replace("6881", "-1"),
      good.replace("6881", "68 81"),
      good.replace("ab".repeat(20), "ab".repeat(19)),
      good + " ".repeat(5000),
    ]
  ) {
    assertEquals(parseLsdAnnounce(bytes(bad)), undefined, JSON.stringify(bad.slice(0, 60)));
  }
  assertEquals(parseLsdAnnounce(new Uint8Array(300).fill(0xff)), undefined);
});

Deno.test("lsd: at most 64 info hashes are read from one announce", () => {
  const lines = Array.from({ length: 70 }, (_, i) => `Infohash: ${toHex(hash(i))}\r\n`).join("");
  const read = parseLsdAnnounce(bytes(`BT-SEARCH * HTTP/1.1\r\nPort: 1\r\n${lines}\r\n`));
  assertEquals(read?.infoHashes.length, 64);
});
