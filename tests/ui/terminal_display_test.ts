/**
 * The live display as a terminal shows it: `shoal download` in a tmux pane
 * at 100 and at 40 columns, with a tracker whose error is longer than a
 * row, with Ctrl-C, with `-v`, and with the pane narrowed while it runs.
 * The screen is read back as tmux renders it: the block must be there once
 * (no stale copies above it in the scrollback), every line of it on one
 * row, and messages above it intact.
 */
import { assert, assertEquals, assertStringIncludes } from "../helpers/assert.ts";
import { seededFixture } from "../helpers/content.ts";
import type { FakePeer } from "../helpers/fake_peer.ts";
import { openTerminal, type Terminal, withoutExitMark } from "../helpers/terminal.ts";
import { SHOAL_CLI, testWithPrograms, withTempDir } from "../helpers/tools.ts";
import { freePort } from "../helpers/trackers.ts";

/** A tracker that refuses connections, named by a URL longer than any row. */
const DEAD_TRACKER = `http://127.0.0.1:2/announce?passkey=${"f00d".repeat(16)}`;
const LABELS = ["Progress:", "Size:", "Speed:", "Peers:", "Time:", "Trackers:"];

async function slowSeed(
  dir: string,
  delayMs: number,
): Promise<{ torrent: string; peer: FakePeer }> {
  const { fixture, peer } = await seededFixture(dir, 1_200_000, { delayMs }, [[DEAD_TRACKER]]);
  return { torrent: fixture.torrent, peer };
}

function shoal(torrent: string, peer: FakePeer, out: string, extra: string[] = []): string[] {
  return [
    Deno.execPath(),
    "run",
    "--quiet",
    "--allow-all",
    SHOAL_CLI,
    torrent,
    "-d",
    out,
    "-p",
    String(freePort()),
    "--bind",
    "127.0.0.1",
    "--peer",
    peer.address,
    "--no-lsd",
    "--no-dht",
    ...extra,
  ];
}

/** Checks one screen: each block line once, on one row that fits, and nothing else starting mid-line. */
function assertOneBlock(rows: string[], columns: number, when: string): void {
  for (const label of LABELS) {
    const found = rows.filter((row) => row.startsWith(label));
    assertEquals(
      found.length,
      1,
      `${when}: "${label}" is on ${found.length} rows:\n${rows.join("\n")}`,
    );
  }
  for (const row of rows) {
    assert([...row].length <= columns, `${when}: a row is wider than the terminal`);
  }
  const block = rows.findIndex((row) => row.startsWith("Progress:") || row.startsWith("Starting:"));
  const trackers = rows.findIndex((row) => row.startsWith("Trackers:"));
  assertEquals(trackers - block, 5, `${when}: the block's rows are together:\n${rows.join("\n")}`);
}

async function watch(terminal: Terminal, columns: number, samples: number): Promise<void> {
  for (let i = 0; i < samples; i++) {
    await new Promise((resolve) => setTimeout(resolve, 700));
    const rows = withoutExitMark(await terminal.rows());
    if (rows.some((row) => row.startsWith("Progress:"))) {
      assertOneBlock(rows, columns, `sample ${i}`);
    }
  }
}

for (const columns of [100, 40]) {
  testWithPrograms(
    `display: at ${columns} columns the block is redrawn in place, each line fitted to a row, the long tracker error cut with …`,
    ["tmux"],
    () =>
      withTempDir(async (dir) => {
        const { torrent, peer } = await slowSeed(dir, 40);
        const terminal = await openTerminal(shoal(torrent, peer, `${dir}/out`), {
          columns,
          cwd: dir,
        });
        try {
          await terminal.waitFor(/^Progress:/);
          await watch(terminal, columns, 4);
          assertEquals(await terminal.exited(), 0);
          const rows = withoutExitMark(await terminal.rows());
          assertOneBlock(rows, columns, "at the end");
          const trackerRow = rows.find((row) => row.startsWith("Trackers:"))!;
          assert(trackerRow.endsWith("…"), `the tracker line is cut: ${trackerRow}`);
          assertStringIncludes(trackerRow, "0 of 1 working");
          const lines = withoutExitMark(await terminal.lines());
          assert(
            lines.some((line) => line.startsWith("Download complete: single.bin")),
            lines.join("\n"),
          );
          // The tracker's failure was also said once, in full, above the block.
          const said = lines.filter((line) => line.startsWith(`Tracker ${DEAD_TRACKER}: failed:`));
          assertEquals(said.length, 1, lines.join("\n"));
        } finally {
          await terminal.close();
          await peer.stop();
        }
      }),
  );
}

testWithPrograms(
  "display: Ctrl-C prints its line above the block, intact, and the block ends once",
  ["tmux"],
  () =>
    withTempDir(async (dir) => {
      const { torrent, peer } = await slowSeed(dir, 150);
      const terminal = await openTerminal(shoal(torrent, peer, `${dir}/out`), {
        columns: 40,
        cwd: dir,
      });
      try {
        await terminal.waitFor(/^Size: +[1-9]/);
        await terminal.keys("C-c");
        assertEquals(await terminal.exited(), 130);
        const rows = withoutExitMark(await terminal.rows());
        assertOneBlock(rows, 40, "after Ctrl-C");
        const lines = withoutExitMark(await terminal.lines());
        const stopping = lines.findIndex((line) =>
          line === "Stopping: telling trackers, saving resume data (Ctrl-C again to quit at once)"
        );
        assert(stopping >= 0, `the Stopping line is intact:\n${lines.join("\n")}`);
        const block = lines.findIndex((line) => line.startsWith("Progress:"));
        assert(stopping < block, "it is above the block");
        assert(lines.some((line) => line.startsWith("Stopped at ")), lines.join("\n"));
      } finally {
        await terminal.close();
        await peer.stop();
      }
    }),
);

testWithPrograms(
  "display: with -v, log lines appear above the block, each whole",
  ["tmux"],
  () =>
    withTempDir(async (dir) => {
      const { torrent, peer } = await slowSeed(dir, 30);
      const terminal = await openTerminal(shoal(torrent, peer, `${dir}/out`, ["-v"]), {
        columns: 100,
        cwd: dir,
      });
      try {
        assertEquals(await terminal.exited(), 0);
        const lines = withoutExitMark(await terminal.lines());
        const logLines = lines.filter((line) => / (DEBUG|INFO|WARN) /.test(line));
        assert(logLines.length >= 3, lines.join("\n"));
        for (const line of logLines) {
          assert(
            /^\d{4}-\d\d-\d\dT[\d:.]+Z (DEBUG|INFO |WARN ) \S/.test(line),
            `a log line is cut: ${line}`,
          );
          assert(
            !LABELS.some((label) => line.includes(label)),
            `the block runs into a log line: ${line}`,
          );
        }
        assert(lines.some((line) => line.includes(`DEBUG peer ${peer.address}: connected`)));
        assertOneBlock(withoutExitMark(await terminal.rows()), 100, "at the end");
      } finally {
        await terminal.close();
        await peer.stop();
      }
    }),
);

testWithPrograms(
  "display: narrowing the terminal while the block is live leaves no stale rows",
  ["tmux"],
  () =>
    withTempDir(async (dir) => {
      const { torrent, peer } = await slowSeed(dir, 60);
      const terminal = await openTerminal(shoal(torrent, peer, `${dir}/out`), {
        columns: 100,
        cwd: dir,
      });
      try {
        await terminal.waitFor(/^Progress:/);
        await new Promise((resolve) => setTimeout(resolve, 1200));
        await terminal.resize(40);
        await watch(terminal, 40, 3);
        assertEquals(await terminal.exited(), 0);
        assertOneBlock(withoutExitMark(await terminal.rows()), 40, "after narrowing");
      } finally {
        await terminal.close();
        await peer.stop();
      }
    }),
);
