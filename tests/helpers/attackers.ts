/**
 * Hostile programs that dial in, as real sockets from their own loopback
 * address: each of `parallel` connections runs a script, and when the
 * script ends or the connection is closed, a new connection takes its
 * place, until the attack is stopped.
 *
 * @module
 */

import type { PeerStream } from "../../lib/wire/stream.ts";
import { closeQuietly, dialLoopback } from "./wire.ts";

/** Options of {@linkcode startAttack}. */
export interface AttackOptions {
  /** The port shoal listens on (127.0.0.1). */
  port: number;
  /** The loopback address the attacker connects from. */
  from: string;
  /** Connections open at once. Default 1. */
  parallel?: number;
  /** Whether a connection is opened again after it ends. Default true. */
  reconnect?: boolean;
  /** What one connection does; it is closed when this ends. */
  script: (conn: PeerStream, attack: Attack) => Promise<void>;
}

/** A running attack. */
export interface Attack {
  /** Connections opened so far. */
  readonly connections: number;
  /** Whether it was stopped. */
  readonly stopped: boolean;
  /** Stops opening connections, closes those open and waits for every script to end. */
  stop(): Promise<void>;
}

/** Starts the attack. */
export function startAttack(options: AttackOptions): Attack {
  const open = new Set<PeerStream>();
  let connections = 0;
  let stopped = false;
  const attack: Attack = {
    get connections() {
      return connections;
    },
    get stopped() {
      return stopped;
    },
    async stop() {
      stopped = true;
      for (const conn of open) closeQuietly(conn);
      await Promise.all(loops);
    },
  };
  const loop = async () => {
    while (!stopped) {
      const conn = await dialLoopback(options.port, options.from).catch(() => undefined);
      if (!conn) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        continue;
      }
      connections++;
      open.add(conn);
      if (stopped) closeQuietly(conn);
      await options.script(conn, attack).catch(() => {});
      open.delete(conn);
      closeQuietly(conn);
      if (options.reconnect === false) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };
  const loops = Array.from({ length: options.parallel ?? 1 }, loop);
  return attack;
}

/** Reads and discards whatever arrives until the connection ends. */
export async function discardAll(conn: PeerStream): Promise<void> {
  const buffer = new Uint8Array(65536);
  while ((await conn.read(buffer).catch(() => null)) !== null) {
    // discarded
  }
}
