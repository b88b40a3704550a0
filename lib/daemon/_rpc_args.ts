/**
 * Reading RPC arguments: typed getters that refuse a wrong type with a
 * message naming the argument, the `ids` of section 3.1, and file index
 * lists (`files-wanted`, `priority-high`, …) applied to priorities.
 *
 * @module
 */

import type { FilePriority } from "../metainfo/file_priority.ts";
import { ShoalError } from "../errors.ts";
import { RpcMethodError } from "../rpc/rpc_handler.ts";
import { snakeCase } from "../rpc/names.ts";
import type { Daemon, DaemonTorrent } from "./daemon.ts";
import { recentlyActive } from "./_rpc_torrent_fields.ts";

/** Reads typed arguments, refusing wrong types. */
export class Args {
  readonly #args: Record<string, unknown>;
  readonly #used = new Set<string>();

  constructor(args: Record<string, unknown>) {
    this.#args = args;
  }

  has(key: string): boolean {
    this.#used.add(key);
    return this.#args[key] !== undefined;
  }

  raw(key: string): unknown {
    this.#used.add(key);
    return this.#args[key];
  }

  number(key: string, min = -Infinity, max = Infinity): number | undefined {
    const value = this.raw(key);
    if (value === undefined) return undefined;
    if (typeof value !== "number" || !Number.isFinite(value) || value < min || value > max) {
      throw new RpcMethodError(`${key} must be a number from ${min} to ${max}`);
    }
    return value;
  }

  boolean(key: string): boolean | undefined {
    const value = this.raw(key);
    if (value === undefined) return undefined;
    // Old clients send 0 and 1.
    if (value === 0 || value === 1) return value === 1;
    if (typeof value !== "boolean") throw new RpcMethodError(`${key} must be true or false`);
    return value;
  }

  string(key: string, maxLength = 1 << 20): string | undefined {
    const value = this.raw(key);
    if (value === undefined) return undefined;
    if (typeof value !== "string" || value.length > maxLength) {
      throw new RpcMethodError(`${key} must be a string of at most ${maxLength} characters`);
    }
    return value;
  }

  strings(key: string, maxItems = 10_000): string[] | undefined {
    const value = this.raw(key);
    if (value === undefined) return undefined;
    if (
      !Array.isArray(value) || value.length > maxItems || !value.every((v) => typeof v === "string")
    ) {
      throw new RpcMethodError(`${key} must be a list of strings`);
    }
    return value as string[];
  }

  /** A list of file indices. */
  indices(key: string): number[] | undefined {
    const value = this.raw(key);
    if (value === undefined) return undefined;
    if (!Array.isArray(value) || !value.every((v) => Number.isInteger(v) && v >= 0)) {
      throw new RpcMethodError(`${key} must be a list of file indices`);
    }
    return value as number[];
  }

  /**
   * @throws {RpcMethodError} When an argument was given that no getter read.
   */
  refuseUnknown(method: string): void {
    for (const key of Object.keys(this.#args)) {
      if (!this.#used.has(key)) throw new RpcMethodError(`${method}: unknown argument "${key}"`);
    }
  }
}

/** Most entries in an `ids` list. */
const MAX_IDS = 100_000;

/**
 * The torrents `ids` names (section 3.1): all when absent; a number; a
 * hash; `recently-active`; or a list of numbers and hashes. Ids that name
 * no torrent are left out, as Transmission does.
 *
 * @throws {RpcMethodError} When `ids` is of another type.
 */
export function selectTorrents(daemon: Daemon, ids: unknown, now = Date.now()): DaemonTorrent[] {
  const all = daemon.torrents();
  if (ids === undefined) return all;
  if (typeof ids === "string" && snakeCase(ids) === "recently_active") {
    return all.filter((torrent) => recentlyActive(torrent, now));
  }
  const list = Array.isArray(ids) ? ids : [ids];
  if (list.length > MAX_IDS) throw new RpcMethodError(`ids has more than ${MAX_IDS} entries`);
  const numbers = new Set<number>();
  const hashes = new Set<string>();
  for (const id of list) {
    if (typeof id === "number" && Number.isInteger(id)) numbers.add(id);
    else if (typeof id === "string" && /^[0-9a-fA-F]{40}$/.test(id)) hashes.add(id.toLowerCase());
    else if (typeof id === "string" && /^\d+$/.test(id)) numbers.add(Number(id));
    else {throw new RpcMethodError(
        `ids must hold torrent ids and info hashes; ${JSON.stringify(id)} is neither`,
      );}
  }
  return all.filter((torrent) => numbers.has(torrent.id) || hashes.has(torrent.record.infoHash));
}

/** The file lists of `torrent-add` and `torrent-set`. */
export interface FileChoices {
  wanted?: number[];
  unwanted?: number[];
  high?: number[];
  normal?: number[];
  low?: number[];
}

/** Reads the file lists. */
export function fileChoices(args: Args): FileChoices {
  return {
    wanted: args.indices("files_wanted"),
    unwanted: args.indices("files_unwanted"),
    high: args.indices("priority_high"),
    normal: args.indices("priority_normal"),
    low: args.indices("priority_low"),
  };
}

/** Whether any list is given. */
export function anyChoice(choices: FileChoices): boolean {
  return Object.values(choices).some((list) => list !== undefined);
}

/**
 * Applies the lists to priorities. The RPC's indices count the files
 * shown (padding files are not), `visible[i]` being the torrent's index of
 * the i-th; an empty list means every file. A skipped file that is wanted
 * again is `normal`; a priority given to a skipped file waits until it is
 * wanted (in the same request: `files-wanted` comes first).
 *
 * @throws {RpcMethodError} When an index names no file.
 */
export function applyChoices(
  current: readonly FilePriority[],
  visible: readonly number[],
  choices: FileChoices,
): FilePriority[] {
  const next = [...current];
  const each = (list: number[] | undefined, apply: (index: number) => void) => {
    if (list === undefined) return;
    const indices = list.length === 0 ? visible.map((_, i) => i) : list;
    for (const i of indices) {
      if (i >= visible.length) {
        throw new RpcMethodError(`file ${i} is not in the torrent (it has ${visible.length})`);
      }
      apply(visible[i]);
    }
  };
  each(choices.unwanted, (index) => next[index] = "skip");
  each(choices.wanted, (index) => {
    if (next[index] === "skip") next[index] = "normal";
  });
  const level = (priority: FilePriority) => (index: number) => {
    if (next[index] !== "skip") next[index] = priority;
  };
  each(choices.high, level("high"));
  each(choices.normal, level("normal"));
  each(choices.low, level("low"));
  return next;
}

/** A daemon's errors as the client's result; bugs go on up. */
export async function refusing<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof ShoalError && !(error instanceof RpcMethodError)) {
      throw new RpcMethodError(error.message);
    }
    throw error;
  }
}
