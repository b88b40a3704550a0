/**
 * The swarm's web seeds (BEP 19): download sources beside the peer
 * sessions. Each is a {@linkcode WebSeed} (in `lib/webseed/`), which claims
 * runs of whole pieces from the picker and hands their blocks to the same
 * path a peer's take (`Downloads.sourceBlock`): the assembler, the
 * verifier, storage, `have` to every peer. At most `maxWebSeeds` are used
 * at once; one that fails for good is replaced by the next URL.
 *
 * @module
 */

import type { Torrent } from "../metainfo/torrent.ts";
import type { Logger } from "../util/log.ts";
import { WebSeed, type WebSeedHost, type WebSeedStatus } from "../webseed/web_seed.ts";
import type { Downloads } from "./_downloads.ts";
import type { AssembledPiece } from "./piece_assembler.ts";
import type { PiecePicker } from "./picker.ts";
import type { RateLimiter } from "./rate_limiter.ts";

/** What the web seeds need of their swarm. */
export interface WebSeedsOptions {
  /** The torrent. */
  torrent: Torrent;
  /** The web seeds' URLs (usable ones: http and https). */
  urls: readonly string[];
  /** Most used at once. */
  maxWebSeeds: number;
  /** The picker the pieces are claimed from. */
  picker: PiecePicker;
  /** Where blocks go. */
  downloads: Downloads;
  /** A new source number (peers and web seeds share the numbering). */
  nextId: () => number;
  /** Runs a task the swarm owns. */
  spawn: (task: Promise<void>, what: string) => void;
  /** Whether the swarm has stopped. */
  stopped: () => boolean;
  /** The session's download limit. */
  downloadLimiter?: RateLimiter;
  /** Where events are logged. */
  log: Logger;
}

/** The web seeds of one swarm. */
export class WebSeeds {
  readonly #options: WebSeedsOptions;
  readonly #host: WebSeedHost;
  readonly #running: WebSeed[] = [];
  readonly #done: WebSeed[] = [];
  #next = 0;

  /** @param options The torrent, its URLs and the swarm's parts. */
  constructor(options: WebSeedsOptions) {
    this.#options = options;
    const { picker, downloads, downloadLimiter, log } = options;
    const live = () => !options.stopped() && picker.missing > 0;
    this.#host = {
      torrent: options.torrent,
      claimRun: (source, maxPieces, from) =>
        live() ? picker.claimRun(source, maxPieces, from).map((piece) => piece.index) : [],
      claimPiece: (source, index) => live() && picker.claimPiece(source, index) !== undefined,
      hasWaiting: () => live() && picker.waiting > 0,
      block: (source, index, begin, data) => downloads.sourceBlock(source, index, begin, data),
      release: (source, pieces) => downloads.releasePieces(source, pieces),
      throttle: downloadLimiter ? (bytes) => downloadLimiter.acquire(bytes) : undefined,
      log: (message) => log.debug(message),
    };
  }

  /** Starts the first `maxWebSeeds`. */
  start(): void {
    this.#fill();
  }

  /** Once a second: idle web seeds look for pieces again; failed ones are replaced. */
  tick(): void {
    this.wake();
    this.#fill();
  }

  /**
   * Piece memory was freed or pieces became wanted: idle web seeds look for
   * pieces now, not at the next tick.
   */
  wake(): void {
    for (const seed of this.#running) seed.wake();
  }

  /** A piece failed its hash check: a web seed that sent some of it is not used again. */
  pieceFailed(piece: AssembledPiece): void {
    for (const seed of this.#running) {
      if (piece.contributors.has(seed.id)) seed.sentBadData(piece.index);
    }
  }

  /** Ends every request (the swarm awaits the tasks). */
  stop(): void {
    for (const seed of this.#running) seed.stop();
  }

  /** Each web seed's state, those in use first. */
  statuses(now: number = Date.now()): WebSeedStatus[] {
    const used = [...this.#running, ...this.#done].map((seed) => seed.status(now));
    const unused = this.#options.urls.slice(this.#next).map((url): WebSeedStatus => ({
      url,
      state: "idle",
      downloaded: 0,
    }));
    return [...used, ...unused];
  }

  #fill(): void {
    const options = this.#options;
    for (let i = this.#running.length - 1; i >= 0; i--) {
      if (this.#running[i].failed) this.#done.push(...this.#running.splice(i, 1));
    }
    while (
      !options.stopped() && this.#running.length < options.maxWebSeeds &&
      this.#next < options.urls.length
    ) {
      const url = options.urls[this.#next++];
      const seed = new WebSeed(url, options.nextId(), this.#host, {
        runBytes: Math.max(
          options.torrent.pieceLength,
          Math.min(8 * 1024 * 1024, options.picker.maxBufferedBytes / 8),
        ),
      });
      this.#running.push(seed);
      options.log.info(`web seed ${url}: used`);
      options.spawn(seed.run(), `web seed ${url}`);
    }
  }
}
