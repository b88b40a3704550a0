/**
 * Local service discovery announces (BEP 14): an HTTP-like request sent by
 * UDP multicast, `BT-SEARCH * HTTP/1.1` with the multicast group as
 * `Host`, our listen `Port`, one `Infohash` line per torrent and a
 * `cookie` that lets a client recognise its own announces coming back.
 *
 * @module
 */

import { fromHex, toHex } from "../util/_bytes.ts";

/** The IPv4 multicast group and port (org-local). */
export const LSD_IPV4 = { host: "239.192.152.143", port: 6771 } as const;
/** The IPv6 multicast group and port (site-local). */
export const LSD_IPV6 = { host: "ff15::efc0:988f", port: 6771 } as const;
/** Largest datagram we send (BEP 14: keep below 1400 bytes, for the MTU). */
export const MAX_LSD_DATAGRAM = 1400;
/** Largest datagram read; anything longer is not an announce. */
const MAX_READ = 4096;
/** Most info hashes read from one announce. */
const MAX_HASHES_READ = 64;

/** One LSD announce. */
export interface LsdAnnounce {
  /** The sender's listen port. */
  port: number;
  /** The torrents it takes part in. */
  infoHashes: Uint8Array[];
  /** Its cookie, if it sent one. */
  cookie?: string;
}

const encoder = new TextEncoder();

/** The `Host` header for a group: IPv6 in brackets (RFC 2732). */
function hostHeader(family: 4 | 6): string {
  return family === 4 ? `${LSD_IPV4.host}:${LSD_IPV4.port}` : `[${LSD_IPV6.host}]:${LSD_IPV6.port}`;
}

/**
 * An announce of as many of `infoHashes` as fit in
 * {@linkcode MAX_LSD_DATAGRAM} bytes, first first (about 25); the rest go
 * in the next one.
 *
 * @param family Which group it goes to (the `Host` header).
 * @param port Our listen port.
 * @param cookie Our cookie (printable ASCII, no line breaks).
 * @returns The datagram, and how many info hashes it holds (at least one, when any are given).
 *
 * @example
 * ```ts
 * import { encodeLsdAnnounce } from "./lsd_message.ts";
 *
 * const { datagram, count } = encodeLsdAnnounce(4, 6881, [new Uint8Array(20)], "c0ffee");
 * console.log(count, new TextDecoder().decode(datagram).split("\r\n")[0]); // 1 BT-SEARCH * HTTP/1.1
 * ```
 */
export function encodeLsdAnnounce(
  family: 4 | 6,
  port: number,
  infoHashes: readonly Uint8Array[],
  cookie: string,
): { datagram: Uint8Array; count: number } {
  const head = `BT-SEARCH * HTTP/1.1\r\nHost: ${hostHeader(family)}\r\nPort: ${port}\r\n`;
  const tail = `cookie: ${cookie}\r\n\r\n\r\n`;
  let text = head;
  let count = 0;
  for (const infoHash of infoHashes) {
    const line = `Infohash: ${toHex(infoHash)}\r\n`;
    if (count > 0 && text.length + line.length + tail.length > MAX_LSD_DATAGRAM) break;
    text += line;
    count++;
  }
  return { datagram: encoder.encode(text + tail), count };
}

/**
 * Reads an announce. What is not one (another request, a bad port, no
 * valid info hash, more than 4 KiB) gives `undefined`; header names are
 * case-insensitive, unknown headers and malformed info hashes are
 * skipped, and at most 64 info hashes are read.
 */
export function parseLsdAnnounce(datagram: Uint8Array): LsdAnnounce | undefined {
  if (datagram.length > MAX_READ) return undefined;
  const lines = new TextDecoder("latin1").decode(datagram).split(/\r?\n/);
  if (!/^BT-SEARCH \* HTTP\/1\.[01]$/.test(lines[0] ?? "")) return undefined;
  let port: number | undefined;
  let cookie: string | undefined;
  const infoHashes: Uint8Array[] = [];
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === "port" && /^\d{1,5}$/.test(value)) port = Number(value);
    else if (name === "cookie") cookie = value;
    else if (name === "infohash" && /^[0-9a-f]{40}$/i.test(value)) {
      if (infoHashes.length < MAX_HASHES_READ) infoHashes.push(fromHex(value)!);
    }
  }
  if (port === undefined || port < 1 || port > 65535 || infoHashes.length === 0) return undefined;
  return { port, infoHashes, cookie };
}
