/**
 * The torrent methods of Transmission's RPC (`docs/rpc-spec.md` section
 * 3) over a {@linkcode Daemon}.
 *
 * @module
 */

import { TorrentError } from "../metainfo/errors.ts";
import { fetchTorrentFile, isTorrentUrl } from "../metainfo/fetch.ts";
import type { FilePriority } from "../metainfo/file_priority.ts";
import { MAX_TORRENT_FILE_BYTES } from "../metainfo/limits.ts";
import { looksLikeMagnet } from "../metainfo/source.ts";
import { parseMagnet } from "../metainfo/magnet.ts";
import { parseTorrent, type Torrent } from "../metainfo/torrent.ts";
import { type RpcMethod, RpcMethodError } from "../rpc/rpc_handler.ts";
import { snakeCase } from "../rpc/names.ts";
import type { AddRequest, Daemon, DaemonTorrent, TorrentChanges } from "./daemon.ts";
import {
  anyChoice,
  applyChoices,
  Args,
  fileChoices,
  refusing,
  selectTorrents,
} from "./_rpc_args.ts";
import { FieldSource, TORRENT_FIELDS } from "./_rpc_torrent_fields.ts";

/** The shown files' indices in the torrent (padding files are not shown). */
function visibleFiles(torrent: Torrent): number[] {
  return torrent.files.filter((file) => !file.padding).map((file) => file.index);
}

function torrentGet(daemon: Daemon): RpcMethod {
  return (given) => {
    const args = new Args(given);
    const fields = args.strings("fields", 1000);
    if (!fields) throw new RpcMethodError("torrent-get needs fields");
    const names = fields.map(snakeCase);
    for (const name of names) {
      if (!TORRENT_FIELDS.has(name)) {
        throw new RpcMethodError(`torrent-get: unknown field "${name}"`);
      }
    }
    const format = args.string("format") ?? "objects";
    if (format !== "objects" && format !== "table") {
      throw new RpcMethodError(`format must be "objects" or "table"`);
    }
    const ids = args.raw("ids");
    args.refuseUnknown("torrent-get");
    const now = Date.now();
    const torrents = selectTorrents(daemon, ids, now);
    const rows = torrents.map((torrent) => {
      const source = new FieldSource(torrent, now);
      return names.map((name) => TORRENT_FIELDS.get(name)!(source));
    });
    const out: Record<string, unknown> = {
      torrents: format === "table"
        ? [names, ...rows]
        : rows.map((row) => Object.fromEntries(names.map((name, i) => [name, row[i]]))),
    };
    if (typeof ids === "string") out.removed = daemon.recentlyRemoved(now);
    return out;
  };
}

/**
 * The torrent `torrent-add` names: a magnet link, a URL, a path inside the
 * allowed folders, or base64 `metainfo`.
 */
async function addSource(daemon: Daemon, args: Args): Promise<AddRequest["source"]> {
  const filename = args.string("filename", 64 * 1024);
  const metainfo = args.string("metainfo", Math.ceil(MAX_TORRENT_FILE_BYTES * 4 / 3) + 4);
  args.string("cookies"); // Read and not used: shoal sends no cookies.
  const parse = (bytes: Uint8Array, what: string) => {
    try {
      return { torrent: parseTorrent(bytes), bytes };
    } catch (error) {
      if (error instanceof TorrentError) {
        throw new RpcMethodError(`invalid or corrupt torrent file (${what}): ${error.message}`);
      }
      throw error;
    }
  };
  if (metainfo !== undefined) {
    let bytes: Uint8Array;
    try {
      bytes = Uint8Array.from(atob(metainfo.replace(/\s+/g, "")), (char) => char.charCodeAt(0));
    } catch {
      throw new RpcMethodError("invalid or corrupt torrent file (metainfo is not base64)");
    }
    return parse(bytes, "metainfo");
  }
  if (filename === undefined) throw new RpcMethodError("no filename or metainfo specified");
  const text = filename.trim();
  if (looksLikeMagnet(text)) {
    try {
      return { magnet: parseMagnet(text), text };
    } catch (error) {
      throw new RpcMethodError(`invalid magnet link: ${(error as Error).message}`);
    }
  }
  if (isTorrentUrl(text)) {
    return await refusing(() => fetchTorrentFile(text));
  }
  const path = await refusing(() => daemon.allowedDirs.check(text, "filename"));
  let bytes: Uint8Array;
  try {
    const info = await Deno.stat(path);
    if (!info.isFile) throw new RpcMethodError(`${text} is not a file`);
    if (info.size > MAX_TORRENT_FILE_BYTES) {
      throw new RpcMethodError(`${text} is over ${MAX_TORRENT_FILE_BYTES} bytes`);
    }
    bytes = await Deno.readFile(path);
  } catch (error) {
    if (error instanceof RpcMethodError) throw error;
    throw new RpcMethodError(`cannot read ${text}: ${(error as Error).message}`);
  }
  return parse(bytes, text);
}

function torrentAdd(daemon: Daemon): RpcMethod {
  return async (given) => {
    const args = new Args(given);
    const source = await addSource(daemon, args);
    const dir = args.string("download_dir", 4096);
    const downloadDir = dir === undefined || dir === ""
      ? undefined
      : await refusing(() => daemon.allowedDirs.check(dir, "download-dir"));
    const paused = args.boolean("paused");
    const peerLimit = args.number("peer_limit", 1, 10_000);
    const labels = args.strings("labels", 100);
    args.number("bandwidth_priority", -1, 1);
    const choices = fileChoices(args);
    args.refuseUnknown("torrent-add");
    let priorities: FilePriority[] | undefined;
    if ("torrent" in source && anyChoice(choices)) {
      const torrent = source.torrent;
      const start = torrent.files.map((): FilePriority => "normal");
      priorities = applyChoices(start, visibleFiles(torrent), choices);
    }
    const { torrent, duplicate } = await refusing(() =>
      daemon.add({ source, downloadDir, paused, peerLimit, labels, priorities })
    );
    const summary = {
      id: torrent.id,
      name: torrent.handle.status().name,
      hash_string: torrent.record.infoHash,
    };
    return duplicate ? { torrent_duplicate: summary } : { torrent_added: summary };
  };
}

/** A limit's value and switch (`download-limit`, `download-limited`), when either is given. */
function limitChange(
  args: Args,
  key: string,
  max: number,
  switchKey: string,
): { value?: number; enabled?: boolean } | undefined {
  const value = args.number(key, 0, max);
  const enabled = args.boolean(switchKey);
  if (value === undefined && enabled === undefined) return undefined;
  return { ...(value !== undefined && { value }), ...(enabled !== undefined && { enabled }) };
}

/** A seed limit's value and mode (0 the session's, 1 its own, 2 none), when either is given. */
function modeChange(
  args: Args,
  key: string,
  max: number,
  modeKey: string,
): { value?: number; mode?: 0 | 1 | 2 } | undefined {
  const value = args.number(key, 0, max);
  const mode = args.number(modeKey, 0, 2);
  if (value === undefined && mode === undefined) return undefined;
  return {
    ...(value !== undefined && { value }),
    ...(mode !== undefined && { mode: Math.floor(mode) as 0 | 1 | 2 }),
  };
}

function torrentSet(daemon: Daemon): RpcMethod {
  return async (given) => {
    const args = new Args(given);
    const torrents = selectTorrents(daemon, args.raw("ids"));
    const changes: TorrentChanges = {
      downloadLimit: limitChange(args, "download_limit", 1e9, "download_limited"),
      uploadLimit: limitChange(args, "upload_limit", 1e9, "upload_limited"),
      seedRatio: modeChange(args, "seed_ratio_limit", 1e6, "seed_ratio_mode"),
      seedIdle: modeChange(args, "seed_idle_limit", 1e7, "seed_idle_mode"),
    };
    const peerLimit = args.number("peer_limit", 1, 10_000);
    if (peerLimit !== undefined) changes.peerLimit = Math.floor(peerLimit);
    const labels = args.strings("labels", 100);
    if (labels) {
      if (labels.some((label) => label.includes(","))) {
        throw new RpcMethodError("labels cannot contain commas");
      }
      changes.labels = labels;
    }
    const sequential = args.boolean("sequential_download");
    if (sequential !== undefined) changes.sequential = sequential;
    const position = args.number("queue_position", 0, 1e9);
    if (position !== undefined) changes.queuePosition = position;
    const location = args.string("location", 4096);
    args.number("bandwidth_priority", -1, 1);
    args.string("group", 256);
    if (args.boolean("honors_session_limits") === false) {
      throw new RpcMethodError(
        "shoal always applies the session's limits (honorsSessionLimits false is not supported)",
      );
    }
    for (const key of ["tracker_add", "tracker_remove", "tracker_replace", "tracker_list"]) {
      if (args.has(key)) {
        throw new RpcMethodError(`${key}: changing a torrent's trackers is not supported yet`);
      }
    }
    const choices = fileChoices(args);
    args.refuseUnknown("torrent-set");
    const dir = location === undefined
      ? undefined
      : await refusing(() => daemon.allowedDirs.check(location, "location"));
    await refusing(async () => {
      for (const torrent of torrents) {
        const meta = torrent.handle.torrent;
        const own: TorrentChanges = { ...changes };
        if (anyChoice(choices)) {
          if (!meta) {
            throw new RpcMethodError(
              `${torrent.record.name}: its files are not known yet (no metadata)`,
            );
          }
          const current = torrent.handle.filePriorities ??
            meta.files.map((): FilePriority => "normal");
          own.priorities = applyChoices(current, visibleFiles(meta), choices);
        }
        await daemon.update(torrent, own);
        if (dir !== undefined) await daemon.setLocation(torrent, dir, false);
      }
    });
    return {};
  };
}

/** A method that does one thing to each torrent `ids` names. */
function each(
  daemon: Daemon,
  method: string,
  action: (torrent: DaemonTorrent) => Promise<void> | void,
): RpcMethod {
  return async (given) => {
    const args = new Args(given);
    const torrents = selectTorrents(daemon, args.raw("ids"));
    args.refuseUnknown(method);
    await refusing(async () => {
      for (const torrent of torrents) await action(torrent);
    });
    return {};
  };
}

function torrentRemove(daemon: Daemon): RpcMethod {
  return async (given) => {
    const args = new Args(given);
    const torrents = selectTorrents(daemon, args.raw("ids"));
    const deleteData = args.boolean("delete_local_data") ?? false;
    args.refuseUnknown("torrent-remove");
    await refusing(async () => {
      for (const torrent of torrents) await daemon.remove(torrent, deleteData);
    });
    return {};
  };
}

function torrentSetLocation(daemon: Daemon): RpcMethod {
  return async (given) => {
    const args = new Args(given);
    const torrents = selectTorrents(daemon, args.raw("ids"));
    const location = args.string("location", 4096);
    const move = args.boolean("move") ?? false;
    args.refuseUnknown("torrent-set-location");
    if (!location) throw new RpcMethodError("no location");
    const dir = await refusing(() => daemon.allowedDirs.check(location, "location"));
    await refusing(async () => {
      for (const torrent of torrents) await daemon.setLocation(torrent, dir, move);
    });
    return {};
  };
}

function queueMove(daemon: Daemon, where: "top" | "up" | "down" | "bottom"): RpcMethod {
  return async (given) => {
    const args = new Args(given);
    const torrents = selectTorrents(daemon, args.raw("ids"));
    args.refuseUnknown(`queue-move-${where}`);
    await refusing(() => daemon.moveInQueue(torrents, where));
    return {};
  };
}

/** The torrent methods, by snake_case name. */
export function torrentMethods(daemon: Daemon): [string, RpcMethod][] {
  return [
    ["torrent_get", torrentGet(daemon)],
    ["torrent_add", torrentAdd(daemon)],
    ["torrent_set", torrentSet(daemon)],
    ["torrent_start", each(daemon, "torrent-start", (t) => daemon.start(t))],
    ["torrent_start_now", each(daemon, "torrent-start-now", (t) => daemon.start(t, true))],
    ["torrent_stop", each(daemon, "torrent-stop", (t) => daemon.stop(t))],
    ["torrent_verify", each(daemon, "torrent-verify", (t) => daemon.verify(t))],
    ["torrent_reannounce", each(daemon, "torrent-reannounce", (t) => daemon.reannounce(t))],
    ["torrent_remove", torrentRemove(daemon)],
    ["torrent_set_location", torrentSetLocation(daemon)],
    ["torrent_rename_path", () => {
      throw new RpcMethodError("torrent-rename-path is not supported yet");
    }],
    ["queue_move_top", queueMove(daemon, "top")],
    ["queue_move_up", queueMove(daemon, "up")],
    ["queue_move_down", queueMove(daemon, "down")],
    ["queue_move_bottom", queueMove(daemon, "bottom")],
  ];
}
