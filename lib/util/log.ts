/**
 * A small logger: timestamped lines to a file (`<download-dir>/.shoal/shoal.log`),
 * optionally mirrored to stderr (`-v`). Writing never throws: a log that
 * cannot be written is not worth stopping a download for.
 *
 * @module
 */

/** Log levels, least to most severe. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** Where the engine reports what it does. */
export interface Logger {
  /** Detail useful when investigating (every connection, every tracker reply). */
  debug(message: string): void;
  /** Notable events (peer banned, download complete). */
  info(message: string): void;
  /** Something went wrong but work goes on. */
  warn(message: string): void;
  /** Something stopped the work. */
  error(message: string): void;
}

/** A logger that drops everything. */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** Options of {@linkcode FileLogger}. */
export interface FileLoggerOptions {
  /** Also write lines at or above this level to stderr (or to `mirror`). Default: none. */
  mirrorLevel?: LogLevel;
  /** Where mirrored lines go (each ends with a newline). Default: stderr. */
  mirror?: (line: string) => void;
  /** Lowest level written to the file. Default `debug`. */
  fileLevel?: LogLevel;
  /** When the file grows past this, it is renamed to `<path>.1` (replacing the last one) and started afresh. Default 16 MiB. */
  maxFileBytes?: number;
}

/** Lines waiting for the disk beyond this are dropped (and counted), so a stalled disk cannot fill memory. */
const MAX_PENDING_LINES = 10_000;

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/**
 * Appends log lines to a file, in order, without blocking the caller.
 *
 * @example A log file for a session
 * ```ts
 * import { FileLogger } from "./log.ts";
 *
 * const dir = await Deno.makeTempDir();
 * const log = new FileLogger(`${dir}/shoal.log`, { mirrorLevel: "warn" }); // warnings also to stderr
 * log.info("starting");
 * log.debug("peer 127.0.0.1:6881: connected");
 * await log.close();
 * console.log(await Deno.readTextFile(`${dir}/shoal.log`)); // 2026-…Z INFO  starting …
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class FileLogger implements Logger {
  #file: Deno.FsFile | undefined;
  readonly #path: string | undefined;
  #fileBytes = 0;
  #dropped = 0;
  readonly #options: FileLoggerOptions;
  readonly #encoder = new TextEncoder();
  #pending: string[] = [];
  #writing: Promise<void> | undefined;

  /**
   * Opens (creating) the log file for appending; a file that cannot be
   * opened leaves only the stderr mirror.
   */
  constructor(path: string | undefined, options: FileLoggerOptions = {}) {
    this.#options = options;
    this.#path = path;
    if (path !== undefined) {
      try {
        Deno.mkdirSync(path.slice(0, Math.max(path.lastIndexOf("/"), 0)) || ".", {
          recursive: true,
        });
        this.#file = Deno.openSync(path, { append: true, create: true });
        this.#fileBytes = this.#file.statSync().size;
      } catch {
        this.#file = undefined;
      }
    }
  }

  debug(message: string): void {
    this.#log("debug", message);
  }

  info(message: string): void {
    this.#log("info", message);
  }

  warn(message: string): void {
    this.#log("warn", message);
  }

  error(message: string): void {
    this.#log("error", message);
  }

  /** Writes what is pending and closes the file. */
  async close(): Promise<void> {
    await this.#writing;
    await this.#drain();
    try {
      this.#file?.close();
    } catch {
      // Already closed.
    }
  }

  /** Moves the full log to `<path>.1` and starts a new one. */
  #rotate(): void {
    if (this.#path === undefined) return;
    try {
      this.#file?.close();
      Deno.renameSync(this.#path, `${this.#path}.1`);
      this.#file = Deno.openSync(this.#path, { append: true, create: true });
      this.#fileBytes = 0;
    } catch {
      this.#file = undefined;
    }
  }

  #log(level: LogLevel, message: string): void {
    const line = `${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} ${message}\n`;
    const mirror = this.#options.mirrorLevel;
    if (mirror !== undefined && RANK[level] >= RANK[mirror]) {
      try {
        if (this.#options.mirror) this.#options.mirror(line);
        else Deno.stderr.writeSync(this.#encoder.encode(line));
      } catch {
        // stderr closed.
      }
    }
    if (!this.#file || RANK[level] < RANK[this.#options.fileLevel ?? "debug"]) return;
    if (this.#pending.length >= MAX_PENDING_LINES) {
      this.#dropped++;
      return;
    }
    this.#pending.push(line);
    this.#writing ??= this.#drain().finally(() => this.#writing = undefined);
  }

  async #drain(): Promise<void> {
    while (this.#pending.length > 0 && this.#file) {
      if (this.#dropped > 0) {
        this.#pending.push(
          `${
            new Date().toISOString()
          } WARN  ${this.#dropped} log lines dropped: the disk was too slow\n`,
        );
        this.#dropped = 0;
      }
      const text = this.#pending.join("");
      this.#pending = [];
      try {
        const bytes = this.#encoder.encode(text);
        let written = 0;
        while (written < bytes.length) written += await this.#file.write(bytes.subarray(written));
        this.#fileBytes += bytes.length;
        if (this.#fileBytes > (this.#options.maxFileBytes ?? 16 * 1024 * 1024)) this.#rotate();
      } catch {
        return;
      }
    }
  }
}
