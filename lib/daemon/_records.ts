/**
 * What the daemon keeps of each torrent, in `<state-dir>/torrents/`:
 * `<hash>.json` (its options, selection, queue place and counters) beside
 * `<hash>.torrent` (its metadata: the file it was added from, or what was
 * fetched for a magnet link) and `<hash>.resume` (the session's resume
 * data). Each is written atomically, so a kill -9 leaves the last whole
 * version.
 *
 * @module
 */

import type { FilePriority } from "../metainfo/file_priority.ts";
import { FILE_PRIORITIES } from "../metainfo/file_priority.ts";
import { writeAtomically } from "../storage/_atomic_write.ts";

/** Which limit a torrent follows: the session's (0), its own (1), or none (2), as Transmission. */
export type LimitMode = 0 | 1 | 2;

/** One torrent of the daemon. */
export interface TorrentRecord {
  /** The info hash, 40 hex digits. */
  infoHash: string;
  /** The magnet link it was added by, until (and after) its metadata is known. */
  magnet?: string;
  /** Its name when it was last saved. */
  name: string;
  /** When it was added, ms since the epoch. */
  addedAt: number;
  /** When it first completed. */
  doneAt?: number;
  /** Where its files are. */
  downloadDir: string;
  /** Whether the user wants it running (it may still wait in the queue). */
  run: boolean;
  /** The files' priorities, once chosen. */
  priorities?: FilePriority[];
  /** Pieces in file order. */
  sequential: boolean;
  /** Its place in the queue, 0 first. */
  queuePosition: number;
  /** Its own download limit, kB/s. */
  downloadLimit: { enabled: boolean; value: number };
  /** Its own upload limit, kB/s. */
  uploadLimit: { enabled: boolean; value: number };
  /** Its seed ratio limit. */
  seedRatio: { mode: LimitMode; value: number };
  /** Its idle seeding limit, minutes. */
  seedIdle: { mode: LimitMode; value: number };
  /** Most peers. */
  peerLimit: number;
  /** The user's labels. */
  labels: string[];
  /** Bytes downloaded in the runs before this one. */
  downloadedEver: number;
  /** Bytes uploaded in the runs before this one. */
  uploadedEver: number;
  /** Bytes thrown away (failed pieces) in the runs before this one. */
  corruptEver: number;
  /** Seconds spent downloading in the runs before this one. */
  secondsDownloading: number;
  /** Seconds spent seeding in the runs before this one. */
  secondsSeeding: number;
}

/** The folder of the records. */
export function torrentsDir(stateDir: string): string {
  return `${stateDir}/torrents`;
}

function recordPath(stateDir: string, infoHash: string): string {
  return `${torrentsDir(stateDir)}/${infoHash}.json`;
}

/** Saves a record atomically. */
export function saveRecord(stateDir: string, record: TorrentRecord): Promise<void> {
  const text = JSON.stringify(record) + "\n";
  return writeAtomically(
    recordPath(stateDir, record.infoHash),
    new TextEncoder().encode(text),
    "save the torrent list to",
  );
}

/** Deletes a torrent's record, its `.torrent`, its resume data, part file and lock. */
export async function deleteRecord(stateDir: string, infoHash: string): Promise<void> {
  const dir = torrentsDir(stateDir);
  for (const suffix of ["json", "torrent", "resume", "parts", "lock"]) {
    const name = `${infoHash}.${suffix}`;
    await Deno.remove(`${dir}/${name}`).catch(() => {});
  }
}

/**
 * Reads every record, in queue order. A damaged one is renamed to
 * `<hash>.json.bad` and reported, never fatal. Synchronously: it runs once,
 * when the daemon starts and has nothing else to do, and a thousand small
 * files read that way take a third of the time they take one promise each.
 */
export function loadRecords(
  stateDir: string,
  problem: (message: string) => void,
): TorrentRecord[] {
  const dir = torrentsDir(stateDir);
  const records: TorrentRecord[] = [];
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(dir)];
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
  for (const entry of entries) {
    const match = /^([0-9a-f]{40})\.json$/.exec(entry.name);
    if (!entry.isFile || !match) continue;
    const path = `${dir}/${entry.name}`;
    try {
      records.push(checkedRecord(JSON.parse(Deno.readTextFileSync(path)), match[1]));
    } catch (error) {
      problem(`${path} is damaged (${(error as Error).message}); it is set aside as .bad`);
      try {
        Deno.renameSync(path, `${path}.bad`);
      } catch {
        // Left as it is: read (and reported) again at the next start.
      }
    }
  }
  return records.sort((a, b) => a.queuePosition - b.queuePosition || a.addedAt - b.addedAt);
}

/** A record read back, its every field checked (a hand-edited file must not crash the daemon). */
function checkedRecord(value: unknown, infoHash: string): TorrentRecord {
  if (typeof value !== "object" || value === null) throw new Error("not an object");
  const v = value as Record<string, unknown>;
  const num = (x: unknown, fallback: number) =>
    typeof x === "number" && Number.isFinite(x) && x >= 0 ? x : fallback;
  const str = (x: unknown) => typeof x === "string" ? x : undefined;
  const mode = (x: unknown): LimitMode => x === 1 || x === 2 ? x : 0;
  const switched = (x: unknown, fallback: number) => {
    const o = (typeof x === "object" && x !== null ? x : {}) as Record<string, unknown>;
    return { enabled: o.enabled === true, value: num(o.value, fallback) };
  };
  const limit = (x: unknown, fallback: number) => {
    const o = (typeof x === "object" && x !== null ? x : {}) as Record<string, unknown>;
    return { mode: mode(o.mode), value: num(o.value, fallback) };
  };
  if (v.infoHash !== infoHash) throw new Error("its info hash is not its name's");
  const downloadDir = str(v.downloadDir);
  if (!downloadDir) throw new Error("no download folder");
  const priorities = Array.isArray(v.priorities) &&
      v.priorities.every((p) => FILE_PRIORITIES.includes(p as FilePriority))
    ? v.priorities as FilePriority[]
    : undefined;
  return {
    infoHash,
    magnet: str(v.magnet),
    name: str(v.name) ?? infoHash,
    addedAt: num(v.addedAt, Date.now()),
    doneAt: typeof v.doneAt === "number" ? v.doneAt : undefined,
    downloadDir,
    run: v.run !== false,
    priorities,
    sequential: v.sequential === true,
    queuePosition: num(v.queuePosition, Number.MAX_SAFE_INTEGER),
    downloadLimit: switched(v.downloadLimit, 100),
    uploadLimit: switched(v.uploadLimit, 100),
    seedRatio: limit(v.seedRatio, 2),
    seedIdle: limit(v.seedIdle, 30),
    peerLimit: Math.max(1, Math.floor(num(v.peerLimit, 50))),
    labels: Array.isArray(v.labels) ? v.labels.filter((l) => typeof l === "string") : [],
    downloadedEver: num(v.downloadedEver, 0),
    uploadedEver: num(v.uploadedEver, 0),
    corruptEver: num(v.corruptEver, 0),
    secondsDownloading: num(v.secondsDownloading, 0),
    secondsSeeding: num(v.secondsSeeding, 0),
  };
}
