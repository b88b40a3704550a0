/**
 * One HTTP request to a web seed for bytes of one file, and what its
 * answer means: the bytes asked for (206 with the right `Content-Range`,
 * or 200 for a range from the start), the whole file from its start (a
 * server that ignores `Range`), or an error that says whether to try again.
 *
 * @module
 */

import { ShoalError } from "../errors.ts";
import { VERSION } from "../version.ts";

/** Why a request to a web seed failed, and whether it is worth trying again later. */
export class WebSeedError extends ShoalError {
  /** True for a failure that may pass (a 5xx, a timeout, a refused connection). */
  readonly retry: boolean;
  /** Seconds the server asked to wait (`Retry-After`), if it did. */
  readonly retryAfter?: number;

  /**
   * @param message What failed, for the user.
   * @param retry Whether to try again later.
   * @param retryAfter Seconds the server asked to wait.
   */
  constructor(message: string, retry: boolean, retryAfter?: number) {
    super(message);
    this.retry = retry;
    this.retryAfter = retryAfter;
  }
}

/** The body of an answer, and where in the file it starts. */
export interface RangeAnswer {
  /** The file offset of the body's first byte: the start asked for, or 0 when the server ignored `Range`. */
  from: number;
  /** The body. */
  body: ReadableStream<Uint8Array>;
  /** The URL that answered: the one asked for, or where its redirects led. */
  url: string;
}

/** How many redirects one request follows before it gives up. */
export const MAX_REDIRECTS = 5;

/** How long to wait for an answer's headers, and then between two chunks of its body. */
export const WEB_SEED_TIMEOUT_MS = 20_000;

/**
 * Asks `url` for bytes `start` to `end` (excluded) of its file.
 *
 * @throws {WebSeedError} When the server fails or answers something else.
 */
export async function fetchRange(
  url: string,
  start: number,
  end: number,
  signal: AbortSignal,
  timeoutMs = WEB_SEED_TIMEOUT_MS,
): Promise<RangeAnswer> {
  const timeout = AbortSignal.timeout(timeoutMs);
  const both = AbortSignal.any([signal, timeout]);
  let response: Response;
  let at = url;
  for (let hops = 0;; hops++) {
    try {
      response = await fetch(at, {
        headers: { range: `bytes=${start}-${end - 1}`, "user-agent": `shoal/${VERSION}` },
        redirect: "manual",
        signal: both,
      });
    } catch (error) {
      if (signal.aborted) throw error;
      const why = timeout.aborted
        ? `no answer within ${timeoutMs / 1000} s`
        : (error as Error).message;
      throw new WebSeedError(`${url}: ${why}`, true);
    }
    const next = redirectTarget(response, at);
    if (next === undefined) break;
    await response.body?.cancel();
    if (next instanceof WebSeedError) throw next;
    if (hops === MAX_REDIRECTS) {
      throw new WebSeedError(`${url}: more than ${MAX_REDIRECTS} redirects`, false);
    }
    at = next;
  }
  const status = response.status;
  if (status === 206) {
    const range = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(response.headers.get("content-range") ?? "");
    if (!range || Number(range[1]) !== start || Number(range[2]) < end - 1) {
      await response.body?.cancel();
      throw new WebSeedError(
        `${url}: asked for bytes ${start}-${end - 1}, got ${
          response.headers.get("content-range") ?? "no Content-Range"
        }`,
        false,
      );
    }
    return { from: start, body: response.body ?? emptyBody(), url: at };
  }
  if (status === 200) return { from: 0, body: response.body ?? emptyBody(), url: at };
  await response.body?.cancel();
  if (status === 416) {
    throw new WebSeedError(
      `${url}: the file there is shorter than the torrent says (416 for bytes ${start}-${end - 1})`,
      false,
    );
  }
  const retry = status >= 500 || status === 408 || status === 429;
  const after = Number(response.headers.get("retry-after"));
  throw new WebSeedError(
    `${url}: ${status} ${response.statusText}`.trimEnd(),
    retry,
    Number.isFinite(after) && after > 0 ? after : undefined,
  );
}

/**
 * Where a redirect answer points (resolved against `from`), undefined when
 * `response` is not a redirect, or an error for a redirect that cannot be
 * followed: no `Location`, or one that is not http(s).
 */
function redirectTarget(response: Response, from: string): string | WebSeedError | undefined {
  if (![301, 302, 303, 307, 308].includes(response.status)) return undefined;
  const location = response.headers.get("location");
  const target = location === null ? null : URL.parse(location, from);
  if (target === null || (target.protocol !== "http:" && target.protocol !== "https:")) {
    return new WebSeedError(
      `${from}: ${response.status} redirect to ${
        JSON.stringify(location)
      }, which is not an http(s) URL`,
      false,
    );
  }
  return target.href;
}

function emptyBody(): ReadableStream<Uint8Array> {
  return new ReadableStream({ start: (controller) => controller.close() });
}

/**
 * Reads `body`, calling `take` with each chunk, until `take` returns false
 * or the body ends; a chunk that takes longer than `timeoutMs` fails.
 *
 * @returns Whether the body ended (rather than `take` stopping it).
 * @throws {WebSeedError} On a stall or a broken connection.
 */
export async function readBody(
  url: string,
  body: ReadableStream<Uint8Array>,
  take: (chunk: Uint8Array) => Promise<boolean> | boolean,
  signal: AbortSignal,
  timeoutMs = WEB_SEED_TIMEOUT_MS,
): Promise<boolean> {
  const reader = body.getReader();
  const abort = () => reader.cancel(signal.reason).catch(() => {});
  signal.addEventListener("abort", abort, { once: true });
  try {
    while (true) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const stalled = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new WebSeedError(`${url}: nothing arrived for ${timeoutMs / 1000} s`, true)),
          timeoutMs,
        );
      });
      let next: ReadableStreamReadResult<Uint8Array>;
      try {
        next = await Promise.race([reader.read(), stalled]);
      } catch (error) {
        if (signal.aborted || error instanceof WebSeedError) throw error;
        throw new WebSeedError(`${url}: ${(error as Error).message}`, true);
      } finally {
        clearTimeout(timer);
      }
      if (next.done) return true;
      if (!(await take(next.value))) return false;
    }
  } finally {
    signal.removeEventListener("abort", abort);
    reader.cancel().catch(() => {});
  }
}
