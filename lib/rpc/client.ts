/**
 * A client of Transmission's RPC, for shoal's daemon and for a real
 * Transmission: the `X-Transmission-Session-Id` handshake (a 409 gives the
 * id; the request is sent again once), HTTP Basic credentials, a timeout,
 * and a cap on the answer's size. It uses only `fetch`, so the same module
 * runs in Deno (`shoal remote`) and in a browser (the web interface).
 *
 * Requests use the names every Transmission since 2.x understands:
 * kebab-case methods (`torrent-get`) and their camelCase/kebab-case
 * arguments, as `transmission-remote` sends them.
 *
 * @module
 */

import { ExitCode, permissionError, permissionRefusal, ShoalError } from "../errors.ts";
import { readCapped } from "../util/_http.ts";

/** The largest answer read (1,000 torrents' files and peers fit many times). */
export const MAX_RPC_ANSWER_BYTES = 64 * 1024 * 1024;

/** The options of {@linkcode RpcClient}. */
export interface RpcClientOptions {
  /** The RPC's address, e.g. `http://127.0.0.1:9091/transmission/rpc`. */
  url: string | URL;
  /** HTTP Basic user name (with {@linkcode password}). */
  username?: string;
  /** HTTP Basic password. */
  password?: string;
  /** Give up on one request after this long. Default 30 s. */
  timeoutMs?: number;
  /** The fetch used; default the global one. */
  fetch?: typeof fetch;
}

/**
 * The server could not be reached or refused the request (HTTP level);
 * the message says which and what to do. Exit code 4 when no answer came.
 */
export class RpcRequestError extends ShoalError {
  /** The HTTP status, or 0 when no answer came. */
  readonly status: number;
  /** {@linkcode ExitCode.Network} when unreachable, else {@linkcode ExitCode.Error}. */
  override readonly exitCode: ExitCode;

  /**
   * Creates the error.
   *
   * @param message What went wrong, for the user.
   * @param status The HTTP status, 0 when there was none.
   * @param options The cause.
   */
  constructor(message: string, status: number, options?: { cause?: unknown }) {
    super(message, options);
    this.status = status;
    this.exitCode = status === 0 ? ExitCode.Network : ExitCode.Error;
  }
}

/** The server answered, with a `result` other than `success`. */
export class RpcResultError extends ShoalError {
  /** The server's `result`, its words for what failed. */
  readonly result: string;

  /**
   * Creates the error.
   *
   * @param method The method called.
   * @param result The server's `result`.
   */
  constructor(method: string, result: string) {
    super(`The daemon refused ${method}: ${result}`);
    this.result = result;
  }
}

/**
 * Calls Transmission RPC methods.
 *
 * @example Asking a daemon for its version
 * ```ts ignore
 * import { RpcClient } from "./client.ts";
 * const client = new RpcClient({ url: "http://127.0.0.1:9091/transmission/rpc" });
 * const session = await client.call("session-get", { fields: ["version"] });
 * console.log(session.version);
 * ```
 */
export class RpcClient {
  readonly #url: string;
  readonly #authorization: string | undefined;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;
  #sessionId = "";

  /**
   * Creates a client; nothing is sent until the first call.
   *
   * @param options Where the RPC is and how to log in.
   */
  constructor(options: RpcClientOptions) {
    this.#url = String(options.url);
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
    if (options.username !== undefined || options.password !== undefined) {
      const pair = new TextEncoder().encode(`${options.username ?? ""}:${options.password ?? ""}`);
      this.#authorization = `Basic ${btoa(String.fromCharCode(...pair))}`;
    }
  }

  /**
   * Calls one method and returns its `arguments`.
   *
   * @param method The method, e.g. `torrent-get`.
   * @param args Its arguments.
   * @throws {RpcRequestError} When the server is unreachable or refuses (wrong password: 401).
   * @throws {NetworkError} In Deno, when `--allow-net` does not cover the RPC's address.
   * @throws {RpcResultError} When the method failed; the message is the server's.
   */
  async call(
    method: string,
    args: Record<string, unknown> = {},
  ): Promise<Record<string, unknown>> {
    const body = JSON.stringify({ method, arguments: args });
    let response = await this.#post(body);
    if (response.status === 409) {
      this.#sessionId = response.headers.get("X-Transmission-Session-Id") ?? "";
      await response.body?.cancel();
      response = await this.#post(body);
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw new RpcRequestError(refusal(response), response.status);
    }
    const bytes = await readCapped(
      response,
      MAX_RPC_ANSWER_BYTES,
      () =>
        new RpcRequestError(
          `The RPC at ${this.#url} answered more than ${MAX_RPC_ANSWER_BYTES} bytes; is it a Transmission RPC?`,
          response.status,
        ),
    );
    let answer: unknown;
    try {
      answer = JSON.parse(new TextDecoder().decode(bytes));
    } catch (cause) {
      throw new RpcRequestError(
        `The RPC at ${this.#url} did not answer JSON; is it a Transmission RPC?`,
        response.status,
        { cause },
      );
    }
    if (typeof answer !== "object" || answer === null || Array.isArray(answer)) {
      throw new RpcRequestError(
        `The RPC at ${this.#url} answered something other than an object`,
        response.status,
      );
    }
    const { result, arguments: out } = answer as { result?: unknown; arguments?: unknown };
    if (result !== "success") {
      throw new RpcResultError(method, typeof result === "string" ? result : "no reason given");
    }
    return typeof out === "object" && out !== null && !Array.isArray(out)
      ? out as Record<string, unknown>
      : {};
  }

  async #post(body: string): Promise<Response> {
    const headers: Record<string, string> = { "Content-Type": "application/json" };
    if (this.#sessionId) headers["X-Transmission-Session-Id"] = this.#sessionId;
    if (this.#authorization) headers.Authorization = this.#authorization;
    try {
      return await this.#fetch(this.#url, {
        method: "POST",
        headers,
        body,
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (cause) {
      // In Deno (not in a browser) a refused --allow-net says which flag to add.
      const refusal = typeof Deno === "undefined" ? undefined : permissionRefusal(cause);
      if (refusal) throw permissionError(refusal, `Cannot reach the RPC at ${this.#url}`, cause);
      const timedOut = cause instanceof DOMException && cause.name === "TimeoutError";
      throw new RpcRequestError(
        timedOut
          ? `The RPC at ${this.#url} did not answer within ${this.#timeoutMs / 1000} s`
          : `Cannot reach the RPC at ${this.#url}: is the daemon running (shoal daemon, transmission-daemon)?`,
        0,
        { cause },
      );
    }
  }
}

function refusal(response: Response): string {
  switch (response.status) {
    case 401:
      return "The RPC refused the user name and password (shoal remote: give --username and --password)";
    case 403:
      return "The RPC refused this address: add it to the daemon's --rpc-allow list";
    case 404:
      return "No RPC at this address: the path is /transmission/rpc";
    case 421:
      return "The RPC refused the host name: use an IP address or add the name to --rpc-host";
    case 429:
      return "Too many failed logins from this address: wait a minute and check the password";
    default:
      return `The RPC answered HTTP ${response.status} ${response.statusText}`.trim();
  }
}
