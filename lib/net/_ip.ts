/**
 * IP addresses as bytes, and what an address says about where it is: the
 * one place text addresses are read as IPs for compact lists and for
 * judging addresses other peers hand us.
 *
 * @module
 */

/** The 4 bytes of a dotted IPv4 address, or `undefined` when `host` is not one. */
export function ipv4Bytes(host: string): Uint8Array | undefined {
  const parts = host.split(".");
  if (parts.length !== 4) return undefined;
  const bytes = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    if (!/^\d{1,3}$/.test(parts[i]) || Number(parts[i]) > 255) return undefined;
    bytes[i] = Number(parts[i]);
  }
  return bytes;
}

/** The 16 bytes of an IPv6 address (`::` shortening, a trailing IPv4 part), or `undefined`. */
export function ipv6Bytes(host: string): Uint8Array | undefined {
  let text = host.replace(/%.*$/, "");
  const values: number[] = [];
  const tail = /(?:^|:)(\d{1,3}(?:\.\d{1,3}){3})$/.exec(text);
  if (tail) {
    const v4 = ipv4Bytes(tail[1]);
    if (!v4) return undefined;
    values.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
    text = text.slice(0, -tail[1].length);
    if (text.endsWith(":") && !text.endsWith("::")) text = text.slice(0, -1);
  }
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const groups = (part: string) => (part === "" ? [] : part.split(":"));
  const head = groups(halves[0]);
  const rest = halves.length === 2 ? groups(halves[1]) : [];
  const given = head.length + rest.length + values.length;
  if (halves.length === 1 ? given !== 8 : given > 7) return undefined;
  const parts = [...head, ...Array<string>(8 - given).fill("0"), ...rest];
  if (!parts.every((part) => /^[0-9a-f]{1,4}$/i.test(part))) return undefined;
  values.unshift(...parts.map((part) => parseInt(part, 16)));
  const bytes = new Uint8Array(16);
  values.forEach((value, i) => {
    bytes[2 * i] = value >> 8;
    bytes[2 * i + 1] = value & 0xff;
  });
  return bytes;
}

/** Whether 16 bytes are an IPv4-mapped IPv6 address (`::ffff:0:0/96`). */
export function isIpv4Mapped(bytes: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return false;
  return bytes[10] === 0xff && bytes[11] === 0xff;
}

/**
 * How far an address reaches, for addresses other peers hand us: whether
 * it can be dialled at all, and whether it is this machine's or a local
 * network's (which only a peer on this machine or that network can mean).
 */
export type AddressScope = "unusable" | "loopback" | "private" | "public";

/** The scope of 4 bytes of IPv4. */
function ipv4Scope([a, b]: Uint8Array): AddressScope {
  if (a === 127) return "loopback";
  if (a === 0 || a >= 224) return "unusable"; // This network, multicast, reserved, broadcast.
  if (a === 10 || (a === 172 && b >= 16 && b < 32) || (a === 192 && b === 168)) return "private";
  if ((a === 169 && b === 254) || (a === 100 && b >= 64 && b < 128)) return "private";
  return "public";
}

/**
 * The scope of an IP address, read from its bytes: IPv4 inside IPv6
 * (mapped `::ffff:0:0/96`, NAT64 `64:ff9b::/96`) counts as that IPv4
 * address; IPv6 outside global unicast (`2000::/3`), unique local and link
 * local is unusable, and so is a host name.
 */
export function addressScope(host: string): AddressScope {
  const v4 = ipv4Bytes(host);
  if (v4) return ipv4Scope(v4);
  const v6 = ipv6Bytes(host);
  if (!v6) return "unusable";
  const zeros = (from: number, to: number) => v6.subarray(from, to).every((byte) => byte === 0);
  if (isIpv4Mapped(v6)) return ipv4Scope(v6.subarray(12));
  if (v6[0] === 0x00 && v6[1] === 0x64 && v6[2] === 0xff && v6[3] === 0x9b && zeros(4, 12)) {
    return ipv4Scope(v6.subarray(12));
  }
  if (zeros(0, 15) && v6[15] === 1) return "loopback";
  if ((v6[0] & 0xfe) === 0xfc || (v6[0] === 0xfe && (v6[1] & 0xc0) === 0x80)) return "private";
  if ((v6[0] & 0xe0) === 0x20) return "public";
  return "unusable"; // Unspecified, IPv4-compatible, multicast, reserved.
}
