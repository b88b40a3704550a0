/**
 * Reading an environment variable only when the permission to read it was
 * given (`--allow-env=NAME`), so that a command asks for no more than it
 * needs and never stops at a permission prompt.
 *
 * @module
 */

/** The variable's value, or `undefined` when it is unset or may not be read. */
export function readEnv(name: string): string | undefined {
  return Deno.permissions.querySync({ name: "env", variable: name }).state === "granted"
    ? Deno.env.get(name)
    : undefined;
}
