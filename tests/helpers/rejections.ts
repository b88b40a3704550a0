/**
 * Catching promise rejections nobody handled while a test runs: each is
 * recorded instead of ending the test process, so a test can assert there
 * were none and name them when there were.
 *
 * @module
 */

/** Records unhandled rejections from now until {@linkcode RejectionWatch.stop}. */
export class RejectionWatch {
  /** The reasons seen so far. */
  readonly reasons: unknown[] = [];
  readonly #listener = (event: PromiseRejectionEvent) => {
    event.preventDefault();
    this.reasons.push(event.reason);
  };

  /** Starts listening. */
  constructor() {
    globalThis.addEventListener("unhandledrejection", this.#listener);
  }

  /** Lets pending rejections surface (they are reported after the microtask queue drains), then stops listening. */
  async stop(): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 50));
    globalThis.removeEventListener("unhandledrejection", this.#listener);
  }

  /** The reasons, one line each, for an assertion message. */
  describe(): string {
    return this.reasons.map((reason) =>
      reason instanceof Error ? `${reason.name}: ${reason.message}` : String(reason)
    ).join("\n");
  }
}
