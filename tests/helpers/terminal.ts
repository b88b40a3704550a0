/**
 * A real terminal for display tests: a command run in a tmux pane of a
 * given size, read back as the terminal shows it (`capture-pane`), with
 * keys sent to it and the pane resized while it runs. Each terminal has a
 * tmux server of its own, stopped afterwards.
 *
 * @module
 */

import { run } from "./tools.ts";

/** A command running in a tmux pane. */
export interface Terminal {
  /** The rows on screen and in the scrollback, as the terminal shows them (no escape codes). */
  rows(): Promise<string[]>;
  /** The same with rows the terminal wrapped joined into the lines they came from. */
  lines(): Promise<string[]>;
  /** Sends keys, in tmux's notation (`C-c`). */
  keys(keys: string): Promise<void>;
  /** Changes the pane's width. */
  resize(columns: number): Promise<void>;
  /** Resolves with the command's exit code once it has exited (rejects after `timeoutMs`). */
  exited(timeoutMs?: number): Promise<number>;
  /** Waits until a row matches `pattern` (rejects after `timeoutMs`). */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** Stops the pane and its tmux server. */
  close(): Promise<void>;
}

const EXIT_MARK = "[terminal: exit ";

function quote(arg: string): string {
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

/**
 * Runs `command` in a new tmux pane of `columns` × `rows`, with `env` set and
 * `cwd` as its folder. The pane stays after the command exits, showing its
 * exit code, until {@linkcode Terminal.close}.
 */
export async function openTerminal(
  command: string[],
  options: { columns: number; rows?: number; cwd: string; env?: Record<string, string> },
): Promise<Terminal> {
  const socket = `shoal-test-${crypto.randomUUID().slice(0, 8)}`;
  const tmux = (...args: string[]) => run("tmux", ["-L", socket, "-f", "/dev/null", ...args]);
  const env = Object.entries(options.env ?? {}).map(([k, v]) => `${k}=${quote(v)}`).join(" ");
  // The shell traps Ctrl-C (so it lives on to print the exit code); the command gets it as usual.
  const script = `trap : INT; cd ${quote(options.cwd)} && ${env ? `env ${env} ` : ""}${
    command.map(quote).join(" ")
  }; echo "${EXIT_MARK}$?]"; sleep 600`;
  const started = await tmux(
    "new-session",
    "-d",
    "-s",
    "t",
    "-x",
    String(options.columns),
    "-y",
    String(options.rows ?? 40),
    "sh",
    "-c",
    script,
  );
  if (started.code !== 0) throw new Error(`tmux did not start: ${started.stderr}`);
  await tmux("set-option", "-g", "history-limit", "10000");
  const capture = async (join: boolean) => {
    const out = await tmux("capture-pane", "-p", "-S", "-", "-t", "t", ...(join ? ["-J"] : []));
    return out.stdout.replace(/\n+$/, "").split("\n").map((row) => row.replace(/\s+$/, ""));
  };
  const poll = async (test: (rows: string[]) => boolean, timeoutMs: number, what: string) => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (test(await capture(false))) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(
      `${what} within ${timeoutMs} ms; the terminal shows:\n${(await capture(true)).join("\n")}`,
    );
  };
  return {
    rows: () => capture(false),
    lines: () => capture(true),
    keys: async (keys) => void await tmux("send-keys", "-t", "t", keys),
    resize: async (columns) => {
      await tmux("resize-window", "-t", "t", "-x", String(columns));
    },
    exited: async (timeoutMs = 60_000) => {
      await poll(
        (rows) => rows.some((row) => row.startsWith(EXIT_MARK)),
        timeoutMs,
        "the command did not exit",
      );
      const mark = (await capture(true)).find((row) => row.startsWith(EXIT_MARK))!;
      return Number(mark.slice(EXIT_MARK.length, -1));
    },
    waitFor: (pattern, timeoutMs = 30_000) =>
      poll(
        (rows) => rows.some((row) => pattern.test(row)),
        timeoutMs,
        `nothing matched ${pattern}`,
      ),
    close: async () => {
      await tmux("kill-server");
    },
  };
}

/** The rows the command printed, without the exit mark. */
export function withoutExitMark(rows: string[]): string[] {
  return rows.filter((row) => !row.startsWith(EXIT_MARK));
}
