/**
 * The transport of Transmission's RPC (`docs/rpc-spec.md` in the
 * transmission/transmission repository, section 2): JSON requests POSTed
 * to `/transmission/rpc`, the `X-Transmission-Session-Id` handshake
 * against CSRF (a request without the current id gets 409 and the id),
 * and the envelope: `method`, `arguments`, `tag` in; `result`,
 * `arguments`, `tag` out. What each method does is a {@linkcode RpcMethod}
 * given by name; this module knows none of them.
 *
 * Method names are accepted in every spelling Transmission has used:
 * kebab-case (`torrent-get`, RPC version 17 and before, as Debian's
 * Transmission 3.00 sends) and snake_case (`torrent_get`, since 4.1).
 * Methods are registered by their snake_case name.
 *
 * @module
 */

import { ShoalError } from "../errors.ts";

/** The path Transmission's clients post to. */
export const RPC_PATH = "/transmission/rpc";

/** The largest request body read (a `torrent-add` with a big `metainfo` fits). */
export const MAX_RPC_BODY_BYTES = 16 * 1024 * 1024;

/** The header of the CSRF handshake. */
export const SESSION_ID_HEADER = "X-Transmission-Session-Id";

/** A method failed in a way the client should hear of: its message is the response's `result`. */
export class RpcMethodError extends ShoalError {}

/** One RPC method: its request arguments in, its response arguments out. */
export type RpcMethod = (
  args: Record<string, unknown>,
) => Promise<Record<string, unknown>> | Record<string, unknown>;

/** The options of {@linkcode createRpcHandler}. */
export interface RpcHandlerOptions {
  /** The methods, by snake_case name (`session_get`, `torrent_get`). */
  methods: ReadonlyMap<string, RpcMethod>;
  /** Largest body read; default {@linkcode MAX_RPC_BODY_BYTES}. */
  maxBodyBytes?: number;
  /** The session id clients must send; default a random one. */
  sessionId?: string;
  /** Told of a method that threw something other than an {@linkcode RpcMethodError} (a bug). */
  onError?: (error: unknown) => void;
}

/** The snake_case name of a method or key given in kebab-case, camelCase or snake_case. */
export function snakeCase(name: string): string {
  return name.replace(/-/g, "_").replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase();
}

/**
 * Makes the handler of Transmission RPC requests at {@linkcode RPC_PATH}
 * (other paths get 404, so it can sit beside other handlers).
 *
 * @example
 * ```ts
 * import { createRpcHandler, RPC_PATH, SESSION_ID_HEADER } from "./rpc_handler.ts";
 *
 * const handler = createRpcHandler({
 *   methods: new Map([["session_get", () => ({ "rpc-version": 16 })]]),
 *   sessionId: "abc",
 * });
 * const request = (headers: HeadersInit) =>
 *   new Request(`http://127.0.0.1${RPC_PATH}`, {
 *     method: "POST",
 *     headers,
 *     body: JSON.stringify({ method: "session-get", tag: 7 }),
 *   });
 * const first = await handler(request({}));
 * console.log(first.status, first.headers.get(SESSION_ID_HEADER)); // 409 abc
 * const answer = await handler(request({ [SESSION_ID_HEADER]: "abc" }));
 * console.log(await answer.json()); // { result: "success", arguments: { "rpc-version": 16 }, tag: 7 }
 * ```
 */
export function createRpcHandler(
  options: RpcHandlerOptions,
): (request: Request) => Promise<Response> {
  const sessionId = options.sessionId ?? randomSessionId();
  const maxBody = options.maxBodyBytes ?? MAX_RPC_BODY_BYTES;
  return async (request) => {
    // transmission-remote 3.00 posts to `/transmission/rpc/`.
    const path = new URL(request.url).pathname;
    if (path !== RPC_PATH && path !== `${RPC_PATH}/`) return text(404, "Not found\n");
    if (request.headers.get(SESSION_ID_HEADER) !== sessionId) {
      await request.body?.cancel();
      return text(409, `<h1>409: Conflict</h1><p>Your request had an invalid session id.</p>\n`, {
        [SESSION_ID_HEADER]: sessionId,
      });
    }
    if (request.method !== "POST") return text(405, "Only POST is accepted\n", { allow: "POST" });
    const body = await readLimited(request, maxBody);
    if (body === undefined) return text(413, `The request is larger than ${maxBody} bytes\n`);
    let envelope: unknown;
    try {
      envelope = JSON.parse(body);
    } catch {
      return text(400, "The request is not JSON\n");
    }
    if (typeof envelope !== "object" || envelope === null || Array.isArray(envelope)) {
      return text(400, "The request is not a JSON object\n");
    }
    const { method, arguments: args, tag } = envelope as Record<string, unknown>;
    const reply = (result: string, out?: Record<string, unknown>) =>
      Response.json({
        result,
        ...(out ? { arguments: out } : {}),
        ...(typeof tag === "number" ? { tag } : {}),
      });
    if (typeof method !== "string") return reply("no method name");
    const run = options.methods.get(snakeCase(method));
    if (run === undefined) return reply("method name not recognized");
    if (args !== undefined && (typeof args !== "object" || args === null || Array.isArray(args))) {
      return reply("arguments is not an object");
    }
    try {
      return reply("success", await run((args ?? {}) as Record<string, unknown>));
    } catch (error) {
      if (error instanceof RpcMethodError) return reply(error.message);
      options.onError?.(error);
      return reply(`${method} failed: ${(error as Error)?.message ?? String(error)}`);
    }
  };
}

function text(status: number, body: string, headers: Record<string, string> = {}): Response {
  return new Response(body, {
    status,
    headers: { "content-type": "text/html; charset=utf-8", ...headers },
  });
}

function randomSessionId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return Array.from(bytes, (byte) => byte.toString(36).padStart(2, "0")).join("").slice(0, 48);
}

/** The body as text, or undefined when it is longer than `max` bytes (not read further). */
async function readLimited(request: Request, max: number): Promise<string | undefined> {
  const declared = Number(request.headers.get("content-length"));
  if (Number.isFinite(declared) && declared > max) {
    await request.body?.cancel();
    return undefined;
  }
  if (!request.body) return "";
  const chunks: Uint8Array[] = [];
  let length = 0;
  for await (const chunk of request.body) {
    length += chunk.length;
    if (length > max) return undefined;
    chunks.push(chunk);
  }
  const all = new Uint8Array(length);
  let at = 0;
  for (const chunk of chunks) {
    all.set(chunk, at);
    at += chunk.length;
  }
  return new TextDecoder().decode(all);
}
