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
import { inStyle, type RpcStyle, snakeCase, snakeKeys } from "./names.ts";

/** The path Transmission's clients post to. */
export const RPC_PATH = "/transmission/rpc";

/** The largest request body read (a `torrent-add` with a big `metainfo` fits). */
export const MAX_RPC_BODY_BYTES = 16 * 1024 * 1024;

/** The header of the CSRF handshake. */
export const SESSION_ID_HEADER = "X-Transmission-Session-Id";

/** A method failed in a way the client should hear of: its message is the response's `result`. */
export class RpcMethodError extends ShoalError {}

/** What a method knows of the request beside its arguments. */
export interface RpcCall {
  /** The names the request used; the handler answers in them (methods answer in snake_case). */
  style: RpcStyle;
}

/**
 * One RPC method: its request arguments in (their keys in snake_case,
 * whatever the request used), its response arguments out (in snake_case:
 * the handler renames them for a client of the old names).
 */
export type RpcMethod = (
  args: Record<string, unknown>,
  call: RpcCall,
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

export { snakeCase };

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
    const fields = envelope as Record<string, unknown>;
    return fields.jsonrpc === "2.0"
      ? await jsonRpc(fields, options)
      : await legacy(fields, options);
  };
}

/** The arguments, checked to be an object (absent is empty). */
function argumentsOf(value: unknown): Record<string, unknown> | undefined {
  if (value === undefined) return {};
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  return value as Record<string, unknown>;
}

/** Where a method's answer is renamed for the old names. */
function placeOf(method: string): { torrent?: boolean; freeSpace?: boolean } {
  return {
    torrent: method === "torrent_get" || method === "torrent_set",
    freeSpace: method === "free_space",
  };
}

/**
 * Runs a method: `ok` with its answer, or the message of its refusal
 * (an {@linkcode RpcMethodError}), or of a bug (reported to `onError`).
 */
async function call(
  run: RpcMethod,
  args: Record<string, unknown>,
  style: RpcStyle,
  method: string,
  options: RpcHandlerOptions,
): Promise<{ ok: Record<string, unknown> } | { refused: string }> {
  try {
    return { ok: await run(snakeKeys(args), { style }) };
  } catch (error) {
    if (error instanceof RpcMethodError) return { refused: error.message };
    options.onError?.(error);
    return { refused: `${method} failed: ${(error as Error)?.message ?? String(error)}` };
  }
}

/**
 * The envelope of RPC version 17 and before (and 18's snake_case names in
 * it): `method`, `arguments`, `tag` in; `result`, `arguments`, `tag` out.
 * A kebab-case method name means the old names throughout.
 */
async function legacy(
  envelope: Record<string, unknown>,
  options: RpcHandlerOptions,
): Promise<Response> {
  const { method, arguments: given, tag } = envelope;
  const reply = (result: string, out?: unknown) =>
    Response.json({
      result,
      ...(out ? { arguments: out } : {}),
      ...(typeof tag === "number" ? { tag } : {}),
    });
  if (typeof method !== "string") return reply("no method name");
  const name = snakeCase(method);
  const run = options.methods.get(name);
  if (run === undefined) return reply("method name not recognized");
  const args = argumentsOf(given);
  if (args === undefined) return reply("arguments is not an object");
  const style: RpcStyle = method.includes("-") ? "legacy" : "snake";
  const outcome = await call(run, args, style, method, options);
  if ("refused" in outcome) return reply(outcome.refused);
  return reply("success", inStyle(outcome.ok, style, placeOf(name)));
}

/** JSON-RPC 2.0 error codes. */
const JSONRPC = { invalidRequest: -32600, methodNotFound: -32601, invalidParams: -32602 };
/** A method's own refusal, in the range JSON-RPC leaves to servers. */
const REFUSED_CODE = -32000;

/**
 * The envelope of RPC version 18 (Transmission 4.1): JSON-RPC 2.0 with
 * snake_case names, `params` in, `result` or `error` out, `id` echoed; a
 * request without an `id` is a notification and gets no answer (204).
 */
async function jsonRpc(
  envelope: Record<string, unknown>,
  options: RpcHandlerOptions,
): Promise<Response> {
  const { method, params, id } = envelope;
  const idOk = id === undefined || id === null || typeof id === "string" ||
    typeof id === "number";
  const answer = (body: Record<string, unknown>) =>
    id === undefined
      ? new Response(null, { status: 204 })
      : Response.json({ jsonrpc: "2.0", ...body, id: idOk ? id : null });
  const error = (code: number, message: string, data?: unknown) =>
    answer({ error: { code, message, ...(data ? { data } : {}) } });
  if (typeof method !== "string" || !idOk) return error(JSONRPC.invalidRequest, "Invalid Request");
  const run = options.methods.get(snakeCase(method));
  if (run === undefined) return error(JSONRPC.methodNotFound, "Method not found");
  const args = argumentsOf(params);
  if (args === undefined) return error(JSONRPC.invalidParams, "params is not an object");
  const outcome = await call(run, args, "snake", method, options);
  if ("refused" in outcome) {
    return error(REFUSED_CODE, outcome.refused, { error_string: outcome.refused });
  }
  return answer({ result: outcome.ok });
}

function text(status: number, body: string, headers: Record<string, string> = {}): Response {
  return new Response(body, {
    status,
    headers: { "content-type": "text/html; charset=utf-8", ...headers },
  });
}

/** A fresh session id for the CSRF handshake. */
export function randomSessionId(): string {
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
