/**
 * A one-line progress display for hashing (`shoal create`), redrawn in place
 * on a terminal and silent otherwise.
 *
 * @module
 */

import { formatBytes } from "../util/size.ts";

const encoder = new TextEncoder();

/** Redraws `Hashing 42.0%  1.2 GiB / 2.9 GiB  1.6 GiB/s` on stderr at most ten times a second. */
export class HashProgress {
  readonly #enabled: boolean;
  readonly #started = performance.now();
  #lastDraw = 0;
  #drawn = false;

  /** @param enabled Draw at all (normally: stderr is a terminal). */
  constructor(enabled = Deno.stderr.isTerminal()) {
    this.#enabled = enabled;
  }

  /** Reports progress; draws when enough time has passed. */
  update(done: number, total: number): void {
    if (!this.#enabled) return;
    const now = performance.now();
    if (now - this.#lastDraw < 100 && done < total) return;
    this.#lastDraw = now;
    const seconds = (now - this.#started) / 1000;
    const rate = seconds > 0 ? done / seconds : 0;
    const percent = total > 0 ? ((done / total) * 100).toFixed(1) : "100.0";
    const line = `Hashing ${percent.padStart(5)}%  ${formatBytes(done)} / ${formatBytes(total)}  ${
      formatBytes(rate)
    }/s`;
    Deno.stderr.writeSync(encoder.encode(`\r\x1b[2K${line}`));
    this.#drawn = true;
  }

  /** Clears the line. */
  finish(): void {
    if (this.#drawn) Deno.stderr.writeSync(encoder.encode("\r\x1b[2K"));
  }
}
