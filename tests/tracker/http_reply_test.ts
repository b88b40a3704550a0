/** HTTP tracker replies read from their bodies alone (the client against real servers is fake_http_tracker_test.ts). */
import { assertEquals, assertThrows } from "../helpers/assert.ts";
import { encode } from "../../lib/bencode/encode.ts";
import { decodeTrackerReply, parseAnnounceReply } from "../../lib/tracker/http.ts";
import { TrackerError } from "../../lib/tracker/errors.ts";

const OK = { ok: true, status: 200, statusText: "OK" };

Deno.test("http reply: dictionary peers whose ip is no address are skipped (found by fuzzing)", () => {
  const body = encode({
    interval: 60,
    peers: [
      { ip: "127.0.0.1", port: 6881 },
      { ip: "127.0\x07\x1b[2J", port: 6882 }, // would reach the terminal in `shoal tracker`
      { ip: "127.0\n0.1", port: 6883 },
      { ip: "http://tracker.example/announce", port: 6884 },
      { ip: "", port: 6885 },
      { ip: "x".repeat(254), port: 6886 },
      { ip: "[2001:db8::1]", port: 6887 },
      { ip: "peer-7.example.org", port: 6888 },
      { ip: "fe80::1%eth0", port: 6889 },
    ],
  });
  assertEquals(parseAnnounceReply(decodeTrackerReply(body, OK)).peers, [
    { host: "127.0.0.1", port: 6881 },
    { host: "2001:db8::1", port: 6887 },
    { host: "peer-7.example.org", port: 6888 },
    { host: "fe80::1%eth0", port: 6889 },
  ]);
});

Deno.test("http reply: a failure reason wins over an HTTP error, which wins over garbage", () => {
  const failure = encode({ "failure reason": "go away\x1b[2J" });
  const notFound = { ok: false, status: 404, statusText: "Not Found" };
  const error = assertThrows(() => decodeTrackerReply(failure, notFound), TrackerError);
  assertEquals([error.kind, error.message], ["failure", "go away?[2J"]);
  const garbage = new TextEncoder().encode("<html>");
  assertEquals(
    assertThrows(() => decodeTrackerReply(garbage, notFound), TrackerError).kind,
    "http-status",
  );
  assertEquals(
    assertThrows(() => decodeTrackerReply(garbage, OK), TrackerError).kind,
    "invalid-reply",
  );
});
