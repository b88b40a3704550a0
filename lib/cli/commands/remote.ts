/**
 * `shoal remote add|list|info|pause|resume|remove|select`: drives a daemon
 * through Transmission's RPC, shoal's own or a real Transmission's
 * (`transmission-daemon`), like `transmission-remote`. `--json` prints the
 * daemon's answers for scripts.
 *
 * @module
 */

import type { Command } from "../_commander.ts";
import { UsageError } from "../../errors.ts";
import { RpcClient } from "../../rpc/client.ts";
import { looksLikeMagnet } from "../../metainfo/source.ts";
import { isTorrentUrl } from "../../metainfo/fetch.ts";
import { readTorrentFile } from "../../metainfo/torrent.ts";
import { parseFileNumbers } from "../../metainfo/file_priority.ts";
import { bytesToBinary } from "../../util/_bytes.ts";
import { diskError } from "../../errors.ts";
import {
  formatRemoteFiles,
  formatRemoteInfo,
  formatRemoteList,
  INFO_FIELDS,
  LIST_FIELDS,
  type RemoteTorrent,
  type RemoteTorrentDetail,
} from "../../ui/remote_view.ts";
import { fileListArgument, priorityArgument, type PriorityFlag } from "../_file_flags.ts";
import { readEnv } from "../_env.ts";
import { writeOut } from "../output.ts";

/** The flags every `remote` command shares. */
export interface RemoteFlags {
  /** Where the RPC is: `host:port`, a port, or a URL. */
  rpc: string;
  /** HTTP Basic user name. */
  username?: string;
  /** HTTP Basic password (or `SHOAL_RPC_PASSWORD`). */
  password?: string;
  /** Print the daemon's answers as JSON. */
  json?: boolean;
}

/** The default address, Transmission's. */
export const DEFAULT_RPC = "127.0.0.1:9091";

/**
 * The RPC's URL from what the user wrote: `9091`, `host:port`,
 * `[::1]:9091`, `http://host:port` (the path `/transmission/rpc` added) or
 * a full URL.
 *
 * @throws {UsageError} When it is none of these.
 */
export function rpcUrl(address: string): URL {
  const text = address.trim();
  const withScheme = /^\d{1,5}$/.test(text)
    ? `http://127.0.0.1:${text}`
    : /^https?:\/\//i.test(text)
    ? text
    : `http://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new UsageError(
      `"${address}" is not an RPC address: give host:port (such as ${DEFAULT_RPC}) or a URL`,
    );
  }
  if (url.pathname === "/" || url.pathname === "") url.pathname = "/transmission/rpc";
  return url;
}

/** The torrents named on the command line: numbers or info hashes, or `all` (none given). */
export function torrentIds(words: readonly string[]): (number | string)[] | undefined {
  if (words.length === 1 && words[0] === "all") return undefined;
  return words.map((word) => {
    if (/^\d{1,9}$/.test(word) && Number(word) > 0) return Number(word);
    if (/^([0-9a-f]{40}|[0-9a-f]{64})$/i.test(word)) return word.toLowerCase();
    throw new UsageError(
      `"${word}" names no torrent: give its number (shoal remote list) or its info hash, or all`,
    );
  });
}

function client(command: Command): { rpc: RpcClient; flags: RemoteFlags } {
  const flags = command.optsWithGlobals() as RemoteFlags;
  const password = flags.password ?? readEnv("SHOAL_RPC_PASSWORD");
  if (flags.username === undefined && password !== undefined && flags.password !== undefined) {
    throw new UsageError("Give --username with --password");
  }
  return {
    flags,
    rpc: new RpcClient({
      url: rpcUrl(flags.rpc),
      username: flags.username,
      password: flags.username !== undefined ? password ?? "" : undefined,
    }),
  };
}

function print(flags: RemoteFlags, json: unknown, text: string): void {
  writeOut(flags.json ? `${JSON.stringify(json)}\n` : text);
}

/** What `torrent-add` gets for one source: a local file as metainfo, a link as itself. */
async function addRequest(source: string): Promise<Record<string, unknown>> {
  if (looksLikeMagnet(source) || isTorrentUrl(source)) return { filename: source };
  // Read here, so that the daemon (perhaps on another machine) needs no access to the path.
  await readTorrentFile(source);
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(source);
  } catch (error) {
    throw diskError(error, "read the torrent file", source);
  }
  return { metainfo: btoa(bytesToBinary(bytes)) };
}

async function getTorrents(
  rpc: RpcClient,
  ids: (number | string)[] | undefined,
  fields: readonly string[],
): Promise<Record<string, unknown>[]> {
  const answer = await rpc.call("torrent-get", ids ? { ids, fields } : { fields });
  return Array.isArray(answer.torrents) ? answer.torrents as Record<string, unknown>[] : [];
}

/** The one torrent a word names, with `fields`; a usage error when there is none. */
async function oneTorrent(
  rpc: RpcClient,
  word: string,
  fields: readonly string[],
): Promise<Record<string, unknown>> {
  const ids = torrentIds([word]);
  if (!ids) throw new UsageError("Name one torrent (its number or hash), not all");
  const [torrent] = await getTorrents(rpc, ids, fields);
  if (!torrent) throw new UsageError(`The daemon has no torrent ${word}: see shoal remote list`);
  return torrent;
}

async function add(
  sources: string[],
  options: { paused?: boolean; downloadDir?: string },
  command: Command,
): Promise<void> {
  const { rpc, flags } = client(command);
  const results = [];
  const lines = [];
  for (const source of sources) {
    const request = await addRequest(source);
    if (options.paused) request.paused = true;
    if (options.downloadDir) request["download-dir"] = options.downloadDir;
    const answer = await rpc.call("torrent-add", request);
    const duplicate = answer["torrent-duplicate"] !== undefined;
    const torrent = (answer["torrent-added"] ?? answer["torrent-duplicate"] ?? {}) as {
      id?: number;
      name?: string;
      hashString?: string;
    };
    results.push({ ...torrent, duplicate });
    lines.push(
      `${duplicate ? "Already there" : "Added"}: ${
        torrent.name ?? source
      } (id ${torrent.id}, ${torrent.hashString})`,
    );
  }
  print(flags, results, `${lines.join("\n")}\n`);
}

async function list(_options: unknown, command: Command): Promise<void> {
  const { rpc, flags } = client(command);
  const torrents = await getTorrents(rpc, undefined, LIST_FIELDS) as unknown as RemoteTorrent[];
  torrents.sort((a, b) => a.id - b.id);
  print(flags, torrents, formatRemoteList(torrents));
}

async function info(word: string, _options: unknown, command: Command): Promise<void> {
  const { rpc, flags } = client(command);
  const torrent = await oneTorrent(rpc, word, INFO_FIELDS) as unknown as RemoteTorrentDetail;
  print(flags, torrent, formatRemoteInfo(torrent));
}

function simple(method: string, done: string) {
  return async (words: string[], _options: unknown, command: Command): Promise<void> => {
    const { rpc, flags } = client(command);
    const ids = torrentIds(words);
    await rpc.call(method, ids ? { ids } : {});
    const what = ids ? `${ids.length} torrent${ids.length === 1 ? "" : "s"}` : "all torrents";
    print(flags, { ok: true, ids: ids ?? "all" }, `${done} ${what}\n`);
  };
}

async function remove(
  words: string[],
  options: { deleteData?: boolean },
  command: Command,
): Promise<void> {
  const { rpc, flags } = client(command);
  const ids = torrentIds(words);
  if (!ids) throw new UsageError("Name the torrents to remove; all is not taken here");
  await rpc.call("torrent-remove", { ids, "delete-local-data": options.deleteData === true });
  print(
    flags,
    { ok: true, ids, deletedData: options.deleteData === true },
    `Removed ${ids.length} torrent${ids.length === 1 ? "" : "s"}${
      options.deleteData ? " and their data" : ""
    }\n`,
  );
}

/**
 * The `torrent-set` arguments of a selection: `only` wanted and the others
 * not; `get` and `skip` change just the files they name; each priority
 * its files' (`skip` is not wanted). File numbers start at 1, as `shoal remote info` shows them.
 *
 * @throws {UsageError} When nothing is asked, or a number names no file.
 */
export function selectionArgs(
  fileCount: number,
  choice: { only?: string; get?: string; skip?: string; priority?: PriorityFlag[] },
): Record<string, number[]> {
  const args: Record<string, number[]> = {};
  const wanted = new Set<number>();
  const unwanted = new Set<number>();
  if (choice.only !== undefined) {
    const only = new Set(parseFileNumbers(choice.only, fileCount));
    for (let i = 0; i < fileCount; i++) (only.has(i) ? wanted : unwanted).add(i);
  }
  for (const i of choice.get ? parseFileNumbers(choice.get, fileCount) : []) {
    unwanted.delete(i);
    wanted.add(i);
  }
  const skipped = [
    ...(choice.skip ? parseFileNumbers(choice.skip, fileCount) : []),
    ...(choice.priority ?? []).filter((p) => p.priority === "skip")
      .flatMap((p) => parseFileNumbers(p.files, fileCount)),
  ];
  for (const i of skipped) {
    wanted.delete(i);
    unwanted.add(i);
  }
  if (wanted.size > 0) args["files-wanted"] = [...wanted].sort((a, b) => a - b);
  if (unwanted.size > 0) args["files-unwanted"] = [...unwanted].sort((a, b) => a - b);
  for (const { priority, files } of choice.priority ?? []) {
    if (priority === "skip") continue;
    const key = `priority-${priority}`;
    args[key] = [...args[key] ?? [], ...parseFileNumbers(files, fileCount)];
  }
  if (Object.keys(args).length === 0) {
    throw new UsageError(
      "Say which files: shoal remote select <torrent> 1,3-5 (only these), --get, --skip or --priority",
    );
  }
  return args;
}

async function select(
  word: string,
  only: string | undefined,
  options: { get?: string; skip?: string; priority?: PriorityFlag[] },
  command: Command,
): Promise<void> {
  const { rpc, flags } = client(command);
  const torrent = await oneTorrent(rpc, word, ["id", "name", "files"]);
  const files = Array.isArray(torrent.files) ? torrent.files.length : 0;
  if (files === 0) {
    throw new UsageError(
      `${torrent.name}: its file list is not known yet (a magnet link's metadata is still coming)`,
    );
  }
  if (only !== undefined) fileListArgument(only);
  const args = selectionArgs(files, { only, ...options });
  await rpc.call("torrent-set", { ids: [torrent.id], ...args });
  const after = await oneTorrent(
    rpc,
    String(torrent.id),
    INFO_FIELDS,
  ) as unknown as RemoteTorrentDetail;
  print(flags, after, formatRemoteFiles(after));
}

/** Adds the remote command and its subcommands to the program. */
export function addRemoteCommand(program: Command): void {
  const remote = program.command("remote")
    .description("drive a daemon (shoal daemon or transmission-daemon) through its RPC")
    .option(
      "--rpc <address>",
      "where the daemon's RPC is: host:port, a port, or a URL",
      DEFAULT_RPC,
    )
    .option("--username <name>", "user name for the RPC (HTTP Basic)")
    .option("--password <password>", "password for the RPC (or SHOAL_RPC_PASSWORD)")
    .option("--json", "print the daemon's answers as JSON")
    .addHelpText(
      "after",
      `
Torrents are named by their number (as list shows it) or info hash; pause and
resume also take all. Files are numbered from 1 as info shows them.

Examples:
  shoal remote add ubuntu.torrent 'magnet:?xt=urn:btih:…' --paused
  shoal remote list
  shoal remote --rpc nas:9091 --username me info 1
  shoal remote select 1 1,3-5 --priority high:3
  shoal remote pause all
  shoal remote remove 2 --delete-data`,
    );
  remote.command("add")
    .description("add .torrent files (sent from here), magnet links or URLs")
    .argument("<torrents...>", ".torrent files, magnet links or http(s) URLs")
    .option("--paused", "add them paused")
    .option("-d, --download-dir <dir>", "where the daemon puts them (a folder on its machine)")
    .action(add);
  remote.command("list").description("the daemon's torrents").action(list);
  remote.command("info")
    .description("one torrent: state, transfer, files, trackers")
    .argument("<torrent>", "its number or info hash")
    .action(info);
  remote.command("pause")
    .description("stop torrents (they keep their data)")
    .argument("<torrents...>", "numbers, info hashes, or all")
    .action(simple("torrent-stop", "Paused"));
  remote.command("resume")
    .description("start torrents again")
    .argument("<torrents...>", "numbers, info hashes, or all")
    .action(simple("torrent-start", "Resumed"));
  remote.command("remove")
    .description("remove torrents from the daemon")
    .argument("<torrents...>", "numbers or info hashes")
    .option("--delete-data", "also delete their downloaded files")
    .action(remove);
  remote.command("select")
    .description("choose a torrent's files and their priorities")
    .argument("<torrent>", "its number or info hash")
    .argument("[files]", "download only these files, such as 1,3-5")
    .option("--get <files>", "also download these files", fileListArgument)
    .option("--skip <files>", "do not download these files", fileListArgument)
    .option(
      "--priority <level:files>",
      "high, normal, low or skip for these files, such as high:2; repeatable",
      priorityArgument,
    )
    .action(select);
}
