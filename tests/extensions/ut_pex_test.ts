/** ut_pex messages (BEP 11): their encoding, byte for byte, and what a malformed one is. */
import { decodePexMessage, encodePexMessage, PexFlags } from "../../lib/extensions/ut_pex.ts";
import { compactPeer } from "../../lib/net/compact.ts";
import { ExtensionRegistry } from "../../lib/wire/extension_registry.ts";
import { utPex } from "../../lib/extensions/ut_pex.ts";
import { PeerError } from "../../lib/wire/errors.ts";
import { assertEquals, assertThrows } from "../helpers/assert.ts";

const bytes = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));
const latin1 = (data: Uint8Array) => String.fromCharCode(...data);

Deno.test("ut_pex: both families, flags and drops, byte for byte as BEP 11 lays them out", () => {
  const payload = encodePexMessage({
    added: [
      { address: { host: "10.0.0.2", port: 6881 }, flags: PexFlags.seed | PexFlags.reachable },
      { address: { host: "::1", port: 51413 }, flags: PexFlags.encryption },
      { address: { host: "::ffff:192.168.1.9", port: 80 }, flags: 0 },
      { address: { host: "tracker.example", port: 1 }, flags: 0 }, // Not an IP: left out.
    ],
    dropped: [{ host: "1.2.3.4", port: 258 }, { host: "2001:db8::1", port: 1 }],
  });
  const v6 = (host: string, port: number) => latin1(compactPeer({ host, port })!.bytes);
  assertEquals(
    latin1(payload),
    "d5:added12:\x0a\x00\x00\x02\x1a\xe1\xc0\xa8\x01\x09\x00\x50" +
      "7:added.f2:\x12\x00" +
      `6:added618:${v6("::1", 51413)}` +
      "8:added6.f1:\x01" +
      "7:dropped6:\x01\x02\x03\x04\x01\x02" +
      `8:dropped618:${v6("2001:db8::1", 1)}` +
      "e",
  );
  assertEquals(decodePexMessage(payload), {
    added: [
      { address: { host: "10.0.0.2", port: 6881 }, flags: 0x12 },
      { address: { host: "192.168.1.9", port: 80 }, flags: 0 },
      { address: { host: "::1", port: 51413 }, flags: 0x01 },
    ],
    dropped: [{ host: "1.2.3.4", port: 258 }, { host: "2001:db8::1", port: 1 }],
  });
});

Deno.test("ut_pex: an empty message encodes as an empty dictionary (the exchange never sends one)", () => {
  assertEquals(latin1(encodePexMessage({ added: [], dropped: [] })), "de");
});

Deno.test("ut_pex: what peers really send is read leniently: no flags, odd bytes, port 0, unknown keys", () => {
  // libtorrent sends empty dropped lists; some clients leave out added.f.
  const message = decodePexMessage(
    bytes(
      "d5:added13:\x7f\x00\x00\x01\x1a\xe1\x7f\x00\x00\x02\x00\x00\x01" +
        "7:dropped0:" +
        "4:zzzzi1ee",
    ),
  );
  assertEquals(message, {
    added: [{ address: { host: "127.0.0.1", port: 6881 }, flags: 0 }],
    dropped: [],
  });
});

Deno.test("ut_pex: a payload that is not a dictionary of strings is a protocol error", () => {
  for (const bad of ["", "le", "i5e", "d5:addedi5ee", "d5:added", "d7:droppedle" + "e"]) {
    assertThrows(() => decodePexMessage(bytes(bad)), PeerError, "ut_pex");
  }
});

Deno.test("ut_pex: while off, the extension keeps its id, is announced as 0 and hears nothing", () => {
  let on = true;
  const heard: number[] = [];
  const registry = new ExtensionRegistry<string>([
    { name: "lt_donthave", onMessage: () => {} },
    utPex((_, message) => heard.push(message.added.length), () => on),
  ]);
  const payload = encodePexMessage({
    added: [{ address: { host: "10.0.0.2", port: 6881 }, flags: 0 }],
    dropped: [],
  });
  assertEquals(registry.localIds().get("ut_pex"), 2);
  assertEquals(registry.route("peer", 2, payload), true);
  on = false;
  assertEquals(registry.localIds().get("ut_pex"), 0, "BEP 10: id 0 says disabled");
  assertEquals(registry.route("peer", 2, payload), false);
  assertEquals(heard, [1]);
});

Deno.test("compact addresses: every way an IP is written gives its bytes; names and bad ports give none", () => {
  const back = (host: string) => {
    const compact = compactPeer({ host, port: 80 });
    return compact && `${compact.family} ${[...compact.bytes.subarray(0, -2)].join(".")}`;
  };
  assertEquals(back("10.0.0.2"), "4 10.0.0.2");
  assertEquals(back("::ffff:10.1.2.3"), "4 10.1.2.3");
  assertEquals(back("::ffff:a01:203"), "4 10.1.2.3", "mapped, written in hex");
  assertEquals(back("0:0:0:0:0:ffff:10.1.2.3"), "4 10.1.2.3");
  assertEquals(back("::1"), `6 ${[...Array(15).fill(0), 1].join(".")}`);
  assertEquals(back("fe80::1%eth0"), `6 254.128.${[...Array(13).fill(0), 1].join(".")}`);
  assertEquals(back("1:2:3:4:5:6:7:8"), "6 0.1.0.2.0.3.0.4.0.5.0.6.0.7.0.8");
  assertEquals(back("64:ff9b::192.0.2.33"), "6 0.100.255.155.0.0.0.0.0.0.0.0.192.0.2.33");
  for (const bad of ["host.example", "300.1.1.1", "1.2.3", "1::2::3", "1:2:3:4:5:6:7:8:9", "a:b"]) {
    assertEquals(back(bad), undefined, bad);
  }
  assertEquals(compactPeer({ host: "10.0.0.2", port: 0 }), undefined);
  assertEquals(compactPeer({ host: "10.0.0.2", port: 65536 }), undefined);
});

Deno.test("ut_pex: each added peer keeps its own flags when an entry before it is skipped (port 0)", () => {
  const message = decodePexMessage(
    bytes(
      "d5:added18:\x0a\x00\x00\x01\x00\x00\x0a\x00\x00\x02\x1a\xe1\x0a\x00\x00\x03\x1a\xe1" +
        "7:added.f3:\x02\x10\x01e",
    ),
  );
  assertEquals(message.added, [
    { address: { host: "10.0.0.2", port: 6881 }, flags: 0x10 },
    { address: { host: "10.0.0.3", port: 6881 }, flags: 0x01 },
  ]);
});

Deno.test("ut_pex: an IPv4-mapped entry of added6 is the IPv4 peer it names", () => {
  const mapped = latin1(compactPeer({ host: "::ffff:127.0.0.1", port: 80 })!.bytes);
  assertEquals(mapped.length, 6, "sent in the IPv4 list");
  const v6 = "\0".repeat(10) + "\xff\xff\x7f\x00\x00\x01\x00\x50";
  assertEquals(decodePexMessage(bytes(`d6:added618:${v6}e`)).added, [
    { address: { host: "127.0.0.1", port: 80 }, flags: 0 },
  ]);
});
