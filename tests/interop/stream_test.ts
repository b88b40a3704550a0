/**
 * `shoal stream` against a real, throttled libtorrent seeder: the file is
 * read over HTTP while it downloads — random `Range` requests compared
 * byte for byte, curl, and a real player's reader (ffprobe and ffmpeg
 * decoding the whole file) — and only the streamed file reaches the disk.
 */
import { createTorrent } from "../../lib/metainfo/create.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import { startSeeder } from "../helpers/seeders.ts";
import { run, spawnShoal, testWithPrograms, withTempDir } from "../helpers/tools.ts";
import { freePort } from "../helpers/trackers.ts";

/** A WAV file (16-bit stereo at 44.1 kHz) of `seconds` of noise: something a player reads. */
function wavFile(seconds: number, seed: number): Uint8Array {
  const dataLength = seconds * 44_100 * 4;
  const bytes = new Uint8Array(44 + dataLength);
  const view = new DataView(bytes.buffer);
  const ascii = (at: number, text: string) => {
    for (let i = 0; i < text.length; i++) bytes[at + i] = text.charCodeAt(i);
  };
  ascii(0, "RIFF");
  view.setUint32(4, 36 + dataLength, true);
  ascii(8, "WAVE");
  ascii(12, "fmt ");
  view.setUint32(16, 16, true);
  view.setUint16(20, 1, true); // PCM
  view.setUint16(22, 2, true);
  view.setUint32(24, 44_100, true);
  view.setUint32(28, 44_100 * 4, true);
  view.setUint16(32, 4, true);
  view.setUint16(34, 16, true);
  ascii(36, "data");
  view.setUint32(40, dataLength, true);
  let x = seed;
  for (let i = 44; i < bytes.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    bytes[i] = x >>> 24;
  }
  return bytes;
}

/** Random numbers in [0, 1) from a seed, so a failure can be replayed. */
function seededRandom(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1664525 + 1013904223) >>> 0;
    return x / 2 ** 32;
  };
}

testWithPrograms(
  "stream: a file read over HTTP while it downloads from a throttled libtorrent seeder, with random Range requests, curl, ffprobe and ffmpeg",
  ["python3-libtorrent", "curl", "ffprobe", "ffmpeg"],
  () =>
    withTempDir(async (dir) => {
      // Three files; the clip (24 s, 4 MiB) is the largest, so it is the one streamed.
      const root = `${dir}/data/media`;
      await Deno.mkdir(root, { recursive: true });
      const clip = wavFile(24, 7);
      await Deno.writeFile(`${root}/a-notes.txt`, new TextEncoder().encode("notes\n".repeat(5000)));
      await Deno.writeFile(`${root}/clip.wav`, clip);
      await Deno.writeFile(`${root}/z-extra.bin`, wavFile(2, 9));
      const { bytes } = await createTorrent(root, { pieceLength: 64 * 1024 });
      await Deno.writeFile(`${dir}/media.torrent`, bytes);
      const seeder = await startSeeder("libtorrent", `${dir}/media.torrent`, `${dir}/data`, {
        uploadLimit: 400 * 1024,
      });
      const out = `${dir}/out`;
      const { output, stop } = spawnShoal([
        "stream",
        `${dir}/media.torrent`,
        "-d",
        out,
        "-p",
        String(freePort()),
        "--peer",
        seeder.address,
        "--json",
      ]);
      try {
        await output.waitFor(/"event":"stream"/, 20_000, "shoal stream");
        const url: string = JSON.parse(
          output.text.split("\n").find((line) => line.includes('"event":"stream"'))!,
        ).url;
        assert(url.startsWith("http://127.0.0.1:") && url.endsWith("/1/media/clip.wav"), url);
        const progress = () => {
          const lines = output.text.split("\n").filter((line) => line.includes('"progress"'));
          return lines.length === 0 ? 0 : JSON.parse(lines.at(-1)!).progress as number;
        };

        // A read near the end first: its pieces come before those in between.
        const tail = await fetch(url, { headers: { range: `bytes=${clip.length - 300_000}-` } });
        assertEquals(tail.status, 206);
        assertEquals(
          tail.headers.get("content-range"),
          `bytes ${clip.length - 300_000}-${clip.length - 1}/${clip.length}`,
        );
        assertEquals(new Uint8Array(await tail.arrayBuffer()), clip.slice(clip.length - 300_000));
        const progressAtTail = progress();
        assert(
          progressAtTail < 0.9,
          `the end was served while the file was downloading (progress ${progressAtTail})`,
        );

        // Random ranges, three at a time, while it downloads.
        const random = seededRandom(42);
        const ranges: [number, number][] = [];
        for (let i = 0; i < 18; i++) {
          const start = Math.floor(random() * clip.length);
          const length = 1 + Math.floor(random() * 400_000);
          ranges.push([start, Math.min(clip.length, start + length)]);
        }
        for (let i = 0; i < ranges.length; i += 3) {
          await Promise.all(
            ranges.slice(i, i + 3).map(async ([start, end]) => {
              const response = await fetch(url, {
                headers: { range: `bytes=${start}-${end - 1}` },
              });
              assertEquals(response.status, 206);
              const body = new Uint8Array(await response.arrayBuffer());
              assertEquals(body.length, end - start, `bytes ${start}-${end - 1}`);
              assertEquals(body, clip.slice(start, end), `bytes ${start}-${end - 1}`);
            }),
          );
        }
        const suffix = await fetch(url, { headers: { range: "bytes=-1000" } });
        assertEquals(new Uint8Array(await suffix.arrayBuffer()), clip.slice(-1000));

        // curl: a range, then the whole file; ffprobe reads the header; ffmpeg decodes it all.
        const part = await run("curl", ["-sS", "-r", "100-199", url]);
        assertEquals(part.code, 0, part.stderr);
        const whole = await run("curl", ["-sS", "-o", `${dir}/curl.wav`, url]);
        assertEquals(whole.code, 0, whole.stderr);
        assertEquals(await Deno.readFile(`${dir}/curl.wav`), clip);
        const probe = await run("ffprobe", [
          "-v",
          "error",
          "-show_entries",
          "format=duration",
          "-of",
          "csv=p=0",
          url,
        ]);
        assertEquals(probe.code, 0, probe.stderr);
        assertEquals(Math.round(Number(probe.stdout.trim())), 24);
        const decode = await run("ffmpeg", [
          "-v",
          "error",
          "-nostdin",
          "-i",
          url,
          "-f",
          "null",
          "-",
        ]);
        assertEquals(decode.code, 0, decode.stderr);

        // Errors a client can make.
        const head = await fetch(url, { method: "HEAD" });
        assertEquals(head.status, 200);
        assertEquals(head.headers.get("content-length"), String(clip.length));
        assertEquals(head.headers.get("accept-ranges"), "bytes");
        const past = await fetch(url, { headers: { range: `bytes=${clip.length}-` } });
        assertEquals(past.status, 416);
        await past.body?.cancel();
        const other = await fetch(url.replace("/1/", "/2/"));
        assertEquals(other.status, 404);
        await other.body?.cancel();

        // Only the streamed file is on disk.
        const names = [];
        for await (const entry of Deno.readDir(`${out}/media`)) names.push(entry.name);
        assertEquals(names, ["clip.wav"]);
        assertEquals(await Deno.readFile(`${out}/media/clip.wav`), clip);
      } finally {
        await stop();
        await seeder.stop();
      }
    }),
);
