/**
 * Starting and stopping the real programs tests run: waiting until one
 * listens or prints that it is ready, keeping its output drained (a full
 * pipe would freeze it), and stopping it for sure.
 *
 * @module
 */

/** Waits until something accepts TCP connections on 127.0.0.1:`port`, failing if the child exits. */
export async function waitForTcp(
  port: number,
  child: Deno.ChildProcess,
  name: string,
): Promise<void> {
  const deadline = Date.now() + 10_000;
  let exited = false;
  child.status.then(() => (exited = true));
  while (Date.now() < deadline) {
    if (exited) throw new Error(`${name} exited during start-up (is port ${port} taken?)`);
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conn.close();
      // Something answers; make sure it is our process, not another that holds the port.
      await new Promise((resolve) => setTimeout(resolve, 100));
      if (exited) throw new Error(`${name} exited during start-up (is port ${port} taken?)`);
      return;
    } catch (error) {
      if (exited) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  throw new Error(`${name} did not start listening on port ${port}`);
}

/** Stops a child: SIGTERM, then SIGKILL after 3 s; waits for it and closes its pipes. */
export async function stopChild(child: Deno.ChildProcess): Promise<void> {
  try {
    child.kill("SIGTERM");
  } catch {
    // already exited
  }
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch {
      // already exited
    }
  }, 3000);
  await child.status;
  clearTimeout(timer);
  await child.stdout.cancel().catch(() => {});
  await child.stderr.cancel().catch(() => {});
}

/** The output of a child, read continuously; the last 64 KiB are kept. */
export class OutputWatcher {
  #text = "";
  #waiters: { pattern: RegExp; resolve: () => void }[] = [];
  readonly done: Promise<void>;

  /** Starts draining both of the child's output streams. */
  constructor(child: Deno.ChildProcess) {
    this.done = Promise.all([this.#drain(child.stdout), this.#drain(child.stderr)]).then(() => {});
  }

  /** Everything kept so far. */
  get text(): string {
    return this.#text;
  }

  /**
   * Resolves when the output matches `pattern`; rejects after `timeoutMs`
   * or when the output ends first.
   */
  async waitFor(pattern: RegExp, timeoutMs: number, name: string): Promise<void> {
    if (pattern.test(this.#text)) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const waiter = { pattern, resolve: () => {} };
    try {
      await Promise.race([
        new Promise<void>((resolve) => {
          waiter.resolve = resolve;
          this.#waiters.push(waiter);
        }),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              reject(
                new Error(
                  `${name} did not print ${pattern} within ${timeoutMs} ms:\n${
                    this.#text.slice(-2000)
                  }`,
                ),
              ),
            timeoutMs,
          );
        }),
        this.done.then(() => {
          if (!pattern.test(this.#text)) {
            throw new Error(
              `${name} exited before printing ${pattern}:\n${this.#text.slice(-2000)}`,
            );
          }
        }),
      ]);
    } finally {
      clearTimeout(timer);
      this.#waiters = this.#waiters.filter((w) => w !== waiter);
    }
  }

  async #drain(stream: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of stream) {
        this.#text = (this.#text + decoder.decode(chunk, { stream: true })).slice(-65536);
        for (const waiter of this.#waiters) if (waiter.pattern.test(this.#text)) waiter.resolve();
      }
    } catch {
      // The stream was cancelled when the child was stopped.
    }
  }
}

/** A peer program started by {@linkcode spawnPeerProgram}. */
export interface PeerProcess {
  /** The process. */
  child: Deno.ChildProcess;
  /** Its stdout and stderr. */
  output: OutputWatcher;
  /** Stops it, waits for its output and removes its state folder. */
  stop(): Promise<void>;
}

/**
 * Starts a peer program (a seeder or leecher for tests) with `stateDir` as
 * its working folder and home, so it writes no state anywhere else.
 */
export function spawnPeerProgram(
  program: string,
  args: string[],
  stateDir: string,
  env: Record<string, string> = {},
): PeerProcess {
  const child = new Deno.Command(program, {
    args,
    cwd: stateDir,
    env: { HOME: stateDir, ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output = new OutputWatcher(child);
  const stop = async () => {
    await stopChild(child);
    await output.done;
    await Deno.remove(stateDir, { recursive: true }).catch(() => {});
  };
  return { child, output, stop };
}
