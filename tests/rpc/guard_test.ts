/**
 * The RPC guard on a real loopback server: clients outside the allow list
 * (403), host names outside the list (421, against DNS rebinding), missing
 * or wrong credentials (401), and a lockout after too many failures (429);
 * and the folders the RPC may name (`AllowedDirs`).
 */
import { createRpcGuard, RpcGuardError, type RpcGuardOptions } from "../../lib/rpc/guard.ts";
import { AllowedDirs, PathNotAllowedError } from "../../lib/daemon/allowed_dirs.ts";
import { inStyle, legacyName } from "../../lib/rpc/names.ts";
import { assert, assertEquals, assertRejects, assertThrows } from "../helpers/assert.ts";
import { withTempDir } from "../helpers/tools.ts";

async function withGuard(
  options: RpcGuardOptions,
  fn: (
    ask: (headers?: Record<string, string>, host?: string) => Promise<Response>,
  ) => Promise<void>,
) {
  const guard = createRpcGuard(options);
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (request, info) => (await guard(request, info.remoteAddr)) ?? new Response("through"),
  );
  const url = `http://127.0.0.1:${server.addr.port}/transmission/rpc`;
  try {
    await fn(async (headers = {}, host) => {
      if (host !== undefined) return await rawRequest(server.addr.port, host);
      const response = await fetch(url, { method: "POST", headers, body: "{}" });
      await response.body?.cancel();
      return response;
    });
  } finally {
    await server.shutdown();
  }
}

/** A request with its own Host header (fetch sets Host itself), on a raw connection. */
async function rawRequest(port: number, host: string): Promise<Response> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const request =
      `POST /transmission/rpc HTTP/1.1\r\nhost: ${host}\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}`;
    await conn.write(new TextEncoder().encode(request));
    const text = await new Response(conn.readable).text();
    const status = Number(text.match(/^HTTP\/1\.1 (\d+)/)?.[1]);
    return new Response(null, { status });
  } catch (error) {
    conn.close();
    throw error;
  }
}

const basic = (user: string, password: string) => ({
  authorization: `Basic ${btoa(`${user}:${password}`)}`,
});

Deno.test("rpc guard: a client outside --rpc-allow gets 403; one inside goes through", async () => {
  await withGuard({ clients: ["10.0.0.0/8", "::1"] }, async (ask) => {
    assertEquals((await ask()).status, 403);
  });
  await withGuard({ clients: ["127.0.0.0/8"] }, async (ask) => {
    assertEquals((await ask()).status, 200);
  });
  assertThrows(() => createRpcGuard({ clients: ["not-an-ip"] }), RpcGuardError);
  assertThrows(() => createRpcGuard({ clients: ["10.0.0.0/33"] }), RpcGuardError);
});

Deno.test("rpc guard: a host name outside the list gets 421 (DNS rebinding); IPs and localhost pass", async () => {
  await withGuard({}, async (ask) => {
    assertEquals((await ask({}, "evil.example:9091")).status, 421);
    assertEquals((await ask({}, "localhost:9091")).status, 200);
    assertEquals((await ask({}, "127.0.0.1:9091")).status, 200);
    assertEquals((await ask({}, "[::1]:9091")).status, 200);
  });
  await withGuard({ hosts: ["nas.home"] }, async (ask) => {
    assertEquals((await ask({}, "nas.home:9091")).status, 200);
    assertEquals((await ask({}, "NAS.home.")).status, 200);
    assertEquals((await ask({}, "other.home")).status, 421);
  });
  await withGuard({ hosts: ["*"] }, async (ask) => {
    assertEquals((await ask({}, "anything.example")).status, 200);
  });
});

Deno.test("rpc guard: credentials are asked for (401), a wrong password refused, and after 10 failures the address waits (429)", async () => {
  let now = 1_000_000;
  const options = {
    credentials: { username: "me", password: "s3cret" },
    now: () => now,
  };
  await withGuard(options, async (ask) => {
    const none = await ask();
    assertEquals(none.status, 401);
    assertEquals(none.headers.get("www-authenticate"), 'Basic realm="shoal"');
    assertEquals((await ask(basic("me", "s3cret"))).status, 200);
    assertEquals((await ask(basic("me", "s3cre"))).status, 401);
    assertEquals((await ask(basic("you", "s3cret"))).status, 401);
    assertEquals((await ask({ authorization: "Basic !!!" })).status, 401);
    for (let i = 0; i < 8; i++) assertEquals((await ask(basic("me", `guess${i}`))).status, 401);
    // Ten failures: even the right password waits now.
    const locked = await ask(basic("me", "s3cret"));
    assertEquals(locked.status, 429);
    assert(Number(locked.headers.get("retry-after")) > 0);
    now += 61_000;
    assertEquals((await ask(basic("me", "s3cret"))).status, 200);
  });
});

Deno.test("allowed dirs: paths inside pass; relative, outside, .. and a symlink out are refused", async () => {
  await withTempDir(async (dir) => {
    await Deno.mkdir(`${dir}/allowed/sub`, { recursive: true });
    await Deno.mkdir(`${dir}/outside`);
    await Deno.symlink(`${dir}/outside`, `${dir}/allowed/link-out`);
    const real = await Deno.realPath(dir);
    const dirs = new AllowedDirs([`${dir}/allowed`]);
    assertEquals(await dirs.check(`${dir}/allowed/sub`, "download-dir"), `${real}/allowed/sub`);
    assertEquals(
      await dirs.check(`${dir}/allowed/new/deeper`, "download-dir"),
      `${real}/allowed/new/deeper`,
    );
    await assertRejects(() => dirs.check("relative/path", "download-dir"), PathNotAllowedError);
    await assertRejects(() => dirs.check(`${dir}/outside`, "download-dir"), PathNotAllowedError);
    await assertRejects(
      () => dirs.check(`${dir}/allowed/../outside`, "download-dir"),
      PathNotAllowedError,
    );
    await assertRejects(
      () => dirs.check(`${dir}/allowed/link-out/x`, "filename"),
      PathNotAllowedError,
    );
    await assertRejects(() => dirs.check(`${dir}/allowedness`, "filename"), PathNotAllowedError);
    await assertRejects(() => dirs.check("/etc/passwd", "filename"), PathNotAllowedError);
  });
});

Deno.test("rpc names: the old names are camelCase or kebab-case as Transmission 3.00 and 4.0 used them", () => {
  assertEquals(legacyName("hash_string"), "hashString");
  assertEquals(legacyName("percent_done"), "percentDone");
  assertEquals(legacyName("peer_limit"), "peer-limit");
  assertEquals(legacyName("files_wanted"), "files-wanted");
  assertEquals(legacyName("seed_ratio_limit"), "seedRatioLimit");
  assertEquals(legacyName("speed_limit_down"), "speed-limit-down");
  assertEquals(legacyName("download_dir"), "download-dir");
  assertEquals(legacyName("download_dir", { torrent: true }), "downloadDir");
  assertEquals(legacyName("total_size"), "totalSize");
  assertEquals(legacyName("total_size", { freeSpace: true }), "total_size");
  assertEquals(legacyName("name"), "name");
  assertEquals(legacyName("sequential_download"), "sequential_download");
  assertEquals(
    inStyle({ torrents: [["id", "hash_string"], [1, "ab"]] }, "legacy", { torrent: true }),
    { torrents: [["id", "hashString"], [1, "ab"]] },
  );
  assertEquals(
    inStyle(
      { torrents: [{ file_stats: [{ bytes_completed: 3 }], download_dir: "/d" }] },
      "legacy",
      {
        torrent: true,
      },
    ),
    { torrents: [{ fileStats: [{ bytesCompleted: 3 }], downloadDir: "/d" }] },
  );
  assertEquals(inStyle({ hash_string: "x" }, "snake"), { hash_string: "x" });
});
