/**
 * The daemon's session-wide settings, kept in `<state-dir>/settings.json`
 * (what `session-set` changes survives a restart). The names and units are
 * Transmission's: speeds in kB/s (1000 bytes), limits with an on/off switch
 * beside their value, so that a remote that turns a limit off and on again
 * finds its value.
 *
 * @module
 */

import { writeAtomically } from "../storage/_atomic_write.ts";

/** A value with a switch. */
export interface Switched<T> {
  /** Whether the value is used. */
  enabled: boolean;
  /** The value, kept while off. */
  value: T;
}

/** The daemon's settings. */
export interface DaemonSettings {
  /** Where torrents go unless told otherwise. */
  downloadDir: string;
  /** Session-wide download limit, kB/s. */
  speedLimitDown: Switched<number>;
  /** Session-wide upload limit, kB/s. */
  speedLimitUp: Switched<number>;
  /** The other limits ("turtle mode"), kB/s, used instead while enabled. */
  altSpeed: { enabled: boolean; down: number; up: number };
  /** Most torrents downloading at once (the others wait, `queued`). */
  downloadQueue: Switched<number>;
  /** Most torrents seeding at once. */
  seedQueue: Switched<number>;
  /** Seeding stops at this upload ratio (torrents that follow the session's). */
  seedRatio: Switched<number>;
  /** Seeding stops after this many minutes without uploading. */
  idleSeedingMinutes: Switched<number>;
  /** Most peers per torrent (for torrents started from now on). */
  peerLimitPerTorrent: number;
  /** Start torrents when they are added (unless added paused). */
  startAddedTorrents: boolean;
  /** A program run when a torrent completes. */
  onComplete: Switched<string>;
  /** Delete a watched `.torrent` once added (else renamed to `.added`). */
  trashOriginalTorrentFiles: boolean;
}

/** What a new state directory starts with (Transmission's defaults where it has one). */
export function defaultSettings(downloadDir: string): DaemonSettings {
  return {
    downloadDir,
    speedLimitDown: { enabled: false, value: 100 },
    speedLimitUp: { enabled: false, value: 100 },
    altSpeed: { enabled: false, down: 50, up: 50 },
    downloadQueue: { enabled: true, value: 5 },
    seedQueue: { enabled: false, value: 10 },
    seedRatio: { enabled: false, value: 2 },
    idleSeedingMinutes: { enabled: false, value: 30 },
    peerLimitPerTorrent: 50,
    startAddedTorrents: true,
    onComplete: { enabled: false, value: "" },
    trashOriginalTorrentFiles: false,
  };
}

/** The file of the settings in a state directory. */
export function settingsPath(stateDir: string): string {
  return `${stateDir}/settings.json`;
}

/**
 * Reads the settings saved in the state directory over the defaults; a
 * missing or damaged file (or a value of the wrong type) leaves the default.
 *
 * @returns The settings, and why the file was not used when it was not.
 */
export async function loadSettings(
  stateDir: string,
  defaults: DaemonSettings,
): Promise<{ settings: DaemonSettings; problem?: string }> {
  let saved: unknown;
  try {
    saved = JSON.parse(await Deno.readTextFile(settingsPath(stateDir)));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return { settings: defaults };
    return {
      settings: defaults,
      problem: `${settingsPath(stateDir)}: ${(error as Error).message}`,
    };
  }
  return { settings: merged(defaults, saved) as DaemonSettings };
}

/** Saves the settings atomically. */
export function saveSettings(stateDir: string, settings: DaemonSettings): Promise<void> {
  const text = JSON.stringify(settings, null, 2) + "\n";
  return writeAtomically(
    settingsPath(stateDir),
    new TextEncoder().encode(text),
    "save settings to",
  );
}

/** `saved` over `base`, key by key, where the types agree. */
function merged(base: unknown, saved: unknown): unknown {
  if (typeof base !== "object" || base === null) {
    return typeof saved === typeof base && (typeof saved !== "number" || Number.isFinite(saved))
      ? saved
      : base;
  }
  if (typeof saved !== "object" || saved === null || Array.isArray(saved)) return base;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(base)) {
    out[key] = merged(value, (saved as Record<string, unknown>)[key]);
  }
  return out;
}
