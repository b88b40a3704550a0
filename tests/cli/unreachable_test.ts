/**
 * When nothing can be downloaded, shoal says why: a tracker that refuses
 * connections and a UDP tracker that never answers are each reported once
 * per change (in the plain output, as JSON events and in the log), the
 * silent one as failing from its first timeout; while nothing arrives the
 * output says what was tried; `--stall-timeout` gives up with exit 4 and
 * that explanation. `shoal tracker` leaves ourselves out of the peers.
 */
import { encode } from "../../lib/bencode/mod.ts";
import { assert, assertEquals, assertMatch, assertStringIncludes } from "../helpers/assert.ts";
import { singleFileFixture } from "../helpers/content.ts";
import { runShoal, withTempDir } from "../helpers/tools.ts";
import { freePort } from "../helpers/trackers.ts";

Deno.test("unreachable: dead trackers are said once each, with the reason, and --stall-timeout exits 4 saying what was tried", () =>
  withTempDir(async (dir) => {
    const refused = `http://127.0.0.1:${freePort()}/announce`;
    const silent = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    const mute = `udp://127.0.0.1:${(silent.addr as Deno.NetAddr).port}/announce`;
    try {
      const fixture = await singleFileFixture(dir, 50_000, [[refused], [mute]]);
      const out = `${dir}/out`;
      const result = await runShoal([
        fixture.torrent,
        "-d",
        out,
        "-p",
        String(freePort()),
        "--stall-timeout",
        "19s",
      ]);
      assertEquals(result.code, 4, result.stderr);
      const said = (prefix: string) =>
        result.stderr.split("\n").filter((l) => l.startsWith(prefix));
      assertEquals(said(`Tracker ${refused}: failed:`), [
        `Tracker ${refused}: failed: Cannot reach the tracker: connection refused; retrying in 30s`,
      ]);
      assertEquals(said(`Tracker ${mute}: failed:`), [
        `Tracker ${mute}: failed: no answer after 15s, asking again (waiting up to 30s)`,
      ]);
      const waiting = said("Waiting: ");
      assert(waiting.length >= 1, result.stderr);
      for (let i = 1; i < waiting.length; i++) assert(waiting[i] !== waiting[i - 1], "no repeats");
      assertMatch(
        result.stderr,
        /shoal: Nothing arrived for 19 s, so shoal gave up \(--stall-timeout\): all 2 trackers failed \(http:\/\/127\.0\.0\.1:\d+\/announce: Cannot reach the tracker: connection refused\); no peer to try\n$/,
      );
      const log = await Deno.readTextFile(`${out}/.shoal/shoal.log`);
      assertStringIncludes(
        log,
        `WARN  tracker ${refused}: Cannot reach the tracker: connection refused`,
      );
      assertStringIncludes(log, `WARN  tracker ${mute}: no answer after 15s`);
    } finally {
      silent.close();
    }
  }));

Deno.test("unreachable: with --json, tracker changes are event lines and status lines say what is awaited", () =>
  withTempDir(async (dir) => {
    const refused = `http://127.0.0.1:${freePort()}/announce`;
    const fixture = await singleFileFixture(dir, 50_000, [[refused]]);
    const result = await runShoal([
      fixture.torrent,
      "-d",
      `${dir}/out`,
      "-p",
      String(freePort()),
      "--json",
      "--stall-timeout",
      "8s",
    ]);
    assertEquals(result.code, 4, result.stderr);
    const lines = result.stdout.trim().split("\n").map((line) => JSON.parse(line));
    const events = lines.filter((line) => line.event === "tracker");
    assertEquals(events.length, 1, result.stdout);
    assertEquals(events[0].url, refused);
    assertEquals(events[0].state, "failed");
    assertEquals(events[0].error, "Cannot reach the tracker: connection refused");
    const waiting = lines.filter((line) => line.waiting);
    assert(waiting.length >= 2, result.stdout);
    assertStringIncludes(waiting.at(-1).waiting.reason, `the tracker ${refused} failed`);
    assertEquals(lines.filter((line) => line.event === "waiting").length, 1);
  }));

Deno.test("unreachable: shoal tracker leaves our own address out of the peers a tracker returns", () =>
  withTempDir(async (dir) => {
    const port = freePort();
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      () =>
        new Response(encode({
          interval: 1800,
          peers: Uint8Array.from([127, 0, 0, 1, port >> 8, port & 255, 10, 0, 0, 3, 0x1a, 0xe1]),
        })),
    );
    try {
      const fixture = await singleFileFixture(dir, 20_000, [[
        `http://127.0.0.1:${server.addr.port}/announce`,
      ]]);
      const result = await runShoal(["tracker", fixture.torrent, "-p", String(port), "--json"]);
      assertEquals(result.code, 0, result.stderr);
      assertEquals(JSON.parse(result.stdout).trackers[0].peers, ["10.0.0.3:6881"]);
      const text = await runShoal(["tracker", fixture.torrent, "-p", String(port)]);
      assertStringIncludes(text.stdout, "Peers:     1\n    10.0.0.3:6881");
    } finally {
      await server.shutdown();
    }
  }));
