/**
 * Text from untrusted torrents and trackers never reaches the terminal as
 * control characters (escape sequences could clear or rewrite the screen),
 * and a torrent cannot make shoal announce to an unbounded number of
 * trackers.
 */
import { encode } from "../../lib/bencode/mod.ts";
import { parseTorrent } from "../../lib/metainfo/mod.ts";
import { formatTorrent } from "../../lib/ui/torrent_view.ts";
import { formatTrackerChange } from "../../lib/ui/download_view.ts";
import { assert, assertEquals, assertStringIncludes } from "../helpers/assert.ts";
import { torrentBytes } from "../helpers/torrents.ts";
import { runShoal, withTempDir } from "../helpers/tools.ts";

// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

Deno.test("hostile text: a torrent's comment, creator and URLs print without control characters", () => {
  const torrent = parseTorrent(torrentBytes({}, {
    comment: "first line\n\x1b]0;owned\x07\x1b[2Jsecond",
    "created by": "tool\x1b[31m",
    "announce-list": [["http://ok.example/announce", "http://bad.example/\x1b[2J"]],
    "url-list": ["https://seed.example/\u202egpj.exe"],
  }));
  assertEquals(torrent.trackers, [["http://ok.example/announce"]]);
  assertEquals(torrent.webSeeds, []);
  assert(torrent.warnings.some((w) => w.includes("control characters")), torrent.warnings.join());
  const shown = formatTorrent(torrent);
  assert(!CONTROL.test(shown), JSON.stringify(shown));
  assertStringIncludes(shown, "Comment:      first line\n              ?]0;owned??[2Jsecond");
  assertStringIncludes(shown, "Created by:   tool?[31m");
});

Deno.test("hostile text: a torrent with thousands of trackers and web seeds keeps the first 500 of each", () => {
  const tiers = Array.from({ length: 3000 }, (_, i) => [`http://t${i}.example/announce`]);
  const seeds = Array.from({ length: 3000 }, (_, i) => `https://s${i}.example/`);
  const torrent = parseTorrent(torrentBytes({}, { "announce-list": tiers, "url-list": seeds }));
  assertEquals(torrent.trackers.flat().length, 500);
  assertEquals(torrent.webSeeds.length, 500);
  assert(torrent.warnings.includes("Only the first 500 trackers are used"));
});

Deno.test("hostile text: a tracker's failure reason with escape sequences is printed inert", () =>
  withTempDir(async (dir) => {
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      () => new Response(encode({ "failure reason": "\x1b[2J\x1b[Hyou are banned\r\n" })),
    );
    try {
      const url = `http://127.0.0.1:${server.addr.port}/announce`;
      await Deno.writeFile(`${dir}/t.torrent`, torrentBytes({}, { announce: url }));
      const result = await runShoal(["tracker", `${dir}/t.torrent`]);
      assertEquals(result.code, 4);
      assert(!CONTROL.test(result.stdout), JSON.stringify(result.stdout));
      assertStringIncludes(result.stdout, "failed: ?[2J?[Hyou are banned??");
      const line = formatTrackerChange({
        url,
        tier: 1,
        state: "failed",
        lastError: "\x1b[2Jx",
      });
      assertEquals(line, `Tracker ${url}: failed: ?[2Jx`);
    } finally {
      await server.shutdown();
    }
  }));
