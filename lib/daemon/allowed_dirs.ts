/**
 * The folders a remote user may name (`download-dir`, a torrent's
 * `filename`, `torrent-set-location`, `free-space`): a path is used only
 * when it is inside one of the allowed roots once `..` and symbolic links
 * are resolved, so an RPC request cannot make the daemon read or write
 * anywhere else.
 *
 * @module
 */

import { ShoalError } from "../errors.ts";

/** A path outside the allowed folders. */
export class PathNotAllowedError extends ShoalError {}

/** The allowed roots, and the check of a path against them. */
export class AllowedDirs {
  readonly #roots: string[];

  /**
   * Creates the check.
   *
   * @param roots Absolute folders (created when missing are fine: they are resolved when checked).
   */
  constructor(roots: readonly string[]) {
    this.#roots = roots.map((root) => normalize(root));
  }

  /** The roots, as given (normalized). */
  get roots(): readonly string[] {
    return this.#roots;
  }

  /**
   * The path, absolute and resolved, when it is inside an allowed root.
   *
   * @param what What the path is, for the error ("download-dir").
   * @throws {PathNotAllowedError} When it is relative, or outside every root.
   */
  async check(path: string, what: string): Promise<string> {
    if (typeof path !== "string" || !path.startsWith("/") || path.includes("\0")) {
      throw new PathNotAllowedError(`${what} must be an absolute path; "${path}" is not`);
    }
    const resolved = await realPathOfPrefix(normalize(path));
    for (const root of this.#roots) {
      const realRoot = await realPathOfPrefix(root);
      if (resolved === realRoot || resolved.startsWith(realRoot === "/" ? "/" : `${realRoot}/`)) {
        return resolved;
      }
    }
    throw new PathNotAllowedError(
      `${what} ${path} is outside the folders this daemon may use (${
        this.#roots.join(", ")
      }); start it with --allowed-dir to allow another`,
    );
  }
}

/** `path` with `.`, `..` and repeated slashes resolved as text. */
export function normalize(path: string): string {
  const parts: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") parts.pop();
    else parts.push(part);
  }
  return `/${parts.join("/")}`;
}

/** The real path of the longest existing prefix, with the rest appended (symbolic links followed). */
async function realPathOfPrefix(path: string): Promise<string> {
  let head = path;
  const rest: string[] = [];
  while (true) {
    try {
      const real = await Deno.realPath(head);
      return normalize([real, ...rest.reverse()].join("/"));
    } catch {
      if (head === "/") return path;
      const cut = head.lastIndexOf("/");
      rest.push(head.slice(cut + 1));
      head = head.slice(0, cut) || "/";
    }
  }
}
