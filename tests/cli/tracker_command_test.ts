/** `shoal tracker` as a real process against real trackers on loopback. */
import { assert, assertEquals, assertStringIncludes } from "../helpers/assert.ts";
import { encode } from "../../lib/bencode/mod.ts";
import { httpAnnounce, httpScrape, UdpTrackerClient } from "../../lib/tracker/mod.ts";
import { fromHex } from "../../lib/util/_bytes.ts";
import { run, runShoal, testWithPrograms, withTempDir, writeRandomFile } from "../helpers/tools.ts";
import { freePort, startBittorrentTracker, startOpentracker } from "../helpers/trackers.ts";

/** Makes a torrent in `dir` and returns its info hash (trackers are outside the info dictionary). */
async function makeTorrent(dir: string, trackers: string[] = []): Promise<string> {
  if (!(await Deno.stat(`${dir}/payload`).catch(() => undefined))) {
    await writeRandomFile(`${dir}/payload`, 100_000);
  }
  const flags = trackers.flatMap((url) => ["-t", url]);
  const made = await runShoal([
    "create",
    "payload",
    "-o",
    "t.torrent",
    "--force",
    "--no-date",
    ...flags,
  ], { cwd: dir });
  assertEquals(made.code, 0, made.stderr);
  const info = await runShoal(["info", "--json", "t.torrent"], { cwd: dir });
  return JSON.parse(info.stdout).infoHash;
}

testWithPrograms("cli: tracker reports every tracker, its peers, and sends stopped", [
  "opentracker",
  "bittorrent-tracker",
  "node",
], () =>
  withTempDir(async (dir) => {
    const hash = await makeTorrent(dir);
    const open = await startOpentracker([hash]);
    const bt = await startBittorrentTracker();
    const dead = `udp://127.0.0.1:${freePort()}/announce`;
    try {
      await makeTorrent(dir, [open.udp, `${open.http},${bt.http}`, bt.udp, dead]);
      // Another peer in the swarm, so there is something to report.
      const other = {
        infoHash: fromHex(hash) ?? new Uint8Array(),
        peerId: new TextEncoder().encode("-XX0001-000000000001"),
        port: 40001,
        uploaded: 0,
        downloaded: 0,
        left: 5,
        event: "started" as const,
        key: 1,
      };
      await httpAnnounce(open.http, other);
      await httpAnnounce(bt.http, other);

      const result = await runShoal([
        "tracker",
        "t.torrent",
        "--json",
        "--timeout",
        "1.5",
        "-p",
        "50505",
      ], { cwd: dir });
      assertEquals(result.code, 0, result.stderr);
      const report = JSON.parse(result.stdout);
      assertEquals(report.infoHash, hash);
      const byUrl = new Map(report.trackers.map((t: { url: string }) => [t.url, t]));
      for (const url of [open.udp, open.http, bt.http, bt.udp]) {
        const entry = byUrl.get(url) as Record<string, unknown>;
        assertEquals(entry.status, "working", `${url}: ${entry.error}`);
        assert(
          (entry.peers as string[]).includes("127.0.0.1:40001"),
          `${url} peers ${entry.peers}`,
        );
        assert(typeof entry.interval === "number");
      }
      assertEquals((byUrl.get(open.http) as { tier: number }).tier, 2);
      const deadEntry = byUrl.get(dead) as Record<string, unknown>;
      assertEquals([deadEntry.status, deadEntry.errorKind], ["failed", "timeout"]);

      // shoal sent "stopped": only the other peer is left in the swarm.
      const scrape = await httpScrape(open.http, [other.infoHash]);
      assertEquals(scrape.get(hash), { complete: 0, incomplete: 1, downloaded: 0 });
      const udp = new UdpTrackerClient();
      try {
        assertEquals((await udp.scrape(bt.udp, [other.infoHash]))[0].incomplete, 1);
      } finally {
        udp.close();
      }

      const human = await runShoal(["tracker", "t.torrent", "--timeout", "1"], { cwd: dir });
      assertEquals(human.code, 0, human.stderr);
      assertStringIncludes(human.stdout, `Tier 1  ${open.udp}`);
      assertStringIncludes(human.stdout, "Status:    working");
      assertStringIncludes(human.stdout, "    127.0.0.1:40001");
      assertStringIncludes(
        human.stdout,
        `Tier 4  ${dead}\n  Status:    failed: The tracker did not answer`,
      );
      assertStringIncludes(human.stdout, `4 of 5 trackers answered`);
    } finally {
      await Promise.all([open.stop(), bt.stop()]);
    }
  }));

testWithPrograms(
  "cli: tracker works from a magnet link",
  ["opentracker"],
  () =>
    withTempDir(async (dir) => {
      const hash = await makeTorrent(dir);
      const open = await startOpentracker([hash]);
      try {
        const magnet = `magnet:?xt=urn:btih:${hash}&dn=payload&tr=${encodeURIComponent(open.udp)}`;
        const result = await runShoal(["tracker", "--json", magnet]);
        assertEquals(result.code, 0, result.stderr);
        const report = JSON.parse(result.stdout);
        assertEquals([report.name, report.trackers[0].status], ["payload", "working"]);
      } finally {
        await open.stop();
      }
    }),
);

Deno.test("cli: tracker fails with exit 4 when no tracker answers or none is listed", () =>
  withTempDir(async (dir) => {
    await makeTorrent(dir, [`http://127.0.0.1:${freePort()}/announce`]);
    const dead = await runShoal(["tracker", "t.torrent", "--timeout", "1"], { cwd: dir });
    assertEquals(dead.code, 4);
    assertStringIncludes(dead.stderr, "No tracker answered");
    assertStringIncludes(dead.stdout, "Cannot reach the tracker");
    await makeTorrent(dir);
    const none = await runShoal(["tracker", "t.torrent"], { cwd: dir });
    assertEquals(none.code, 4);
    assertStringIncludes(none.stderr, "lists no trackers");
    const badPort = await runShoal(["tracker", "t.torrent", "-p", "70000"], { cwd: dir });
    assertEquals(badPort.code, 2);
  }));

Deno.test("cli: tracker without --allow-net says which permission is missing", async () => {
  const hash = "a".repeat(40);
  const cli = new URL("../../cli.ts", import.meta.url).pathname;
  for (
    const tracker of [
      "udp://localhost:1/announce",
      "udp://127.0.0.1:1/announce",
      "http://127.0.0.1:8/announce",
    ]
  ) {
    const output = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        "--no-prompt",
        "--allow-read",
        cli,
        "tracker",
        `magnet:?xt=urn:btih:${hash}&tr=${tracker}`,
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    assertEquals(output.code, 4);
    assertStringIncludes(
      new TextDecoder().decode(output.stdout),
      "run shoal with --allow-net",
      tracker,
    );
  }
});

testWithPrograms("cli: tracker speaks HTTPS (self-signed certificate trusted via DENO_CERT)", [
  "openssl",
], () =>
  withTempDir(async (dir) => {
    const made = await run("openssl", [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=127.0.0.1",
      "-addext",
      "subjectAltName=IP:127.0.0.1",
      "-addext",
      // rustls refuses a server certificate that says it is a CA.
      "basicConstraints=critical,CA:FALSE",
      "-keyout",
      `${dir}/key.pem`,
      "-out",
      `${dir}/cert.pem`,
    ]);
    assertEquals(made.code, 0, made.stderr);
    const peers = Uint8Array.from([127, 0, 0, 1, 0x9c, 0x41]);
    const events: string[] = [];
    const server = Deno.serve({
      hostname: "127.0.0.1",
      port: 0,
      cert: await Deno.readTextFile(`${dir}/cert.pem`),
      key: await Deno.readTextFile(`${dir}/key.pem`),
      onListen: () => {},
    }, (request) => {
      const url = new URL(request.url);
      if (url.pathname === "/scrape") return new Response(encode({ files: {} }));
      events.push(url.searchParams.get("event") ?? "none");
      return new Response(encode({ interval: 600, complete: 2, incomplete: 3, peers }));
    });
    try {
      const magnet = `magnet:?xt=urn:btih:${
        "b".repeat(40)
      }&tr=https://127.0.0.1:${server.addr.port}/announce`;
      const result = await runShoal(["tracker", "--json", magnet], {
        env: { DENO_CERT: `${dir}/cert.pem` },
      });
      assertEquals(result.code, 0, result.stdout + result.stderr);
      const tracker = JSON.parse(result.stdout).trackers[0];
      assertEquals([tracker.status, tracker.peers, tracker.seeders], ["working", [
        "127.0.0.1:40001",
      ], 2]);
      assertEquals(tracker.scrapeError, "the tracker does not know this torrent");
      assertEquals(events, ["started", "stopped"]);
    } finally {
      await server.shutdown();
    }
  }));
