/**
 * Text from the network or from a torrent made safe to print: control
 * characters (escape sequences among them, which could rewrite the
 * terminal) and bidirectional overrides become `?`, and the length is
 * capped.
 *
 * @module
 */

const UNPRINTABLE =
  // deno-lint-ignore no-control-regex
  /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * `text` with every control character replaced by `?` (a tab by a space),
 * cut to `max` characters with `…`.
 *
 * @example Escape sequences from a tracker are not obeyed
 * ```ts
 * import { printable } from "./_printable.ts";
 * console.assert(printable("bad\x1b[2Jnews\n") === "bad?[2Jnews?");
 * ```
 */
export function printable(text: string, max = 300): string {
  const clean = text.replaceAll("\t", " ").replace(UNPRINTABLE, "?");
  return clean.length > max ? clean.slice(0, max - 1) + "…" : clean;
}
