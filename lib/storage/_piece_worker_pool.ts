/**
 * The workers that check and write pieces, shared by every torrent of the
 * process: a few of them (one per core, at most four), each leased to
 * several piece writers. A writer keeps its worker for its whole life, so
 * its jobs, reopens and close run in the order it sent them. A worker
 * stops when its last lease ends, so nothing is left running.
 *
 * A worker per torrent cost a JavaScript isolate each (about 12 MiB): a
 * daemon with 100 running torrents held 1.3 GiB.
 *
 * @module
 */

import { DiskError } from "../errors.ts";
import type { PieceJob, PieceOutcome } from "./_piece_jobs.ts";
import { pieceWorkerUrl } from "./_piece_worker.ts";

/** Workers at most, whatever the number of cores. */
const MAX_WORKERS = 4;

interface Waiter {
  resolve: (outcome: PieceOutcome) => void;
  reject: (error: Error) => void;
}

interface PooledWorker {
  worker: Worker;
  url: string;
  leases: number;
  /** Jobs and file closings sent and not yet answered, by id. */
  waiting: Map<number, Waiter>;
  failure?: Error;
}

const workers: PooledWorker[] = [];
let nextId = 0;

function maxWorkers(): number {
  const cores = typeof navigator === "undefined" ? 1 : navigator.hardwareConcurrency ?? 1;
  return Math.max(1, Math.min(MAX_WORKERS, cores));
}

function start(): PooledWorker {
  const url = pieceWorkerUrl();
  const pooled: PooledWorker = {
    worker: new Worker(url, { type: "module" }),
    url,
    leases: 0,
    waiting: new Map(),
  };
  pooled.worker.onmessage = (event: MessageEvent<PieceOutcome | { closed: number }>) => {
    const id = "closed" in event.data ? event.data.closed : event.data.id;
    const waiter = pooled.waiting.get(id);
    pooled.waiting.delete(id);
    waiter?.resolve(event.data as PieceOutcome);
  };
  pooled.worker.onerror = (event) => {
    event.preventDefault();
    pooled.failure = new DiskError(`The piece writer stopped: ${event.message}`);
    for (const waiter of pooled.waiting.values()) waiter.reject(pooled.failure);
    pooled.waiting.clear();
    // New leases get a fresh worker; this one ends with its last lease.
    const at = workers.indexOf(pooled);
    if (at >= 0) workers.splice(at, 1);
  };
  workers.push(pooled);
  return pooled;
}

/** One piece writer's use of a shared worker. */
export class PieceWorkerLease {
  readonly #pooled: PooledWorker;
  #released = false;

  /** Leases the least-used worker, or a new one while there are fewer than the cores. */
  constructor() {
    const idle = workers.length < maxWorkers()
      ? undefined
      : workers.reduce((least, w) => w.leases < least.leases ? w : least);
    this.#pooled = idle ?? start();
    this.#pooled.leases++;
  }

  /** Why the worker stopped, if it did. */
  get failure(): Error | undefined {
    return this.#pooled.failure;
  }

  /** Sends a piece (its buffer is moved); resolves with what became of it. */
  run(job: Omit<PieceJob, "id">): Promise<PieceOutcome> {
    if (this.#pooled.failure) return Promise.reject(this.#pooled.failure);
    const id = nextId++;
    const outcome = new Promise<PieceOutcome>((resolve, reject) => {
      this.#pooled.waiting.set(id, { resolve, reject });
    });
    this.#pooled.worker.postMessage({ ...job, id }, [job.buffer]);
    return outcome;
  }

  /** Closes the worker's handle of `path` after the jobs sent before. */
  reopen(path: string): void {
    if (!this.#pooled.failure) this.#pooled.worker.postMessage({ reopen: path });
  }

  /** Closes the worker's handles of `paths` after the jobs sent before (2 s at most). */
  async closeFiles(paths: readonly string[]): Promise<void> {
    if (this.#pooled.failure || paths.length === 0) return;
    const id = nextId++;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const closed = new Promise<void>((resolve) => {
      this.#pooled.waiting.set(id, { resolve: () => resolve(), reject: () => resolve() });
      timer = setTimeout(resolve, 2000);
    });
    this.#pooled.worker.postMessage({ close: paths, token: id });
    await closed;
    clearTimeout(timer);
    this.#pooled.waiting.delete(id);
  }

  /** Ends the lease; the worker stops when it was its last. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    const pooled = this.#pooled;
    if (--pooled.leases > 0) return;
    const at = workers.indexOf(pooled);
    if (at >= 0) workers.splice(at, 1);
    pooled.worker.terminate();
    URL.revokeObjectURL(pooled.url);
  }
}
