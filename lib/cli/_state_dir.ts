/**
 * Where `download` and `seed` keep a torrent's state (resume data, the
 * lock, the log): `--state-dir` when given; else beside the data in
 * `<download-dir>/.shoal`; for a seed whose data cannot be written (a
 * read-only disk, or only read access granted), `$XDG_STATE_HOME/shoal`
 * (`~/.local/state/shoal`).
 *
 * @module
 */

import { UsageError } from "../errors.ts";
import { defaultStateDir } from "../storage/resume.ts";

/** What decides the state directory. */
export interface StateDirChoice {
  /** `--state-dir`. */
  stateDir?: string;
  /** `--download-dir`. */
  downloadDir: string;
  /** Seeding only (`shoal seed`): the data may be read-only. */
  seedOnly?: boolean;
}

/**
 * Chooses the state directory.
 *
 * @throws {UsageError} When a seed can write neither beside its data nor in
 *   the user's state directory; the message says to pass `--state-dir`.
 */
export async function chooseStateDir(choice: StateDirChoice): Promise<string> {
  if (choice.stateDir !== undefined) return choice.stateDir;
  const beside = defaultStateDir(choice.downloadDir);
  if (!choice.seedOnly) return beside;
  const why = await notWritable(beside);
  if (why === undefined) return beside;
  const home = userStateHome();
  if (home !== undefined && (await notWritable(`${home}/shoal`)) === undefined) {
    return `${home}/shoal`;
  }
  throw new UsageError(
    `Cannot keep shoal's state beside the data in ${beside} (${why}); name a folder for it with --state-dir (it needs read and write access)`,
  );
}

/** Why `dir` cannot be written (created if missing), or `undefined` when it can. */
async function notWritable(dir: string): Promise<string | undefined> {
  if (Deno.permissions.querySync({ name: "write", path: dir }).state !== "granted") {
    return "no write permission for it";
  }
  const probe = `${dir}/.probe-${Deno.pid}`;
  try {
    await Deno.mkdir(dir, { recursive: true });
    await Deno.writeFile(probe, new Uint8Array());
    await Deno.remove(probe);
    return undefined;
  } catch (error) {
    return error instanceof Deno.errors.PermissionDenied
      ? "permission denied"
      : (error as Error).message.replace(/ \(os error \d+\).*$/, "").toLowerCase();
  }
}

/** `$XDG_STATE_HOME`, else `$HOME/.local/state`, when the environment may be read and has them. */
export function userStateHome(): string | undefined {
  const read = (variable: string) =>
    Deno.permissions.querySync({ name: "env", variable }).state === "granted"
      ? Deno.env.get(variable)
      : undefined;
  const xdg = read("XDG_STATE_HOME");
  if (xdg) return xdg;
  const home = read("HOME");
  return home ? `${home}/.local/state` : undefined;
}
