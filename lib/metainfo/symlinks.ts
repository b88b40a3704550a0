/**
 * Where a torrent's BEP 47 symbolic links point. BEP 47 gives a link's
 * target relative to the torrent's folder; torrents made by libtorrent
 * give it relative to the link's own folder (`..` included). Each link is
 * resolved the way the system will resolve it: component by component,
 * through the torrent's other links. A link whose target leaves the
 * torrent's folder, goes round in a loop or passes more than
 * {@linkcode MAX_LINK_HOPS} links is refused: it is not created.
 *
 * @module
 */

import type { Torrent, TorrentFile } from "./torrent.ts";

/** How many links one target may pass through (Linux stops at 40 too). */
export const MAX_LINK_HOPS = 40;

/** A symlink to create, or one that is refused. */
export type SymlinkPlan =
  & {
    /** The link's file in the torrent. */
    file: TorrentFile;
  }
  & (
    | {
      /** Where it points, as path components from the download directory (like `path`). */
      target: string[];
      /** The same target relative to the link's folder, as written on disk (`../a/b`). */
      relative: string;
    }
    | {
      /** Why it is not created, for the user. */
      refused: string;
    }
  );

/**
 * Resolves every symlink of `torrent`.
 *
 * @example
 * ```ts
 * import { resolveSymlinks } from "./symlinks.ts";
 * import type { TorrentFile } from "./torrent.ts";
 *
 * const file = (index: number, path: string[], symlinkTarget?: string[]): TorrentFile => ({
 *   index, path, symlinkTarget, length: 0, offset: 0, padding: false, executable: false, hidden: false,
 * });
 * const plans = resolveSymlinks({
 *   multiFile: true,
 *   files: [
 *     file(0, ["album", "cd1", "01.flac"]),
 *     file(1, ["album", "latest.flac"], ["cd1", "01.flac"]),
 *     file(2, ["album", "escape"], ["..", "..", "etc", "passwd"]),
 *   ],
 * });
 * for (const plan of plans) {
 *   console.log(plan.file.path.join("/"), "refused" in plan ? plan.refused : plan.relative);
 * }
 * // album/latest.flac cd1/01.flac
 * // album/escape its target leaves the torrent's folder
 * ```
 */
export function resolveSymlinks(torrent: Pick<Torrent, "files" | "multiFile">): SymlinkPlan[] {
  const links = torrent.files.filter((file) => file.symlinkTarget !== undefined);
  if (links.length === 0) return [];
  if (!torrent.multiFile) {
    return links.map((file) => ({
      file,
      refused: "a single-file torrent has no folder to link in",
    }));
  }
  return new Resolver(torrent.files).plans(links);
}

const key = (path: readonly string[]) => path.join("/");

const LEAVES = "its target leaves the torrent's folder";
const TOO_MANY = `its target passes more than ${MAX_LINK_HOPS} links (or goes round in a loop)`;

class Resolver {
  /** Paths of the torrent's files (links included, not padding) and of every folder they are in. */
  readonly #paths = new Set<string>();
  /** Each link by its path: the folder its target starts from, and the target. */
  readonly #links = new Map<string, { from: string[]; target: readonly string[] }>();
  readonly #root: string;

  constructor(files: readonly TorrentFile[]) {
    this.#root = files[0].path[0];
    for (const file of files) {
      if (file.padding) continue;
      for (let end = 1; end <= file.path.length; end++) {
        this.#paths.add(key(file.path.slice(0, end)));
      }
    }
    for (const file of files) {
      if (file.padding || file.symlinkTarget === undefined) continue;
      this.#links.set(key(file.path), { from: this.#base(file), target: file.symlinkTarget });
    }
  }

  /**
   * Where `file`'s target starts: the torrent's folder (BEP 47), unless the
   * target names nothing of the torrent from there and names something
   * from the link's own folder (as libtorrent writes targets).
   */
  #base(file: TorrentFile): string[] {
    const root = [this.#root];
    const folder = file.path.slice(0, -1);
    const names = (from: string[]) => {
      const at = [...from];
      for (const component of file.symlinkTarget!) {
        if (component !== "..") at.push(component);
        else if (at.length <= 1) return false;
        else at.pop();
      }
      return this.#paths.has(key(at));
    };
    return !names(root) && names(folder) ? folder : root;
  }

  plans(links: TorrentFile[]): SymlinkPlan[] {
    return links.map((file): SymlinkPlan => {
      const target = this.#follow(key(file.path));
      if (typeof target === "string") return { file, refused: target };
      return { file, target, relative: relativeTarget(file.path, target) };
    });
  }

  /**
   * Follows the link at `path` as the system will: component by component,
   * each link met replaced by its target, at most {@linkcode MAX_LINK_HOPS}
   * links in all (a loop runs out of them).
   */
  #follow(path: string): string[] | string {
    const first = this.#links.get(path)!;
    let at = [...first.from];
    const left = first.target.toReversed();
    let hops = 1;
    while (left.length > 0) {
      const component = left.pop()!;
      if (component === "..") {
        if (at.length <= 1) return LEAVES;
        at.pop();
        continue;
      }
      at.push(component);
      const link = this.#links.get(key(at));
      if (link === undefined) continue;
      if (++hops > MAX_LINK_HOPS) return TOO_MANY;
      at = [...link.from];
      for (let i = link.target.length - 1; i >= 0; i--) left.push(link.target[i]);
    }
    return at;
  }
}

/** `target` relative to the folder of `link` (both from the download directory). */
function relativeTarget(link: readonly string[], target: readonly string[]): string {
  const folder = link.slice(0, -1);
  let common = 0;
  while (common < folder.length && common < target.length && folder[common] === target[common]) {
    common++;
  }
  const up = Array<string>(folder.length - common).fill("..");
  const relative = [...up, ...target.slice(common)];
  return relative.length === 0 ? "." : relative.join("/");
}
