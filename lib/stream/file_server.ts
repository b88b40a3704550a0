/**
 * An HTTP server for files being downloaded: each file at
 * `/<number>/<name>` (numbered from 1, as `shoal info` numbers them), with
 * `Range` requests, so a player (mpv, VLC, a browser) can seek; a request
 * for bytes not here yet waits for them. `/` lists the files.
 *
 * It serves what its {@linkcode ServedFile}s read and knows nothing of
 * torrents: `shoal stream` gives it a torrent's files read through a
 * `TorrentHandle`.
 *
 * @module
 */

import { contentType } from "./_content_type.ts";
import { parseRange } from "./range.ts";

/** A file the server offers. */
export interface ServedFile {
  /** Its path, `/`-separated (the URL ends with it, so players see the extension). */
  path: string;
  /** Its size in bytes. */
  length: number;
  /** Bytes `start` to `end` (excluded); the stream may wait for them. */
  read(start: number, end: number, signal: AbortSignal): ReadableStream<Uint8Array>;
}

/** Where and what {@linkcode FileServer} serves. */
export interface FileServerOptions {
  /** The files, numbered from 1 in the URLs. */
  files: readonly ServedFile[];
  /** The address to listen on. Default `127.0.0.1`. */
  hostname?: string;
  /** The port; 0 picks a free one. Default 0. */
  port?: number;
  /** Told of a response that failed mid-way (the torrent stopped, a disk error). */
  onError?: (error: unknown) => void;
}

/**
 * Serves files over HTTP with `Range` requests.
 *
 * @example Serve a file held in memory, read one range back, and stop
 * ```ts
 * import { FileServer } from "./file_server.ts";
 *
 * const bytes = new TextEncoder().encode("hello, world");
 * const server = FileServer.start({
 *   files: [{
 *     path: "hello.txt",
 *     length: bytes.length,
 *     read: (start, end) => new Blob([bytes.slice(start, end)]).stream(),
 *   }],
 * });
 * const response = await fetch(server.url(0), { headers: { range: "bytes=7-11" } });
 * console.log(response.status, await response.text()); // 206 world
 * await server.close();
 * ```
 */
export class FileServer {
  readonly #files: readonly ServedFile[];
  readonly #server: Deno.HttpServer<Deno.NetAddr>;
  readonly #abort = new AbortController();
  readonly #onError?: (error: unknown) => void;

  private constructor(options: FileServerOptions) {
    this.#files = options.files;
    this.#onError = options.onError;
    this.#server = Deno.serve({
      hostname: options.hostname ?? "127.0.0.1",
      port: options.port ?? 0,
      onListen: () => {},
      onError: (error) => {
        this.#onError?.(error);
        return new Response("Internal error\n", { status: 500 });
      },
    }, (request) => this.#respond(request));
  }

  /**
   * Starts listening.
   *
   * @throws {Deno.errors.AddrInUse} When the port is taken.
   */
  static start(options: FileServerOptions): FileServer {
    return new FileServer(options);
  }

  /** The port it listens on. */
  get port(): number {
    return this.#server.addr.port;
  }

  /** The URL of file `index` (0-based, as in the list given). */
  url(index: number): string {
    const { hostname } = this.#server.addr;
    const host = hostname.includes(":") ? `[${hostname}]` : hostname;
    const file = this.#files[index];
    const name = file.path.split("/").map(encodeURIComponent).join("/");
    return `http://${host}:${this.port}/${index + 1}/${name}`;
  }

  /** Stops listening and ends the responses under way. */
  async close(): Promise<void> {
    this.#abort.abort(new DOMException("The server closed", "AbortError"));
    await this.#server.shutdown();
  }

  #respond(request: Request): Response {
    if (request.method !== "GET" && request.method !== "HEAD") {
      return new Response("Only GET and HEAD\n", { status: 405, headers: { allow: "GET, HEAD" } });
    }
    const path = new URL(request.url).pathname;
    if (path === "/") return this.#list();
    const number = /^\/(\d{1,9})(?:\/|$)/.exec(path)?.[1];
    const file = number === undefined ? undefined : this.#files[Number(number) - 1];
    if (!file) return new Response("No such file\n", { status: 404 });
    const headers = new Headers({
      "accept-ranges": "bytes",
      "content-type": contentType(file.path),
    });
    const range = parseRange(request.headers.get("range"), file.length);
    if (range === "unsatisfiable") {
      headers.set("content-range", `bytes */${file.length}`);
      return new Response(null, { status: 416, headers });
    }
    const { start, end } = range ?? { start: 0, end: file.length };
    headers.set("content-length", String(end - start));
    if (range) headers.set("content-range", `bytes ${start}-${end - 1}/${file.length}`);
    const status = range ? 206 : 200;
    if (request.method === "HEAD" || start === end) return new Response(null, { status, headers });
    // A client that goes away cancels the body (and so the read); closing the server aborts it.
    const body = file.read(start, end, this.#abort.signal);
    return new Response(this.#reported(body), { status, headers });
  }

  /** The body, with an error mid-way told to `onError` (the client sees the response cut short). */
  #reported(body: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
    const reader = body.getReader();
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        try {
          const { done, value } = await reader.read();
          if (done) controller.close();
          else controller.enqueue(value);
        } catch (error) {
          if (!(error instanceof DOMException && error.name === "AbortError")) {
            this.#onError?.(error);
          }
          controller.error(error);
        }
      },
      cancel: (reason) => reader.cancel(reason),
    }, { highWaterMark: 0 });
  }

  #list(): Response {
    const items = this.#files.map((file, i) =>
      `<li><a href="${escapeHtml(this.url(i))}">${
        escapeHtml(file.path)
      }</a> (${file.length} bytes)</li>`
    );
    const html = `<!doctype html><meta charset="utf-8"><title>shoal</title><ol>${
      items.join("")
    }</ol>\n`;
    return new Response(html, { headers: { "content-type": "text/html; charset=utf-8" } });
  }
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
