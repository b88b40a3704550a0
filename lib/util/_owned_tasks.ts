/**
 * Tasks with an owner: none ends in an unhandled rejection (an error one
 * lets through is a bug, logged as such), and the owner can wait for all
 * of them when it stops.
 *
 * @module
 */

import type { Logger } from "./log.ts";

/** The tasks of one owner (a swarm). */
export class OwnedTasks {
  readonly #tasks = new Set<Promise<void>>();
  readonly #log: Logger;

  /** @param log Where a task's escaped error is logged. */
  constructor(log: Logger) {
    this.#log = log;
  }

  /** Runs `task` as one of the owner's; `what` names it in the log. */
  spawn(task: Promise<void>, what: string): void {
    const owned: Promise<void> = task.catch((error) => {
      this.#log.error(`${what}: ${(error as Error)?.stack ?? error} (a bug; please report it)`);
    }).finally(() => this.#tasks.delete(owned));
    this.#tasks.add(owned);
  }

  /** Waits until every task has ended, those started meanwhile too. */
  async settle(): Promise<void> {
    while (this.#tasks.size > 0) await Promise.all([...this.#tasks]);
  }
}
