/**
 * Writing to stdout and stderr completely (Deno's `writeSync` may write only
 * part of a buffer to a pipe).
 *
 * @module
 */

const encoder = new TextEncoder();

/** Streams whose reader went away (a closed pipe, as `shoal … | head`): nothing more is written there. */
const gone = new Set<unknown>();

function writeAll(stream: { writeSync(p: Uint8Array): number }, text: string): void {
  if (gone.has(stream)) return;
  let bytes = encoder.encode(text);
  try {
    while (bytes.length > 0) bytes = bytes.subarray(stream.writeSync(bytes));
  } catch (error) {
    if (!(error instanceof Deno.errors.BrokenPipe)) throw error;
    gone.add(stream);
  }
}

/** Writes text to stdout. */
export function writeOut(text: string): void {
  writeAll(Deno.stdout, text);
}

/** Writes text to stderr. */
export function writeErr(text: string): void {
  writeAll(Deno.stderr, text);
}
