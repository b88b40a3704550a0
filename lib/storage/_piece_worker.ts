/**
 * The worker that checks and writes finished pieces, so that hashing and
 * writing (the most costly work of a download) run beside the thread that
 * reads the peers. It receives a piece's bytes (transferred, not copied),
 * the hash they must have and where they go; it hashes them, writes them
 * when they are right, and hands the bytes back. Workers are shared by the
 * torrents of the process (`_piece_worker_pool.ts`).
 *
 * The worker runs {@linkcode pieceWorkerMain}'s source from a blob URL, not
 * this file: a worker loaded from a file needs read permission for the
 * file, which a download under narrow permissions does not have. So the
 * function refers to nothing outside itself but types.
 *
 * @module
 */

import type { PieceJob, PieceOutcome } from "./_piece_jobs.ts";

/** The worker's program: self-contained (it is run from its source text). */
export function pieceWorkerMain(): void {
  const scope = globalThis as unknown as {
    onmessage:
      | ((
        event: MessageEvent<PieceJob | { close: string[]; token: number } | { reopen: string }>,
      ) => void)
      | null;
    postMessage(message: unknown, transfer?: Transferable[]): void;
  };
  const maxOpen = 64;
  const open = new Map<string, Deno.FsFile>();
  const file = (path: string): Deno.FsFile => {
    let handle = open.get(path);
    if (handle) {
      open.delete(path);
    } else {
      // Created when missing: a file deleted under a seed is downloaded again.
      handle = Deno.openSync(path, { write: true, create: true });
      while (open.size >= maxOpen) {
        const [oldest, old] = open.entries().next().value!;
        open.delete(oldest);
        old.close();
      }
    }
    open.set(path, handle);
    return handle;
  };
  const same = (a: Uint8Array, b: Uint8Array) =>
    a.length === b.length && a.every((x, i) => x === b[i]);
  const crypto = import("node:crypto");
  const run = async (job: PieceJob): Promise<PieceOutcome> => {
    const data = new Uint8Array(job.buffer, 0, job.length);
    const digest = (await crypto).createHash(job.hash.algorithm).update(data).digest();
    const expected = job.hash.digest;
    if (!same(new Uint8Array(digest.buffer, digest.byteOffset, digest.byteLength), expected)) {
      return { id: job.id, valid: false, buffer: job.buffer };
    }
    let path = "";
    try {
      for (const span of job.spans) {
        path = span.path;
        const handle = file(span.path);
        handle.seekSync(span.fileOffset, Deno.SeekMode.Start);
        const bytes = data.subarray(span.pieceOffset, span.pieceOffset + span.length);
        let written = 0;
        while (written < bytes.length) written += handle.writeSync(bytes.subarray(written));
      }
    } catch (error) {
      return {
        id: job.id,
        valid: true,
        buffer: job.buffer,
        error: { name: (error as Error).name, message: (error as Error).message, path },
      };
    }
    return { id: job.id, valid: true, buffer: job.buffer };
  };
  // Jobs run one at a time, in the order they came.
  let queue: Promise<void> = Promise.resolve();
  scope.onmessage = (event) => {
    const message = event.data;
    queue = queue.then(async () => {
      if ("close" in message) {
        // One writer is done (the worker is shared): its files are closed.
        for (const path of message.close) {
          open.get(path)?.close();
          open.delete(path);
        }
        scope.postMessage({ closed: message.token });
        return;
      }
      if ("reopen" in message) {
        // The file was replaced or deleted: later writes go to the file now at the path.
        open.get(message.reopen)?.close();
        open.delete(message.reopen);
        return;
      }
      const outcome = await run(message);
      scope.postMessage(outcome, [outcome.buffer]);
    });
  };
}

/** A URL the worker can be started from without any permission. */
export function pieceWorkerUrl(): string {
  const source = `(${pieceWorkerMain.toString()})();`;
  return URL.createObjectURL(new Blob([source], { type: "application/javascript" }));
}
