/**
 * Turns the paths a torrent names into relative paths that can only land
 * inside the download directory, deterministically.
 *
 * Rules, applied to each path component (see the README for examples):
 * - Invalid UTF-8 and control characters (U+0000–U+001F, U+007F) become `_`.
 * - `/` and `\` inside a component are removed (`abc/../def` → `abc..def`);
 *   a component that held only separators becomes `_`.
 * - Empty components and the components `.` and `..` are dropped; a path left
 *   with nothing becomes `_`.
 * - Names longer than 255 UTF-8 bytes are shortened, keeping the extension.
 * - On Windows only: `< > : " | ? *` and trailing dots or spaces become `_`,
 *   and reserved device names (`CON`, `NUL`, `COM1`, …) get `_` appended.
 * - Two files that would get the same path (case-insensitively on Windows
 *   and macOS) are told apart by a numeric suffix: `bar.txt`, `bar.1.txt`.
 *   A file that would need a directory where another file stands gets its
 *   directory renamed the same way.
 *
 * @module
 */

import { utf8 } from "../util/_bytes.ts";
import { TorrentError } from "./errors.ts";
import { MAX_DUPLICATE_NAMES, MAX_NAME_BYTES, MAX_PATH_DEPTH } from "./limits.ts";

/** The operating system whose file name rules apply (`Deno.build.os`). */
export type PathPlatform = typeof Deno.build.os;

/** Options of the sanitizing functions. */
export interface SafePathOptions {
  /** Which platform's rules to apply. Default: the one shoal runs on. */
  platform?: PathPlatform;
}

// deno-lint-ignore no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/g;
const SEPARATORS = /[/\\]/g;
const WINDOWS_FORBIDDEN = /[<>:"|?*]/g;
const WINDOWS_TRAILING = /[. ]+$/;
const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])$/i;
/** Extensions longer than this are not kept when a name is shortened. */
const MAX_KEPT_EXTENSION_BYTES = 32;

function platformOf(options: SafePathOptions | undefined): PathPlatform {
  return options?.platform ?? Deno.build.os;
}

function splitExtension(name: string): [stem: string, extension: string] {
  const dot = name.lastIndexOf(".");
  if (dot <= 0 || utf8(name.slice(dot)).length > MAX_KEPT_EXTENSION_BYTES) {
    return [name, ""];
  }
  return [name.slice(0, dot), name.slice(dot)];
}

/**
 * Builds `stem + suffix + extension`, shortening the stem (on code point
 * boundaries) so the result fits in {@linkcode MAX_NAME_BYTES} UTF-8 bytes.
 */
function fitName(stem: string, suffix: string, extension: string): string {
  const fixed = utf8(suffix + extension).length;
  if (utf8(stem).length + fixed <= MAX_NAME_BYTES) return stem + suffix + extension;
  const codePoints = [...stem];
  let bytes = 0;
  let kept = "";
  for (const codePoint of codePoints) {
    const size = utf8(codePoint).length;
    if (bytes + size + fixed > MAX_NAME_BYTES) break;
    bytes += size;
    kept += codePoint;
  }
  return kept + suffix + extension;
}

/**
 * Sanitizes one path component.
 *
 * @param raw The component as decoded from the torrent.
 * @param options Which platform's rules apply.
 * @returns The safe component, or `undefined` when it is to be dropped
 *   (empty, `.` or `..`).
 *
 * @example A name made safe
 * ```ts
 * import { sanitizeComponent } from "./_safe_path.ts";
 * console.assert(sanitizeComponent("..") === undefined);
 * console.assert(sanitizeComponent("abc/../def") === "abc..def");
 * ```
 */
export function sanitizeComponent(
  raw: string,
  options?: SafePathOptions,
): string | undefined {
  let name = raw.replace(CONTROL_CHARACTERS, "_");
  const withoutSeparators = name.replace(SEPARATORS, "");
  if (withoutSeparators === "" && name !== "") return "_";
  name = withoutSeparators;
  if (name === "" || name === "." || name === "..") return undefined;
  const windows = platformOf(options) === "windows";
  if (windows) {
    name = windowsTrailing(name.replace(WINDOWS_FORBIDDEN, "_"));
    // A device name is one with any extension: NUL.txt and NUL.tar.gz both mean NUL, and so
    // does "NUL .txt" (spaces before the dot do not count). The `_` goes after the device name.
    const dot = name.indexOf(".");
    const device = (dot < 0 ? name : name.slice(0, dot)).replace(/ +$/, "");
    if (WINDOWS_RESERVED.test(device)) name = `${device}_${name.slice(device.length)}`;
  }
  // A UTF-16 code unit is at most 3 UTF-8 bytes, so short names need no check.
  if (name.length * 3 > MAX_NAME_BYTES && utf8(name).length > MAX_NAME_BYTES) {
    const [stem, extension] = splitExtension(name);
    name = fitName(stem, "", extension);
    // Cutting can end the name at a dot or a space, which Windows drops.
    if (windows) name = windowsTrailing(name);
  }
  return name;
}

/** Trailing dots and spaces (which Windows drops) become `_`. */
function windowsTrailing(name: string): string {
  return name.replace(WINDOWS_TRAILING, (tail) => "_".repeat(tail.length));
}

/**
 * Sanitizes a whole relative path, dropping unsafe components.
 *
 * @param raw The components as decoded from the torrent.
 * @param options Which platform's rules apply.
 * @returns At least one safe component.
 * @throws {TorrentError} When the path nests deeper than {@linkcode MAX_PATH_DEPTH}.
 */
export function sanitizePath(
  raw: readonly string[],
  options?: SafePathOptions,
): string[] {
  const out: string[] = [];
  for (const component of raw) {
    const safe = sanitizeComponent(component, options);
    if (safe !== undefined) out.push(safe);
  }
  if (out.length > MAX_PATH_DEPTH) {
    throw new TorrentError(
      `A file path nests ${out.length} folders deep; the limit is ${MAX_PATH_DEPTH}`,
    );
  }
  return out.length === 0 ? ["_"] : out;
}

/**
 * Hands out unique relative paths: a later file whose path is taken (or is a
 * folder of an earlier file) gets a numbered name, and a folder that would
 * sit where an earlier file stands is renamed for every file inside it.
 */
export class PathAllocator {
  /** Every path handed out: files and the folders they are in. */
  #taken = new Map<string, "file" | "folder">();
  #renamedFolders = new Map<string, string>();
  #foldCase: boolean;

  /**
   * Starts with no paths taken.
   *
   * @param options Which platform's rules apply (case folding on Windows and macOS).
   */
  constructor(options?: SafePathOptions) {
    const platform = platformOf(options);
    this.#foldCase = platform === "windows" || platform === "darwin";
  }

  /** The lookup key of `name` inside the folder whose key is `parentKey`. */
  #key(parentKey: string, name: string): string {
    const key = parentKey === "" ? name : `${parentKey}/${name}`;
    return this.#foldCase ? key.toLowerCase() : key;
  }

  #isTaken(key: string): boolean {
    return this.#taken.has(key);
  }

  #unique(parentKey: string, parent: readonly string[], name: string): string {
    const [stem, extension] = splitExtension(name);
    for (let n = 1; n <= MAX_DUPLICATE_NAMES; n++) {
      const candidate = fitName(stem, `.${n}`, extension);
      if (!this.#isTaken(this.#key(parentKey, candidate))) return candidate;
    }
    throw new TorrentError(
      `More than ${MAX_DUPLICATE_NAMES} files are named "${name}" in the folder "${
        parent.join("/")
      }"; the torrent is malformed`,
    );
  }

  /**
   * Reserves a path for one file.
   *
   * @param components A sanitized path (from {@linkcode sanitizePath}).
   * @returns The path to use, unique among those handed out so far.
   * @throws {TorrentError} When more than {@linkcode MAX_DUPLICATE_NAMES} files share a name.
   */
  allocate(components: readonly string[]): string[] {
    const out: string[] = [];
    let parentKey = "";
    for (let i = 0; i < components.length - 1; i++) {
      const wantedKey = this.#key(parentKey, components[i]);
      let folder = this.#renamedFolders.get(wantedKey);
      if (folder === undefined) {
        folder = this.#taken.get(wantedKey) === "file"
          ? this.#unique(parentKey, out, components[i])
          : components[i];
        if (folder !== components[i]) this.#renamedFolders.set(wantedKey, folder);
      }
      out.push(folder);
      parentKey = this.#key(parentKey, folder);
      if (!this.#taken.has(parentKey)) this.#taken.set(parentKey, "folder");
    }
    const name = components[components.length - 1];
    const key = this.#key(parentKey, name);
    const file = this.#taken.has(key) ? this.#unique(parentKey, out, name) : name;
    out.push(file);
    this.#taken.set(file === name ? key : this.#key(parentKey, file), "file");
    return out;
  }
}

/**
 * Joins a download directory and a relative path produced by this module,
 * checking once more that no component could climb out of the directory.
 * Storage calls this for every file it opens, as a second line of defence.
 *
 * @param directory The download directory.
 * @param components Safe components (from {@linkcode PathAllocator}).
 * @returns The joined path.
 * @throws {TorrentError} When a component is empty, `.`, `..`, or holds a separator or NUL.
 */
export function joinInside(directory: string, components: readonly string[]): string {
  if (components.length === 0) throw new TorrentError("A file path is empty");
  for (const component of components) {
    if (
      component === "" || component === "." || component === ".." ||
      /[/\\]/.test(component) || component.includes("\u0000")
    ) {
      throw new TorrentError(
        `Refusing the unsafe path component ${JSON.stringify(component)}`,
      );
    }
  }
  const separator = Deno.build.os === "windows" ? "\\" : "/";
  const base = directory.endsWith(separator) || directory.endsWith("/")
    ? directory
    : directory + separator;
  return base + components.join(separator);
}
