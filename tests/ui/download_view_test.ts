/**
 * What the download display says, as text: sizes and rates rounded for
 * people, the tracker line in singular and plural and when every tracker
 * fails, the summary after a resume (what came now, what was there), the
 * seeding summary, and fitting lines to a terminal's width.
 */
import type { TorrentStatus } from "../../lib/session/torrent_handle.ts";
import type { TrackerStatus } from "../../lib/tracker/announcer.ts";
import {
  formatProgressBlock,
  formatProgressLine,
  formatSeedSummary,
  formatSummary,
  formatTrackerLine,
} from "../../lib/ui/download_view.ts";
import { displayWidth, fitToWidth } from "../../lib/ui/_text_width.ts";
import { formatBytes } from "../../lib/util/size.ts";
import { assert, assertEquals } from "../helpers/assert.ts";

const MiB = 1024 * 1024;

function status(fields: Partial<TorrentStatus>): TorrentStatus {
  return {
    name: "big.iso",
    infoHash: "ab".repeat(20),
    state: "downloading",
    piecesDone: 0,
    pieceCount: 64,
    bytesDone: 0,
    bytesAtStart: 0,
    totalBytes: 64 * MiB,
    torrentBytes: 64 * MiB,
    filesSkipped: 0,
    progress: 0,
    downloadRate: 0,
    averageDownloadRate: 0,
    uploadRate: 0,
    downloaded: 0,
    uploaded: 0,
    wasted: 0,
    hashFailures: 0,
    peersConnected: 0,
    peersSeen: 0,
    peersBanned: 0,
    peersUsed: 0,
    peersServed: 0,
    webSeeds: [],
    peersTried: 0,
    elapsedMs: 0,
    trackers: [],
    ...fields,
  };
}

Deno.test("view: byte counts and rates are whole bytes below a KiB", () => {
  assertEquals(formatBytes(1014.2419859669465), "1014 B");
  assertEquals(formatBytes(1023.7), "1 KiB");
  assertEquals(formatBytes(0.4), "0 B");
});

Deno.test("view: the tracker line counts peers in singular and plural and says why all fail", () => {
  const now = Date.now();
  const working = (peers: number): TrackerStatus => ({
    url: "http://a/announce",
    tier: 1,
    state: "working",
    peersReturned: peers,
  });
  assertEquals(formatTrackerLine([working(1)]), "1 of 1 working, 1 peer in last replies");
  assertEquals(
    formatTrackerLine([working(1), working(2)]),
    "2 of 2 working, 3 peers in last replies",
  );
  assertEquals(
    formatTrackerLine([{ url: "udp://t:1", tier: 1, state: "idle" }]),
    "1 tracker, not announced yet",
  );
  assertEquals(
    formatTrackerLine(
      [{
        url: "udp://t:1",
        tier: 1,
        state: "failed",
        lastError: "The tracker did not answer after 3 tries over 105 s",
        nextAnnounce: new Date(now + 30_000),
      }],
      now,
    ),
    "0 of 1 working: udp://t:1: The tracker did not answer after 3 tries over 105 s; retrying in 30s",
  );
  assertEquals(formatTrackerLine([]), "none (peers from --peer only)");
});

Deno.test("view: before the existing data is looked at, the block says so instead of checking 0%", () => {
  const lines = formatProgressBlock(status({ state: "checking" }));
  assertEquals(lines[0], "Starting: looking at what is on disk already (64 pieces)");
});

Deno.test("view: after a resume the summary says what came now and what was there", () => {
  const resumed = formatSummary(
    status({
      state: "complete",
      bytesDone: 64 * MiB,
      bytesAtStart: 29.5 * MiB,
      downloaded: 34.5 * MiB,
      peersUsed: 3,
      completedAfterMs: 19_000,
    }),
    "downloads/big.iso",
  );
  assertEquals(
    resumed.split("\n")[1],
    "  34.5 MiB received in 19s (average 1.82 MiB/s) from 3 peers; 29.5 MiB were on disk already",
  );
  const fresh = formatSummary(
    status({
      state: "complete",
      bytesDone: 64 * MiB,
      downloaded: 64 * MiB,
      peersUsed: 1,
      completedAfterMs: 4000,
    }),
    "downloads/big.iso",
  );
  assertEquals(fresh.split("\n")[1], "  64 MiB received in 4s (average 16 MiB/s) from 1 peer");
});

Deno.test("view: stopping a seed sums up the seeding, not a download", () => {
  const summary = formatSeedSummary(
    status({ state: "complete", uploaded: 96 * MiB, peersServed: 2, elapsedMs: 332_000 }),
  );
  assertEquals(
    summary,
    "Stopped seeding: big.iso (64 MiB)\n  Uploaded 96 MiB (ratio 1.50) to 2 peers in 5m 32s",
  );
});

Deno.test("view: lines are cut to the terminal's width by display width, escape codes kept", () => {
  assertEquals(displayWidth("\x1b[32m███\x1b[0m 日本"), 8);
  assertEquals(
    fitToWidth("Trackers: 0 of 1 working: udp://tracker.example:6969", 20),
    "Trackers: 0 of 1 wo…",
  );
  assertEquals(fitToWidth("映画のタイトル.mkv", 9), "映画のタ…");
  assertEquals(fitToWidth("\x1b[32m██████████\x1b[0m", 5), "\x1b[32m████…\x1b[0m");
  const bar = formatProgressBlock(status({ progress: 0.5, piecesDone: 32, bytesDone: 32 * MiB }), {
    columns: 40,
  })[0];
  assert(displayWidth(bar) <= 39, `the bar shrinks to fit 40 columns: ${bar}`);
  assert(bar.endsWith("50.00% (32/64 pieces)"), bar);
});

Deno.test("view: a seed whose file changed says how much it still seeds, and what happened", () => {
  const damaged =
    "big.iso was cut from 67108864 to 33554432 bytes: 32 of its 64 pieces no longer match";
  const block = formatProgressBlock(
    status({
      state: "seeding",
      piecesDone: 32,
      bytesDone: 32 * MiB,
      fileError: damaged,
    }),
  );
  assertEquals(block[0], "Seeding:  big.iso, 32 of 64 pieces (32 MiB of 64 MiB)");
  assertEquals(block.at(-1), `Damaged:  ${damaged}`);
  const whole = formatProgressBlock(status({ state: "seeding", piecesDone: 64 }));
  assertEquals(whole[0], "Seeding:  big.iso, all 64 pieces (64 MiB)");
  assert(!whole.some((line) => line.startsWith("Damaged:")));
  assertEquals(
    formatProgressLine(status({ state: "seeding", piecesDone: 32 })),
    "[seeding] 32/64 pieces, uploaded 0 B, ratio 0.00, ↑ 0 B/s, 0/0 peers",
  );
});
