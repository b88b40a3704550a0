/**
 * The daemon's web interface: its files (built from `webui/` into this
 * module by `deno task build:webui`) served with headers that keep a page
 * of another site from framing it or running script in it.
 *
 * @module
 */

import { ASSETS } from "./_assets.ts";

/** The headers every file of the interface is sent with. */
export const WEB_UI_HEADERS: Readonly<Record<string, string>> = {
  "Content-Security-Policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'",
  "X-Content-Type-Options": "nosniff",
  "X-Frame-Options": "DENY",
  "Referrer-Policy": "no-referrer",
  "Cache-Control": "no-cache",
};

/** The paths of the interface's files (`""` is the page itself). */
export function webUiPaths(): string[] {
  return ["", ...Object.keys(ASSETS)];
}

/**
 * The answer to a request for `path` (relative to where the interface is
 * mounted: `""` or `index.html` is the page), or `undefined` when the path
 * is not one of its files.
 *
 * @example Serving the page
 * ```ts
 * import { webUiResponse } from "./web_ui.ts";
 * const page = webUiResponse("", "GET")!;
 * console.assert(page.status === 200);
 * console.assert(page.headers.get("content-type")!.startsWith("text/html"));
 * console.assert(webUiResponse("no-such-file", "GET") === undefined);
 * ```
 */
export function webUiResponse(path: string, method: string): Response | undefined {
  const asset = ASSETS[path === "" ? "index.html" : path];
  if (!asset) return undefined;
  if (method !== "GET" && method !== "HEAD") {
    return new Response("Only GET and HEAD\n", {
      status: 405,
      headers: { Allow: "GET, HEAD", ...WEB_UI_HEADERS },
    });
  }
  return new Response(method === "HEAD" ? null : asset.body, {
    headers: { "Content-Type": asset.type, ...WEB_UI_HEADERS },
  });
}
