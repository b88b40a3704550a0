/**
 * HTTP(S) tracker client: announce (BEP 3, compact peers BEP 23, IPv6 peers
 * BEP 7) and scrape (BEP 48). Redirects and gzip are handled by `fetch`;
 * replies are capped in size and time.
 *
 * @module
 */

import { type BencodeDict } from "../bencode/types.ts";
import { BencodeError } from "../bencode/errors.ts";
import { decode } from "../bencode/decode.ts";
import { decodeText, isBytes, isDict, isInteger } from "../bencode/read.ts";
import { binaryToBytes, toHex } from "../util/_bytes.ts";
import { VERSION } from "../version.ts";
import { parseCompactPeers } from "../net/compact.ts";
import { parseDictionaryPeers, uniquePeers } from "./_compact_peers.ts";
import { isPermissionError, networkPermissionError, TrackerError } from "./errors.ts";
import type { AnnounceRequest, AnnounceResult, ScrapeResult, TrackerPeer } from "./types.ts";
import { printable } from "../util/_printable.ts";
import { readCapped } from "../util/_http.ts";

/** Default time allowed for a whole HTTP tracker request. */
export const DEFAULT_HTTP_TIMEOUT_MS = 15_000;
/** Default cap on a tracker reply body. */
export const DEFAULT_MAX_REPLY_BYTES = 1024 * 1024;
/** Announce interval assumed when a tracker leaves it out. */
export const DEFAULT_INTERVAL_SECONDS = 1800;

/** Options of the HTTP tracker functions. */
export interface HttpTrackerOptions {
  /** Time allowed for the whole request, in milliseconds. Default 15 s. */
  timeoutMs?: number;
  /** Largest reply body accepted, in bytes. Default 1 MiB. */
  maxReplyBytes?: number;
  /** Cancels the request. */
  signal?: AbortSignal;
  /** The HTTP client to send with (for example one bound to a local address). Default: Deno's. */
  client?: Deno.HttpClient;
}

/** Percent-encodes raw bytes for a query string, leaving only unreserved characters bare. */
export function percentEncodeBytes(bytes: Uint8Array): string {
  let out = "";
  for (const byte of bytes) {
    const unreserved = (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5a) ||
      (byte >= 0x61 && byte <= 0x7a) || byte === 0x2d || byte === 0x2e || byte === 0x5f ||
      byte === 0x7e;
    out += unreserved
      ? String.fromCharCode(byte)
      : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

function withQuery(url: string, parameters: string[]): string {
  const hashAt = url.indexOf("#");
  const base = hashAt < 0 ? url : url.slice(0, hashAt);
  const separator = base.includes("?")
    ? (base.endsWith("?") || base.endsWith("&") ? "" : "&")
    : "?";
  return base + separator + parameters.join("&");
}

/** The full announce URL for a request (exported for tests and diagnostics). */
export function announceUrl(url: string, request: AnnounceRequest): string {
  const parameters = [
    `info_hash=${percentEncodeBytes(request.infoHash)}`,
    `peer_id=${percentEncodeBytes(request.peerId)}`,
    `port=${request.port}`,
    `uploaded=${request.uploaded}`,
    `downloaded=${request.downloaded}`,
    `left=${request.left}`,
    "compact=1",
    "no_peer_id=1",
    `key=${(request.key >>> 0).toString(16).padStart(8, "0")}`,
  ];
  if (request.event !== "none") parameters.push(`event=${request.event}`);
  if (request.numWant !== undefined) parameters.push(`numwant=${request.numWant}`);
  if (request.trackerId !== undefined) {
    parameters.push(`trackerid=${encodeURIComponent(request.trackerId)}`);
  }
  return withQuery(url, parameters);
}

/**
 * The scrape URL of an announce URL (BEP 48): `announce` in the last path
 * segment replaced by `scrape`.
 *
 * @returns The URL, or `undefined` when the tracker does not allow scraping.
 */
export function scrapeUrl(announce: string): string | undefined {
  let url: URL;
  try {
    url = new URL(announce);
  } catch {
    return undefined;
  }
  const slash = url.pathname.lastIndexOf("/");
  const last = url.pathname.slice(slash + 1);
  if (!last.startsWith("announce")) return undefined;
  url.pathname = url.pathname.slice(0, slash + 1) + "scrape" + last.slice("announce".length);
  return url.toString();
}

/** The start of a reply that is not bencode, for the error message. */
function describeBody(body: Uint8Array): string {
  const text = new TextDecoder().decode(body.subarray(0, 80)).replace(/[^\x20-\x7e]+/g, " ").trim();
  return text === "" ? `${body.length} bytes` : JSON.stringify(text);
}

/** The useful part of a fetch failure: Deno's "fetch failed" keeps the reason in `cause`. */
function describeFetchError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? error.cause.message : undefined;
  if (!cause) return error.message;
  // "error sending request for url (…): client error (Connect): invalid peer certificate: …",
  // "client error (Connect): tcp connect error: Connection refused (os error 111)"
  const detail = cause.replace(/^error sending request for url \([^)]*\): /, "")
    .replace(/^client error \(Connect\): /, "").replace(/^tcp connect error: /, "")
    .replace(/ \(os error \d+\)$/, "");
  return /^[A-Z][a-z]+( [a-z]+)*$/.test(detail)
    ? detail.toLowerCase()
    : `${error.message} (${detail})`;
}

/** The status line of a tracker's reply, as {@linkcode decodeTrackerReply} reads it. */
export interface ReplyStatus {
  /** True for a 2xx status. */
  ok: boolean;
  /** The HTTP status code. */
  status: number;
  /** The reason phrase. */
  statusText: string;
}

/**
 * Decodes the body of a tracker's reply: a bencoded dictionary, whose
 * `failure reason` (the tracker's own words) wins over an HTTP error status.
 *
 * @param body The reply body.
 * @param status The reply's status (a `Response` is one).
 * @returns The reply dictionary.
 * @throws {TrackerError} For a failure reason, an HTTP error, or a body that is not a dictionary.
 */
export function decodeTrackerReply(body: Uint8Array, status: ReplyStatus): BencodeDict {
  let reply;
  try {
    reply = decode(body, { mode: "lenient" });
  } catch (error) {
    if (!(error instanceof BencodeError)) throw error;
    if (!status.ok) {
      throw new TrackerError(
        "http-status",
        `The tracker answered HTTP ${status.status} ${printable(status.statusText, 100)}`,
      );
    }
    throw new TrackerError(
      "invalid-reply",
      `The tracker's reply is not bencoded: ${describeBody(body)}`,
      {
        cause: error,
      },
    );
  }
  if (!isDict(reply)) {
    throw new TrackerError("invalid-reply", "The tracker's reply is not a dictionary");
  }
  const failure = reply.get("failure reason");
  if (isBytes(failure)) throw new TrackerError("failure", printable(decodeText(failure)));
  if (!status.ok) {
    throw new TrackerError(
      "http-status",
      `The tracker answered HTTP ${status.status} ${printable(status.statusText, 100)}`,
    );
  }
  return reply;
}

/** Fetches a tracker URL and decodes its bencoded reply, mapping every failure to a TrackerError. */
async function fetchBencoded(url: string, options: HttpTrackerOptions): Promise<BencodeDict> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_HTTP_TIMEOUT_MS;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  let response: Response;
  let body: Uint8Array;
  try {
    response = await fetch(url, {
      signal,
      client: options.client,
      redirect: "follow",
      headers: { "user-agent": `shoal/${VERSION}`, "accept-encoding": "gzip" },
    });
    const limit = options.maxReplyBytes ?? DEFAULT_MAX_REPLY_BYTES;
    body = await readCapped(
      response,
      limit,
      () =>
        new TrackerError("too-large", `The tracker's reply is over the limit of ${limit} bytes`),
    );
  } catch (error) {
    if (error instanceof TrackerError) throw error;
    if (timeout.aborted) {
      throw new TrackerError("timeout", `The tracker did not answer within ${timeoutMs / 1000} s`, {
        cause: error,
      });
    }
    if (options.signal?.aborted) throw error;
    if (isPermissionError(error)) throw networkPermissionError(error);
    throw new TrackerError("network", `Cannot reach the tracker: ${describeFetchError(error)}`, {
      cause: error,
    });
  }
  return decodeTrackerReply(body, response);
}

function optionalCount(dict: BencodeDict, key: string): number | undefined {
  const value = dict.get(key);
  return isInteger(value) && value >= 0 ? value : undefined;
}

/**
 * Announces to an HTTP(S) tracker.
 *
 * @param url The announce URL.
 * @param request What to announce.
 * @param options Timeout, size cap, cancellation.
 * @returns The tracker's answer.
 * @throws {TrackerError} On any failure; `kind` says which, and for `failure`
 *   the message is the tracker's own.
 *
 * @example Announcing to an HTTP tracker
 * ```ts
 * import { encode } from "../bencode/mod.ts";
 * import { httpAnnounce } from "./mod.ts";
 *
 * // A tracker on this machine that names one peer (127.0.0.1:6881, compact form).
 * const tracker = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () =>
 *   new Response(encode({ interval: 1800, peers: new Uint8Array([127, 0, 0, 1, 0x1a, 0xe1]) })));
 * const reply = await httpAnnounce(`http://127.0.0.1:${tracker.addr.port}/announce`, {
 *   infoHash: new Uint8Array(20).fill(7),
 *   peerId: new TextEncoder().encode("-SH0100-exampleexamp"),
 *   port: 51413,
 *   uploaded: 0,
 *   downloaded: 0,
 *   left: 1_000_000,
 *   event: "started",
 *   key: 42,
 * });
 * console.log(reply.interval, reply.peers); // 1800 [ { host: "127.0.0.1", port: 6881 } ]
 * await tracker.shutdown();
 * ```
 */
export async function httpAnnounce(
  url: string,
  request: AnnounceRequest,
  options: HttpTrackerOptions = {},
): Promise<AnnounceResult> {
  return parseAnnounceReply(await fetchBencoded(announceUrl(url, request), options));
}

/**
 * Reads an announce reply (see {@linkcode decodeTrackerReply}): compact and
 * dictionary peers, IPv6 peers, the intervals, counts, tracker id, warning
 * and external IP. Malformed optional fields are left out; oddities that were
 * tolerated are listed in `problems`.
 *
 * @param reply The reply dictionary.
 */
export function parseAnnounceReply(reply: BencodeDict): AnnounceResult {
  const problems: string[] = [];
  const peersValue = reply.get("peers");
  let peers: TrackerPeer[] = [];
  if (isBytes(peersValue)) {
    const compact = parseCompactPeers(peersValue, 4);
    if (compact.leftover) problems.push(`The peer list ends with ${compact.leftover} stray bytes`);
    peers = compact.peers;
  } else {
    peers = parseDictionaryPeers(peersValue ?? []);
  }
  const peers6Value = reply.get("peers6");
  if (isBytes(peers6Value)) {
    const compact = parseCompactPeers(peers6Value, 6);
    if (compact.leftover) {
      problems.push(`The IPv6 peer list ends with ${compact.leftover} stray bytes`);
    }
    peers = peers.concat(compact.peers);
  }
  const interval = optionalCount(reply, "interval");
  if (interval === undefined) problems.push("The reply has no interval");
  const trackerId = reply.get("tracker id");
  const warning = reply.get("warning message");
  const externalIp = reply.get("external ip");
  return {
    interval: interval || DEFAULT_INTERVAL_SECONDS,
    minInterval: optionalCount(reply, "min interval"),
    complete: optionalCount(reply, "complete"),
    incomplete: optionalCount(reply, "incomplete"),
    peers: uniquePeers(peers),
    trackerId: isBytes(trackerId) ? decodeText(trackerId) : undefined,
    externalIp: isBytes(externalIp) && (externalIp.length === 4 || externalIp.length === 16)
      ? parseCompactPeers(
        Uint8Array.of(...externalIp, 0, 1),
        externalIp.length === 4 ? 4 : 6,
      ).peers[0]?.host
      : undefined,
    warning: isBytes(warning) ? printable(decodeText(warning)) : undefined,
    problems,
  };
}

/**
 * Scrapes an HTTP(S) tracker (BEP 48).
 *
 * @param announce The announce URL (the scrape URL is derived from it).
 * @param infoHashes The torrents to ask about.
 * @param options Timeout, size cap, cancellation.
 * @returns Numbers per info hash (lower-case hex); torrents the tracker does not know are absent.
 * @throws {TrackerError} When the tracker does not allow scraping or the request fails.
 *
 * @example How many seeders and leechers a torrent has
 * ```ts
 * import { encode } from "../bencode/mod.ts";
 * import { httpScrape } from "./mod.ts";
 *
 * const infoHash = new Uint8Array(20).fill(0x41); // "AAAA…"
 * const tracker = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () =>
 *   new Response(encode({
 *     files: { ["A".repeat(20)]: { complete: 3, incomplete: 5, downloaded: 40 } },
 *   })));
 * const counts = await httpScrape(`http://127.0.0.1:${tracker.addr.port}/announce`, [infoHash]);
 * console.log(counts.get("41".repeat(20))); // { complete: 3, incomplete: 5, downloaded: 40 }
 * await tracker.shutdown();
 * ```
 */
export async function httpScrape(
  announce: string,
  infoHashes: readonly Uint8Array[],
  options: HttpTrackerOptions = {},
): Promise<Map<string, ScrapeResult>> {
  const base = scrapeUrl(announce);
  if (base === undefined) {
    throw new TrackerError("invalid-reply", "This tracker's URL does not allow scraping (BEP 48)");
  }
  const url = withQuery(base, infoHashes.map((hash) => `info_hash=${percentEncodeBytes(hash)}`));
  return parseScrapeReply(await fetchBencoded(url, options));
}

/**
 * Reads a scrape reply (see {@linkcode decodeTrackerReply}): the numbers of
 * each torrent under `files`, by lower-case hex info hash; entries whose key
 * is not 20 bytes are skipped.
 *
 * @param reply The reply dictionary.
 */
export function parseScrapeReply(reply: BencodeDict): Map<string, ScrapeResult> {
  const files = reply.get("files");
  const results = new Map<string, ScrapeResult>();
  if (!isDict(files)) return results;
  for (const [key, stats] of files) {
    if (key.length !== 20 || !isDict(stats)) continue;
    const hex = toHex(binaryToBytes(key));
    results.set(hex, {
      complete: optionalCount(stats, "complete") ?? 0,
      incomplete: optionalCount(stats, "incomplete") ?? 0,
      downloaded: optionalCount(stats, "downloaded") ?? 0,
    });
  }
  return results;
}
