/**
 * Writing to stdout and stderr completely (Deno's `writeSync` may write only
 * part of a buffer to a pipe).
 *
 * @module
 */

const encoder = new TextEncoder();

function writeAll(stream: { writeSync(p: Uint8Array): number }, text: string): void {
  let bytes = encoder.encode(text);
  while (bytes.length > 0) bytes = bytes.subarray(stream.writeSync(bytes));
}

/** Writes text to stdout. */
export function writeOut(text: string): void {
  writeAll(Deno.stdout, text);
}

/** Writes text to stderr. */
export function writeErr(text: string): void {
  writeAll(Deno.stderr, text);
}
