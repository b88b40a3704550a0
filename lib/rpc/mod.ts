/**
 * Transmission's RPC, so that its remotes (`transmission-remote`, its web
 * client, phone and desktop remotes) drive shoal:
 * {@linkcode createRpcHandler} is the transport, the session-id handshake
 * and the envelope; each method is an {@linkcode RpcMethod} given by name.
 * {@linkcode RpcClient} is the other end, for `shoal remote` and the web
 * interface.
 *
 * @module
 */

export * from "./rpc_handler.ts";
export { inStyle, legacyName, type RpcStyle, snakeKeys } from "./names.ts";
export * from "./client.ts";
export * from "./guard.ts";
export * from "./torrent_status.ts";
