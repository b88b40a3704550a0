/**
 * What an IP address says about where it is.
 *
 * @module
 */

/** A loopback address: `127.0.0.0/8`, `::1`, or IPv4 loopback mapped into IPv6. */
export function isLoopback(host: string): boolean {
  return /^127\./.test(host) || host === "::1" || /^::ffff:127\./i.test(host);
}

/** Surely this machine: a loopback or unspecified address, or `localhost`. */
export function isLocalHost(host: string): boolean {
  return isLoopback(host) || host === "0.0.0.0" || host === "::" || host === "localhost";
}

/**
 * How far an address reaches, for addresses other peers hand us: whether
 * it can be dialled at all, and whether it is this machine's or a local
 * network's (which only a peer on this machine or that network can mean).
 */
export type AddressScope = "unusable" | "loopback" | "private" | "public";

/** The scope of an IP address (IPv4-mapped IPv6 addresses as their IPv4 address). */
export function addressScope(host: string): AddressScope {
  const text = host.toLowerCase().replace(/^::ffff:(?=\d+\.)/, "");
  if (isLoopback(text)) return "loopback";
  const v4 = /^(\d+)\.(\d+)\.\d+\.\d+$/.exec(text);
  if (v4) {
    const [a, b] = [Number(v4[1]), Number(v4[2])];
    if (a === 0 || a >= 224) return "unusable"; // This network, multicast, reserved, broadcast.
    if (a === 10 || (a === 172 && b >= 16 && b < 32) || (a === 192 && b === 168)) return "private";
    if ((a === 169 && b === 254) || (a === 100 && b >= 64 && b < 128)) return "private";
    return "public";
  }
  if (!text.includes(":") || text === "::" || text.startsWith("ff")) return "unusable";
  if (/^f[cd]/.test(text) || /^fe[89ab]/.test(text)) return "private"; // Unique local, link local.
  return "public";
}
