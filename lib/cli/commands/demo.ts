/**
 * `shoal demo`: a real transfer on one machine with no internet. Writes a
 * random payload, makes its torrent, seeds it from a shoal session on a
 * loopback port, and downloads it with the normal progress display; then
 * compares the bytes and prints the throughput.
 *
 * @module
 */

import { type Command, InvalidArgumentError } from "../_commander.ts";
import { ShoalError } from "../../errors.ts";
import { createTorrent } from "../../metainfo/create.ts";
import { Session } from "../../session/session.ts";
import { HashProgress } from "../../ui/hash_progress.ts";
import { formatRate } from "../../ui/download_view.ts";
import { formatBytes, parseSize } from "../../util/size.ts";
import { writeOut } from "../output.ts";
import { runTorrent } from "../_run_torrent.ts";

/** Options of the demo command. */
export interface DemoCommandOptions {
  size: number;
  keep?: boolean;
  json?: boolean;
  quiet?: boolean;
}

function sizeArgument(value: string): number {
  const bytes = parseSize(value);
  if (bytes === undefined || bytes < 1 || bytes > 64 * 1024 ** 3) {
    throw new InvalidArgumentError("expected a size from 1 byte to 64g, such as 256m.");
  }
  return bytes;
}

async function writeRandomPayload(path: string, size: number): Promise<void> {
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  try {
    const chunk = new Uint8Array(1024 * 1024);
    for (let written = 0; written < size; written += chunk.length) {
      const part = chunk.subarray(0, Math.min(chunk.length, size - written));
      for (let i = 0; i < part.length; i += 65536) {
        crypto.getRandomValues(part.subarray(i, i + 65536));
      }
      let done = 0;
      while (done < part.length) done += await file.write(part.subarray(done));
    }
  } finally {
    file.close();
  }
}

async function sameBytes(a: string, b: string): Promise<boolean> {
  const [fa, fb] = [await Deno.open(a), await Deno.open(b)];
  try {
    const [ba, bb] = [new Uint8Array(1024 * 1024), new Uint8Array(1024 * 1024)];
    while (true) {
      const [na, nb] = [await readFull(fa, ba), await readFull(fb, bb)];
      if (na !== nb) return false;
      if (na === 0) return true;
      for (let i = 0; i < na; i++) if (ba[i] !== bb[i]) return false;
    }
  } finally {
    fa.close();
    fb.close();
  }
}

async function readFull(file: Deno.FsFile, buffer: Uint8Array): Promise<number> {
  let filled = 0;
  while (filled < buffer.length) {
    const n = await file.read(buffer.subarray(filled));
    if (n === null) break;
    filled += n;
  }
  return filled;
}

/** Runs the demo; throws when the downloaded bytes differ. */
export async function runDemo(options: DemoCommandOptions): Promise<void> {
  const scratch = await Deno.makeTempDir({ prefix: "shoal-demo-" });
  const say = (text: string) => {
    if (!options.quiet && !options.json) writeOut(text + "\n");
  };
  let seeder: Session | undefined;
  try {
    seeder = new Session({ port: 0, host: "127.0.0.1" });
    await Deno.mkdir(`${scratch}/seed`);
    const payload = `${scratch}/seed/shoal-demo.bin`;
    say(`Writing ${formatBytes(options.size)} of random data to ${payload}`);
    await writeRandomPayload(payload, options.size);
    const progress = new HashProgress(!options.quiet && !options.json && Deno.stderr.isTerminal());
    const { torrent } = await createTorrent(payload, {
      onProgress: (done, total) => progress.update(done, total),
    });
    progress.finish();
    const seed = seeder.add(torrent, {
      downloadDir: `${scratch}/seed`,
      seed: true,
      requireComplete: true,
    });
    await seed.done;
    say(`Seeding it from 127.0.0.1:${seeder.port}; downloading it into ${scratch}/download\n`);
    const started = performance.now();
    await runTorrent(torrent, {
      verb: "downloading",
      downloadDir: `${scratch}/download`,
      port: 0,
      bind: ["127.0.0.1"],
      maxPeers: 50,
      peer: [{ host: "127.0.0.1", port: seeder.port }],
      maxMemory: 64 * 1024 * 1024,
      json: options.json,
      quiet: options.quiet,
      // Loopback only: nothing is announced to the local network.
      lsd: false,
    });
    const seconds = (performance.now() - started) / 1000;
    if (!(await sameBytes(payload, `${scratch}/download/shoal-demo.bin`))) {
      throw new ShoalError(
        "The downloaded file differs from the original: this is a bug, please report it",
      );
    }
    say(
      `\nDemo complete: ${formatBytes(options.size)} in ${seconds.toFixed(2)} s (${
        formatRate(options.size / seconds)
      }) over loopback; the download is byte-identical to the original.`,
    );
    if (options.keep) say(`Files kept in ${scratch}`);
  } finally {
    await seeder?.close();
    if (!options.keep) await Deno.remove(scratch, { recursive: true }).catch(() => {});
  }
}

/** Adds the demo command to the program. */
export function addDemoCommand(program: Command): void {
  program.command("demo")
    .description("run a local swarm demo with no internet: seed and download a random payload")
    .option("--size <size>", "size of the random payload", sizeArgument, 256 * 1024 * 1024)
    .option("--keep", "keep the payload, torrent and download in the temporary folder")
    .option("-q, --quiet", "print nothing but errors")
    .option("--json", "print one JSON status line per second")
    .addHelpText(
      "after",
      `
Everything happens on 127.0.0.1 in a temporary folder, removed at the end.

Examples:
  shoal demo
  shoal demo --size 1g`,
    )
    .action(runDemo);
}
