/**
 * Serves this checkout over HTTP on loopback, as a web server or a raw
 * repository URL would, so tests can import shoal from a URL.
 *
 * @module
 */

import { REPO_ROOT } from "./paths.ts";

const TYPES: Record<string, string> = {
  ts: "application/typescript; charset=utf-8",
  js: "application/javascript; charset=utf-8",
  json: "application/json",
  md: "text/markdown; charset=utf-8",
};

/** A running file server. */
export interface FileServer {
  /** `http://127.0.0.1:<port>` (no trailing slash). */
  base: string;
  /** `127.0.0.1:<port>`, for `--allow-import`. */
  host: string;
  /** Paths requested so far. */
  requests: string[];
  /** Stops serving. */
  stop(): Promise<void>;
}

/** Starts serving the checkout's files read-only on a free loopback port. */
export function serveCheckout(): FileServer {
  const requests: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    const path = decodeURIComponent(new URL(request.url).pathname);
    requests.push(path);
    if (path.includes("..") || path.includes("node_modules")) {
      return new Response("no", { status: 403 });
    }
    try {
      const body = await Deno.readFile(`${REPO_ROOT}${path}`);
      const type = TYPES[path.slice(path.lastIndexOf(".") + 1)] ?? "application/octet-stream";
      return new Response(body, { headers: { "content-type": type } });
    } catch {
      return new Response("not found", { status: 404 });
    }
  });
  const host = `127.0.0.1:${server.addr.port}`;
  return { base: `http://${host}`, host, requests, stop: () => server.shutdown() };
}
