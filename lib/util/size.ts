/**
 * Byte sizes: parsing what users type (`256k`, `1.5M`, `2GiB`) and printing
 * sizes, rates and counts for people.
 *
 * @module
 */

const UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1024 ** 4,
  tib: 1024 ** 4,
};

/**
 * Parses a size such as `16384`, `256k`, `1m`, `1.5GiB`. Units are binary
 * (k = 1024), case-insensitive.
 *
 * @returns The whole number of bytes, or `undefined` when the text is not a size.
 *
 * @example Sizes as users type them
 * ```ts
 * import { parseSize } from "./size.ts";
 * console.assert(parseSize("256k") === 262144);
 * console.assert(parseSize("lots") === undefined);
 * ```
 */
export function parseSize(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  if (!match) return undefined;
  const unit = UNITS[match[2].toLowerCase()];
  if (unit === undefined) return undefined;
  const bytes = Math.round(Number(match[1]) * unit);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/**
 * Formats a byte count with a binary unit: `512 B`, `1.5 KiB`, `3.21 GiB`.
 *
 * @example Sizes for people
 * ```ts
 * import { formatBytes } from "./size.ts";
 * console.assert(formatBytes(1536) === "1.5 KiB");
 * ```
 */
export function formatBytes(bytes: number): string {
  if (bytes < 1023.5) return `${Math.round(bytes)} B`;
  const units = ["KiB", "MiB", "GiB", "TiB", "PiB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const digits = value >= 100 ? 0 : value >= 10 ? 1 : 2;
  return `${Number(value.toFixed(digits))} ${units[unit]}`;
}

/** Formats an integer with thousands separators: `1,234,567`. */
export function formatCount(value: number): string {
  return value.toLocaleString("en-US");
}

/**
 * Formats a count with its noun, plural unless the count is 1: `1 file`,
 * `1,024 files`.
 *
 * @example Counting things
 * ```ts
 * import { formatQuantity } from "./size.ts";
 * console.assert(formatQuantity(1, "seeder") === "1 seeder");
 * console.assert(formatQuantity(2048, "file") === "2,048 files");
 * ```
 */
export function formatQuantity(count: number, noun: string): string {
  return `${formatCount(count)} ${noun}${count === 1 ? "" : "s"}`;
}

/**
 * Formats seconds for people: `0.3s`, `4.5s`, `42s`, `5m 32s`, `1h 02m`,
 * `2d 05h`.
 *
 * @example Durations as the display and messages say them
 * ```ts
 * import { formatDuration } from "./size.ts";
 * console.assert(formatDuration(0.28) === "0.3s" && formatDuration(14.999999999999998) === "15s");
 * console.assert(formatDuration(105) === "1m 45s");
 * ```
 */
export function formatDuration(seconds: number): string {
  if (seconds < 9.95) return `${Number(Math.max(0, seconds).toFixed(1))}s`;
  const s = Math.round(seconds);
  if (s >= 86400) {
    return `${Math.floor(s / 86400)}d ${String(Math.floor((s % 86400) / 3600)).padStart(2, "0")}h`;
  }
  if (s >= 3600) {
    return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
  }
  if (s >= 60) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, "0")}s`;
  return `${s}s`;
}
