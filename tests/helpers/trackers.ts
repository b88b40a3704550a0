/**
 * Real trackers for tests, started on free loopback ports and stopped
 * afterwards: opentracker (Debian) and bittorrent-tracker (npm).
 *
 * @module
 */

import { stopChild, waitForTcp } from "./processes.ts";
import { NPM_BIN_DIR } from "./tools.ts";

/** A running tracker. */
export interface RunningTracker {
  /** HTTP announce URL. */
  http: string;
  /** UDP announce URL. */
  udp: string;
  /** The port it serves HTTP (TCP) and UDP on. */
  port: number;
  /** Stops the process and waits for it. */
  stop(): Promise<void>;
}

/**
 * A port free for both TCP and UDP on 127.0.0.1 right now. Chosen at random
 * from 20000–59999 rather than asking the kernel for port 0, which tends to
 * hand the port it just freed to the next caller (another test process).
 */
export function freePort(): number {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 40000);
    let tcp: Deno.Listener;
    try {
      tcp = Deno.listen({ hostname: "127.0.0.1", port });
    } catch {
      continue;
    }
    try {
      const udp = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port });
      udp.close();
      return port;
    } catch {
      // UDP side taken; try another.
    } finally {
      tcp.close();
    }
  }
  throw new Error("No free port found");
}

/**
 * Starts opentracker on 127.0.0.1, serving only the whitelisted info hashes
 * (Debian's build refuses all others). As root it chroots into a temporary
 * folder and drops to `nobody`, so the whitelist lives inside it.
 *
 * @param infoHashes 40-hex info hashes to allow.
 */
export async function startOpentracker(infoHashes: string[]): Promise<RunningTracker> {
  const dir = await Deno.makeTempDir({ prefix: "shoal-opentracker-" });
  await Deno.chmod(dir, 0o755);
  await Deno.writeTextFile(`${dir}/whitelist.txt`, infoHashes.join("\n") + "\n");
  await Deno.chmod(`${dir}/whitelist.txt`, 0o644);
  const port = freePort();
  const root = Deno.uid() === 0;
  const args = [
    "-i",
    "127.0.0.1",
    "-p",
    String(port),
    "-P",
    String(port),
    "-A",
    "127.0.0.1",
    ...(root
      ? ["-d", dir, "-u", "nobody", "-w", "/whitelist.txt"]
      : ["-w", `${dir}/whitelist.txt`]),
  ];
  const child = new Deno.Command("opentracker", {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  })
    .spawn();
  await waitForTcp(port, child, "opentracker");
  return {
    port,
    http: `http://127.0.0.1:${port}/announce`,
    udp: `udp://127.0.0.1:${port}/announce`,
    stop: async () => {
      await stopChild(child);
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** Starts bittorrent-tracker (npm) with HTTP and UDP on 127.0.0.1. */
export async function startBittorrentTracker(): Promise<RunningTracker> {
  const port = freePort();
  const child = new Deno.Command("node", {
    args: [
      `${NPM_BIN_DIR}/bittorrent-tracker`,
      "--http",
      "--udp",
      "-p",
      String(port),
      "--http-hostname",
      "127.0.0.1",
      "--udp-hostname",
      "127.0.0.1",
      "--udp6-hostname",
      "::1",
      "--silent",
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  await waitForTcp(port, child, "bittorrent-tracker");
  return {
    port,
    http: `http://127.0.0.1:${port}/announce`,
    udp: `udp://127.0.0.1:${port}`,
    stop: () => stopChild(child),
  };
}
