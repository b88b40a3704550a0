/**
 * One web seed (BEP 19): an HTTP server that has the torrent's files, used
 * as a download source beside the peers.
 *
 * - Each of its request slots claims a run of consecutive pieces from the
 *   picker (through its {@linkcode WebSeedHost}), asks for them in as few
 *   `Range` requests as the files allow (one per file the run touches;
 *   padding files are zeros and never asked for), and hands their bytes
 *   over block by block as they arrive, so each piece is verified as soon
 *   as it is whole. The next run starts where the last ended, so the
 *   server reads on.
 * - A server that ignores `Range` (answers 200 to a range that does not
 *   start at 0) is read through once per file instead: every piece still
 *   waiting is claimed as its bytes go by, and the others are skipped, so
 *   no file is read twice.
 * - A failure that may pass (5xx, 408, 429, a timeout, a refused
 *   connection) releases what was not received and waits before the next
 *   try, twice as long each time (5 s to 5 min, or the server's
 *   `Retry-After`); any other (404, a wrong `Content-Range`) ends the web
 *   seed, as does a piece of its that fails the hash check.
 *
 * @module
 */

import type { Torrent } from "../metainfo/torrent.ts";
import { BLOCK_SIZE } from "../wire/messages.ts";
import { fetchRange, readBody, WebSeedError } from "./http_range.ts";
import { webSeedFileUrl } from "./url.ts";

/** What a web seed needs of the swarm it feeds. */
export interface WebSeedHost {
  /** The torrent. */
  readonly torrent: Pick<
    Torrent,
    "files" | "multiFile" | "pieceLength" | "pieceCount" | "pieceMap"
  >;
  /** Claims up to `maxPieces` consecutive waiting pieces, from `from` if it waits. */
  claimRun(source: number, maxPieces: number, from?: number): number[];
  /** Claims piece `index` if it waits. */
  claimPiece(source: number, index: number): boolean;
  /** Whether some wanted piece waits to start. */
  hasWaiting(): boolean;
  /** A block of a claimed piece arrived (`data` is reused after the call). */
  block(source: number, index: number, begin: number, data: Uint8Array): void;
  /** Gives back the blocks of these pieces that did not arrive. */
  release(source: number, pieces: readonly number[]): void;
  /** Waits until `bytes` more may be received (the download rate limit). */
  throttle?(bytes: number): Promise<void>;
  /** Tells what happened (debug). */
  log(message: string): void;
}

/** A web seed's state, as `status()` shows it. */
export interface WebSeedStatus {
  /** The URL from the torrent. */
  url: string;
  /** `active` (requests under way), `idle` (nothing to ask), `waiting` (after a failure) or `failed` (given up). */
  state: "active" | "idle" | "waiting" | "failed";
  /** Payload bytes received from it. */
  downloaded: number;
  /** The last error, if any. */
  error?: string;
}

/** How a web seed asks. */
export interface WebSeedOptions {
  /** Requests in flight at once. Default 4. */
  slots?: number;
  /** Most bytes asked for in one run of pieces (at least one piece). Default 8 MiB. */
  runBytes?: number;
  /** Timeout for an answer's headers, and between two chunks of its body, in ms. Default 20 s. */
  timeoutMs?: number;
}

const FIRST_BACKOFF_MS = 5_000;
const MAX_BACKOFF_MS = 5 * 60_000;

/** A web seed that downloads runs of pieces for its host. */
export class WebSeed {
  /** The URL from the torrent. */
  readonly url: string;
  /** Its number among the swarm's download sources (peers and web seeds). */
  readonly id: number;
  readonly #host: WebSeedHost;
  readonly #slots: number;
  readonly #runPieces: number;
  readonly #timeoutMs?: number;
  readonly #abort = new AbortController();
  #downloaded = 0;
  #active = 0;
  #failed?: string;
  #lastError?: string;
  #waitUntil = 0;
  #backoffMs = FIRST_BACKOFF_MS;
  /** Where the next run starts (the piece after the last run). */
  #next?: number;
  /** The server answers 200 to ranges: files are read through, once each. */
  #ignoresRange = false;
  #readThrough = new Set<number>();
  /** Where redirects led, by file URL: later requests go there straight away. */
  #moved = new Map<string, string>();
  /** The slots sleeping now: each ends its sleep when called. */
  readonly #sleepers = new Set<() => void>();

  /**
   * @param url The web seed's URL (from the torrent's `url-list`).
   * @param id Its number among the swarm's sources (not a peer's).
   * @param host The swarm it feeds.
   * @param options Slots, run size, timeout.
   */
  constructor(url: string, id: number, host: WebSeedHost, options: WebSeedOptions = {}) {
    this.url = url;
    this.id = id;
    this.#host = host;
    this.#slots = Math.max(1, options.slots ?? 4);
    const pieceLength = host.torrent.pieceLength;
    this.#runPieces = Math.max(1, Math.floor((options.runBytes ?? 8 * 1024 * 1024) / pieceLength));
    this.#timeoutMs = options.timeoutMs;
  }

  /** Whether it has been given up on. */
  get failed(): boolean {
    return this.#failed !== undefined;
  }

  /** Its state now. */
  status(now: number = Date.now()): WebSeedStatus {
    const state = this.#failed
      ? "failed"
      : this.#active > 0
      ? "active"
      : now < this.#waitUntil
      ? "waiting"
      : "idle";
    return {
      url: this.url,
      state,
      downloaded: this.#downloaded,
      error: this.#failed ?? this.#lastError,
    };
  }

  /** Runs its request slots until {@linkcode stop} or it fails; resolves when they have ended. */
  async run(): Promise<void> {
    const slots = Array.from({ length: this.#slots }, (_, slot) => this.#slot(slot));
    await Promise.all(slots);
  }

  /** There may be pieces to claim now (the swarm's tick, a piece given back). */
  wake(): void {
    for (const done of [...this.#sleepers]) done();
  }

  /** Ends its requests (what was not received goes back to the picker). */
  stop(): void {
    this.#abort.abort(new DOMException("The web seed was stopped", "AbortError"));
    this.wake();
  }

  /**
   * A piece it sent failed the hash check: it is not used again.
   */
  sentBadData(index: number): void {
    this.#fail(`sent data that failed the hash check (piece ${index})`);
  }

  #fail(why: string): void {
    if (this.#failed) return;
    this.#failed = why;
    this.#host.log(`web seed ${this.url}: ${why}; not used again`);
    this.stop();
  }

  async #slot(slot: number): Promise<void> {
    const signal = this.#abort.signal;
    while (!signal.aborted) {
      const wait = this.#waitUntil - Date.now();
      if (wait > 0) {
        await this.#sleep(wait);
        continue;
      }
      // A server that ignores ranges is read through by one slot: each file once, in order.
      const worked = !this.#ignoresRange
        ? await this.#runNext()
        : slot === 0 && await this.#readThroughNext();
      if (!worked && !signal.aborted) await this.#sleep(1000);
    }
  }

  /** Sleeps `ms`, or until woken or stopped. */
  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#sleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#sleepers.add(done);
    });
  }

  /** Claims a run and fetches it; false when there was nothing to claim. */
  async #runNext(): Promise<boolean> {
    const pieces = this.#host.claimRun(this.id, this.#runPieces, this.#next);
    if (pieces.length === 0) return false;
    const first = pieces[0];
    const last = pieces[pieces.length - 1];
    this.#next = last + 1;
    const { pieceMap, pieceLength } = this.#host.torrent;
    const start = first * pieceLength;
    const end = last * pieceLength + pieceMap.pieceSize(last);
    this.#active++;
    const feed = new BlockFeed(this.#host, this.id, start);
    try {
      for (const segment of this.#segments(start, end)) {
        if (segment.url === undefined) {
          feed.zeros(segment.end - segment.start);
          continue;
        }
        const answer = await this.#fetch(segment.url, segment.start, segment.end);
        if (answer.from !== segment.start) {
          // 200 to a range that does not start at 0: the server ignores ranges.
          await answer.body.cancel();
          this.#ignoresRange = true;
          this.#host.log(
            `web seed ${this.url}: the server ignores Range; each file is read through once`,
          );
          return true;
        }
        await this.#receive(segment.url, answer.body, segment.end - segment.start, feed);
      }
      this.#succeeded();
    } catch (error) {
      this.#failedRequest(error);
    } finally {
      this.#active--;
      this.#host.release(this.id, pieces);
    }
    return true;
  }

  /** Asks for bytes of the file at `url`, where its last redirect led if it had one. */
  async #fetch(url: string, start: number, end: number) {
    try {
      const answer = await fetchRange(
        this.#moved.get(url) ?? url,
        start,
        end,
        this.#abort.signal,
        this.#timeoutMs,
      );
      if (answer.url !== url) this.#moved.set(url, answer.url);
      return answer;
    } catch (error) {
      // Where it moved failed: the next try asks the URL itself again (it may send elsewhere).
      this.#moved.delete(url);
      throw error;
    }
  }

  /** Reads `length` bytes of `body` into the feed (the rest is not read). */
  async #receive(url: string, body: ReadableStream<Uint8Array>, length: number, feed: BlockFeed) {
    let left = length;
    await readBody(
      url,
      body,
      async (chunk) => {
        const part = chunk.length > left ? chunk.subarray(0, left) : chunk;
        await this.#host.throttle?.(part.length);
        feed.bytes(part);
        this.#downloaded += part.length;
        left -= part.length;
        return left > 0;
      },
      this.#abort.signal,
      this.#timeoutMs,
    );
    if (left > 0) {
      throw new WebSeedError(`${url}: the answer ended ${left} bytes short`, true);
    }
  }

  /**
   * The file ranges of torrent bytes `start` to `end`: one per file, with
   * its URL, or no URL for padding (zeros).
   */
  *#segments(start: number, end: number): Generator<{ url?: string; start: number; end: number }> {
    const torrent = this.#host.torrent;
    for (const file of torrent.files) {
      const from = Math.max(start, file.offset);
      const to = Math.min(end, file.offset + file.length);
      if (from >= to) continue;
      yield {
        url: file.padding ? undefined : webSeedFileUrl(this.url, torrent, file),
        start: from - file.offset,
        end: to - file.offset,
      };
    }
  }

  /**
   * For a server that ignores `Range`: reads the next file not read yet,
   * claiming each waiting piece whose first byte goes by; a piece that
   * runs on into the next file is finished from it (read through too).
   * False when no file is left to read.
   */
  async #readThroughNext(): Promise<boolean> {
    const torrent = this.#host.torrent;
    const files = torrent.files;
    let at = files.findIndex((file) =>
      !file.padding && file.length > 0 && !this.#readThrough.has(file.index)
    );
    if (at < 0) {
      // Every file was read once; pieces given back since (failed, released) need another pass.
      if (this.#readThrough.size > 0 && this.#host.hasWaiting()) this.#readThrough.clear();
      return false;
    }
    const { pieceLength } = torrent;
    const claimed: number[] = [];
    let piece = -1;
    let feed: BlockFeed | undefined;
    /** Takes torrent bytes `data` from `offset`: claims pieces as they begin, feeds those claimed. */
    const pass = async (data: Uint8Array, offset: number) => {
      let at = 0;
      while (at < data.length) {
        const index = Math.floor((offset + at) / pieceLength);
        if (index !== piece) {
          piece = index;
          const starts = offset + at === index * pieceLength;
          feed = starts && this.#host.claimPiece(this.id, index)
            ? new BlockFeed(this.#host, this.id, offset + at)
            : undefined;
          if (feed) claimed.push(index);
        }
        const upto = Math.min(data.length, (index + 1) * pieceLength - offset);
        if (feed) {
          await this.#host.throttle?.(upto - at);
          feed.bytes(data.subarray(at, upto));
          this.#downloaded += upto - at;
        }
        at = upto;
      }
    };
    this.#active++;
    try {
      while (at < files.length) {
        const file = files[at++];
        if (file.length === 0) continue;
        if (file.padding) {
          await pass(new Uint8Array(file.length), file.offset);
        } else {
          this.#readThrough.add(file.index);
          const url = webSeedFileUrl(this.url, torrent, file);
          const answer = await this.#fetch(url, 0, file.length);
          let offset = file.offset;
          const end = file.offset + file.length;
          await readBody(
            url,
            answer.body,
            async (chunk) => {
              const part = chunk.subarray(0, Math.min(chunk.length, end - offset));
              await pass(part, offset);
              offset += part.length;
              return offset < end;
            },
            this.#abort.signal,
            this.#timeoutMs,
          );
          if (offset < end) {
            throw new WebSeedError(`${url}: the answer ended ${end - offset} bytes short`, true);
          }
        }
        // Go on into the next file only to finish a piece claimed in this one.
        if (!feed || (file.offset + file.length) % pieceLength === 0) break;
      }
      this.#succeeded();
    } catch (error) {
      this.#readThrough.clear();
      this.#failedRequest(error);
    } finally {
      this.#active--;
      this.#host.release(this.id, claimed);
    }
    return true;
  }

  #succeeded(): void {
    this.#backoffMs = FIRST_BACKOFF_MS;
    this.#lastError = undefined;
  }

  #failedRequest(error: unknown): void {
    if (this.#abort.signal.aborted) return;
    if (!(error instanceof WebSeedError)) {
      this.#fail((error as Error).message);
      return;
    }
    if (!error.retry) {
      this.#fail(error.message);
      return;
    }
    this.#lastError = error.message;
    const wait = error.retryAfter !== undefined
      ? Math.min(MAX_BACKOFF_MS, error.retryAfter * 1000)
      : this.#backoffMs;
    this.#backoffMs = Math.min(MAX_BACKOFF_MS, this.#backoffMs * 2);
    this.#waitUntil = Date.now() + wait;
    this.#host.log(
      `web seed ${this.url}: ${error.message}; trying again in ${Math.round(wait / 1000)} s`,
    );
  }
}

/**
 * Cuts a stream of torrent bytes, from a piece boundary, into blocks for
 * the host (a block may span chunks: it is gathered first).
 */
class BlockFeed {
  readonly #host: WebSeedHost;
  readonly #source: number;
  readonly #pieceLength: number;
  readonly #block = new Uint8Array(BLOCK_SIZE);
  /** Torrent offset of the next byte. */
  #offset: number;
  #filled = 0;

  constructor(host: WebSeedHost, source: number, offset: number) {
    this.#host = host;
    this.#source = source;
    this.#pieceLength = host.torrent.pieceLength;
    this.#offset = offset;
  }

  zeros(length: number): void {
    const zeros = new Uint8Array(Math.min(length, BLOCK_SIZE));
    for (let left = length; left > 0; left -= zeros.length) {
      this.bytes(zeros.subarray(0, Math.min(left, zeros.length)));
    }
  }

  bytes(data: Uint8Array): void {
    const { pieceMap } = this.#host.torrent;
    let at = 0;
    while (at < data.length) {
      const index = Math.floor(this.#offset / this.#pieceLength);
      const inPiece = this.#offset - index * this.#pieceLength;
      const begin = inPiece - (inPiece % BLOCK_SIZE);
      const length = Math.min(BLOCK_SIZE, pieceMap.pieceSize(index) - begin);
      const take = Math.min(data.length - at, length - this.#filled);
      this.#block.set(data.subarray(at, at + take), this.#filled);
      this.#filled += take;
      this.#offset += take;
      at += take;
      if (this.#filled === length) {
        this.#host.block(this.#source, index, begin, this.#block.subarray(0, length));
        this.#filled = 0;
      }
    }
  }
}
