/** UDP tracker replies read from their bytes alone (the client on a socket is fake_udp_tracker_test.ts). */
import { assertEquals } from "../helpers/assert.ts";
import {
  ACTION_ANNOUNCE,
  ACTION_CONNECT,
  judgeUdpReply,
  parseUdpAnnounceReply,
  udpReplyHeader,
} from "../../lib/tracker/_udp_reply.ts";

function announceReply(...peers: number[][]): Uint8Array {
  const head = new Uint8Array(20);
  const view = new DataView(head.buffer);
  view.setUint32(0, ACTION_ANNOUNCE);
  view.setUint32(4, 0x2222);
  view.setUint32(8, 1800);
  return Uint8Array.from([...head, ...peers.flat()]);
}

Deno.test("udp reply: a peer named twice in an announce reply is given once (found by fuzzing)", () => {
  const reply = announceReply(
    [10, 0, 0, 1, 0x1a, 0xe1],
    [10, 0, 0, 2, 0x1a, 0xe1],
    [10, 0, 0, 1, 0x1a, 0xe1],
  );
  assertEquals(parseUdpAnnounceReply(reply, 4).peers, [
    { host: "10.0.0.1", port: 6881 },
    { host: "10.0.0.2", port: 6881 },
  ]);
  // The fuzzer's input: two identical 6-byte entries of "999999".
  const fuzzed = announceReply([...new Uint8Array(12).fill(0x39)]);
  assertEquals(parseUdpAnnounceReply(fuzzed, 4).peers, [{ host: "57.57.57.57", port: 0x3939 }]);
});

Deno.test("udp reply: short packets, other actions and error packets", () => {
  assertEquals(udpReplyHeader(new Uint8Array(7)), undefined);
  const reply = announceReply();
  assertEquals(udpReplyHeader(reply), { action: ACTION_ANNOUNCE, transaction: 0x2222 });
  assertEquals(judgeUdpReply(reply, ACTION_ANNOUNCE), { kind: "reply" });
  assertEquals(judgeUdpReply(reply, ACTION_CONNECT).kind, "ignore");
  assertEquals(judgeUdpReply(reply.subarray(0, 19), ACTION_ANNOUNCE), {
    kind: "ignore",
    reason: "a 19-byte reply is too short",
  });
  const error = Uint8Array.from([
    0,
    0,
    0,
    3,
    0,
    0,
    0,
    1,
    ...new TextEncoder().encode("no\x1b[2J\0"),
  ]);
  const verdict = judgeUdpReply(error, ACTION_ANNOUNCE);
  assertEquals(verdict.kind === "error" && verdict.error.message, "no?[2J");
});
