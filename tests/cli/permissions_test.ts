/**
 * Each command with the narrowest permissions the README documents for it,
 * and each permission refusal turned into an error that names the flag to
 * add, with the documented exit code (never "a bug" and a stack trace).
 * Also: seeding data that may only be read (state in --state-dir or the
 * user's state directory), --bind, a taken port said on the display, and
 * the lock that keeps a second shoal off a torrent's state.
 */
import { encode } from "../../lib/bencode/mod.ts";
import { assert, assertEquals, assertMatch, assertStringIncludes } from "../helpers/assert.ts";
import { assertSameContent, seededFixture, singleFileFixture } from "../helpers/content.ts";
import { run, SHOAL_CLI, spawnShoal, withoutDiscovery, withTempDir } from "../helpers/tools.ts";
import { readTorrentFile } from "../../lib/metainfo/mod.ts";
import { Session } from "../../lib/session/session.ts";
import { freePort } from "../helpers/trackers.ts";
import { until } from "../helpers/until.ts";

/** Runs the CLI with exactly `permissions` (and no prompt), in `cwd`. */
function shoalWith(
  permissions: string[],
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
) {
  return run(
    Deno.execPath(),
    ["run", "--quiet", "--no-prompt", ...permissions, SHOAL_CLI, ...withoutDiscovery(args)],
    {
      cwd,
      env: { NO_COLOR: "1", ...env },
    },
  );
}

/** No stack trace, no "a bug": a refusal is an error the user can act on. */
function assertClean(stderr: string): void {
  assert(!/a bug|\n\s+at /.test(stderr), `printed a trace:\n${stderr}`);
}

Deno.test("permissions: info, create and verify with only the files they touch", () =>
  withTempDir(async (dir) => {
    const fixture = await singleFileFixture(dir, 100_000);
    const data = `${fixture.dataDir}/single.bin`;
    const info = await shoalWith(
      [`--allow-read=${fixture.torrent}`],
      ["info", fixture.torrent],
      dir,
    );
    assertEquals(info.code, 0, info.stderr);
    const noRead = await shoalWith([], ["info", fixture.torrent], dir);
    assertEquals(noRead.code, 5);
    assertStringIncludes(noRead.stderr, `--allow-read=${fixture.torrent}`);
    assertClean(noRead.stderr);

    await Deno.mkdir(`${dir}/out`);
    const create = await shoalWith(
      [`--allow-read=${data},${dir}/out`, `--allow-write=${dir}/out`],
      ["create", data, "-o", `${dir}/out/made.torrent`],
      dir,
    );
    assertEquals(create.code, 0, create.stderr);
    const noWrite = await shoalWith(
      [`--allow-read=${data},${dir}/out`],
      ["create", data, "-o", `${dir}/out/again.torrent`],
      dir,
    );
    assertEquals(noWrite.code, 5);
    assertStringIncludes(noWrite.stderr, "--allow-write");
    assertClean(noWrite.stderr);

    const verify = await shoalWith(
      [`--allow-read=${fixture.torrent},${fixture.dataDir}`],
      ["verify", fixture.torrent, "-d", fixture.dataDir],
      dir,
    );
    assertEquals(verify.code, 0, verify.stderr);
    // Without read access to the data, verify says so: it does not call the data missing.
    const blind = await shoalWith(
      [`--allow-read=${fixture.torrent}`],
      ["verify", fixture.torrent, "-d", fixture.dataDir],
      dir,
    );
    assertEquals(blind.code, 5, blind.stdout);
    assertStringIncludes(blind.stderr, `Cannot read ${fixture.dataDir}/single.bin`);
    assertStringIncludes(blind.stderr, "--allow-read");
    assert(!blind.stdout.includes("pieces are good"), blind.stdout);
    assertClean(blind.stderr);
  }));

Deno.test("permissions: tracker needs read for the torrent and the network; without the network it exits 4", () =>
  withTempDir(async (dir) => {
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      () => new Response(encode({ interval: 1800, peers: new Uint8Array() })),
    );
    try {
      const url = `http://127.0.0.1:${server.addr.port}/announce`;
      const fixture = await singleFileFixture(dir, 20_000, [[url]]);
      const ok = await shoalWith(
        [`--allow-read=${fixture.torrent}`, "--allow-net=127.0.0.1"],
        ["tracker", fixture.torrent],
        dir,
      );
      assertEquals(ok.code, 0, ok.stderr);
      const offline = await shoalWith(
        [`--allow-read=${fixture.torrent}`],
        ["tracker", fixture.torrent],
        dir,
      );
      assertEquals(offline.code, 4, offline.stdout + offline.stderr);
      assertStringIncludes(offline.stdout, "--allow-net");
      assertClean(offline.stderr);
    } finally {
      await server.shutdown();
    }
  }));

Deno.test("permissions: download with read and write for its folder, the network on 127.0.0.1 and --bind", () =>
  withTempDir(async (dir) => {
    const { fixture, peer } = await seededFixture(dir, 400_000);
    try {
      const out = `${dir}/dl`;
      const narrow = [
        `--allow-read=${fixture.torrent},${out}`,
        `--allow-write=${out}`,
        "--allow-net=127.0.0.1",
        "--unstable-net",
      ];
      const args = (extra: string[]) => [
        "download",
        fixture.torrent,
        "-d",
        out,
        "-p",
        String(freePort()),
        "--peer",
        peer.address,
        ...extra,
      ];
      // Listening on every address is more than --allow-net=127.0.0.1 allows: said, with what to do.
      const everywhere = await shoalWith(narrow, args([]), dir);
      assertEquals(everywhere.code, 4, everywhere.stderr);
      assertStringIncludes(everywhere.stderr, "Cannot listen for peers on [::]");
      assertStringIncludes(everywhere.stderr, "--bind");
      assertStringIncludes(everywhere.stderr, "--allow-net");
      assertClean(everywhere.stderr);
      const bound = await shoalWith(narrow, args(["--bind", "127.0.0.1"]), dir);
      assertEquals(bound.code, 0, bound.stderr);
      assertMatch(bound.stdout, /Port: +\d+ on 127\.0\.0\.1\n/);
      await assertSameContent(fixture, out);
    } finally {
      await peer.stop();
    }
  }));

Deno.test("permissions: stream needs what download needs; its HTTP server is covered by the network on 127.0.0.1", () =>
  withTempDir(async (dir) => {
    const { fixture, peer } = await seededFixture(dir, 400_000);
    const out = `${dir}/dl`;
    const { output, stop } = spawnShoal(
      [
        "stream",
        fixture.torrent,
        "-d",
        out,
        "-p",
        String(freePort()),
        "--bind",
        "127.0.0.1",
        "--peer",
        peer.address,
      ],
      {
        permissions: [
          `--allow-read=${fixture.torrent},${out}`,
          `--allow-write=${out}`,
          "--allow-net=127.0.0.1",
          "--unstable-net",
        ],
        cwd: dir,
      },
    );
    try {
      await output.waitFor(/Streaming: (http:\S+)/, 20_000, "shoal stream");
      const url = /Streaming: (http:\S+)/.exec(output.text)![1];
      const body = new Uint8Array(await (await fetch(url)).arrayBuffer());
      assertEquals(body, await Deno.readFile(`${fixture.dataDir}/single.bin`));
      assertClean(output.text);
    } finally {
      await stop();
      await peer.stop();
    }
  }));

Deno.test("permissions: a magnet download and info --fetch need no more than a .torrent's", () =>
  withTempDir(async (dir) => {
    const { fixture, peer } = await seededFixture(dir, 400_000);
    const seed = new Session({ port: 0, host: "127.0.0.1" });
    try {
      const torrent = await readTorrentFile(fixture.torrent);
      const handle = seed.add(torrent, { downloadDir: fixture.dataDir, seed: true });
      await handle.done;
      const magnet = `magnet:?xt=urn:btih:${torrent.infoHashHex}&x.pe=127.0.0.1:${seed.port}`;
      const out = `${dir}/dl`;
      const bound = ["-p", String(freePort()), "--bind", "127.0.0.1"];
      const download = await shoalWith(
        [`--allow-read=${out}`, `--allow-write=${out}`, "--allow-net=127.0.0.1", "--unstable-net"],
        ["download", magnet, "-d", out, ...bound],
        dir,
      );
      assertEquals(download.code, 0, download.stderr);
      await assertSameContent(fixture, out);
      const info = await shoalWith(
        ["--allow-read", "--allow-write", "--allow-net=127.0.0.1", "--unstable-net"],
        ["info", "--fetch", magnet, ...bound],
        dir,
      );
      assertEquals(info.code, 0, info.stderr);
      assertStringIncludes(info.stdout, "single.bin");
    } finally {
      await seed.close();
      await peer.stop();
    }
  }));

Deno.test("permissions: a taken port is said on the display, not only in the log", () =>
  withTempDir(async (dir) => {
    const { fixture, peer } = await seededFixture(dir, 50_000);
    const port = freePort();
    const taken = Deno.listen({ hostname: "127.0.0.1", port });
    try {
      const result = await shoalWith(
        ["--allow-read", "--allow-write", "--allow-net", "--unstable-net"],
        [
          fixture.torrent,
          "-d",
          `${dir}/dl`,
          "-p",
          String(port),
          "--bind",
          "127.0.0.1",
          "--peer",
          peer.address,
        ],
        dir,
      );
      assertEquals(result.code, 0, result.stderr);
      assertMatch(
        result.stdout,
        new RegExp(`Port: +${port + 1} on 127\\.0\\.0\\.1 \\(port ${port} was taken`),
      );
    } finally {
      taken.close();
      await peer.stop();
    }
  }));

/** Starts `shoal seed` with `permissions`; resolves once it seeds. */
async function startSeed(
  permissions: string[],
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
) {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--no-prompt",
      ...permissions,
      SHOAL_CLI,
      ...withoutDiscovery(["seed", ...args, "--json"]),
    ],
    cwd,
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes('"state":"seeding"')) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  const stderr = new Response(child.stderr).text();
  return {
    seeding: text.includes('"state":"seeding"'),
    stop: async () => {
      child.kill("SIGINT");
      const status = await child.status;
      await reader.cancel();
      return { code: status.code, stderr: await stderr };
    },
  };
}

Deno.test("permissions: seed reads its data and nothing more; state goes to --state-dir or the user's state folder", () =>
  withTempDir(async (dir) => {
    const fixture = await singleFileFixture(dir, 300_000);
    const before = await Deno.stat(`${fixture.dataDir}/single.bin`);
    for (const where of ["state-dir", "xdg"] as const) {
      const port = freePort();
      const state = where === "state-dir" ? `${dir}/state` : `${dir}/home/.local/state/shoal`;
      const seed = await startSeed(
        [
          `--allow-read=${fixture.torrent},${fixture.dataDir},${state}`,
          `--allow-write=${state}`,
          "--allow-net=127.0.0.1",
          "--unstable-net",
          ...(where === "xdg" ? ["--allow-env=XDG_STATE_HOME,HOME"] : []),
        ],
        [
          fixture.torrent,
          "-d",
          fixture.dataDir,
          "-p",
          String(port),
          "--bind",
          "127.0.0.1",
          ...(where === "state-dir" ? ["--state-dir", state] : []),
        ],
        dir,
        where === "xdg" ? { HOME: `${dir}/home` } : {},
      );
      try {
        assert(seed.seeding, `${where}: shoal seed did not start seeding`);
        const out = `${dir}/leech-${where}`;
        const leech = await shoalWith(
          ["--allow-read", "--allow-write", "--allow-net", "--unstable-net"],
          [
            fixture.torrent,
            "-d",
            out,
            "-p",
            String(freePort()),
            "--bind",
            "127.0.0.1",
            "--peer",
            `127.0.0.1:${port}`,
          ],
          dir,
        );
        assertEquals(leech.code, 0, leech.stderr);
        await assertSameContent(fixture, out);
      } finally {
        const stopped = await seed.stop();
        assertEquals(stopped.code, 0, stopped.stderr);
      }
      const names = [...Deno.readDirSync(state)].map((entry) => entry.name).sort();
      assert(
        names.includes("shoal.log") && names.some((n) => n.endsWith(".resume")),
        names.join(" "),
      );
    }
    assertEquals([...Deno.readDirSync(fixture.dataDir)].map((e) => e.name), ["single.bin"]);
    const after = await Deno.stat(`${fixture.dataDir}/single.bin`);
    assertEquals(after.mtime?.getTime(), before.mtime?.getTime(), "the data was not touched");
    // With neither, it says what to do.
    const nowhere = await shoalWith(
      [
        `--allow-read=${fixture.torrent},${fixture.dataDir}`,
        "--allow-net=127.0.0.1",
        "--unstable-net",
      ],
      [
        "seed",
        fixture.torrent,
        "-d",
        fixture.dataDir,
        "--bind",
        "127.0.0.1",
        "-p",
        String(freePort()),
      ],
      dir,
    );
    assertEquals(nowhere.code, 2, nowhere.stderr);
    assertStringIncludes(nowhere.stderr, "--state-dir");
    assertClean(nowhere.stderr);
  }));

Deno.test("permissions: a second shoal on the same torrent and folder is refused while the first runs", () =>
  withTempDir(async (dir) => {
    const fixture = await singleFileFixture(dir, 300_000);
    const port = freePort();
    const all = ["--allow-read", "--allow-write", "--allow-net", "--unstable-net"];
    const first = await startSeed(all, [
      fixture.torrent,
      "-d",
      fixture.dataDir,
      "-p",
      String(port),
      "--bind",
      "127.0.0.1",
    ], dir);
    try {
      assert(first.seeding);
      const second = await shoalWith(
        all,
        [
          "seed",
          fixture.torrent,
          "-d",
          fixture.dataDir,
          "-p",
          String(freePort()),
          "--bind",
          "127.0.0.1",
        ],
        dir,
      );
      assertEquals(second.code, 1, second.stderr);
      assertMatch(second.stderr, /Another shoal \(process \d+\) is running single\.bin/);
      assertClean(second.stderr);
    } finally {
      assertEquals((await first.stop()).code, 0);
    }
    // Once the first has stopped, the lock is free again.
    const again = await startSeed(all, [
      fixture.torrent,
      "-d",
      fixture.dataDir,
      "-p",
      String(freePort()),
      "--bind",
      "127.0.0.1",
    ], dir);
    assert(again.seeding);
    assertEquals((await again.stop()).code, 0);
  }));

Deno.test("permissions: demo needs files and the network on 127.0.0.1 only", () =>
  withTempDir(async (dir) => {
    const result = await shoalWith(
      ["--allow-read", "--allow-write", "--allow-net=127.0.0.1", "--unstable-net"],
      ["demo", "--size", "2m"],
      dir,
    );
    assertEquals(result.code, 0, result.stderr);
    assertStringIncludes(result.stdout, "the download is byte-identical to the original");
  }));

Deno.test("permissions: daemon with its folders and the network on 127.0.0.1; remote with the RPC's address only", () =>
  withTempDir(async (dir) => {
    const fixture = await singleFileFixture(dir, 50_000);
    const rpcPort = freePort();
    const rpc = `127.0.0.1:${rpcPort}`;
    const daemonArgs = [
      "daemon",
      "--state-dir",
      `${dir}/state`,
      "-d",
      `${dir}/dl`,
      "-p",
      "0",
      "--bind",
      "127.0.0.1",
      "--rpc-port",
      String(rpcPort),
    ];
    const daemon = spawnShoal(daemonArgs, {
      permissions: [
        `--allow-read=${dir}/state,${dir}/dl`,
        `--allow-write=${dir}/state,${dir}/dl`,
        "--allow-net=127.0.0.1",
        "--unstable-net",
      ],
      cwd: dir,
    });
    try {
      await until(() => daemon.output.text.includes("RPC on"), () => daemon.output.text);
      const remote = (permissions: string[], ...args: string[]) =>
        shoalWith(permissions, ["remote", "--rpc", rpc, ...args], dir);
      const added = await remote(
        [`--allow-net=${rpc}`, `--allow-read=${fixture.torrent}`],
        "add",
        "--paused",
        fixture.torrent,
      );
      assertEquals(added.code, 0, added.stderr);
      assertStringIncludes(added.stdout, "Added: single.bin");
      const listed = await remote([`--allow-net=${rpc}`], "list");
      assertEquals(listed.code, 0, listed.stderr);
      assertMatch(listed.stdout, /Paused\s+single\.bin$/m);
      // Without the network: exit 4 and the flag to add.
      const refused = await remote([], "list");
      assertEquals(refused.code, 4);
      assertStringIncludes(refused.stderr, `--allow-net=127.0.0.1`);
      assertClean(refused.stderr);
    } finally {
      await daemon.stop();
    }
    // Without write access to its state folder the daemon says so and exits 5.
    const noWrite = await shoalWith(
      [`--allow-read=${dir}`, "--allow-net=127.0.0.1", "--unstable-net"],
      [...daemonArgs.slice(0, -1), String(freePort())],
      dir,
    );
    assertEquals(noWrite.code, 5, noWrite.stderr);
    assertStringIncludes(noWrite.stderr, "--allow-write");
    assertClean(noWrite.stderr);
  }));
