/**
 * Magnet links (BEP 9): parsing, with `x.pe` peers and BEP 53 `so` file
 * selection, and making one from a torrent. A bare info hash (40 hex or 32
 * base32 characters) is accepted wherever a magnet link is.
 *
 * @module
 */

import { fromBase32, fromHex, toHex } from "../util/_bytes.ts";
import { MagnetError } from "./errors.ts";
import { MAX_MAGNET_ENTRIES, MAX_MAGNET_LENGTH } from "./limits.ts";
import type { Torrent } from "./torrent.ts";
import { parsePeerAddress, type PeerAddress } from "../net/peer_address.ts";

// Peer addresses are the net layer's; they are re-exported here, where magnet links name them.
export { formatPeerAddress, parsePeerAddress, type PeerAddress } from "../net/peer_address.ts";

/** An inclusive range of file indices (BEP 53). */
export interface IndexRange {
  /** First index. */
  start: number;
  /** Last index, inclusive. */
  end: number;
}

/** A parsed magnet link. */
export interface MagnetLink {
  /** The 20-byte v1 info hash. */
  infoHash: Uint8Array;
  /** The info hash as 40 lower-case hex characters. */
  infoHashHex: string;
  /** `dn`: a name to show until the metadata arrives. */
  displayName?: string;
  /** `tr`: tracker URLs, in order, without duplicates. */
  trackers: string[];
  /** `x.pe`: peers to contact directly. */
  peers: PeerAddress[];
  /** `ws`: web seed URLs. */
  webSeeds: string[];
  /** `so` (BEP 53): only these file indices are wanted; `undefined` means all. */
  selectOnly?: IndexRange[];
}

const HEX_HASH = /^[0-9a-fA-F]{40}$/;
const BASE32_HASH = /^[A-Za-z2-7]{32}$/;

function parseInfoHash(text: string): Uint8Array | undefined {
  if (HEX_HASH.test(text)) return fromHex(text);
  if (BASE32_HASH.test(text)) return fromBase32(text);
  return undefined;
}

/** True when the text is a bare info hash (40 hex or 32 base32 characters). */
export function isBareInfoHash(text: string): boolean {
  return HEX_HASH.test(text) || BASE32_HASH.test(text);
}

function parseSelectOnly(text: string): IndexRange[] {
  const ranges: IndexRange[] = [];
  for (const part of text.split(",")) {
    const match = /^(\d{1,9})(?:-(\d{1,9}))?$/.exec(part.trim());
    if (!match) throw new MagnetError(`The "so" parameter has an invalid entry "${part}"`);
    const start = Number(match[1]);
    const end = match[2] === undefined ? start : Number(match[2]);
    if (end < start) throw new MagnetError(`The "so" range "${part}" runs backwards`);
    ranges.push({ start, end });
  }
  return ranges;
}

function decodeParameter(value: string, key: string, plusIsSpace: boolean): string {
  try {
    return decodeURIComponent(plusIsSpace ? value.replaceAll("+", " ") : value);
  } catch {
    throw new MagnetError(`The "${key}" parameter has invalid percent-encoding`);
  }
}

function addUnique(list: string[], value: string, what: string): void {
  if (value === "" || list.includes(value)) return;
  if (list.length >= MAX_MAGNET_ENTRIES) {
    throw new MagnetError(`The magnet link lists more than ${MAX_MAGNET_ENTRIES} ${what}`);
  }
  list.push(value);
}

/**
 * Parses a magnet link or a bare info hash.
 *
 * @param text `magnet:?xt=urn:btih:…`, or 40 hex / 32 base32 characters.
 * @returns The link.
 * @throws {MagnetError} When the link is malformed; the message says which part.
 *
 * @example Reading a magnet link
 * ```ts
 * import { parseMagnet } from "./magnet.ts";
 * const link = parseMagnet("magnet:?xt=urn:btih:" + "ab".repeat(20) + "&dn=Example&so=0,2-3");
 * console.assert(link.displayName === "Example" && link.selectOnly?.length === 2);
 * ```
 */
export function parseMagnet(text: string): MagnetLink {
  const trimmed = text.trim();
  if (trimmed.length > MAX_MAGNET_LENGTH) {
    throw new MagnetError(`The magnet link is over ${MAX_MAGNET_LENGTH} characters long`);
  }
  const bare = parseInfoHash(trimmed);
  if (bare) {
    return { infoHash: bare, infoHashHex: toHex(bare), trackers: [], peers: [], webSeeds: [] };
  }
  if (!/^magnet:\?/i.test(trimmed)) {
    throw new MagnetError(
      `"${trimmed.slice(0, 80)}" is not a magnet link (magnet:?xt=urn:btih:…) or an info hash`,
    );
  }
  let infoHash: Uint8Array | undefined;
  let sawV2Only = false;
  const link: Omit<MagnetLink, "infoHash" | "infoHashHex"> = {
    trackers: [],
    peers: [],
    webSeeds: [],
  };
  for (const parameter of trimmed.slice("magnet:?".length).split("&")) {
    if (parameter === "") continue;
    const equals = parameter.indexOf("=");
    const rawKey = equals < 0 ? parameter : parameter.slice(0, equals);
    const rawValue = equals < 0 ? "" : parameter.slice(equals + 1);
    // Numbered variants (tr.1, xt.2) mean the same as the plain key.
    const key = rawKey.toLowerCase().replace(/\.\d+$/, "");
    const value = decodeParameter(rawValue, rawKey, key === "dn");
    switch (key) {
      case "xt": {
        const btih = /^urn:btih:(.*)$/i.exec(value);
        if (btih) {
          const hash = parseInfoHash(btih[1]);
          if (!hash) {
            throw new MagnetError(
              `The info hash "${btih[1]}" is neither 40 hex nor 32 base32 characters`,
            );
          }
          if (infoHash && toHex(infoHash) !== toHex(hash)) {
            throw new MagnetError("The magnet link names two different v1 info hashes");
          }
          infoHash = hash;
        } else if (/^urn:btmh:/i.test(value)) {
          sawV2Only = true;
        }
        break;
      }
      case "dn":
        link.displayName = value;
        break;
      case "tr":
        addUnique(link.trackers, value.trim(), "trackers");
        break;
      case "ws":
        addUnique(link.webSeeds, value.trim(), "web seeds");
        break;
      case "x.pe": {
        const peer = parsePeerAddress(value);
        if (!peer) throw new MagnetError(`The peer address "${value}" is not host:port`);
        if (link.peers.length >= MAX_MAGNET_ENTRIES) {
          throw new MagnetError(`The magnet link lists more than ${MAX_MAGNET_ENTRIES} peers`);
        }
        if (!link.peers.some((p) => p.host === peer.host && p.port === peer.port)) {
          link.peers.push(peer);
        }
        break;
      }
      case "so":
        link.selectOnly = parseSelectOnly(value);
        break;
      default:
        // Unknown parameters (xl, kt, as, …) are ignored, as other clients do.
        break;
    }
  }
  if (!infoHash) {
    throw new MagnetError(
      sawV2Only
        ? "The magnet link has only a v2 info hash (urn:btmh); shoal supports v1 (urn:btih)"
        : "The magnet link has no info hash (xt=urn:btih:…)",
    );
  }
  return { infoHash, infoHashHex: toHex(infoHash), ...link };
}

/**
 * True when a BEP 53 selection includes the file index (always true without one).
 */
export function isFileSelected(link: Pick<MagnetLink, "selectOnly">, index: number): boolean {
  return link.selectOnly === undefined ||
    link.selectOnly.some((range) => index >= range.start && index <= range.end);
}

/**
 * Makes a magnet link for a torrent: info hash, name, every tracker and web seed.
 *
 * @example A magnet link for a torrent
 * ```ts
 * import { magnetFromTorrent } from "./magnet.ts";
 * const link = magnetFromTorrent({
 *   infoHashHex: "ab".repeat(20), name: "a b", trackers: [["http://t/a"]], webSeeds: [],
 * });
 * console.assert(link === `magnet:?xt=urn:btih:${"ab".repeat(20)}&dn=a%20b&tr=http%3A%2F%2Ft%2Fa`);
 * ```
 */
export function magnetFromTorrent(
  torrent: Pick<Torrent, "infoHashHex" | "name" | "trackers" | "webSeeds">,
): string {
  const parts = [`xt=urn:btih:${torrent.infoHashHex}`, `dn=${encodeURIComponent(torrent.name)}`];
  for (const url of torrent.trackers.flat()) parts.push(`tr=${encodeURIComponent(url)}`);
  for (const url of torrent.webSeeds) parts.push(`ws=${encodeURIComponent(url)}`);
  return `magnet:?${parts.join("&")}`;
}
