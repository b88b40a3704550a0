/**
 * Failing inputs kept for replay: `tests/fuzz/corpus/<target>/<sha1>.bin`.
 * `deno task fuzz` saves every input that fails; fuzz_test.ts replays every
 * saved one as a test, so a fixed failure stays fixed.
 *
 * @module
 */

import { toHex } from "../../lib/util/_bytes.ts";
import { REPO_ROOT } from "../helpers/paths.ts";

/** Where failing inputs are kept. */
export const CORPUS_DIR = `${REPO_ROOT}/tests/fuzz/corpus`;

/** One saved input. */
export interface CorpusEntry {
  /** The target folder it is in. */
  target: string;
  /** Its file name (`<sha1>.bin`). */
  name: string;
  /** Its path. */
  path: string;
  /** The input. */
  bytes: Uint8Array;
}

/**
 * Saves a failing input (once: the name is its SHA-1).
 *
 * @returns Its path.
 */
export async function saveFailure(target: string, input: Uint8Array): Promise<string> {
  const hash = toHex(new Uint8Array(await crypto.subtle.digest("SHA-1", input.slice())));
  const dir = `${CORPUS_DIR}/${target}`;
  await Deno.mkdir(dir, { recursive: true });
  const path = `${dir}/${hash}.bin`;
  await Deno.writeFile(path, input);
  return path;
}

/** Every saved input, by target folder and name. */
export function corpusEntries(): CorpusEntry[] {
  const entries: CorpusEntry[] = [];
  let targets: Deno.DirEntry[];
  try {
    targets = [...Deno.readDirSync(CORPUS_DIR)].filter((entry) => entry.isDirectory);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
  for (const target of targets.sort((a, b) => a.name < b.name ? -1 : 1)) {
    const dir = `${CORPUS_DIR}/${target.name}`;
    const names = [...Deno.readDirSync(dir)]
      .filter((entry) => entry.isFile && entry.name.endsWith(".bin"))
      .map((entry) => entry.name).sort();
    for (const name of names) {
      const path = `${dir}/${name}`;
      entries.push({ target: target.name, name, path, bytes: Deno.readFileSync(path) });
    }
  }
  return entries;
}
