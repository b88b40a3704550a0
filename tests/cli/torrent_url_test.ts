/**
 * Torrent files given by URL: `shoal info` and `shoal download` fetch them
 * from a real HTTP server on loopback; a missing file, a web page, a file
 * over the size cap, a server that never finishes and one nobody runs each
 * end with an error that says what happened (exit 4 for the network, 3 for
 * what is not a torrent).
 */
import { readTorrentFile } from "../../lib/metainfo/mod.ts";
import { fetchTorrent } from "../../lib/metainfo/fetch.ts";
import { NetworkError } from "../../lib/errors.ts";
import { TorrentError } from "../../lib/metainfo/errors.ts";
import { assertEquals, assertRejects, assertStringIncludes } from "../helpers/assert.ts";
import { assertSameContent, singleFileFixture } from "../helpers/content.ts";
import { startFakePeer } from "../helpers/fake_peer.ts";
import { runShoal, withTempDir } from "../helpers/tools.ts";
import { freePort } from "../helpers/trackers.ts";

/** A web server with a torrent, a web page, an endless body and a huge announced length. */
function webServer(torrentBytes: Uint8Array<ArrayBuffer>) {
  const endless = new Set<ReadableStreamDefaultController>();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const path = new URL(request.url).pathname;
    if (path === "/x.torrent") {
      return new Response(torrentBytes, {
        headers: { "content-type": "application/x-bittorrent" },
      });
    }
    if (path === "/moved") return Response.redirect(new URL("/x.torrent", request.url), 302);
    if (path === "/page") {
      return new Response("<html><body>Download here</body></html>", {
        headers: { "content-type": "text/html" },
      });
    }
    if (path === "/huge") {
      return new Response(
        new ReadableStream({
          pull(controller) {
            controller.enqueue(new Uint8Array(1024 * 1024));
          },
        }),
      );
    }
    if (path === "/slow") {
      return new Response(
        new ReadableStream({ start: (controller) => void endless.add(controller) }),
      );
    }
    return new Response("not here", { status: 404, statusText: "Not Found" });
  });
  const base = `http://127.0.0.1:${server.addr.port}`;
  return {
    base,
    stop: async () => {
      for (const controller of endless) {
        try {
          controller.close();
        } catch {
          // The client went away and the stream was cancelled.
        }
      }
      await server.shutdown();
    },
  };
}

Deno.test("torrent url: info and download fetch the torrent file over HTTP", () =>
  withTempDir(async (dir) => {
    const fixture = await singleFileFixture(dir, 200_000);
    const torrent = await readTorrentFile(fixture.torrent);
    const web = webServer(await Deno.readFile(fixture.torrent));
    const peer = startFakePeer(torrent, await Deno.readFile(`${fixture.dataDir}/single.bin`));
    try {
      const info = await runShoal(["info", "--json", `${web.base}/moved`]);
      assertEquals(info.code, 0, info.stderr);
      assertEquals(JSON.parse(info.stdout).infoHash, torrent.infoHashHex);
      const download = await runShoal([
        `${web.base}/x.torrent`,
        "-d",
        `${dir}/out`,
        "-p",
        String(freePort()),
        "--peer",
        peer.address,
      ]);
      assertEquals(download.code, 0, download.stderr);
      await assertSameContent(fixture, `${dir}/out`);
    } finally {
      await peer.stop();
      await web.stop();
    }
  }));

Deno.test("torrent url: missing, a web page, too large, too slow, nobody there: each says why", () =>
  withTempDir(async (dir) => {
    const fixture = await singleFileFixture(dir, 20_000);
    const web = webServer(await Deno.readFile(fixture.torrent));
    try {
      const missing = await runShoal(["info", `${web.base}/gone.torrent`]);
      assertEquals(missing.code, 4);
      assertStringIncludes(missing.stderr, "the server answered HTTP 404 Not Found");
      const page = await runShoal(["info", `${web.base}/page`]);
      assertEquals(page.code, 3);
      assertStringIncludes(page.stderr, "the server sent a web page, not a .torrent file");
      const huge = await runShoal(["info", `${web.base}/huge`]);
      assertEquals(huge.code, 3);
      assertStringIncludes(huge.stderr, "torrent files that large are refused");
      const nobody = await runShoal(["info", `http://127.0.0.1:${freePort()}/x.torrent`]);
      assertEquals(nobody.code, 4);
      assertStringIncludes(nobody.stderr, "Cannot download the torrent from");
      await assertRejects(
        () => fetchTorrent(`${web.base}/slow`, { timeoutMs: 300 }),
        NetworkError,
        "no complete answer within 0.3 s",
      );
      await assertRejects(
        () => fetchTorrent(`${web.base}/x.torrent`, { maxBytes: 100 }),
        TorrentError,
        "over 100 bytes",
      );
    } finally {
      await web.stop();
    }
  }));
