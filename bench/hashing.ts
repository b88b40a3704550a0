/**
 * SHA-1 hashing throughput of `shoal create`'s hashing path, side by side
 * with `openssl speed sha1` on the same machine. Goal: at least 80%.
 *
 * @module
 */

import { createTorrent } from "../lib/metainfo/create.ts";
import { PieceHasher } from "../lib/metainfo/_piece_hasher.ts";
import { type Figure, measure, measureAsync, megabytesPerSecond } from "./measure.ts";

/** openssl's SHA-1 throughput in MB/s for 1 MiB blocks, or undefined when openssl is missing. */
export async function opensslSha1MegabytesPerSecond(): Promise<number | undefined> {
  try {
    const output = await new Deno.Command("openssl", {
      args: ["speed", "-seconds", "3", "-bytes", "1048576", "sha1"],
      stdout: "piped",
      stderr: "null",
    }).output();
    const line = new TextDecoder().decode(output.stdout).split("\n").find((l) => /^sha1\s/.test(l));
    const kilobytes = line ? Number(line.trim().split(/\s+/)[1].replace(/k$/, "")) : NaN;
    return Number.isFinite(kilobytes) ? kilobytes / 1000 : undefined;
  } catch {
    return undefined;
  }
}

/** Results of {@linkcode benchHashing}. */
export interface HashingResult {
  figures: Figure[];
  opensslMegabytesPerSecond: number | undefined;
}

/** Measures in-memory piece hashing and `createTorrent` over a 1 GiB file. */
export async function benchHashing(scratch: string): Promise<HashingResult> {
  const size = 256 * 1024 * 1024;
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i += 4096) data[i] = i & 0xff;
  const figures: Figure[] = [];
  for (const pieceLength of [256 * 1024, 1024 * 1024]) {
    figures.push(measure(`PieceHasher in memory, ${pieceLength / 1024} KiB pieces`, size, () => {
      const hasher = new PieceHasher(pieceLength, size);
      hasher.update(data);
      hasher.finish();
    }));
  }
  const file = `${scratch}/payload.bin`;
  const handle = await Deno.open(file, { create: true, write: true, truncate: true });
  for (let i = 0; i < 4; i++) await handle.write(data);
  handle.close();
  figures.push(
    await measureAsync(
      "createTorrent, 1 GiB file (page cache), 1 MiB pieces",
      size * 4,
      () => createTorrent(file, { pieceLength: 1024 * 1024 }),
    ),
  );
  await Deno.remove(file);
  return { figures, opensslMegabytesPerSecond: await opensslSha1MegabytesPerSecond() };
}

/** Formats shoal's figure as a percentage of openssl's. */
export function ratioToOpenssl(figure: Figure, openssl: number | undefined): string {
  if (openssl === undefined) return "openssl not installed";
  return `${((megabytesPerSecond(figure) / openssl) * 100).toFixed(0)}% of openssl (${
    openssl.toFixed(0)
  } MB/s)`;
}
