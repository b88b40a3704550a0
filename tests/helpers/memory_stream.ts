/**
 * Two connected in-memory {@linkcode PeerStream}s: what one writes the other
 * reads, in order; closing either ends both. For protocol tests without
 * sockets.
 *
 * @module
 */

import type { PeerStream } from "../../lib/wire/stream.ts";

class Pipe {
  readonly chunks: Uint8Array[] = [];
  waiting?: () => void;
  closed = false;

  push(bytes: Uint8Array): void {
    this.chunks.push(bytes.slice());
    this.wake();
  }

  wake(): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.();
  }

  async read(buffer: Uint8Array): Promise<number | null> {
    while (this.chunks.length === 0) {
      if (this.closed) return null;
      await new Promise<void>((resolve) => this.waiting = resolve);
    }
    const chunk = this.chunks[0];
    const n = Math.min(buffer.length, chunk.length);
    buffer.set(chunk.subarray(0, n));
    if (n === chunk.length) this.chunks.shift();
    else this.chunks[0] = chunk.subarray(n);
    return n;
  }
}

class End implements PeerStream {
  readonly #in: Pipe;
  readonly #out: Pipe;
  constructor(incoming: Pipe, outgoing: Pipe) {
    this.#in = incoming;
    this.#out = outgoing;
  }
  read(buffer: Uint8Array): Promise<number | null> {
    return this.#in.read(buffer);
  }
  write(bytes: Uint8Array): Promise<number> {
    if (this.#out.closed) return Promise.reject(new Error("the stream is closed"));
    this.#out.push(bytes);
    return Promise.resolve(bytes.length);
  }
  close(): void {
    for (const pipe of [this.#in, this.#out]) {
      pipe.closed = true;
      pipe.wake();
    }
  }
}

/** A connected pair of in-memory streams. */
export function memoryStreamPair(): [PeerStream, PeerStream] {
  const ab = new Pipe();
  const ba = new Pipe();
  return [new End(ba, ab), new End(ab, ba)];
}
