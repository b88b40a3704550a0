/**
 * The Transmission RPC transport on a real loopback server: the session-id
 * handshake, the envelope, both spellings of method names, and each bad
 * request refused with the right status or result; and Debian's real
 * `transmission-remote` (3.00, RPC version 16) talking to it.
 */
import {
  createRpcHandler,
  RPC_PATH,
  type RpcMethod,
  RpcMethodError,
  SESSION_ID_HEADER,
  snakeCase,
} from "../../lib/rpc/mod.ts";
import { assertEquals, assertStringIncludes } from "../helpers/assert.ts";
import { run, testWithPrograms } from "../helpers/tools.ts";

/** Serves a handler with a few methods on a free loopback port. */
async function withRpc(
  fn: (url: string, errors: unknown[]) => Promise<void>,
  maxBodyBytes?: number,
) {
  const errors: unknown[] = [];
  const handler = createRpcHandler({
    methods: new Map<string, RpcMethod>([
      ["session_get", () => ({ rpc_version: 16, version: "shoal test" })],
      ["echo", (args) => ({ got: args })],
      ["refuse", () => {
        throw new RpcMethodError("that torrent is not here");
      }],
      ["broken", () => {
        throw new TypeError("x is undefined");
      }],
    ]),
    sessionId: "the-id",
    maxBodyBytes,
    onError: (error) => errors.push(error),
  });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, handler);
  try {
    await fn(`http://127.0.0.1:${server.addr.port}`, errors);
  } finally {
    await server.shutdown();
  }
}

function post(url: string, body: BodyInit, id: string | null = "the-id", path = RPC_PATH) {
  return fetch(url + path, {
    method: "POST",
    headers: id === null ? {} : { [SESSION_ID_HEADER]: id },
    body,
  });
}

Deno.test("rpc: a request without the session id gets 409 and the id; with it, the method's answer and the tag", () =>
  withRpc(async (url) => {
    const request = JSON.stringify({ method: "session-get", tag: 3 });
    const first = await post(url, request, null);
    assertEquals(first.status, 409);
    assertEquals(first.headers.get(SESSION_ID_HEADER), "the-id");
    await first.body?.cancel();
    const wrong = await post(url, request, "old-id");
    assertEquals(wrong.status, 409);
    await wrong.body?.cancel();
    const answer = await post(url, request);
    assertEquals(await answer.json(), {
      result: "success",
      arguments: { "rpc-version": 16, version: "shoal test" },
      tag: 3,
    });
    // snake_case (4.1) and a trailing slash (transmission-remote 3.00) too; no tag, none back.
    const snake = await post(
      url,
      JSON.stringify({ method: "session_get" }),
      "the-id",
      `${RPC_PATH}/`,
    );
    assertEquals((await snake.json()).result, "success");
    const echo = await post(url, JSON.stringify({ method: "echo", arguments: { ids: [1] } }));
    assertEquals(await echo.json(), { result: "success", arguments: { got: { ids: [1] } } });
  }));

Deno.test("rpc: unknown methods, bad envelopes and failing methods get an error result, never a crash", () =>
  withRpc(async (url, errors) => {
    const result = async (body: unknown) =>
      (await (await post(url, JSON.stringify(body))).json()).result;
    assertEquals(await result({ method: "torrent-explode", tag: 1 }), "method name not recognized");
    assertEquals(await result({ tag: 1 }), "no method name");
    assertEquals(await result({ method: 5 }), "no method name");
    assertEquals(await result({ method: "echo", arguments: [1, 2] }), "arguments is not an object");
    assertEquals(await result({ method: "refuse" }), "that torrent is not here");
    assertEquals(await result({ method: "broken" }), "broken failed: x is undefined");
    assertEquals(errors.length, 1, "a method's bug is reported");
    for (const [body, status] of [["{not json", 400], ["[1]", 400], ["null", 400]] as const) {
      const answer = await post(url, body);
      assertEquals(answer.status, status, body);
      await answer.body?.cancel();
    }
    const get = await fetch(url + RPC_PATH, { headers: { [SESSION_ID_HEADER]: "the-id" } });
    assertEquals(get.status, 405);
    await get.body?.cancel();
    const elsewhere = await post(url, "{}", "the-id", "/other");
    assertEquals(elsewhere.status, 404);
    await elsewhere.body?.cancel();
  }));

Deno.test("rpc: a body over the limit is refused with 413, declared or streamed", () =>
  withRpc(async (url) => {
    const big = JSON.stringify({ method: "echo", arguments: { x: "y".repeat(2000) } });
    const declared = await post(url, big);
    assertEquals(declared.status, 413);
    await declared.body?.cancel();
    // No Content-Length: a stream of chunks; the server stops reading once past the limit.
    let sent = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        sent += 512;
        if (sent > 100_000) controller.close();
        else controller.enqueue(new Uint8Array(512).fill(32));
      },
    });
    const streamed = await post(url, endless);
    assertEquals(streamed.status, 413);
    await streamed.body?.cancel();
  }, 1024));

Deno.test("rpc: names in kebab-case, camelCase and snake_case are one name", () => {
  assertEquals(snakeCase("torrent-get"), "torrent_get");
  assertEquals(snakeCase("hashString"), "hash_string");
  assertEquals(snakeCase("rpc-version-minimum"), "rpc_version_minimum");
  assertEquals(snakeCase("peer_limit"), "peer_limit");
  assertEquals(snakeCase("downloadLimited"), "download_limited");
});

testWithPrograms(
  "rpc: Debian's transmission-remote does the handshake and reads session-get",
  ["transmission-remote"],
  () =>
    withRpc(async (url) => {
      const result = await run("transmission-remote", [url.replace("http://", ""), "-si"]);
      assertEquals(result.code, 0, result.stderr);
      assertStringIncludes(result.stdout, "Daemon version: shoal test");
      assertStringIncludes(result.stdout, "RPC version: 16");
    }),
);

Deno.test("rpc: a JSON-RPC 2.0 request (Transmission 4.1) gets a JSON-RPC answer; kebab-case methods get the old names", () =>
  withRpc(async (url) => {
    const ask = async (body: unknown) => {
      const response = await post(url, JSON.stringify(body));
      return response.status === 204 ? undefined : await response.json();
    };
    assertEquals(
      await ask({ jsonrpc: "2.0", method: "echo", params: { hashString: "x" }, id: 5 }),
      {
        jsonrpc: "2.0",
        result: { got: { hash_string: "x" } },
        id: 5,
      },
    );
    assertEquals(
      (await ask({ jsonrpc: "2.0", method: "nothing", id: "a" })).error.code,
      -32601,
    );
    const refused = await ask({ jsonrpc: "2.0", method: "refuse", id: 1 });
    assertEquals(refused.error.message, "that torrent is not here");
    assertEquals(await ask({ jsonrpc: "2.0", method: "echo" }), undefined); // A notification.
    // The old envelope with a kebab-case method: the answer's keys in the old names.
    assertEquals(await ask({ method: "session-get", tag: 1 }), {
      result: "success",
      arguments: { "rpc-version": 16, version: "shoal test" },
      tag: 1,
    });
  }));
