/** The HTTP file server and its Range parser, with a real HTTP client (fetch) on loopback. */
import { FileServer, parseRange, type ServedFile } from "../../lib/stream/mod.ts";
import { FileReadError, type PieceSource, readFileStream } from "../../lib/session/file_reader.ts";
import { assert, assertEquals, assertRejects, assertThrows } from "../helpers/assert.ts";

Deno.test("range: the forms RFC 9110 gives, and what is ignored or unsatisfiable", () => {
  assertEquals(parseRange(null, 1000), undefined);
  assertEquals(parseRange("bytes=0-0", 1000), { start: 0, end: 1 });
  assertEquals(parseRange("bytes=10-", 1000), { start: 10, end: 1000 });
  assertEquals(parseRange("bytes=990-5000", 1000), { start: 990, end: 1000 });
  assertEquals(parseRange("bytes=-10", 1000), { start: 990, end: 1000 });
  assertEquals(parseRange("bytes=-5000", 1000), { start: 0, end: 1000 });
  assertEquals(parseRange(" BYTES = 1 - 2 ", 1000), { start: 1, end: 3 });
  assertEquals(parseRange("bytes=1000-", 1000), "unsatisfiable");
  assertEquals(parseRange("bytes=-0", 1000), "unsatisfiable");
  assertEquals(parseRange("bytes=0-", 0), "unsatisfiable");
  // Ignored: another unit, several ranges, a reversed range, junk, numbers too long.
  for (
    const header of [
      "items=0-1",
      "bytes=0-1,5-6",
      "bytes=5-1",
      "bytes=-",
      "bytes=a-b",
      `bytes=${"9".repeat(17)}-`,
    ]
  ) {
    assertEquals(parseRange(header, 1000), undefined, header);
  }
});

function memoryFile(path: string, bytes: Uint8Array): ServedFile {
  return {
    path,
    length: bytes.length,
    read: (start, end) => new Blob([bytes.slice(start, end)]).stream(),
  };
}

Deno.test("file server: 200, 206, HEAD, 416, 404, 405 and the list of files", async () => {
  const bytes = crypto.getRandomValues(new Uint8Array(50_000));
  const server = FileServer.start({ files: [memoryFile("dir/a b.mkv", bytes)] });
  try {
    const url = server.url(0);
    assertEquals(url, `http://127.0.0.1:${server.port}/1/dir/a%20b.mkv`);
    const whole = await fetch(url);
    assertEquals(whole.status, 200);
    assertEquals(whole.headers.get("content-type"), "video/x-matroska");
    assertEquals(new Uint8Array(await whole.arrayBuffer()), bytes);
    const part = await fetch(url, { headers: { range: "bytes=100-199" } });
    assertEquals(part.status, 206);
    assertEquals(part.headers.get("content-range"), "bytes 100-199/50000");
    assertEquals(new Uint8Array(await part.arrayBuffer()), bytes.slice(100, 200));
    const head = await fetch(url, { method: "HEAD", headers: { range: "bytes=-10" } });
    assertEquals([head.status, head.headers.get("content-length")], [206, "10"]);
    const past = await fetch(url, { headers: { range: "bytes=50000-" } });
    assertEquals([past.status, past.headers.get("content-range")], [416, "bytes */50000"]);
    await past.body?.cancel();
    for (const path of ["/2/x", "/0/x", "/x", "/99999999999/x"]) {
      const missing = await fetch(`http://127.0.0.1:${server.port}${path}`);
      assertEquals(missing.status, 404, path);
      await missing.body?.cancel();
    }
    const post = await fetch(url, { method: "POST", body: "x" });
    assertEquals([post.status, post.headers.get("allow")], [405, "GET, HEAD"]);
    await post.body?.cancel();
    const list = await (await fetch(`http://127.0.0.1:${server.port}/`)).text();
    assert(list.includes(`href="${url}"`) && list.includes("dir/a b.mkv"), list);
  } finally {
    await server.close();
  }
});

/** Pieces that arrive when the test says so; deadlines recorded. */
class TestPieces implements PieceSource {
  readonly have = new Set<number>();
  readonly deadlines = new Map<number, number>();
  readonly #waiters = new Map<number, (() => void)[]>();
  constructor(readonly data: Uint8Array, readonly pieceLength: number) {}
  hasPiece(index: number) {
    return this.have.has(index);
  }
  readPiece(index: number) {
    return Promise.resolve(
      this.data.slice(index * this.pieceLength, (index + 1) * this.pieceLength),
    );
  }
  waitForPiece(index: number, signal?: AbortSignal) {
    if (this.have.has(index)) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      signal?.addEventListener("abort", () => reject(signal.reason));
      this.#waiters.set(index, [...this.#waiters.get(index) ?? [], resolve]);
    });
  }
  setPieceDeadline(index: number, at: number) {
    this.deadlines.set(index, at);
    return true;
  }
  clearPieceDeadline(index: number) {
    this.deadlines.delete(index);
  }
  arrive(index: number) {
    this.have.add(index);
    this.deadlines.delete(index);
    for (const resolve of this.#waiters.get(index) ?? []) resolve();
    this.#waiters.delete(index);
  }
}

Deno.test("file reader: a read waits for its pieces, urges those ahead, and gives them up when cancelled", async () => {
  const pieceLength = 1000;
  const data = crypto.getRandomValues(new Uint8Array(10_000));
  // A file from byte 1,500 to 8,500 of the torrent: pieces 1 to 8.
  const torrent = {
    pieceLength,
    pieceCount: 10,
    files: [{
      index: 0,
      path: ["f"],
      length: 8_500 - 1_500,
      offset: 1_500,
      padding: false,
      executable: false,
      hidden: false,
    }],
  };
  const pieces = new TestPieces(data, pieceLength);
  const stream = readFileStream(pieces, torrent, 0, { start: 1_000, end: 4_000, readAhead: 3_000 });
  const reading = new Response(stream).arrayBuffer();
  await new Promise((resolve) => setTimeout(resolve, 10));
  // Bytes 1,000.. of the file are torrent bytes 2,500..: piece 2 first, then 3 and 4, soonest first.
  assertEquals([...pieces.deadlines.keys()], [2, 3, 4]);
  assert(pieces.deadlines.get(2)! < pieces.deadlines.get(3)!);
  for (const index of [4, 3, 2, 5]) pieces.arrive(index);
  assertEquals(new Uint8Array(await reading), data.slice(2_500, 5_500));
  assertEquals(pieces.deadlines.size, 0);

  // Cancelled while waiting: the deadlines it set go.
  const other = readFileStream(pieces, torrent, 0, { start: 5_000, readAhead: 2_000 });
  const reader = other.getReader();
  const pending = reader.read();
  await new Promise((resolve) => setTimeout(resolve, 10));
  assertEquals([...pieces.deadlines.keys()], [6, 7]);
  await reader.cancel();
  assertEquals(pieces.deadlines.size, 0);
  pieces.arrive(6);
  await pending.catch(() => {});

  // Ranges outside the file.
  assertThrows(
    () => readFileStream(pieces, torrent, 0, { start: 10, end: 7_001 }),
    Error,
    "past the end",
  );
  assertThrows(
    () => readFileStream(pieces, torrent, 0, { start: 5, end: 4 }),
    Error,
    "not a range",
  );
  assertThrows(() => readFileStream(pieces, torrent, 1), FileReadError, "No file 2");
  // An abort while waiting ends the stream with its reason.
  const abort = new AbortController();
  const aborted = new Response(
    readFileStream(pieces, torrent, 0, { start: 6_000, signal: abort.signal }),
  ).arrayBuffer();
  abort.abort(new Error("gone"));
  await assertRejects(() => aborted, Error, "gone");
});
