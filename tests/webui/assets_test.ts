/**
 * The web interface's files: the committed `lib/webui/_assets.ts` is what
 * `deno task build:webui` makes of `webui/` today (a stale build fails
 * here), and they are served with headers that keep other sites out.
 */
import { assert, assertEquals, assertStringIncludes } from "../helpers/assert.ts";
import { buildAssets } from "../../tools/build_webui.ts";
import { WEB_UI_HEADERS, webUiPaths, webUiResponse } from "../../lib/webui/web_ui.ts";

Deno.test("web interface: lib/webui/_assets.ts is the build of webui/ (run deno task build:webui)", async () => {
  const committed = await Deno.readTextFile(new URL("../../lib/webui/_assets.ts", import.meta.url));
  assert(
    committed === await buildAssets(),
    "lib/webui/_assets.ts is stale: run `deno task build:webui` and commit it",
  );
});

Deno.test("web interface: each file with its type and the headers; only GET and HEAD", async () => {
  assertEquals(webUiPaths().sort(), ["", "app.js", "favicon.svg", "index.html", "style.css"]);
  const page = webUiResponse("", "GET")!;
  assertStringIncludes(page.headers.get("content-type")!, "text/html");
  for (const [name, value] of Object.entries(WEB_UI_HEADERS)) {
    assertEquals(page.headers.get(name), value);
  }
  const html = await page.text();
  // Everything from the daemon itself: no address of another server in the page.
  assert(!/(src|href)="(https?:)?\/\//.test(html), "the page loads nothing from elsewhere");
  assertStringIncludes(webUiResponse("app.js", "GET")!.headers.get("content-type")!, "javascript");
  const head = webUiResponse("style.css", "HEAD")!;
  assertEquals(head.status, 200);
  assertEquals(await head.text(), "");
  const post = webUiResponse("", "POST")!;
  assertEquals(post.status, 405);
  assertEquals(post.headers.get("allow"), "GET, HEAD");
  await post.body?.cancel();
  assertEquals(webUiResponse("../etc/passwd", "GET"), undefined);
  assertEquals(webUiResponse("transmission/rpc", "GET"), undefined);
});
