/**
 * A small HTTP server for web seed faults nginx does not make: it serves a
 * folder, and can ignore `Range` (answer 200 with the whole file, as
 * `python3 -m http.server` does), answer 503 to the first requests (with
 * `Retry-After: 1`), serve damaged bytes, or answer 404 for some paths. It
 * logs each request.
 *
 * @module
 */

/** How the server misbehaves. */
export interface WebServerFaults {
  /** Answer 200 with the whole file to every request. */
  ignoreRange?: boolean;
  /** Answer 503 (Retry-After: 1) to this many requests first. */
  failFirst?: number;
  /** Flip the bytes of every answer. */
  damage?: boolean;
  /** Paths (decoded, from the root) answered with 404. */
  missing?: string[];
}

/** A running server. */
export interface WebServer {
  /** `http://127.0.0.1:<port>/`. */
  url: string;
  /** Requests so far: path (decoded), Range header, status. */
  readonly requests: { path: string; range: string | null; status: number }[];
  /** Stops it. */
  stop(): Promise<void>;
}

/** Serves `root` on a free loopback port with the given faults. */
export function startWebServer(root: string, faults: WebServerFaults = {}): WebServer {
  const requests: WebServer["requests"] = [];
  let failures = faults.failFirst ?? 0;
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (request) => {
      const path = decodeURIComponent(new URL(request.url).pathname);
      const range = request.headers.get("range");
      const answer = (status: number, body: BodyInit | null, headers: HeadersInit = {}) => {
        requests.push({ path, range, status });
        return new Response(body, { status, headers });
      };
      if (failures > 0) {
        failures--;
        return answer(503, "busy\n", { "retry-after": "1" });
      }
      if (faults.missing?.includes(path) || path.includes("..")) return answer(404, "no\n");
      let bytes: Uint8Array<ArrayBuffer>;
      try {
        bytes = await Deno.readFile(root + path);
      } catch {
        return answer(404, "no\n");
      }
      if (faults.damage) bytes = bytes.map((byte) => byte ^ 0xff);
      const match = /^bytes=(\d+)-(\d*)$/.exec(range ?? "");
      if (faults.ignoreRange || !match) return answer(200, bytes);
      const start = Number(match[1]);
      const end = match[2] === "" ? bytes.length : Math.min(bytes.length, Number(match[2]) + 1);
      return answer(206, bytes.slice(start, end), {
        "content-range": `bytes ${start}-${end - 1}/${bytes.length}`,
      });
    },
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}/`,
    requests,
    stop: () => server.shutdown(),
  };
}
