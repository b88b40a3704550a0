/**
 * The workers that check and write pieces, shared by every torrent of the
 * process: a few of them (one per core, at most four), each leased to
 * several piece writers. A writer keeps its worker for its whole life, so
 * its jobs, reopens and close run in the order it sent them. A worker
 * stops when its last lease ends, so nothing is left running; and one with
 * nothing to do for a while stops too (its isolate is 12 to 18 MiB, and a
 * hundred seeds write nothing), to start again at the next job.
 *
 * A worker per torrent cost a JavaScript isolate each: a daemon with 100
 * running torrents held 1.3 GiB.
 *
 * @module
 */

import { DiskError } from "../errors.ts";
import type { PieceJob, PieceOutcome } from "./_piece_jobs.ts";
import { pieceWorkerUrl } from "./_piece_worker.ts";

/** Workers at most, whatever the number of cores. */
const MAX_WORKERS = 4;
/** The pool's timing: a worker with no job for `idleStopMs` stops (its files close with it). */
export const poolTiming = { idleStopMs: 30_000 };

interface Waiter {
  resolve: (outcome: PieceOutcome) => void;
  reject: (error: Error) => void;
}

/** A place in the pool: its leases, and the worker while one runs. */
interface PooledWorker {
  running?: { worker: Worker; url: string };
  leases: number;
  /** Jobs and file closings sent and not yet answered, by id. */
  waiting: Map<number, Waiter>;
  failure?: Error;
  idleTimer?: ReturnType<typeof setTimeout>;
}

const workers: PooledWorker[] = [];
let nextId = 0;

/** Workers running now (for tests). */
export function runningWorkers(): number {
  return workers.filter((pooled) => pooled.running).length;
}

function maxWorkers(): number {
  const cores = typeof navigator === "undefined" ? 1 : navigator.hardwareConcurrency ?? 1;
  return Math.max(1, Math.min(MAX_WORKERS, cores));
}

function place(): PooledWorker {
  const pooled: PooledWorker = { leases: 0, waiting: new Map() };
  workers.push(pooled);
  return pooled;
}

/** The place's worker, started when it has none. */
function worker(pooled: PooledWorker): Worker {
  clearIdle(pooled);
  if (pooled.running) return pooled.running.worker;
  const url = pieceWorkerUrl();
  const worker = new Worker(url, { type: "module" });
  pooled.running = { worker, url };
  worker.onmessage = (event: MessageEvent<PieceOutcome | { closed: number }>) => {
    const id = "closed" in event.data ? event.data.closed : event.data.id;
    const waiter = pooled.waiting.get(id);
    pooled.waiting.delete(id);
    waiter?.resolve(event.data as PieceOutcome);
    if (pooled.waiting.size === 0 && pooled.running?.worker === worker) idle(pooled);
  };
  worker.onerror = (event) => {
    event.preventDefault();
    pooled.failure = new DiskError(`The piece writer stopped: ${event.message}`);
    for (const waiter of pooled.waiting.values()) waiter.reject(pooled.failure);
    pooled.waiting.clear();
    // New leases get a fresh worker; this one ends with its last lease.
    const at = workers.indexOf(pooled);
    if (at >= 0) workers.splice(at, 1);
  };
  return worker;
}

/** Nothing waits on the worker: it stops unless a job comes within `poolTiming.idleStopMs`. */
function idle(pooled: PooledWorker): void {
  clearIdle(pooled);
  if (!pooled.running || pooled.leases === 0) return;
  const timer = setTimeout(() => {
    pooled.idleTimer = undefined;
    if (pooled.waiting.size === 0 && !pooled.failure) stop(pooled);
  }, poolTiming.idleStopMs);
  // An idle worker never keeps the process alive.
  Deno.unrefTimer(timer);
  pooled.idleTimer = timer;
}

function clearIdle(pooled: PooledWorker): void {
  clearTimeout(pooled.idleTimer);
  pooled.idleTimer = undefined;
}

function stop(pooled: PooledWorker): void {
  clearIdle(pooled);
  if (!pooled.running) return;
  pooled.running.worker.terminate();
  URL.revokeObjectURL(pooled.running.url);
  pooled.running = undefined;
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
    this.#pooled = idle ?? place();
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
    worker(this.#pooled).postMessage({ ...job, id }, [job.buffer]);
    return outcome;
  }

  /** Closes the worker's handle of `path` after the jobs sent before (a stopped worker has none). */
  reopen(path: string): void {
    if (!this.#pooled.failure) this.#pooled.running?.worker.postMessage({ reopen: path });
  }

  /** Closes the worker's handles of `paths` after the jobs sent before (2 s at most). */
  async closeFiles(paths: readonly string[]): Promise<void> {
    const running = this.#pooled.running;
    if (this.#pooled.failure || paths.length === 0 || !running) return;
    const id = nextId++;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const closed = new Promise<void>((resolve) => {
      this.#pooled.waiting.set(id, { resolve: () => resolve(), reject: () => resolve() });
      timer = setTimeout(resolve, 2000);
    });
    running.worker.postMessage({ close: paths, token: id });
    await closed;
    clearTimeout(timer);
    this.#pooled.waiting.delete(id);
    if (this.#pooled.waiting.size === 0) idle(this.#pooled);
  }

  /** Ends the lease; the worker stops when it was its last. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    const pooled = this.#pooled;
    if (--pooled.leases > 0) return;
    const at = workers.indexOf(pooled);
    if (at >= 0) workers.splice(at, 1);
    stop(pooled);
  }
}
