/**
 * Loading torrents with huge file lists: a 1,000,000-file torrent (the
 * limit) and a 2,300,000-file one (60 MB, under the 64 MB file limit; refused
 * for its file count), each timed in a fresh process
 * with its memory growth, beside libtorrent's `torrent_info` on the same
 * file (python3-libtorrent) in the same run.
 *
 * @module
 */

/**
 * A torrent of `count` files of 1 byte each, named `f<i>` in one folder,
 * written as bencode text directly (a million objects to encode would
 * measure the generator).
 */
export function flatFilesTorrent(count: number): Uint8Array {
  const parts: string[] = ["d4:infod5:filesl"];
  for (let i = 0; i < count; i++) {
    const name = i.toString(36);
    parts.push(`d6:lengthi1e4:pathl${name.length}:${name}ee`);
  }
  const pieceLength = 16384;
  const pieces = Math.ceil(count / pieceLength);
  parts.push(`e4:name4:huge12:piece lengthi${pieceLength}e6:pieces${pieces * 20}:`);
  const head = new TextEncoder().encode(parts.join(""));
  const out = new Uint8Array(head.length + pieces * 20 + 2);
  out.set(head);
  out.set(new TextEncoder().encode("ee"), head.length + pieces * 20);
  return out;
}

/** One load: seconds, and the growth of peak resident memory (VmHWM) in MiB. */
export interface LoadFigure {
  name: string;
  seconds: number;
  memoryMiB: number;
  outcome: string;
}

const SHOAL_LOADER = `
const path = Deno.args[0];
const { readTorrentFile } = await import(Deno.args[1]);
const peak = () => Number(/VmHWM:\\s+(\\d+)/.exec(Deno.readTextFileSync("/proc/self/status"))[1]) / 1024;
const before = peak();
const started = performance.now();
let outcome;
try {
  const torrent = await readTorrentFile(path);
  outcome = \`\${torrent.files.length} files\`;
} catch (error) {
  outcome = \`refused: \${error.message}\`;
}
const seconds = (performance.now() - started) / 1000;
const memoryMiB = peak() - before;
console.log(JSON.stringify({ seconds, memoryMiB, outcome }));
`;

const LIBTORRENT_LOADER = `
import json, re, sys, time
import libtorrent as lt
def peak():
    return int(re.search(r"VmHWM:\\s+(\\d+)", open("/proc/self/status").read()).group(1)) / 1024
before = peak()
started = time.monotonic()
try:
    limits = {"max_buffer_size": 256 << 20, "max_decode_tokens": 100000000, "max_pieces": 1 << 22}
    info = lt.torrent_info(sys.argv[1], limits)
    outcome = "%d files" % info.num_files()
except Exception as error:
    outcome = "refused: %s" % error
seconds = time.monotonic() - started
grown = peak() - before
print(json.dumps({"seconds": seconds, "memoryMiB": grown, "outcome": outcome}))
`;

async function run(command: string, args: string[]): Promise<LoadFigure | string> {
  const output = await new Deno.Command(command, { args, stdout: "piped", stderr: "piped" })
    .output();
  const text = new TextDecoder().decode(output.stdout).trim().split("\n").pop() ?? "";
  try {
    return JSON.parse(text) as LoadFigure;
  } catch {
    const lines = new TextDecoder().decode(output.stderr).trim().split("\n");
    return lines.find((line) => /error/i.test(line)) ?? lines.pop() ?? "failed";
  }
}

/** Loads each torrent in shoal and in libtorrent (when installed); returns printable lines. */
export async function benchHugeTorrents(hasLibtorrent: boolean): Promise<string[]> {
  const dir = await Deno.makeTempDir({ prefix: "shoal-huge-" });
  const lines: string[] = [];
  try {
    const loader = `${dir}/load.ts`;
    await Deno.writeTextFile(loader, SHOAL_LOADER);
    await Deno.writeTextFile(`${dir}/load.py`, LIBTORRENT_LOADER);
    const metainfo = new URL("../lib/metainfo/mod.ts", import.meta.url).href;
    for (const count of [1_000_000, 2_300_000]) {
      const path = `${dir}/${count}.torrent`;
      const bytes = flatFilesTorrent(count);
      await Deno.writeFile(path, bytes);
      const label = `${(count / 1e6).toFixed(1)}M files (${(bytes.length / 1e6).toFixed(0)} MB)`;
      const shoal = await run(Deno.execPath(), ["run", "--allow-all", loader, path, metainfo]);
      lines.push(`  shoal, ${label}: ${describe(shoal)}`);
      if (hasLibtorrent) {
        const lt = await run("/usr/bin/python3", [`${dir}/load.py`, path]);
        lines.push(`  libtorrent torrent_info, ${label}: ${describe(lt)}`);
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  return lines;
}

function describe(figure: LoadFigure | string): string {
  if (typeof figure === "string") return `failed: ${figure}`;
  const outcome = figure.outcome.length > 90 ? `${figure.outcome.slice(0, 89)}…` : figure.outcome;
  return `${figure.seconds.toFixed(2)} s, +${figure.memoryMiB.toFixed(0)} MiB, ${outcome}`;
}

if (import.meta.main) {
  for (const line of await benchHugeTorrents(true)) console.log(line);
}
