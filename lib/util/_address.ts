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
