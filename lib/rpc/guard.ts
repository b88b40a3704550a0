/**
 * Who may use the RPC, checked before the session-id handshake: the
 * client's address (an allow list of addresses and networks), the `Host`
 * header (an allow list of names, against DNS rebinding: a web page whose
 * name resolves to 127.0.0.1 must not drive the daemon), and HTTP Basic
 * credentials, compared in constant time, with failed logins from one
 * address limited.
 *
 * @module
 */

import { ShoalError } from "../errors.ts";
import { ipv4Bytes, ipv6Bytes, isIpv4Mapped } from "../net/_ip.ts";

/** Failed logins one address may make before it is locked out. */
export const MAX_FAILED_LOGINS = 10;
/** How long an address that failed too often is refused, in ms. */
export const LOCKOUT_MS = 60_000;
/** Most addresses whose failed logins are remembered (the oldest are forgotten first). */
const MAX_REMEMBERED = 10_000;

/** A bad `--rpc-allow` entry. */
export class RpcGuardError extends ShoalError {}

/** The options of {@linkcode createRpcGuard}. */
export interface RpcGuardOptions {
  /** Credentials clients must send (HTTP Basic); none asked for when absent. */
  credentials?: { username: string; password: string };
  /**
   * Host names clients may use in the `Host` header, besides `localhost`
   * and any IP address (always allowed, as Transmission does); `*` allows
   * every name. Default: none besides those.
   */
  hosts?: readonly string[];
  /**
   * Client addresses allowed: IPs or networks (`192.168.1.0/24`,
   * `fd00::/8`). Default: every address.
   */
  clients?: readonly string[];
  /** Failed logins before a lockout. Default {@linkcode MAX_FAILED_LOGINS}. */
  maxFailedLogins?: number;
  /** Length of a lockout in ms. Default {@linkcode LOCKOUT_MS}. */
  lockoutMs?: number;
  /** The clock, in ms. */
  now?: () => number;
}

/** A guard: `undefined` lets the request through, else the refusal to send. */
export type RpcGuard = (
  request: Request,
  client: { hostname: string },
) => Promise<Response | undefined>;

/**
 * Makes the guard of an RPC server.
 *
 * @throws {RpcGuardError} When a client entry is not an address or network.
 *
 * @example
 * ```ts
 * import { createRpcGuard } from "./guard.ts";
 *
 * const guard = createRpcGuard({ credentials: { username: "me", password: "secret" } });
 * const ask = (authorization?: string) =>
 *   guard(
 *     new Request("http://127.0.0.1:9091/transmission/rpc", {
 *       headers: authorization ? { authorization } : {},
 *     }),
 *     { hostname: "127.0.0.1" },
 *   );
 * console.log((await ask())?.status); // 401
 * console.log(await ask(`Basic ${btoa("me:secret")}`)); // undefined: let through
 * ```
 */
export function createRpcGuard(options: RpcGuardOptions = {}): RpcGuard {
  const networks = (options.clients ?? []).map(parseNetwork);
  const hosts = new Set((options.hosts ?? []).map((host) => host.toLowerCase()));
  const now = options.now ?? (() => Date.now());
  const maxFailed = options.maxFailedLogins ?? MAX_FAILED_LOGINS;
  const lockoutMs = options.lockoutMs ?? LOCKOUT_MS;
  const failures = new Map<string, { count: number; until: number }>();
  const expected = options.credentials
    ? digest(`${options.credentials.username}:${options.credentials.password}`)
    : undefined;
  return async (request, client) => {
    const address = unmapped(client.hostname);
    if (networks.length > 0 && !networks.some((network) => network.has(address))) {
      await request.body?.cancel();
      return refusal(
        403,
        `403: Forbidden\n\nThe address ${address} may not use this RPC (--rpc-allow).\n`,
      );
    }
    const host = hostName(request.headers.get("host"));
    if (host !== undefined && !hostAllowed(host, hosts)) {
      await request.body?.cancel();
      return refusal(
        421,
        `421: Misdirected Request\n\nThe host name "${host}" is not allowed (--rpc-host); use an IP address or add the name.\n`,
      );
    }
    if (!expected) return undefined;
    const at = now();
    const record = failures.get(address);
    if (record && record.count >= maxFailed && at < record.until) {
      await request.body?.cancel();
      return refusal(429, "429: Too Many Requests\n\nToo many failed logins; try again later.\n", {
        "retry-after": String(Math.ceil((record.until - at) / 1000)),
      });
    }
    const given = basicCredentials(request.headers.get("authorization"));
    if (given !== undefined && sameBytes(await digest(given), await expected)) {
      failures.delete(address);
      return undefined;
    }
    await request.body?.cancel();
    if (given !== undefined) {
      const count = record && at < record.until ? record.count + 1 : 1;
      failures.delete(address); // Re-inserted last: the map's order is oldest first.
      failures.set(address, { count, until: at + lockoutMs });
      if (failures.size > MAX_REMEMBERED) failures.delete(failures.keys().next().value!);
    }
    return refusal(401, "401: Unauthorized\n\nThis RPC needs a username and password.\n", {
      "www-authenticate": 'Basic realm="shoal"',
    });
  };
}

function refusal(status: number, body: string, headers: Record<string, string> = {}): Response {
  return new Response(body, {
    status,
    headers: { "content-type": "text/plain; charset=utf-8", ...headers },
  });
}

/** The host of a `Host` header, without its port and brackets; `undefined` when absent. */
function hostName(header: string | null): string | undefined {
  if (header === null) return undefined;
  const value = header.trim().toLowerCase();
  if (value.startsWith("[")) {
    return value.slice(1, value.indexOf("]") === -1 ? undefined : value.indexOf("]"));
  }
  const colon = value.lastIndexOf(":");
  return colon === -1 ? value : value.slice(0, colon);
}

function hostAllowed(host: string, hosts: ReadonlySet<string>): boolean {
  if (hosts.has("*") || host === "localhost" || host === "localhost.") return true;
  if (ipv4Bytes(host) || ipv6Bytes(host)) return true;
  return hosts.has(host) || hosts.has(host.replace(/\.$/, ""));
}

/** `user:password` from a Basic `Authorization` header. */
function basicCredentials(header: string | null): string | undefined {
  const match = header?.match(/^\s*basic\s+([A-Za-z0-9+/=]+)\s*$/i);
  if (!match) return undefined;
  try {
    const bytes = Uint8Array.from(atob(match[1]), (char) => char.charCodeAt(0));
    return new TextDecoder().decode(bytes);
  } catch {
    return undefined;
  }
}

/** SHA-256 of the text: comparing digests takes the same time whatever the lengths. */
async function digest(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
}

/** Compares in time that does not depend on where the bytes differ. */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < a.length && i < b.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

/** An IPv4 address mapped into IPv6 (`::ffff:127.0.0.1`) as the IPv4 address. */
function unmapped(host: string): string {
  const bytes = ipv6Bytes(host);
  if (bytes && isIpv4Mapped(bytes)) return Array.from(bytes.subarray(12)).join(".");
  return host;
}

/** An address or network of the allow list. */
interface Network {
  has(address: string): boolean;
}

function parseNetwork(entry: string): Network {
  const [address, bitsText] = entry.trim().split("/");
  const bytes = ipv4Bytes(address) ?? ipv6Bytes(address);
  const bits = bitsText === undefined ? (bytes?.length ?? 0) * 8 : Number(bitsText);
  if (!bytes || !Number.isInteger(bits) || bits < 0 || bits > bytes.length * 8) {
    throw new RpcGuardError(
      `"${entry}" is not an IP address or network (give e.g. 192.168.1.0/24 or fd00::/8)`,
    );
  }
  return {
    has(client: string): boolean {
      const other = client.includes(":") ? ipv6Bytes(client) : ipv4Bytes(client);
      if (!other || other.length !== bytes.length) return false;
      for (let bit = 0; bit < bits; bit++) {
        const mask = 0x80 >> (bit % 8);
        if ((other[bit >> 3] & mask) !== (bytes[bit >> 3] & mask)) return false;
      }
      return true;
    },
  };
}
