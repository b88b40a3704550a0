/**
 * Transmission's RPC over a {@linkcode Daemon}, served over HTTP: the
 * guard (client addresses, host names, credentials) first, then the
 * session-id handshake and the methods at `/transmission/rpc`, and the web
 * interface at `/`.
 *
 * @module
 */

import { createRpcHandler, randomSessionId, RPC_PATH, type RpcMethod } from "../rpc/rpc_handler.ts";
import { createRpcGuard, type RpcGuardOptions } from "../rpc/guard.ts";
import type { Logger } from "../util/log.ts";
import type { Daemon } from "./daemon.ts";
import { torrentMethods } from "./_rpc_torrent_methods.ts";
import { sessionMethods } from "./_rpc_session_methods.ts";
import { webUiResponse } from "../webui/web_ui.ts";

/** The options of {@linkcode serveRpc}. */
export interface ServeRpcOptions extends RpcGuardOptions {
  /** The address to listen on. Default 127.0.0.1. */
  hostname?: string;
  /** The port. Default 9091 (0: any free one). */
  port?: number;
  /** Asked by `session-close` (the daemon's owner closes it). */
  onCloseRequest?: () => void;
  /** Where method bugs and server errors are logged. */
  log: Logger;
}

/** A running RPC server. */
export interface RpcServer {
  /** Where it listens. */
  readonly addr: Deno.NetAddr;
  /** Stops it; resolves once the requests under way are answered. */
  shutdown(): Promise<void>;
}

/** Every method, by snake_case name. */
export function transmissionMethods(
  daemon: Daemon,
  context: { sessionId: string; close: () => void },
): Map<string, RpcMethod> {
  return new Map([...torrentMethods(daemon), ...sessionMethods(daemon, context)]);
}

/**
 * Serves the RPC of a daemon.
 *
 * @throws {Deno.errors.AddrInUse} When the port is taken.
 */
export function serveRpc(daemon: Daemon, options: ServeRpcOptions): RpcServer {
  const sessionId = randomSessionId();
  const guard = createRpcGuard(options);
  const handler = createRpcHandler({
    methods: transmissionMethods(daemon, {
      sessionId,
      close: () => options.onCloseRequest?.(),
    }),
    sessionId,
    onError: (error) =>
      options.log.error(
        `RPC: ${(error as Error)?.stack ?? String(error)} (a bug; please report it)`,
      ),
  });
  const server = Deno.serve({
    hostname: options.hostname ?? "127.0.0.1",
    port: options.port ?? 9091,
    onListen: () => {},
    onError: (error) => {
      options.log.error(`RPC: ${(error as Error)?.stack ?? String(error)}`);
      return new Response("Internal error\n", { status: 500 });
    },
  }, async (request, info) => {
    const refused = await guard(request, info.remoteAddr);
    if (refused) return refused;
    const path = new URL(request.url).pathname;
    if (path === RPC_PATH || path === `${RPC_PATH}/`) return handler(request);
    const page = webUiResponse(path.slice(1), request.method);
    if (page) {
      await request.body?.cancel();
      return page;
    }
    if (path === "/transmission/web" || path === "/transmission/web/") {
      // Where Transmission's own interface lives: its users' bookmarks land on shoal's.
      await request.body?.cancel();
      return new Response(null, { status: 302, headers: { Location: "/" } });
    }
    await request.body?.cancel();
    return new Response("Not found\n", { status: 404 });
  });
  return { addr: server.addr, shutdown: () => server.shutdown() };
}
