/**
 * Fuzz targets of tracker replies: HTTP bodies, UDP packets and compact
 * peer lists.
 *
 * @module
 */

import {
  MAX_COMPACT_PEERS as MAX_PEERS_PER_REPLY,
  parseCompactPeers,
} from "../../lib/net/compact.ts";
import {
  ACTION_ANNOUNCE,
  ACTION_CONNECT,
  ACTION_ERROR,
  ACTION_SCRAPE,
  judgeUdpReply,
  parseUdpAnnounceReply,
  parseUdpConnectReply,
  parseUdpScrapeReply,
  udpReplyHeader,
} from "../../lib/tracker/_udp_reply.ts";
import { TrackerError } from "../../lib/tracker/errors.ts";
import {
  decodeTrackerReply,
  parseAnnounceReply,
  parseScrapeReply,
  type ReplyStatus,
} from "../../lib/tracker/http.ts";
import type { AnnounceResult } from "../../lib/tracker/types.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import { compactPeerSeeds, httpReplySeeds, udpReplySeeds } from "./seeds.ts";
import { assertPrintable, checkPeers, type FuzzTarget, isCount } from "./target.ts";

/** Where a tracker's peer can be: an IP address or a DNS name. */
const HOST = /^[A-Za-z0-9._:%-]{1,253}$/;

function checkAnnounce(result: AnnounceResult, maxPeers: number): void {
  assert(Number.isSafeInteger(result.interval) && result.interval > 0, "interval");
  for (const { host } of result.peers) assert(HOST.test(host), `peer host ${JSON.stringify(host)}`);
  assert(isCount(result.minInterval) && isCount(result.complete), "counts");
  assert(isCount(result.incomplete), "incomplete");
  assert(result.peers.length <= maxPeers, `${result.peers.length} peers`);
  checkPeers(result.peers, "announce");
  if (result.warning !== undefined) assertPrintable(result.warning, "warning");
  assert(result.problems.every((problem) => typeof problem === "string"), "problems");
}

const STATUSES: ReplyStatus[] = [
  { ok: true, status: 200, statusText: "OK" },
  { ok: false, status: 404, statusText: "Not Found" },
];

/** http-reply: a tracker's reply body with status 200 and 404, read as announce and scrape. */
function httpReplyTarget(): FuzzTarget {
  return {
    name: "http-reply",
    entry: "decodeTrackerReply, parseAnnounceReply, parseScrapeReply (lib/tracker/http.ts)",
    seeds: httpReplySeeds(),
    expected: (error) => error instanceof TrackerError,
    run(input) {
      let accepted = false;
      for (const status of STATUSES) {
        let reply;
        try {
          reply = decodeTrackerReply(input, status);
        } catch (error) {
          if (!(error instanceof TrackerError)) throw error;
          assert(["failure", "invalid-reply", "http-status"].includes(error.kind), error.kind);
          assertPrintable(error.message, "the error message");
          continue;
        }
        accepted = true;
        checkAnnounce(parseAnnounceReply(reply), 2 * MAX_PEERS_PER_REPLY);
        for (const [hash, counts] of parseScrapeReply(reply)) {
          assert(/^[0-9a-f]{40}$/.test(hash), `scrape key ${hash}`);
          assert(isCount(counts.complete) && isCount(counts.incomplete), "scrape counts");
          assert(isCount(counts.downloaded), "scrape downloaded");
        }
      }
      return accepted;
    },
  };
}

/** udp-reply: a packet judged as the reply to each kind of request, and parsed. */
function udpReplyTarget(): FuzzTarget {
  return {
    name: "udp-reply",
    entry: "udpReplyHeader, judgeUdpReply, parseUdp…Reply (lib/tracker/_udp_reply.ts)",
    seeds: udpReplySeeds(),
    expected: () => false,
    run(input) {
      const header = udpReplyHeader(input);
      if (header === undefined) {
        assert(input.length < 8, "a long packet without a header");
        return false;
      }
      let accepted = false;
      for (const action of [ACTION_CONNECT, ACTION_ANNOUNCE, ACTION_SCRAPE]) {
        const verdict = judgeUdpReply(input, action);
        if (verdict.kind === "error") {
          assert(header.action === ACTION_ERROR, "an error verdict for another action");
          assert(verdict.error.message.length > 0, "an empty error message");
          assertPrintable(verdict.error.message, "the error message");
          continue;
        }
        if (verdict.kind === "ignore") continue;
        assert(header.action === action, "a reply of another action accepted");
        accepted = true;
        if (action === ACTION_CONNECT) {
          assert(typeof parseUdpConnectReply(input) === "bigint", "connection id");
        } else if (action === ACTION_ANNOUNCE) {
          for (const family of [4, 6] as const) {
            const result = parseUdpAnnounceReply(input, family);
            checkAnnounce(result, Math.floor((input.length - 20) / (family === 4 ? 6 : 18)));
          }
        } else {
          for (const count of [1, 2, 74]) {
            const results = parseUdpScrapeReply(input, count);
            assert(results.length === Math.min(count, Math.floor((input.length - 8) / 12)));
          }
        }
      }
      return accepted;
    },
  };
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/**
 * compact-peers: parseCompactPeers, IPv4 and IPv6; IPv6 hosts must be
 * canonical (RFC 5952), IPv4-mapped ones plain IPv4.
 */
function compactPeersTarget(): FuzzTarget {
  return {
    name: "compact-peers",
    entry: "parseCompactPeers, formatIpv6 (lib/tracker/_compact_peers.ts)",
    seeds: compactPeerSeeds(),
    expected: () => false,
    run(input) {
      for (const family of [4, 6] as const) {
        const stride = family === 4 ? 6 : 18;
        const { peers, leftover } = parseCompactPeers(input, family);
        assert(leftover === input.length % stride, "leftover");
        const entries = Math.min(Math.floor(input.length / stride), MAX_PEERS_PER_REPLY);
        let withPort = 0;
        for (let i = 0; i < entries; i++) {
          if (input[i * stride + stride - 2] !== 0 || input[i * stride + stride - 1] !== 0) {
            withPort++;
          }
        }
        assert(peers.length === withPort, "a peer lost or made up");
        for (const peer of peers) {
          assert(peer.port >= 1 && peer.port <= 65535, `port ${peer.port}`);
          // An IPv4-mapped IPv6 entry is given as the IPv4 address it names.
          if (family === 4 || !peer.host.includes(":")) {
            assert(IPV4.test(peer.host), `IPv4 host ${peer.host}`);
          } else {
            assertEquals(new URL(`http://[${peer.host}]/`).hostname, `[${peer.host}]`);
          }
        }
      }
      return input.length >= 6;
    },
  };
}

/** The tracker reply targets. */
export function trackerTargets(): FuzzTarget[] {
  return [httpReplyTarget(), udpReplyTarget(), compactPeersTarget()];
}
