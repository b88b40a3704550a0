/**
 * The daemon: many torrents in one long-running session, kept across
 * restarts in a state directory ({@linkcode Daemon}), driven remotely
 * through Transmission's RPC ({@linkcode serveRpc}), so that
 * `transmission-remote` and Transmission's remotes work with shoal.
 *
 * @module
 */

export * from "./daemon.ts";
export * from "./settings.ts";
export * from "./allowed_dirs.ts";
export * from "./transmission_rpc.ts";
export type { LimitMode, TorrentRecord } from "./_records.ts";
export type { RpcGuardOptions } from "../rpc/guard.ts";
