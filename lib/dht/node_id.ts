/**
 * Node ids tied to addresses (BEP 42): the first 21 bits of a node's id
 * are the CRC-32C of its masked IP address and 3 random bits, which are
 * also the low bits of the id's last byte. A node cannot then choose an
 * id next to a torrent's info hash at will. Local addresses (loopback,
 * private networks, link-local) are exempt: any id is fine there.
 *
 * @module
 */

import { isIpv4Mapped } from "../net/_ip.ts";

/** Bytes in a node id. */
export const NODE_ID_LENGTH = 20;

const TABLE = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    table[i] = c >>> 0;
  }
  return table;
})();

/** CRC-32C (Castagnoli), as BEP 42 uses it. */
export function crc32c(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = TABLE[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** IPv4 inside IPv6 (mapped) as its 4 bytes; anything else as it is. */
function plain(ip: Uint8Array): Uint8Array {
  return ip.length === 16 && isIpv4Mapped(ip) ? ip.subarray(12) : ip;
}

/** Whether BEP 42 leaves the address out: loopback, private and link-local ranges. */
export function isBep42Exempt(ip: Uint8Array): boolean {
  const address = plain(ip);
  if (address.length === 4) {
    const [a, b] = address;
    return a === 0 || a === 10 || a === 127 || (a === 172 && (b & 0xf0) === 16) ||
      (a === 192 && b === 168) || (a === 169 && b === 254) || (a === 100 && (b & 0xc0) === 64);
  }
  if (address.length !== 16) return true;
  const loopback = address.subarray(0, 15).every((byte) => byte === 0) && address[15] === 1;
  return loopback || (address[0] === 0xfe && (address[1] & 0x80) === 0x80) || // fe80::/9 (link and site local)
    (address[0] & 0xfe) === 0xfc; // fc00::/7
}

/** The CRC-32C of the masked address with `r` (3 bits) in its top bits (BEP 42). */
export function bep42Prefix(ip: Uint8Array, r: number): number {
  const address = plain(ip);
  const mask = address.length === 4
    ? [0x03, 0x0f, 0x3f, 0xff]
    : [0x01, 0x03, 0x07, 0x0f, 0x1f, 0x3f, 0x7f, 0xff];
  const masked = new Uint8Array(mask.length);
  mask.forEach((bits, i) => masked[i] = address[i] & bits);
  masked[0] |= (r & 7) << 5;
  return crc32c(masked);
}

/**
 * A node id that follows BEP 42 for `ip`, made from `random` (its last
 * byte is the `r` of the id). For an exempt address, `random` itself.
 *
 * @example
 * ```ts
 * import { bep42NodeId, isBep42Valid } from "./node_id.ts";
 *
 * const ip = new Uint8Array([124, 31, 75, 21]);
 * const id = bep42NodeId(ip);
 * console.log(isBep42Valid(id, ip)); // true
 * ```
 */
export function bep42NodeId(
  ip: Uint8Array,
  random: Uint8Array = crypto.getRandomValues(new Uint8Array(NODE_ID_LENGTH)),
): Uint8Array {
  const id = random.slice(0, NODE_ID_LENGTH);
  if (isBep42Exempt(ip)) return id;
  const crc = bep42Prefix(ip, id[19]);
  id[0] = (crc >>> 24) & 0xff;
  id[1] = (crc >>> 16) & 0xff;
  id[2] = ((crc >>> 8) & 0xf8) | (id[2] & 7);
  return id;
}

/**
 * Whether `id` follows BEP 42 for `ip` (always for an exempt address).
 *
 * @example The first vector of BEP 42
 * ```ts
 * import { isBep42Valid } from "./node_id.ts";
 *
 * const id = Uint8Array.from("5fbfbff10c5d6a4ec8a88e4c6ab4c28b95eee401".match(/../g)!, (h) => parseInt(h, 16));
 * console.log(isBep42Valid(id, new Uint8Array([124, 31, 75, 21]))); // true
 * ```
 */
export function isBep42Valid(id: Uint8Array, ip: Uint8Array): boolean {
  if (id.length !== NODE_ID_LENGTH) return false;
  if (isBep42Exempt(ip)) return true;
  const crc = bep42Prefix(ip, id[19]);
  return id[0] === ((crc >>> 24) & 0xff) && id[1] === ((crc >>> 16) & 0xff) &&
    (id[2] & 0xf8) === ((crc >>> 8) & 0xf8);
}
