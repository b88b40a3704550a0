/**
 * `shoal download` and `shoal verify` as a user runs them: flags and errors,
 * the three progress forms, Ctrl-C, resume after SIGKILL at several points,
 * and `verify` finding exactly the damaged piece. The seeder is a fake peer
 * in this process (slowed down where the test needs time to act).
 */
import { defaultStateDir, loadResume, resumePath } from "../../lib/storage/resume.ts";
import { assert, assertEquals, assertMatch, assertStringIncludes } from "../helpers/assert.ts";
import { assertSameContent, seededFixture } from "../helpers/content.ts";
import type { FakePeer, FakePeerBehaviour } from "../helpers/fake_peer.ts";
import { run, runShoal, shoalArgs, testWithPrograms, withTempDir } from "../helpers/tools.ts";
import { freePort } from "../helpers/trackers.ts";

/** `shoal <torrent> -d <out> -p <free port> --peer <peer>`, plus `extra`. */
function downloadArgs(
  torrent: string,
  out: string,
  peer: FakePeer,
  extra: string[] = [],
): string[] {
  return [torrent, "-d", out, "-p", String(freePort()), "--peer", peer.address, ...extra];
}

function seeder(dir: string, length: number, delayMs = 0, behaviour: FakePeerBehaviour = {}) {
  return seededFixture(dir, length, { delayMs, ...behaviour });
}

/** Starts `shoal download --json` as a child whose JSON lines can be watched. */
function spawnDownload(torrent: string, out: string, peer: FakePeer) {
  const child = new Deno.Command(Deno.execPath(), {
    args: shoalArgs(["download", ...downloadArgs(torrent, out, peer, ["--json"])]),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const lines: Record<string, unknown>[] = [];
  const waiters: { test: (line: Record<string, unknown>) => boolean; resolve: () => void }[] = [];
  const reading = (async () => {
    let text = "";
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      text += chunk;
      let newline;
      while ((newline = text.indexOf("\n")) >= 0) {
        const line = JSON.parse(text.slice(0, newline));
        text = text.slice(newline + 1);
        lines.push(line);
        for (const waiter of waiters) if (waiter.test(line)) waiter.resolve();
      }
    }
  })();
  const stderr = new Response(child.stderr).text();
  return {
    child,
    lines,
    until: (test: (line: Record<string, unknown>) => boolean) =>
      new Promise<void>((resolve) => {
        if (lines.some(test)) resolve();
        else waiters.push({ test, resolve });
      }),
    finish: async () => {
      const status = await child.status;
      await reading;
      return { code: status.code, stderr: await stderr };
    },
  };
}

Deno.test("cli download: errors a user can act on", () =>
  withTempDir(async (dir) => {
    const { fixture, peer } = await seeder(dir, 1000);
    await peer.stop();
    const noPeers = await runShoal([fixture.torrent, "-d", `${dir}/out`]);
    assertEquals(noPeers.code, 4);
    assertStringIncludes(
      noPeers.stderr,
      "lists no trackers and no web seeds; name peers to connect to with --peer host:port",
    );
    const magnet = await runShoal([`magnet:?xt=urn:btih:${"a".repeat(40)}`]);
    assertEquals(magnet.code, 4);
    assertStringIncludes(magnet.stderr, "The magnet link names no trackers and no peers");
    const badPeer = await runShoal(["download", fixture.torrent, "--peer", "nonsense"]);
    assertEquals(badPeer.code, 2);
    assertStringIncludes(badPeer.stderr, "expected host:port");
    const badMax = await runShoal(["download", fixture.torrent, "-m", "0"]);
    assertEquals(badMax.code, 2);
    const missing = await runShoal(["download", `${dir}/nope.torrent`]);
    assertEquals(missing.code, 5);
  }));

Deno.test("cli download: plain progress without escape codes, a summary, a log file; verify agrees", () =>
  withTempDir(async (dir) => {
    const { fixture, peer } = await seeder(dir, 500_000);
    try {
      const result = await runShoal(downloadArgs(fixture.torrent, `${dir}/out`, peer));
      assertEquals(result.code, 0, result.stderr);
      assert(!result.stdout.includes("\x1b"), "no escape codes when stdout is not a terminal");
      assertMatch(result.stdout, /\[100\.00%\] 31\/31 pieces/);
      assertStringIncludes(result.stdout, "Download complete: single.bin");
      assertMatch(result.stdout, / received in [\d.]+s \(average [\d.]+ [KM]iB\/s\) from 1 peer\n/);
      await assertSameContent(fixture, `${dir}/out`);
      const log = await Deno.readTextFile(`${dir}/out/.shoal/shoal.log`);
      assertStringIncludes(log, `peer ${peer.address}: connected`);
      const verify = await runShoal(["verify", fixture.torrent, "-d", `${dir}/out`]);
      assertEquals(verify.code, 0, verify.stderr);
      assertStringIncludes(verify.stdout, "All 31 pieces are good.");
      const again = await runShoal(downloadArgs(fixture.torrent, `${dir}/out`, peer));
      assertEquals(again.code, 0);
      assertStringIncludes(again.stdout, "already complete on disk");
    } finally {
      await peer.stop();
    }
  }));

Deno.test("cli verify: a changed byte is found in exactly its piece", () =>
  withTempDir(async (dir) => {
    const { fixture, peer } = await seeder(dir, 300_000);
    await peer.stop();
    const path = `${fixture.dataDir}/single.bin`;
    const file = await Deno.open(path, { read: true, write: true });
    await file.seek(5 * 16384 + 100, Deno.SeekMode.Start);
    const byte = new Uint8Array(1);
    await file.read(byte);
    await file.seek(5 * 16384 + 100, Deno.SeekMode.Start);
    await file.write(new Uint8Array([byte[0] ^ 1]));
    file.close();
    const result = await runShoal(["verify", fixture.torrent, "-d", fixture.dataDir, "--json"]);
    assertEquals(result.code, 1);
    const report = JSON.parse(result.stdout);
    assertEquals(report.badPieces, [5]);
    assertEquals(report.files[0].state, "incomplete");
    assertStringIncludes(result.stderr, "1 of 19 pieces are missing or damaged");
    const text = await runShoal(["verify", fixture.torrent, "-d", fixture.dataDir]);
    assertStringIncludes(text.stdout, "missing or damaged: 5");
    const none = await runShoal(["verify", fixture.torrent, "-d", `${dir}/empty`, "--json"]);
    assertEquals(JSON.parse(none.stdout).files[0].state, "missing");
  }));

Deno.test("cli download: --json prints a status line a second; Ctrl-C stops cleanly with 130 and the next run resumes", () =>
  withTempDir(async (dir) => {
    const { fixture, peer, torrent } = await seeder(dir, 1_000_000, 40);
    try {
      const first = spawnDownload(fixture.torrent, `${dir}/out`, peer);
      await first.until((line) => (line.piecesDone as number) >= 5);
      first.child.kill("SIGINT");
      const stopped = await first.finish();
      assertEquals(stopped.code, 130, stopped.stderr);
      assertStringIncludes(stopped.stderr, "Interrupted");
      const last = first.lines.at(-1)!;
      assertEquals(last.state, "stopped");
      assert((last.piecesDone as number) < torrent.pieceCount);
      await Deno.stat(`${dir}/out/.shoal/${torrent.infoHashHex}.resume`);
      const second = spawnDownload(fixture.torrent, `${dir}/out`, peer);
      const done = await second.finish();
      assertEquals(done.code, 0, done.stderr);
      assert(
        (second.lines[1]?.piecesDone as number) >= (last.piecesDone as number),
        "resumed, not restarted",
      );
      assertEquals(second.lines.at(-1)!.state, "complete");
      await assertSameContent(fixture, `${dir}/out`);
      const log = await Deno.readTextFile(`${dir}/out/.shoal/shoal.log`);
      assertStringIncludes(log, "resume data matches the files on disk");
    } finally {
      await peer.stop();
    }
  }));

Deno.test("resume: SIGKILL at several moments, then a restart completes the download byte for byte", () =>
  withTempDir(async (dir) => {
    const { fixture, peer, torrent } = await seeder(dir, 2_000_000, 15);
    try {
      for (const fraction of [0, 0.2, 0.5, 0.8]) {
        const run = spawnDownload(fixture.torrent, `${dir}/out`, peer);
        await run.until((line) =>
          line.state === "complete" || (line.piecesDone as number) >= fraction * torrent.pieceCount
        );
        run.child.kill("SIGKILL");
        await run.finish();
      }
      const last = spawnDownload(fixture.torrent, `${dir}/out`, peer);
      const result = await last.finish();
      assertEquals(result.code, 0, result.stderr);
      await assertSameContent(fixture, `${dir}/out`);
    } finally {
      await peer.stop();
    }
  }));

testWithPrograms(
  "cli download: on a terminal the progress block is redrawn in place",
  ["script"],
  () =>
    withTempDir(async (dir) => {
      const { fixture, peer } = await seeder(dir, 1_000_000, 20);
      try {
        const command = [
          Deno.execPath(),
          ...shoalArgs(downloadArgs(fixture.torrent, `${dir}/out`, peer)),
        ].join(" ");
        const result = await run("script", ["-qec", command, "/dev/null"], {
          cwd: dir,
          env: { NO_COLOR: "1" },
        });
        assertEquals(result.code, 0, result.stdout);
        // Back up the 6 rows of the block, clear to the end of the screen, draw it again.
        assertStringIncludes(result.stdout, "\r\x1b[6F\x1b[JProgress: |");
        assertMatch(result.stdout, /Peers: +1 connected \| 50 max \| 1 seen/);
        assertStringIncludes(result.stdout, "Trackers: none (peers from --peer only)");
        assert(!result.stdout.includes("\x1b[32m"), "NO_COLOR: no colour");
      } finally {
        await peer.stop();
      }
    }),
);

Deno.test("cli download: a file that cannot be written stops with exit 5 and names it; -v logs to stderr", () =>
  withTempDir(async (dir) => {
    const { fixture, peer } = await seeder(dir, 300_000);
    try {
      // Files above 100 KiB cannot be written: the sparse file cannot be made (EFBIG).
      const shoal = [
        Deno.execPath(),
        ...shoalArgs(downloadArgs(fixture.torrent, `${dir}/out`, peer, ["-v"])),
      ];
      const command = `trap '' XFSZ; ulimit -f 100; exec ${shoal.join(" ")}`;
      const result = await run("bash", ["-c", command]);
      assertEquals(result.code, 5, result.stderr);
      assertStringIncludes(result.stderr, `${dir}/out/single.bin`);
      const ok = await runShoal(downloadArgs(fixture.torrent, `${dir}/ok`, peer, ["-v"]));
      assertEquals(ok.code, 0);
      assertStringIncludes(ok.stderr, `DEBUG peer ${peer.address}: connected (outgoing)`);
    } finally {
      await peer.stop();
    }
  }));

Deno.test("cli download: a disk error in the middle stops with exit 5 and keeps every verified piece", () =>
  withTempDir(async (dir) => {
    // 19 pieces of 16 KiB; the first 10 are offered first, the rest 1 s later.
    const { fixture, peer, torrent } = await seeder(dir, 300_000, 0, {
      revealLater: { first: 10, afterMs: 1000 },
    });
    try {
      // The file exists at full size, so only writes past 160 KiB (10 pieces) fail (EFBIG), mid-download.
      await Deno.mkdir(`${dir}/out`);
      await Deno.writeFile(`${dir}/out/single.bin`, new Uint8Array());
      await Deno.truncate(`${dir}/out/single.bin`, 300_000);
      const shoal = [
        Deno.execPath(),
        ...shoalArgs(downloadArgs(fixture.torrent, `${dir}/out`, peer)),
      ];
      const failed = await run("bash", [
        "-c",
        `trap '' XFSZ; ulimit -f 160; exec ${shoal.join(" ")}`,
      ]);
      assertEquals(failed.code, 5, failed.stdout + failed.stderr);
      assertStringIncludes(failed.stderr, `Cannot write to ${dir}/out/single.bin`);
      const resume =
        (await loadResume(resumePath(defaultStateDir(`${dir}/out`), torrent), torrent))!;
      assertEquals(resume.pieces.count, 10, "the ten pieces written before the error are recorded");
      const verify = JSON.parse(
        (await runShoal(["verify", fixture.torrent, "-d", `${dir}/out`, "--json"])).stdout,
      );
      assertEquals(verify.piecesGood, 10);
      const again = await runShoal(downloadArgs(fixture.torrent, `${dir}/out`, peer));
      assertEquals(again.code, 0, again.stderr);
      await assertSameContent(fixture, `${dir}/out`);
    } finally {
      await peer.stop();
    }
  }));

Deno.test("cli demo: a real transfer on loopback, byte-identical, with throughput", async () => {
  const result = await runShoal(["demo", "--size", "3m"]);
  assertEquals(result.code, 0, result.stderr);
  assertStringIncludes(result.stdout, "Download complete: shoal-demo.bin");
  assertMatch(
    result.stdout,
    /Demo complete: 3 MiB in [\d.]+ s \([\d.]+ [KMG]?i?B\/s\) over loopback; the download is byte-identical/,
  );
});

Deno.test("cli seed: serves a complete download to another shoal, refuses incomplete data", () =>
  withTempDir(async (dir) => {
    const { fixture, peer } = await seeder(dir, 700_000);
    await peer.stop();
    const incomplete = await runShoal([
      "seed",
      fixture.torrent,
      "-d",
      `${dir}/nothing`,
      "-p",
      String(freePort()),
    ]);
    assertEquals(incomplete.code, 1);
    assertStringIncludes(incomplete.stderr, "Only 0 of 43 pieces of single.bin are in");
    const port = freePort();
    const seed = new Deno.Command(Deno.execPath(), {
      args: shoalArgs([
        "seed",
        fixture.torrent,
        "-d",
        fixture.dataDir,
        "-p",
        String(port),
        "--json",
      ]),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const lines = seed.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    while (!text.includes('"state":"seeding"')) {
      const { value, done } = await lines.read();
      if (done) break;
      text += value;
    }
    try {
      const result = await runShoal([
        fixture.torrent,
        "-d",
        `${dir}/out`,
        "-p",
        String(freePort()),
        "--peer",
        `127.0.0.1:${port}`,
      ]);
      assertEquals(result.code, 0, result.stderr);
      await assertSameContent(fixture, `${dir}/out`);
    } finally {
      seed.kill("SIGINT");
      const status = await seed.status;
      assertEquals(status.code, 0, "Ctrl-C ends seeding with success");
      await lines.cancel();
      await seed.stderr.cancel();
    }
  }));

Deno.test("cli download: -v with --json mirrors the log to stderr and keeps stdout JSON only", () =>
  withTempDir(async (dir) => {
    const { fixture, peer } = await seeder(dir, 100_000);
    try {
      const result = await runShoal(
        downloadArgs(fixture.torrent, `${dir}/out`, peer, ["--json", "-v"]),
      );
      assertEquals(result.code, 0, result.stderr);
      assertStringIncludes(result.stderr, `DEBUG peer ${peer.address}: connected (outgoing)`);
      for (const line of result.stdout.trim().split("\n")) JSON.parse(line);
    } finally {
      await peer.stop();
    }
  }));

Deno.test("cli download: --seed-time seeds that long after completing, then exits 0", () =>
  withTempDir(async (dir) => {
    const { fixture, peer } = await seeder(dir, 300_000);
    try {
      const started = Date.now();
      const result = await runShoal(
        downloadArgs(fixture.torrent, `${dir}/out`, peer, ["--seed-time", "2s"]),
      );
      assertEquals(result.code, 0, result.stderr);
      assert(Date.now() - started >= 2000, "it seeded for 2 s");
      assertStringIncludes(result.stdout, "Download complete: single.bin");
      await assertSameContent(fixture, `${dir}/out`);
      const log = await Deno.readTextFile(`${dir}/out/.shoal/shoal.log`);
      assertStringIncludes(log, "seeded for 2 s");
    } finally {
      await peer.stop();
    }
  }));
