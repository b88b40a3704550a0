/**
 * The byte streams a peer connection runs on: a TCP connection as it is,
 * one behind RC4 (message stream encryption), and one that first gives back
 * bytes already read while telling what the stream is.
 *
 * @module
 */

import type { Rc4 } from "./_rc4.ts";

/** What a peer connection needs of its transport; a `Deno.TcpConn` is one. */
export interface PeerStream {
  /** Reads into `buffer`; resolves to the byte count, or `null` at end of stream. */
  read(buffer: Uint8Array): Promise<number | null>;
  /** Writes some of `bytes`; resolves to how many were taken. */
  write(bytes: Uint8Array): Promise<number>;
  /** Closes the stream. */
  close(): void;
}

/** Writes all of `bytes`, however many writes that takes. */
export async function writeFully(stream: PeerStream, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) written += await stream.write(bytes.subarray(written));
}

/** A stream whose bytes are RC4-encrypted on the wire, each direction with its own key. */
export class EncryptedStream implements PeerStream {
  readonly #inner: PeerStream;
  readonly #decrypt: Rc4;
  readonly #encrypt: Rc4;

  /**
   * Wraps `inner`.
   *
   * @param inner The stream on the wire.
   * @param decrypt Cipher for what arrives (already advanced past the handshake).
   * @param encrypt Cipher for what we send (likewise).
   */
  constructor(inner: PeerStream, decrypt: Rc4, encrypt: Rc4) {
    this.#inner = inner;
    this.#decrypt = decrypt;
    this.#encrypt = encrypt;
  }

  /** Reads and decrypts in place. */
  async read(buffer: Uint8Array): Promise<number | null> {
    const n = await this.#inner.read(buffer);
    if (n !== null) this.#decrypt.apply(buffer.subarray(0, n));
    return n;
  }

  /** Encrypts a copy of all of `bytes` (the cipher cannot go back) and writes all of it. */
  async write(bytes: Uint8Array): Promise<number> {
    await writeFully(this.#inner, this.#encrypt.apply(bytes.slice()));
    return bytes.length;
  }

  /** Closes the stream on the wire. */
  close(): void {
    this.#inner.close();
  }
}

/** A stream that gives back `prefix` (bytes read ahead while telling what the stream is) first. */
export class PrefixedStream implements PeerStream {
  readonly #inner: PeerStream;
  #prefix: Uint8Array;

  /**
   * Wraps `inner`.
   *
   * @param inner The stream.
   * @param prefix Bytes that came from it already, in the form readers expect (decrypted).
   */
  constructor(inner: PeerStream, prefix: Uint8Array) {
    this.#inner = inner;
    this.#prefix = prefix;
  }

  /** The prefix first, then the stream. */
  read(buffer: Uint8Array): Promise<number | null> {
    if (this.#prefix.length === 0) return this.#inner.read(buffer);
    const n = Math.min(buffer.length, this.#prefix.length);
    buffer.set(this.#prefix.subarray(0, n));
    this.#prefix = this.#prefix.subarray(n);
    return Promise.resolve(n);
  }

  /** Writes to the stream. */
  write(bytes: Uint8Array): Promise<number> {
    return this.#inner.write(bytes);
  }

  /** Closes the stream. */
  close(): void {
    this.#inner.close();
  }
}
