/**
 * shoal as people outside the project use it: `mod.ts` imported from a URL
 * by a script of its own, `cli.ts` run from a URL, `deno doc` on the URL,
 * and the README's Library examples, each in a folder outside the checkout
 * with a fresh Deno cache (so nothing from this checkout's `deno.json`,
 * import map or cache can help).
 */
import { assert, assertEquals, assertMatch, assertStringIncludes } from "../helpers/assert.ts";
import { serveCheckout } from "../helpers/file_server.ts";
import { REPO_ROOT } from "../helpers/paths.ts";
import { run, withTempDir } from "../helpers/tools.ts";
import { VERSION } from "../../lib/version.ts";

/** Runs `deno` in `dir` with a cache of its own, as a user's machine would. */
function deno(dir: string, args: string[]) {
  return run(Deno.execPath(), args, {
    cwd: dir,
    env: { DENO_DIR: `${dir}/.deno-cache`, NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
  });
}

Deno.test("library: a script outside the checkout imports mod.ts from a URL and parses a torrent", () =>
  withTempDir(async (dir) => {
    const server = serveCheckout();
    try {
      await Deno.writeTextFile(
        `${dir}/use_shoal.ts`,
        `import { createTorrent, magnetFromTorrent, parseTorrent, VERSION } from "${server.base}/mod.ts";
await Deno.writeTextFile("hello.txt", "hello from outside\\n");
const { bytes } = await createTorrent("hello.txt", { trackers: [["udp://tracker.example:6969"]] });
const torrent = parseTorrent(bytes);
console.log(VERSION, torrent.name, torrent.totalLength, magnetFromTorrent(torrent).slice(0, 20));
`,
      );
      const result = await deno(dir, [
        "run",
        `--allow-import=${server.host}`,
        "--allow-read=.",
        "--allow-write=.",
        "use_shoal.ts",
      ]);
      assertEquals(result.code, 0, result.stderr);
      assertEquals(result.stdout.trim(), `${VERSION} hello.txt 19 magnet:?xt=urn:btih:`);
      assert(server.requests.includes("/mod.ts"), "mod.ts came from the server");
      assert(
        !server.requests.some((path) => path.startsWith("/lib/cli/")),
        "the library does not load the CLI",
      );
    } finally {
      await server.stop();
    }
  }));

Deno.test("library: cli.ts runs from a URL (--version, info) with only the permissions it needs", () =>
  withTempDir(async (dir) => {
    const server = serveCheckout();
    try {
      const cli = `${server.base}/cli.ts`;
      const version = await deno(dir, ["run", `--allow-import=${server.host}`, cli, "--version"]);
      assertEquals(version.code, 0, version.stderr);
      assertEquals(version.stdout.trim(), `shoal ${VERSION}`);
      const torrent = `${REPO_ROOT}/tests/fixtures/libtorrent-test-torrents/base.torrent`;
      const info = await deno(dir, [
        "run",
        `--allow-import=${server.host}`,
        `--allow-read=${torrent}`,
        cli,
        "info",
        torrent,
      ]);
      assertEquals(info.code, 0, info.stderr);
      assertStringIncludes(info.stdout, "Info hash:");
    } finally {
      await server.stop();
    }
  }));

Deno.test("library: deno doc on the URL of each entry point warns of nothing", () =>
  withTempDir(async (dir) => {
    const server = serveCheckout();
    try {
      const entries = JSON.parse(await Deno.readTextFile(`${REPO_ROOT}/deno.json`)).exports;
      for (const path of Object.values(entries) as string[]) {
        const result = await deno(dir, [
          "doc",
          `--allow-import=${server.host}`,
          `${server.base}/${path.slice(2)}`,
        ]);
        assertEquals(result.code, 0, `${path}: ${result.stderr}`);
        assert(!/warning|not a dependency/i.test(result.stderr), `${path}: ${result.stderr}`);
      }
    } finally {
      await server.stop();
    }
  }));

Deno.test("library: without --unstable-net a UDP announce fails with an error that names the flag", () =>
  withTempDir(async (dir) => {
    const server = serveCheckout();
    try {
      await Deno.writeTextFile(
        `${dir}/udp.ts`,
        `import { UdpTrackerClient } from "${server.base}/mod.ts";
const udp = new UdpTrackerClient();
try {
  await udp.scrape("udp://127.0.0.1:2", [new Uint8Array(20)]);
} catch (error) {
  console.log(error.name, error.message);
} finally {
  udp.close();
}
`,
      );
      const result = await deno(dir, [
        "run",
        `--allow-import=${server.host}`,
        "--allow-net=127.0.0.1",
        "udp.ts",
      ]);
      assertEquals(result.code, 0, result.stderr);
      assertMatch(result.stdout, /^TrackerError .*--unstable-net/);
    } finally {
      await server.stop();
    }
  }));

Deno.test("library: the README's Library examples run from a folder outside the checkout", () =>
  withTempDir(async (dir) => {
    const server = serveCheckout();
    try {
      const readme = await Deno.readTextFile(`${REPO_ROOT}/README.md`);
      const start = readme.indexOf("\n## Library");
      const section = readme.slice(start, readme.indexOf("\n## ", start + 1));
      const blocks = [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
      assert(blocks.length >= 3, `the Library section has ${blocks.length} examples`);
      for (const [i, block] of blocks.entries()) {
        const script = block.replaceAll(README_BASE, server.base);
        assert(script.includes(server.base), `example ${i + 1} imports shoal from ${README_BASE}`);
        await Deno.writeTextFile(`${dir}/example_${i + 1}.ts`, script);
        const result = await deno(dir, [
          "run",
          `--allow-import=${server.host}`,
          "--unstable-net",
          "--allow-read=.",
          "--allow-write=.",
          "--allow-net=127.0.0.1",
          `example_${i + 1}.ts`,
        ]);
        assertEquals(result.code, 0, `example ${i + 1}:\n${script}\n${result.stderr}`);
      }
    } finally {
      await server.stop();
    }
  }));

/** Where the README's examples say shoal is served. */
const README_BASE = "https://shoal.example/v0.1";
