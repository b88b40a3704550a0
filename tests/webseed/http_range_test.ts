/**
 * One web seed request (`fetchRange`) against a real HTTP server on
 * loopback: what each kind of answer means, and redirects (followed up to
 * a limit, only to http(s), the `Range` kept on every hop).
 */
import {
  fetchRange,
  MAX_REDIRECTS,
  usableWebSeeds,
  WebSeedError,
  webSeedFileUrl,
} from "../../lib/webseed/mod.ts";
import { assert, assertEquals, assertRejects } from "../helpers/assert.ts";

const FILE = new Uint8Array(1000).map((_, i) => i % 251);

/** A server with a file at `/f`, redirects under `/to/<n>/` (n hops), and a few bad answers. */
async function withServer(run: (base: string, seen: string[]) => Promise<void>) {
  const seen: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (request) => {
    const { pathname } = new URL(request.url);
    const range = request.headers.get("range") ?? "";
    seen.push(`${pathname} ${range}`);
    const hops = /^\/to\/(\d+)\/(.*)$/.exec(pathname);
    if (hops) {
      const left = Number(hops[1]);
      // Relative and absolute Locations in turn.
      const next = left === 0 ? `/${hops[2]}` : `/to/${left - 1}/${hops[2]}`;
      const location = left % 2 ? next : new URL(next, request.url).href;
      return new Response(null, { status: left % 3 ? 302 : 307, headers: { location } });
    }
    switch (pathname) {
      case "/f": {
        const [start, end] = range.replace("bytes=", "").split("-").map(Number);
        return new Response(FILE.slice(start, end + 1), {
          status: 206,
          headers: { "content-range": `bytes ${start}-${end}/${FILE.length}` },
        });
      }
      case "/whole":
        return new Response(FILE);
      case "/loop":
        return new Response(null, { status: 301, headers: { location: "/loop" } });
      case "/to-file":
        return new Response(null, { status: 302, headers: { location: "file:///etc/passwd" } });
      case "/no-location":
        return new Response(null, { status: 302 });
      case "/wrong-range":
        return new Response(FILE.slice(0, 10), {
          status: 206,
          headers: { "content-range": "bytes 0-9/1000" },
        });
      case "/busy":
        return new Response("busy", { status: 503, headers: { "retry-after": "7" } });
      case "/short":
        return new Response(null, { status: 416 });
      default:
        return new Response("no", { status: 404 });
    }
  });
  try {
    await run(`http://127.0.0.1:${server.addr.port}`, seen);
  } finally {
    await server.shutdown();
  }
}

async function bodyOf(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

const signal = new AbortController().signal;

/** The WebSeedError `fetchRange` throws for `url`. */
async function failure(url: string): Promise<WebSeedError> {
  const error = await assertRejects(() => fetchRange(url, 100, 200, signal), WebSeedError);
  return error as WebSeedError;
}

Deno.test("fetchRange: a 206 with the right Content-Range gives the bytes; a 200 gives the file from 0", () =>
  withServer(async (base) => {
    const ranged = await fetchRange(`${base}/f`, 100, 200, signal);
    assertEquals(ranged.from, 100);
    assertEquals(ranged.url, `${base}/f`);
    assertEquals(await bodyOf(ranged.body), FILE.slice(100, 200));
    const whole = await fetchRange(`${base}/whole`, 100, 200, signal);
    assertEquals(whole.from, 0);
    assertEquals(await bodyOf(whole.body), FILE);
  }));

Deno.test("fetchRange: redirects are followed with the same Range, relative or absolute, up to the limit", () =>
  withServer(async (base, seen) => {
    const answer = await fetchRange(`${base}/to/${MAX_REDIRECTS - 1}/f`, 100, 200, signal);
    assertEquals(answer.url, `${base}/f`);
    assertEquals(await bodyOf(answer.body), FILE.slice(100, 200));
    assertEquals(seen.length, MAX_REDIRECTS + 1);
    assert(seen.every((line) => line.endsWith(" bytes=100-199")), seen.join("\n"));

    const loop = await failure(`${base}/loop`);
    assertEquals(loop.retry, false);
    assert(loop.message.includes(`more than ${MAX_REDIRECTS} redirects`), loop.message);
    const tooMany = await failure(`${base}/to/${MAX_REDIRECTS}/f`);
    assertEquals(tooMany.retry, false);
  }));

Deno.test("fetchRange: a redirect to a file: URL or with no Location is refused, not followed", () =>
  withServer(async (base, seen) => {
    const toFile = await failure(`${base}/to-file`);
    assertEquals(toFile.retry, false);
    assert(toFile.message.includes("not an http(s) URL"), toFile.message);
    const none = await failure(`${base}/no-location`);
    assertEquals(none.retry, false);
    assertEquals(seen.length, 2);
  }));

Deno.test("fetchRange: which failures are worth trying again", () =>
  withServer(async (base) => {
    const busy = await failure(`${base}/busy`);
    assertEquals([busy.retry, busy.retryAfter], [true, 7]);
    const missing = await failure(`${base}/missing`);
    assertEquals(missing.retry, false);
    assert(missing.message.includes("404"), missing.message);
    assertEquals((await failure(`${base}/wrong-range`)).retry, false);
    const short = await failure(`${base}/short`);
    assertEquals(short.retry, false);
    assert(short.message.includes("shorter than the torrent says"), short.message);
    // Nobody listens: refused, which may pass.
    const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (closed.addr as Deno.NetAddr).port;
    closed.close();
    assertEquals((await failure(`http://127.0.0.1:${port}/f`)).retry, true);
  }));

Deno.test("web seed URLs: a file's URL for single- and multi-file torrents; only http(s) seeds are used", () => {
  const file = { path: ["album", "01 intro.flac"] };
  assertEquals(
    webSeedFileUrl("http://m.example/pub/", { multiFile: true }, file),
    "http://m.example/pub/album/01%20intro.flac",
  );
  assertEquals(
    webSeedFileUrl("http://m.example/pub", { multiFile: true }, file),
    "http://m.example/pub/album/01%20intro.flac",
  );
  const single = { path: ["a b.iso"] };
  assertEquals(
    webSeedFileUrl("http://m.example/x.iso", { multiFile: false }, single),
    "http://m.example/x.iso",
  );
  assertEquals(
    webSeedFileUrl("http://m.example/", { multiFile: false }, single),
    "http://m.example/a%20b.iso",
  );
  assertEquals(
    usableWebSeeds(["ftp://m.example/", "http://a/", "not a url", "https://b/", "http://a/"]),
    ["http://a/", "https://b/"],
  );
});
