/**
 * Fuzz targets of bencode and metainfo: the decoder, torrent files and
 * magnet links.
 *
 * @module
 */

import { BencodeError } from "../../lib/bencode/errors.ts";
import { decode, decodeWithDetails } from "../../lib/bencode/decode.ts";
import { encode } from "../../lib/bencode/encode.ts";
import type { BencodeValue } from "../../lib/bencode/types.ts";
import { MagnetError, TorrentError } from "../../lib/metainfo/errors.ts";
import {
  MAX_MAGNET_LENGTH,
  MAX_NAME_BYTES,
  MAX_PIECE_LENGTH,
  MAX_PIECES,
} from "../../lib/metainfo/limits.ts";
import {
  formatPeerAddress,
  magnetFromTorrent,
  type MagnetLink,
  parseMagnet,
} from "../../lib/metainfo/magnet.ts";
import { parseTorrent, type Torrent } from "../../lib/metainfo/torrent.ts";
import type { PathPlatform } from "../../lib/metainfo/_safe_path.ts";
import {
  bytesEqual,
  bytesToBinary,
  decodeUtf8Lenient,
  toHex,
  utf8,
} from "../../lib/util/_bytes.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import { bencodeSeeds, fixtureTorrents, magnetSeeds } from "./seeds.ts";
import { attempt, checkPeers, type FuzzTarget } from "./target.ts";

// deno-lint-ignore no-control-regex
const UNSAFE_IN_NAME = /[/\\\u0000-\u001f\u007f]/;

/** bencode: strict and lenient decoding, spans, limits; canonical re-encoding. */
function bencodeTarget(): FuzzTarget {
  const isBencodeError = (error: unknown) => error instanceof BencodeError;
  return {
    name: "bencode",
    entry: "decode, decodeWithDetails (lib/bencode/decode.ts); encode",
    seeds: bencodeSeeds(),
    expected: isBencodeError,
    run(input) {
      attempt(() => decodeWithDetails(input, { maxDepth: 4, maxItems: 3 }), isBencodeError);
      const strict = attempt(() => decode(input), isBencodeError);
      if (strict !== undefined) {
        assert(bytesEqual(encode(strict), input), "strict decoding accepted non-canonical bytes");
      }
      const details = decodeWithDetails(input, {
        mode: "lenient",
        recordSpans: true,
        allowTrailing: true,
      });
      const value = details.value;
      assert(details.end > 0 && details.end <= input.length, `end ${details.end}`);
      assertEquals(decode(encode(value)), value, "encode then decode changed the value");
      if (strict !== undefined) {
        assertEquals(value, strict, "lenient and strict decoding differ");
        assert(details.end === input.length, "strict decoding left trailing bytes");
      }
      if (typeof value === "object" && !(value instanceof Uint8Array)) {
        assertEquals(details.spanOf(value), { start: 0, end: details.end }, "top-level span");
        const children: BencodeValue[] = Array.isArray(value) ? value : [...value.values()];
        for (const child of children) {
          if (typeof child !== "object" || child instanceof Uint8Array) continue;
          const span = details.spanOf(child);
          assert(span !== undefined, "a container without a span");
          const bytes = input.subarray(span.start, span.end);
          assertEquals(decode(bytes, { mode: "lenient" }), child, "a span's bytes");
        }
      }
      return true;
    },
  };
}

/** Unsafe on Windows: forbidden characters, a trailing dot or space, a device name (any extension). */
const WINDOWS_UNSAFE = /[<>:"|?*]|[. ]$|^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]) *(\.|$)/i;

/** A path component safe to create in the download folder on the platform. */
function checkComponent(component: string, platform: PathPlatform): void {
  assert(
    component !== "" && component !== "." && component !== ".." &&
      !UNSAFE_IN_NAME.test(component),
    `unsafe path component ${JSON.stringify(component)}`,
  );
  assert(utf8(component).length <= MAX_NAME_BYTES, `a name over ${MAX_NAME_BYTES} bytes`);
  if (platform === "windows") {
    assert(!WINDOWS_UNSAFE.test(component), `unsafe on Windows: ${JSON.stringify(component)}`);
  }
}

/** No two files at one path, and no file where another file's folder is (case-folded if told). */
function checkUniquePaths(torrent: Torrent, foldCase: boolean): void {
  const files = new Set<string>();
  const folders = new Set<string>();
  const keyOf = (path: readonly string[]) => {
    const key = path.join("/");
    return foldCase ? key.toLowerCase() : key;
  };
  for (const file of torrent.files) {
    if (file.padding) continue; // never written
    const key = keyOf(file.path);
    assert(!files.has(key) && !folders.has(key), `two files at ${JSON.stringify(key)}`);
    files.add(key);
    for (let depth = 1; depth < file.path.length; depth++) {
      const folder = keyOf(file.path.slice(0, depth));
      assert(!files.has(folder), `a folder where a file is: ${JSON.stringify(folder)}`);
      folders.add(folder);
    }
  }
}

function checkTorrent(torrent: Torrent, platform: PathPlatform): void {
  assert(torrent.infoHash.length === 20 && torrent.infoHashHex === toHex(torrent.infoHash));
  assert(torrent.name.length > 0, "empty name");
  assert(torrent.pieceLength > 0 && torrent.pieceLength <= MAX_PIECE_LENGTH, "piece length");
  assert(torrent.totalLength > 0 && Number.isSafeInteger(torrent.totalLength), "total length");
  assert(torrent.pieceCount === Math.ceil(torrent.totalLength / torrent.pieceLength), "pieces");
  assert(torrent.pieceCount <= MAX_PIECES, "piece count over the limit");
  assert(torrent.pieceHashes.length === torrent.pieceCount * 20, "piece hashes");
  let offset = 0;
  for (const file of torrent.files) {
    assert(file.offset === offset && Number.isSafeInteger(file.length) && file.length >= 0);
    offset += file.length;
    assert(file.path.length > 0, "a file without a path");
    if (!file.padding) file.path.forEach((component) => checkComponent(component, platform));
    for (const component of file.symlinkTarget ?? []) checkComponent(component, platform);
  }
  checkUniquePaths(torrent, platform !== "linux");
  assert(offset === torrent.totalLength, "file lengths do not add up");
  for (const piece of new Set([0, torrent.pieceCount - 1])) {
    const spans = torrent.pieceMap.spans(piece);
    const covered = spans.reduce((sum, span) => sum + span.length, 0);
    assert(covered === torrent.pieceMap.pieceSize(piece), `piece ${piece} is not covered`);
  }
  // The magnet link `shoal info` prints reads back as the same torrent.
  const link = magnetFromTorrent(torrent);
  if (link.length <= MAX_MAGNET_LENGTH) {
    const magnet = parseMagnet(link);
    assertEquals(magnet.infoHashHex, torrent.infoHashHex, "magnet info hash");
    assertEquals(magnet.displayName, torrent.name, "magnet name");
    assertEquals(magnet.trackers, torrent.trackers.flat(), "magnet trackers");
    assertEquals(magnet.webSeeds, torrent.webSeeds, "magnet web seeds");
  }
}

/** torrent: parseTorrent with Linux and Windows path rules. */
function torrentTarget(): FuzzTarget {
  const isTorrentError = (error: unknown) => error instanceof TorrentError;
  return {
    name: "torrent",
    entry: "parseTorrent (lib/metainfo/torrent.ts); magnetFromTorrent, parseMagnet",
    seeds: fixtureTorrents(),
    expected: isTorrentError,
    run(input) {
      let accepted = false;
      for (const platform of ["linux", "windows"] as const) {
        const torrent = attempt(() => parseTorrent(input, { platform }), isTorrentError);
        if (torrent === undefined) continue;
        checkTorrent(torrent, platform);
        accepted = true;
      }
      return accepted;
    },
  };
}

function formatMagnet(link: MagnetLink): string {
  const parts = [`xt=urn:btih:${link.infoHashHex}`];
  if (link.displayName !== undefined) parts.push(`dn=${encodeURIComponent(link.displayName)}`);
  for (const url of link.trackers) parts.push(`tr=${encodeURIComponent(url)}`);
  for (const url of link.webSeeds) parts.push(`ws=${encodeURIComponent(url)}`);
  for (const peer of link.peers) parts.push(`x.pe=${encodeURIComponent(formatPeerAddress(peer))}`);
  if (link.selectOnly) {
    const ranges = link.selectOnly.map(({ start, end }) =>
      start === end ? `${start}` : `${start}-${end}`
    );
    parts.push(`so=${ranges.join(",")}`);
  }
  return `magnet:?${parts.join("&")}`;
}

/** magnet: parseMagnet on the bytes read as Latin-1 and as UTF-8. */
function magnetTarget(): FuzzTarget {
  const isMagnetError = (error: unknown) => error instanceof MagnetError;
  return {
    name: "magnet",
    entry: "parseMagnet (lib/metainfo/magnet.ts)",
    seeds: magnetSeeds(),
    expected: isMagnetError,
    run(input) {
      let accepted = false;
      for (const text of [bytesToBinary(input), decodeUtf8Lenient(input)]) {
        const link = attempt(() => parseMagnet(text), isMagnetError);
        if (link === undefined) continue;
        accepted = true;
        assert(link.infoHash.length === 20 && link.infoHashHex === toHex(link.infoHash));
        assert(new Set(link.trackers).size === link.trackers.length, "duplicate trackers");
        assert(!link.trackers.includes("") && !link.webSeeds.includes(""), "empty URL");
        checkPeers(link.peers, "x.pe");
        for (const range of link.selectOnly ?? []) assert(range.start <= range.end, "so range");
        const again = formatMagnet(link);
        if (again.length <= MAX_MAGNET_LENGTH) {
          assertEquals(parseMagnet(again), link, "the link written back reads differently");
        }
      }
      return accepted;
    },
  };
}

/** The bencode, torrent and magnet targets. */
export function metainfoTargets(): FuzzTarget[] {
  return [bencodeTarget(), torrentTarget(), magnetTarget()];
}
