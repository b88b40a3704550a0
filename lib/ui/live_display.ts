/**
 * Shows a running download: on a terminal, the progress block redrawn in
 * place about once a second; otherwise a plain line every few seconds with
 * no escape codes; with `--json`, one JSON line a second; with `--quiet`,
 * nothing. Messages (tracker changes, log lines with `-v`, "Stopping…")
 * go above the block on a terminal, intact, and are lines of their own in
 * the other modes.
 *
 * On a terminal every line of the block is cut to the terminal's width, so
 * each takes exactly one row and the redraw knows how far to move up. When
 * the terminal gets narrower, it rewraps what is on screen (tmux, VTE,
 * iTerm2, Windows Terminal and kitty do): the old block's rows are counted
 * at the new width.
 *
 * @module
 */

import type { TorrentStatus } from "../session/torrent_handle.ts";
import { formatProgressBlock, formatProgressLine, statusToJson } from "./download_view.ts";
import { displayWidth, fitToWidth } from "./_text_width.ts";
import { printable } from "../util/_printable.ts";
import type { FileProgress } from "../session/_file_selection.ts";

/** How to show progress. */
export type DisplayMode = "terminal" | "plain" | "json" | "quiet";

/** Options of {@linkcode LiveDisplay}. */
export interface LiveDisplayOptions {
  /** How to show progress. */
  mode: DisplayMode;
  /** Where the block and status lines go (stdout). */
  write: (text: string) => void;
  /** Where messages go (stderr). Default: `write`. */
  writeMessage?: (text: string) => void;
  /** Colour (terminal mode only). */
  color?: boolean;
  /** The peer limit, for the block. */
  maxPeers?: number;
  /** Seconds between plain lines. Default 5. */
  plainIntervalSeconds?: number;
  /** The terminal's width in columns, asked at start and on {@linkcode LiveDisplay.resize}. Default: stdout's, or 80. */
  columns?: () => number;
  /** Each file's progress, for the JSON lines. */
  files?: () => readonly FileProgress[] | undefined;
  /** Renders the block. Default: the progress (or seeding) block. */
  block?: (status: TorrentStatus) => string[];
}

/** The width of the terminal on stdout, or 80 when that cannot be told. */
export function terminalColumns(): number {
  try {
    return Deno.consoleSize().columns || 80;
  } catch {
    return 80;
  }
}

/** Renders status snapshots and messages according to the mode. */
export class LiveDisplay {
  readonly #options: LiveDisplayOptions;
  #columns: number;
  /** Widths of the block's lines as drawn, and the width they were drawn at. */
  #drawn: { widths: number[]; columns: number } | undefined;
  #last: TorrentStatus | undefined;
  #lastPlain = 0;

  /** @param options Mode and output. */
  constructor(options: LiveDisplayOptions) {
    this.#options = options;
    this.#columns = (options.columns ?? terminalColumns)();
  }

  /** Shows a snapshot (call about once a second); on a terminal the width is measured again each time. */
  update(status: TorrentStatus, now: number = Date.now()): void {
    this.#last = status;
    const { mode, write } = this.#options;
    if (mode === "terminal") this.#columns = (this.#options.columns ?? terminalColumns)();
    if (mode === "json") {
      write(JSON.stringify(statusToJson(status, this.#options.files?.())) + "\n");
    } else if (mode === "terminal") this.#options.write(this.#erase() + this.#render(status));
    else if (mode === "plain") {
      const interval = (this.#options.plainIntervalSeconds ?? 5) * 1000;
      if (now - this.#lastPlain < interval) return;
      this.#lastPlain = now;
      write(formatProgressLine(status) + "\n");
    }
  }

  /**
   * Prints a line for people: above the block on a terminal (the block is
   * drawn again below it), as a line of its own in plain mode, nothing in
   * JSON and quiet modes.
   */
  message(text: string): void {
    const { mode } = this.#options;
    if (mode === "json" || mode === "quiet") return;
    const say = this.#options.writeMessage ?? this.#options.write;
    // Messages carry text from peers and trackers: no control character reaches the terminal.
    const line = printable(text.replace(/\n$/, ""), 100_000) + "\n";
    if (mode === "plain" || !this.#drawn) return say(line);
    this.#options.write(this.#erase());
    say(line);
    if (this.#last) this.#options.write(this.#render(this.#last));
  }

  /**
   * Reports an event: in JSON mode a line `{"event": name, …fields}`,
   * otherwise `text` as a {@linkcode message}.
   */
  event(name: string, fields: Record<string, unknown>, text: string): void {
    if (this.#options.mode === "json") {
      this.#options.write(JSON.stringify({ event: name, ...fields }) + "\n");
    } else {
      this.message(text);
    }
  }

  /** The terminal changed size: measure it again and redraw. */
  resize(): void {
    this.#columns = (this.#options.columns ?? terminalColumns)();
    if (this.#options.mode === "terminal" && this.#last && this.#drawn) {
      this.#options.write(this.#erase() + this.#render(this.#last));
    }
  }

  /** Draws the last state for good (the block stays on screen). */
  finish(status: TorrentStatus): void {
    const { mode, write } = this.#options;
    if (mode === "terminal") write(this.#erase() + this.#render(status));
    else if (mode === "json") {
      write(JSON.stringify(statusToJson(status, this.#options.files?.())) + "\n");
    } else if (mode === "plain") write(formatProgressLine(status) + "\n");
    this.#drawn = undefined;
    this.#last = undefined;
  }

  /** Moves to the first row of the block on screen and clears from there down. */
  #erase(): string {
    if (!this.#drawn) return "";
    const columns = Math.max(1, this.#columns);
    // Lines drawn at a greater width were rewrapped if the terminal is narrower now.
    const rows = this.#drawn.widths.reduce(
      (sum, width) => sum + Math.max(1, Math.ceil(width / columns)),
      0,
    );
    this.#drawn = undefined;
    return `\r\x1b[${rows}F\x1b[J`;
  }

  /** The block, each line fitted to one row short of the width (no terminal wraps it). */
  #render(status: TorrentStatus): string {
    const block = this.#options.block ??
      ((s) =>
        formatProgressBlock(s, {
          color: this.#options.color,
          maxPeers: this.#options.maxPeers,
          columns: this.#columns,
        }));
    const fit = Math.max(1, this.#columns - 1);
    const lines = block(status).map((line) => fitToWidth(line, fit));
    this.#drawn = { widths: lines.map(displayWidth), columns: this.#columns };
    return lines.join("\n") + "\n";
  }
}
