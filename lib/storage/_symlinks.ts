/**
 * Creating a torrent's BEP 47 symbolic links in the download directory,
 * as `resolveSymlinks` planned them: each with a target relative to its
 * folder that stays inside the torrent's folder. A refused link, or one
 * whose place is taken by a file or folder, is not created; the user is
 * told why.
 *
 * Deno creates symlinks only with unscoped `--allow-read` and
 * `--allow-write` (a link's target is resolved only when it is used, so a
 * path-scoped grant could not bound it). Under narrower permissions the
 * links are not created, and the user is told which permissions would
 * create them.
 *
 * @module
 */

import { joinInside } from "../metainfo/_safe_path.ts";
import type { SymlinkPlan } from "../metainfo/symlinks.ts";

/** Whether this process may create symlinks (unscoped read and write). */
function mayLink(): boolean {
  return Deno.permissions.querySync({ name: "read" }).state === "granted" &&
    Deno.permissions.querySync({ name: "write" }).state === "granted";
}

/**
 * Creates the links of `plans` under `directory`.
 *
 * @returns The plans done with (created, already there, or refused): not to be tried again.
 */
export async function createSymlinks(
  directory: string,
  plans: readonly SymlinkPlan[],
  warn: (message: string) => void,
): Promise<SymlinkPlan[]> {
  const done: SymlinkPlan[] = [];
  const creatable = plans.filter((plan) => "target" in plan).length;
  const allowed = creatable > 0 && mayLink();
  if (creatable > 0 && !allowed) {
    warn(
      `${creatable} symlink(s) of the torrent not created: Deno creates symlinks only with unscoped --allow-read and --allow-write`,
    );
  }
  for (const plan of plans) {
    const name = plan.file.path.join("/");
    if ("refused" in plan) {
      warn(`symlink ${name} not created: ${plan.refused}`);
      done.push(plan);
      continue;
    }
    if (!allowed) {
      // Not in this process: said once above, not again at the next selection.
      done.push(plan);
      continue;
    }
    const path = joinInside(directory, plan.file.path);
    try {
      const there = await Deno.lstat(path).catch((error) => {
        if (error instanceof Deno.errors.NotFound) return undefined;
        throw error;
      });
      if (there?.isSymlink && await Deno.readLink(path) === plan.relative) {
        done.push(plan);
        continue;
      }
      if (there && !there.isSymlink) {
        warn(`symlink ${name} not created: a file or folder is there already, and is left alone`);
        done.push(plan);
        continue;
      }
      if (plan.file.path.length > 1) {
        await Deno.mkdir(joinInside(directory, plan.file.path.slice(0, -1)), { recursive: true });
      }
      if (there) await Deno.remove(path);
      await Deno.symlink(plan.relative, path);
      done.push(plan);
    } catch (error) {
      warn(`symlink ${name} not created: ${(error as Error).message}`);
      done.push(plan);
    }
  }
  return done;
}
