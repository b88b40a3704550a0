/**
 * Shows a running download: on a terminal, the progress block redrawn in
 * place about once a second; otherwise a plain line every few seconds with
 * no escape codes; with `--json`, one JSON line a second; with `--quiet`,
 * nothing.
 *
 * @module
 */

import type { TorrentStatus } from "../session/torrent_handle.ts";
import { formatProgressBlock, formatProgressLine, statusToJson } from "./download_view.ts";

/** How to show progress. */
export type DisplayMode = "terminal" | "plain" | "json" | "quiet";

/** Options of {@linkcode LiveDisplay}. */
export interface LiveDisplayOptions {
  /** How to show progress. */
  mode: DisplayMode;
  /** Where lines go. */
  write: (text: string) => void;
  /** Colour (terminal mode only). */
  color?: boolean;
  /** The peer limit, for the block. */
  maxPeers?: number;
  /** Seconds between plain lines. Default 5. */
  plainIntervalSeconds?: number;
}

/** Renders status snapshots according to the mode. */
export class LiveDisplay {
  readonly #options: LiveDisplayOptions;
  #linesDrawn = 0;
  #lastPlain = 0;

  /** @param options Mode and output. */
  constructor(options: LiveDisplayOptions) {
    this.#options = options;
  }

  /** Shows a snapshot (call about once a second). */
  update(status: TorrentStatus, now: number = Date.now()): void {
    const { mode, write } = this.#options;
    if (mode === "json") write(JSON.stringify(statusToJson(status)) + "\n");
    else if (mode === "terminal") this.#redraw(status);
    else if (mode === "plain") {
      const interval = (this.#options.plainIntervalSeconds ?? 5) * 1000;
      if (now - this.#lastPlain < interval) return;
      this.#lastPlain = now;
      write(formatProgressLine(status) + "\n");
    }
  }

  /** Draws the last state for good (the block stays on screen). */
  finish(status: TorrentStatus): void {
    const { mode, write } = this.#options;
    if (mode === "terminal") this.#redraw(status);
    else if (mode === "json") write(JSON.stringify(statusToJson(status)) + "\n");
    else if (mode === "plain") write(formatProgressLine(status) + "\n");
    this.#linesDrawn = 0;
  }

  #redraw(status: TorrentStatus): void {
    const lines = formatProgressBlock(status, {
      color: this.#options.color,
      maxPeers: this.#options.maxPeers,
    });
    // Move up over the previous block, then rewrite each line, clearing leftovers.
    const up = this.#linesDrawn > 0 ? `\x1b[${this.#linesDrawn}F` : "";
    this.#options.write(up + lines.map((line) => `\x1b[2K${line}\n`).join(""));
    this.#linesDrawn = lines.length;
  }
}
