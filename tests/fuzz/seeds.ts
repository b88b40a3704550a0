/**
 * The real inputs each fuzz target's mutations start from: torrent files
 * from the conformance corpus, what real trackers and seeders sent (see
 * captures.ts), magnet links, and messages made by shoal's own encoders.
 *
 * @module
 */

import { encode } from "../../lib/bencode/encode.ts";
import { magnetFromTorrent } from "../../lib/metainfo/magnet.ts";
import { parseTorrent } from "../../lib/metainfo/torrent.ts";
import { TorrentError } from "../../lib/metainfo/errors.ts";
import { encodeDontHave } from "../../lib/extensions/lt_donthave.ts";
import { encodeExtensionHandshake } from "../../lib/wire/extension_handshake.ts";
import { encodeHandshake, ourReservedBytes } from "../../lib/wire/handshake.ts";
import { encodeMessage, type PeerMessage } from "../../lib/wire/messages.ts";
import { concatBytes, toBase32, toHex } from "../../lib/util/_bytes.ts";
import { CONFORMANCE_DIR } from "../helpers/paths.ts";
import {
  CAPTURE_PEER_INFO_HASH,
  CAPTURE_PEER_PIECES,
  PEER_CAPTURES,
  TRACKER_CAPTURES,
} from "./captures.ts";
import { withControl } from "./stream.ts";

const encoder = new TextEncoder();

/** The messages (length prefix and all) that follow the handshake in a capture. */
function capturedMessages(capture: Uint8Array): Uint8Array[] {
  const messages: Uint8Array[] = [];
  const view = new DataView(capture.buffer, capture.byteOffset, capture.byteLength);
  for (let offset = 68; offset + 4 <= capture.length;) {
    const end = offset + 4 + view.getUint32(offset);
    messages.push(capture.subarray(offset, end));
    offset = end;
  }
  return messages;
}

let torrents: Uint8Array[] | undefined;

/**
 * The conformance corpus's torrent files of at most 8 KiB (nearly all of
 * them: valid ones and every kind of broken one), in name order.
 */
export function fixtureTorrents(): Uint8Array[] {
  if (torrents) return torrents;
  const names = [...Deno.readDirSync(CONFORMANCE_DIR)]
    .filter((entry) => entry.isFile && entry.name.endsWith(".torrent"))
    .map((entry) => entry.name).sort();
  torrents = names.map((name) => Deno.readFileSync(`${CONFORMANCE_DIR}/${name}`))
    .filter((bytes) => bytes.length <= 8 * 1024);
  return torrents;
}

/** Every kind of message, as shoal's encoder writes it (for a torrent of 62 pieces). */
export function sampleMessages(): PeerMessage[] {
  const bitfield = new Uint8Array(Math.ceil(CAPTURE_PEER_PIECES / 8)).fill(0xff);
  bitfield[bitfield.length - 1] = 0xfc;
  return [
    { type: "keep-alive" },
    { type: "choke" },
    { type: "unchoke" },
    { type: "interested" },
    { type: "not-interested" },
    { type: "have", index: 61 },
    { type: "bitfield", bytes: bitfield },
    { type: "request", index: 3, begin: 16384, length: 16384 },
    { type: "piece", index: 4, begin: 0, block: new Uint8Array(64).fill(0x5a) },
    { type: "cancel", index: 3, begin: 16384, length: 16384 },
    { type: "port", port: 6881 },
    { type: "suggest", index: 5 },
    { type: "have-all" },
    { type: "have-none" },
    { type: "reject", index: 1, begin: 2, length: 3 },
    { type: "allowed-fast", index: 7 },
    { type: "extended", id: 0, payload: shoalExtensionHandshake() },
    { type: "extended", id: 3, payload: encoder.encode("d8:msg_typei0e5:piecei0ee") },
    { type: "unknown", id: 99, payload: new Uint8Array([1, 2, 3]) },
  ];
}

/** The extension handshake shoal sends (what swarm.ts announces). */
function shoalExtensionHandshake(): Uint8Array {
  return encodeExtensionHandshake({
    extensions: new Map([["ut_metadata", 3]]),
    client: "shoal 0.1.0",
    listenPort: 6881,
    requestQueue: 250,
  });
}

/** Message streams: what each seeder sent after its handshake, and shoal's own messages. */
export function messageStreamSeeds(): Uint8Array[] {
  const captured = Object.values(PEER_CAPTURES).map((capture) => capture.subarray(68))
    .filter((stream) => stream.length > 0);
  const ours = concatBytes(sampleMessages().map(encodeMessage));
  const fullBlock = encodeMessage({
    type: "piece",
    index: 0,
    begin: 16384,
    block: new Uint8Array(16384).fill(7),
  });
  const streams = [
    ...captured,
    ours,
    concatBytes([fullBlock, encodeMessage({ type: "have", index: 0 })]),
  ];
  // Control bytes: piece count and block placement, read buffer size, chunking.
  return streams.flatMap((stream) => [
    withControl([0x02, 0x00, 0x00, 0x00], stream),
    withControl([0x12, 0x01, 0x03, 0x2a], stream),
    withControl([0x22, 0x02, 0x07, 0x99], stream),
  ]);
}

/** Message bodies (id and payload, no length prefix), as `decodeMessage` takes them. */
export function messageSeeds(): Uint8Array[] {
  const captured = Object.values(PEER_CAPTURES).flatMap(capturedMessages);
  return [...captured, ...sampleMessages().map(encodeMessage)].map((message) =>
    message.subarray(4)
  );
}

/** Handshakes with what followed them: every seeder's capture, and shoal's own. */
export function handshakeSeeds(): Uint8Array[] {
  const ours = concatBytes([
    encodeHandshake({
      reserved: ourReservedBytes(),
      infoHash: CAPTURE_PEER_INFO_HASH,
      peerId: encoder.encode("-SH0100-abcdefghijkl"),
    }),
    encodeMessage({ type: "extended", id: 0, payload: shoalExtensionHandshake() }),
    encodeMessage({ type: "have-none" }),
  ]);
  const handshakes = [...Object.values(PEER_CAPTURES), ours];
  // Control bytes: expected info hash or not, chunking.
  return handshakes.flatMap((bytes) => [
    withControl([0x00, 0x07], bytes),
    withControl([0x01, 0x00], bytes),
    withControl([0x01, 0x13], bytes),
  ]);
}

/** Extension handshakes: each seeder's, shoal's, and a few with odd fields. */
export function extensionHandshakeSeeds(): Uint8Array[] {
  const captured = Object.values(PEER_CAPTURES).flatMap(capturedMessages)
    .filter((message) => message[4] === 20 && message[5] === 0)
    .map((message) => message.subarray(6));
  return [
    ...captured,
    shoalExtensionHandshake(),
    encode({
      m: { ut_metadata: 0, ut_pex: 300, "": 1 },
      p: 70000,
      reqq: 0,
      v: new Uint8Array([0xff, 0xfe, 0x41]),
      metadata_size: 64 * 1024 * 1024 + 1,
    }),
    concatBytes([encode({ m: {} }), encoder.encode("trailing")]),
  ];
}

/**
 * Extended message bodies (the extended id, then the payload): handshakes
 * (id 0), lt_donthave under our id (1) and one that is none of ours.
 */
export function extendedMessageSeeds(): Uint8Array[] {
  const body = (id: number, payload: Uint8Array) => concatBytes([Uint8Array.of(id), payload]);
  return [
    ...extensionHandshakeSeeds().map((payload) => body(0, payload)),
    body(1, encodeDontHave(61)),
    body(1, encodeDontHave(0xffffffff)),
    body(7, encodeDontHave(5)),
  ];
}

/** Bencode: torrents, tracker replies, extension messages. */
export function bencodeSeeds(): Uint8Array[] {
  return [
    ...fixtureTorrents(),
    ...Object.values(TRACKER_CAPTURES).filter((bytes) => bytes[0] === 0x64), // "d"
    ...extensionHandshakeSeeds(),
    encode([0, -1, 2n ** 70n, -(2n ** 70n), new Uint8Array(0), [[[]]], new Map()]),
  ];
}

/** HTTP tracker reply bodies: every captured one. */
export function httpReplySeeds(): Uint8Array[] {
  return Object.entries(TRACKER_CAPTURES).filter(([name]) => name.includes("Http"))
    .map(([, bytes]) => bytes);
}

/** UDP tracker reply packets: every captured one. */
export function udpReplySeeds(): Uint8Array[] {
  return Object.entries(TRACKER_CAPTURES).filter(([name]) => name.includes("Udp"))
    .map(([, bytes]) => bytes);
}

/** Compact peer lists: from the captured replies, and IPv6 ones. */
export function compactPeerSeeds(): Uint8Array[] {
  const udp = udpReplySeeds().filter((packet) => packet[3] === 1).map((packet) =>
    packet.subarray(20)
  );
  const ipv6 = (groups: number[], port: number) => {
    const bytes = new Uint8Array(18);
    const view = new DataView(bytes.buffer);
    groups.forEach((group, i) => view.setUint16(2 * i, group));
    view.setUint16(16, port);
    return bytes;
  };
  return [
    ...udp,
    concatBytes([
      ipv6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1], 6881),
      ipv6([0, 0, 0, 0, 0, 0, 0, 1], 51413),
      ipv6([0, 0, 0, 0, 0, 0xffff, 0x7f00, 1], 1),
      ipv6([0xfe80, 0, 0, 1, 0, 0, 0, 0], 65535),
      ipv6([1, 0, 0, 1, 0, 0, 1, 1], 0),
    ]),
    new Uint8Array([10, 0, 0, 1, 0x1a, 0xe1, 255, 255, 255, 255, 0, 0, 1]),
  ];
}

/** Magnet links: made from the corpus's valid torrents, and by hand with every parameter. */
export function magnetSeeds(): Uint8Array[] {
  const links: string[] = [];
  for (const bytes of fixtureTorrents()) {
    try {
      links.push(magnetFromTorrent(parseTorrent(bytes, { platform: "linux" })));
    } catch (error) {
      if (!(error instanceof TorrentError)) throw error;
    }
    if (links.length >= 12) break;
  }
  const hash = Uint8Array.from({ length: 20 }, (_, i) => i * 13);
  links.push(
    "magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a&dn=example",
    `magnet:?xt=urn:btih:${toBase32(hash)}&dn=Big+Buck+Bunny%20%E2%9C%93` +
      "&tr=udp%3A%2F%2Ftracker.example%3A6969&tr.1=http://t.example/announce" +
      "&ws=https%3A%2F%2Fmirror.example%2Ff%2F&x.pe=10.0.0.2:51413&x.pe=[::1]:6881" +
      "&so=0,2,4-6&xl=1000&kt=a+b",
    `magnet:?xt.1=urn:btih:${toHex(hash)}&xt.2=urn:btmh:1220${"ab".repeat(32)}&dn=hybrid`,
    `magnet:?xt=urn:btmh:1220${"cd".repeat(32)}`,
    toHex(hash),
    toBase32(hash),
    `  MAGNET:?XT=URN:BTIH:${toHex(hash).toUpperCase()}&&=&tr=&so=7  `,
  );
  return links.map((link) => encoder.encode(link));
}
