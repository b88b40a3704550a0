/**
 * The session methods of Transmission's RPC (`docs/rpc-spec.md` section
 * 4) over a {@linkcode Daemon}: `session-get`/`-set`/`-stats`/`-close`,
 * `free-space`, `port-test`, `blocklist-update`.
 *
 * @module
 */

import { statfs } from "node:fs/promises";
import { type RpcMethod, RpcMethodError } from "../rpc/rpc_handler.ts";
import { snakeCase } from "../rpc/names.ts";
import { VERSION } from "../version.ts";
import type { Daemon } from "./daemon.ts";
import type { DaemonSettings } from "./settings.ts";
import { Args, refusing } from "./_rpc_args.ts";

/** The RPC version shoal speaks: Transmission 4.0's (17), with 4.1's snake_case and JSON-RPC too. */
export const RPC_VERSION = 17;
/** The oldest clients served. */
export const RPC_VERSION_MINIMUM = 14;

/** What the session methods need beside the daemon. */
export interface SessionMethodsContext {
  /** The session id of the handshake (`session-id`). */
  sessionId: string;
  /** Asked by `session-close`. */
  close: () => void;
}

type Getter = (daemon: Daemon, context: SessionMethodsContext) => unknown;

const UNITS = {
  speed_units: ["kB/s", "MB/s", "GB/s", "TB/s"],
  speed_bytes: 1000,
  size_units: ["kB", "MB", "GB", "TB"],
  size_bytes: 1000,
  memory_units: ["KiB", "MiB", "GiB", "TiB"],
  memory_bytes: 1024,
};

/** Every session field, by snake_case name. Fields shoal has no feature for show it off. */
const SESSION_FIELDS: ReadonlyMap<string, Getter> = new Map<string, Getter>([
  ["alt_speed_down", (d) => d.settings.altSpeed.down],
  ["alt_speed_enabled", (d) => d.settings.altSpeed.enabled],
  ["alt_speed_time_begin", () => 540],
  ["alt_speed_time_day", () => 127],
  ["alt_speed_time_enabled", () => false],
  ["alt_speed_time_end", () => 1020],
  ["alt_speed_up", (d) => d.settings.altSpeed.up],
  ["blocklist_enabled", () => false],
  ["blocklist_size", () => 0],
  ["blocklist_url", () => ""],
  ["cache_size_mb", () => 4],
  ["config_dir", (d) => d.stateDir],
  ["default_trackers", () => ""],
  ["dht_enabled", (d) => d.features.dht],
  ["download_dir", (d) => d.settings.downloadDir],
  ["download_dir_free_space", () => -1],
  ["download_queue_enabled", (d) => d.settings.downloadQueue.enabled],
  ["download_queue_size", (d) => d.settings.downloadQueue.value],
  ["encryption", () => "tolerated"],
  ["idle_seeding_limit", (d) => d.settings.idleSeedingMinutes.value],
  ["idle_seeding_limit_enabled", (d) => d.settings.idleSeedingMinutes.enabled],
  ["incomplete_dir", (d) => d.settings.downloadDir],
  ["incomplete_dir_enabled", () => false],
  ["lpd_enabled", (d) => d.features.lsd],
  ["peer_limit_global", (d) => d.settings.peerLimitPerTorrent * Math.max(1, d.torrents().length)],
  ["peer_limit_per_torrent", (d) => d.settings.peerLimitPerTorrent],
  ["peer_port", (d) => d.session.port],
  ["peer_port_random_on_start", () => false],
  ["pex_enabled", (d) => d.features.pex],
  ["port_forwarding_enabled", () => false],
  ["queue_stalled_enabled", () => false],
  ["queue_stalled_minutes", () => 30],
  ["rename_partial_files", () => false],
  ["rpc_version", () => RPC_VERSION],
  ["rpc_version_minimum", () => RPC_VERSION_MINIMUM],
  ["rpc_version_semver", () => "5.3.0"],
  ["script_torrent_added_enabled", () => false],
  ["script_torrent_added_filename", () => ""],
  ["script_torrent_done_enabled", (d) => d.settings.onComplete.enabled],
  ["script_torrent_done_filename", (d) => d.settings.onComplete.value],
  ["script_torrent_done_seeding_enabled", () => false],
  ["script_torrent_done_seeding_filename", () => ""],
  ["seed_queue_enabled", (d) => d.settings.seedQueue.enabled],
  ["seed_queue_size", (d) => d.settings.seedQueue.value],
  ["seed_ratio_limit", (d) => d.settings.seedRatio.value],
  ["seed_ratio_limited", (d) => d.settings.seedRatio.enabled],
  ["session_id", (_, c) => c.sessionId],
  ["speed_limit_down", (d) => d.settings.speedLimitDown.value],
  ["speed_limit_down_enabled", (d) => d.settings.speedLimitDown.enabled],
  ["speed_limit_up", (d) => d.settings.speedLimitUp.value],
  ["speed_limit_up_enabled", (d) => d.settings.speedLimitUp.enabled],
  ["start_added_torrents", (d) => d.settings.startAddedTorrents],
  ["tcp_enabled", () => true],
  ["trash_original_torrent_files", (d) => d.settings.trashOriginalTorrentFiles],
  ["units", () => UNITS],
  ["utp_enabled", () => false],
  ["version", () => `${VERSION} (shoal)`],
]);

/** What `session-set` may change, and how each changes the settings. */
type Setter = (args: Args, key: string, settings: DaemonSettings) => Partial<DaemonSettings>;

const kBps = (args: Args, key: string) => args.number(key, 0, 1e9);
const switched = <K extends keyof DaemonSettings>(
  name: K,
  part: "enabled" | "value",
  read: (args: Args, key: string) => unknown,
): Setter =>
(args, key, settings) => {
  const value = read(args, key);
  if (value === undefined) return {};
  return { [name]: { ...(settings[name] as object), [part]: value } } as Partial<DaemonSettings>;
};
const bool = (args: Args, key: string) => args.boolean(key);

const SETTERS: ReadonlyMap<string, Setter> = new Map<string, Setter>([
  ["alt_speed_down", (a, k, s) => {
    const v = kBps(a, k);
    return v === undefined ? {} : { altSpeed: { ...s.altSpeed, down: v } };
  }],
  ["alt_speed_up", (a, k, s) => {
    const v = kBps(a, k);
    return v === undefined ? {} : { altSpeed: { ...s.altSpeed, up: v } };
  }],
  ["alt_speed_enabled", (a, k, s) => {
    const v = a.boolean(k);
    return v === undefined ? {} : { altSpeed: { ...s.altSpeed, enabled: v } };
  }],
  ["download_dir", () => ({})], // Checked by the caller (an allowed folder).
  ["download_queue_enabled", switched("downloadQueue", "enabled", bool)],
  ["download_queue_size", switched("downloadQueue", "value", (a, k) => a.number(k, 0, 1e6))],
  ["seed_queue_enabled", switched("seedQueue", "enabled", bool)],
  ["seed_queue_size", switched("seedQueue", "value", (a, k) => a.number(k, 0, 1e6))],
  ["seed_ratio_limit", switched("seedRatio", "value", (a, k) => a.number(k, 0, 1e6))],
  ["seed_ratio_limited", switched("seedRatio", "enabled", bool)],
  ["idle_seeding_limit", switched("idleSeedingMinutes", "value", (a, k) => a.number(k, 0, 1e7))],
  ["idle_seeding_limit_enabled", switched("idleSeedingMinutes", "enabled", bool)],
  ["speed_limit_down", switched("speedLimitDown", "value", kBps)],
  ["speed_limit_down_enabled", switched("speedLimitDown", "enabled", bool)],
  ["speed_limit_up", switched("speedLimitUp", "value", kBps)],
  ["speed_limit_up_enabled", switched("speedLimitUp", "enabled", bool)],
  ["peer_limit_per_torrent", (a, k) => {
    const v = a.number(k, 1, 10_000);
    return v === undefined ? {} : { peerLimitPerTorrent: Math.floor(v) };
  }],
  ["start_added_torrents", (a, k) => {
    const v = a.boolean(k);
    return v === undefined ? {} : { startAddedTorrents: v };
  }],
  ["trash_original_torrent_files", (a, k) => {
    const v = a.boolean(k);
    return v === undefined ? {} : { trashOriginalTorrentFiles: v };
  }],
  ["script_torrent_done_enabled", switched("onComplete", "enabled", bool)],
  ["script_torrent_done_filename", switched("onComplete", "value", (a, k) => a.string(k, 4096))],
]);

/** Fields that cannot change while the daemon runs: given their current value, they are accepted. */
const FIXED = new Map<string, string>([
  ["dht_enabled", "restart the daemon with or without --no-dht"],
  ["lpd_enabled", "restart the daemon with or without --no-lsd"],
  ["pex_enabled", "restart the daemon with or without --no-pex"],
  ["peer_port", "restart the daemon with another -p"],
  ["encryption", "shoal accepts encrypted and plain peers and dials plain ones"],
  ["utp_enabled", "shoal has no uTP yet"],
  ["blocklist_enabled", "shoal has no blocklist yet"],
  ["incomplete_dir_enabled", "shoal keeps incomplete files in the download folder"],
  ["rename_partial_files", "shoal does not rename partial files"],
  ["port_forwarding_enabled", "shoal does not ask routers to forward its port"],
  ["alt_speed_time_enabled", "the alternative speeds have no schedule in shoal yet"],
  ["peer_port_random_on_start", "restart the daemon with another -p"],
  ["queue_stalled_enabled", "shoal's queue does not skip stalled torrents yet"],
  ["script_torrent_added_enabled", "shoal runs a script only on completion (--on-complete)"],
  ["script_torrent_done_seeding_enabled", "shoal runs a script only on completion (--on-complete)"],
]);

/** Fields `session-set` does not change and ignores (Transmission's web client sends them all). */
const IGNORED = new Set([
  "alt_speed_time_begin",
  "alt_speed_time_day",
  "alt_speed_time_end",
  "blocklist_url",
  "cache_size_mb",
  "default_trackers",
  "incomplete_dir",
  "peer_limit_global",
  "queue_stalled_minutes",
  "script_torrent_added_filename",
  "script_torrent_done_seeding_filename",
  "tcp_enabled",
]);

function sessionGet(daemon: Daemon, context: SessionMethodsContext): RpcMethod {
  return (given) => {
    const args = new Args(given);
    const fields = args.strings("fields", 1000)?.map(snakeCase);
    args.refuseUnknown("session-get");
    const names = fields && fields.length > 0 ? fields : [...SESSION_FIELDS.keys()];
    const out: Record<string, unknown> = {};
    for (const name of names) {
      const getter = SESSION_FIELDS.get(name);
      if (!getter) throw new RpcMethodError(`session-get: unknown field "${name}"`);
      out[name] = getter(daemon, context);
    }
    return out;
  };
}

function sessionSet(daemon: Daemon, context: SessionMethodsContext): RpcMethod {
  return async (given) => {
    const args = new Args(given);
    let changes: Partial<DaemonSettings> = {};
    const settings = () => ({ ...daemon.settings, ...changes });
    for (const key of Object.keys(given)) {
      const setter = SETTERS.get(key);
      if (setter) {
        changes = { ...changes, ...setter(args, key, settings()) };
        continue;
      }
      const reason = FIXED.get(key);
      if (reason !== undefined) {
        const current = SESSION_FIELDS.get(key)!(daemon, context);
        const value = args.raw(key);
        const same = value === current ||
          (typeof current === "boolean" && value === (current ? 1 : 0));
        if (!same) throw new RpcMethodError(`${key} cannot be changed here: ${reason}`);
        continue;
      }
      if (IGNORED.has(key) || SESSION_FIELDS.has(key)) {
        args.raw(key);
        continue;
      }
    }
    const dir = args.string("download_dir", 4096);
    args.refuseUnknown("session-set");
    if (dir !== undefined) {
      changes.downloadDir = await refusing(() => daemon.allowedDirs.check(dir, "download-dir"));
    }
    await refusing(() => daemon.updateSettings(changes));
    return {};
  };
}

function sessionStats(daemon: Daemon): RpcMethod {
  return (given) => {
    new Args(given).refuseUnknown("session-stats");
    const torrents = daemon.torrents();
    let download = 0;
    let upload = 0;
    let active = 0;
    for (const torrent of torrents) {
      const status = torrent.handle.status();
      download += status.downloadRate;
      upload += status.uploadRate;
      if (torrent.handle.running) active++;
    }
    const { current, cumulative } = daemon.stats();
    const stats = (totals: typeof current) => ({
      uploaded_bytes: totals.uploadedBytes,
      downloaded_bytes: totals.downloadedBytes,
      files_added: totals.filesAdded,
      session_count: totals.sessionCount,
      seconds_active: totals.secondsActive,
    });
    return {
      active_torrent_count: active,
      paused_torrent_count: torrents.length - active,
      torrent_count: torrents.length,
      download_speed: Math.round(download),
      upload_speed: Math.round(upload),
      cumulative_stats: stats(cumulative),
      current_stats: stats(current),
    };
  };
}

function freeSpace(daemon: Daemon): RpcMethod {
  return async (given) => {
    const args = new Args(given);
    const path = args.string("path", 4096);
    args.refuseUnknown("free-space");
    if (path === undefined) throw new RpcMethodError("free-space needs a path");
    const checked = await refusing(() => daemon.allowedDirs.check(path, "path"));
    try {
      const info = await statfs(checked);
      return { path, size_bytes: info.bavail * info.bsize, total_size: info.blocks * info.bsize };
    } catch (error) {
      throw new RpcMethodError(`free-space: ${path}: ${(error as Error).message}`);
    }
  };
}

/** The session methods, by snake_case name. */
export function sessionMethods(
  daemon: Daemon,
  context: SessionMethodsContext,
): [string, RpcMethod][] {
  return [
    ["session_get", sessionGet(daemon, context)],
    ["session_set", sessionSet(daemon, context)],
    ["session_stats", sessionStats(daemon)],
    ["session_close", (given) => {
      new Args(given).refuseUnknown("session-close");
      context.close();
      return {};
    }],
    ["free_space", freeSpace(daemon)],
    ["port_test", () => {
      throw new RpcMethodError(
        "port-test needs a service outside this machine to try the port, and shoal contacts none; " +
          `check from another machine that TCP port ${daemon.session.port} answers`,
      );
    }],
    ["blocklist_update", () => {
      throw new RpcMethodError("shoal has no blocklist yet");
    }],
  ];
}
