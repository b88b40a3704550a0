/**
 * Reads length-prefixed peer wire messages from a byte stream (BEP 3).
 *
 * Bytes are read into one reusable buffer and complete messages are handed
 * out as views into it, without copying. Blocks of `piece` messages can go
 * straight to their destination: when the caller supplies
 * {@linkcode MessageReaderOptions.blockTarget}, each block is copied once
 * from the read buffer into the place it belongs (the piece being
 * assembled), and the part of a block not yet received is read from the
 * socket directly into that place. Every message is checked against the
 * largest size its type allows before its body is read, so a peer cannot
 * make memory grow.
 *
 * @module
 */

import { MAX_PIECES } from "../metainfo/limits.ts";
import { PeerError } from "./errors.ts";
import { maxMessageLength, MessageId, type PeerMessage } from "./messages.ts";

/** Something bytes can be read from, such as a `Deno.Conn`. */
export interface ByteSource {
  /** Reads into `buffer`; resolves to the byte count, or `null` at end of stream. */
  read(buffer: Uint8Array): Promise<number | null>;
}

/** Options of {@linkcode MessageReader}. */
export interface MessageReaderOptions {
  /**
   * The torrent's piece count, which fixes the bitfield size. Default:
   * unknown (a torrent still fetching its metadata): a bitfield of any
   * length up to the largest allowed, until {@linkcode MessageReader.pieceCount}
   * is set.
   */
  pieceCount?: number;
  /**
   * Where the block of a `piece` message should be written: a view of exactly
   * `length` bytes, or `undefined` to have the block delivered as an ordinary
   * message once it has fully arrived (a block that was not asked for, or one
   * that another peer may be writing).
   * Blocks written this way are delivered with `inPlace: true`.
   */
  blockTarget?: (index: number, begin: number, length: number) => Uint8Array | undefined;
  /** Called with the size of every read, for rate measurement and idle detection. */
  onRead?: (bytes: number) => void;
  /** Awaited after every read with its size; reading waits meanwhile (a download rate limit). */
  throttle?: (bytes: number) => Promise<void>;
  /** Size of the read buffer. Default 64 KiB. */
  bufferSize?: number;
}

/** A received message; piece blocks written through `blockTarget` say so. */
export type ReceivedMessage = PeerMessage | {
  type: "piece";
  index: number;
  begin: number;
  /** The destination view when `inPlace`, else a view valid until the handler returns. */
  block: Uint8Array;
  /** True when the block was written into the view `blockTarget` returned. */
  inPlace: true;
};

function protocolError(message: string): PeerError {
  return new PeerError("protocol", message);
}

function expectLength(payload: Uint8Array, length: number, name: string): void {
  if (payload.length !== length) {
    throw protocolError(`The peer sent a ${name} message of ${payload.length} bytes`);
  }
}

/**
 * Decodes one message body (the id and what follows, without the length
 * prefix), checking its exact size.
 *
 * @param payload The message body; views into it are returned, not copies.
 * @param pieceCount The torrent's piece count.
 */
export function decodeMessage(
  payload: Uint8Array,
  pieceCount: number = MAX_PIECES,
  exactBitfield = true,
): PeerMessage {
  if (payload.length === 0) return { type: "keep-alive" };
  const id = payload[0];
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  if (payload.length > maxMessageLength(id, pieceCount)) {
    throw protocolError(`The peer sent an oversized message (id ${id}, ${payload.length} bytes)`);
  }
  const block = (name: string) => {
    expectLength(payload, 13, name);
    return { index: view.getUint32(1), begin: view.getUint32(5), length: view.getUint32(9) };
  };
  const index = (name: string) => {
    expectLength(payload, 5, name);
    return view.getUint32(1);
  };
  switch (id) {
    case MessageId.Choke:
      return { type: "choke" };
    case MessageId.Unchoke:
      return { type: "unchoke" };
    case MessageId.Interested:
      return { type: "interested" };
    case MessageId.NotInterested:
      return { type: "not-interested" };
    case MessageId.HaveAll:
      return { type: "have-all" };
    case MessageId.HaveNone:
      return { type: "have-none" };
    case MessageId.Have:
      return { type: "have", index: index("have") };
    case MessageId.Suggest:
      return { type: "suggest", index: index("suggest") };
    case MessageId.AllowedFast:
      return { type: "allowed-fast", index: index("allowed fast") };
    case MessageId.Bitfield:
      if (exactBitfield) expectLength(payload, 1 + Math.ceil(pieceCount / 8), "bitfield");
      return { type: "bitfield", bytes: payload.subarray(1) };
    case MessageId.Request:
      return { type: "request", ...block("request") };
    case MessageId.Cancel:
      return { type: "cancel", ...block("cancel") };
    case MessageId.Reject:
      return { type: "reject", ...block("reject") };
    case MessageId.Piece:
      if (payload.length < 9) {
        throw protocolError(`The peer sent a piece message of ${payload.length} bytes`);
      }
      return {
        type: "piece",
        index: view.getUint32(1),
        begin: view.getUint32(5),
        block: payload.subarray(9),
      };
    case MessageId.Port:
      expectLength(payload, 3, "port");
      return { type: "port", port: view.getUint16(1) };
    case MessageId.Extended:
      if (payload.length < 2) throw protocolError("The peer sent an empty extended message");
      return { type: "extended", id: payload[1], payload: payload.subarray(2) };
    default:
      return { type: "unknown", id, payload: payload.subarray(1) };
  }
}

/** Reads messages from a {@linkcode ByteSource} until it ends. */
export class MessageReader {
  readonly #source: ByteSource;
  #pieceCount: number | undefined;
  readonly #options: MessageReaderOptions;
  #buffer: Uint8Array;
  #start = 0;
  #end = 0;

  /**
   * Prepares to read; nothing is read until {@linkcode run}.
   *
   * @param source The stream to read.
   * @param options Limits and the block destination.
   * @param initial Bytes already read from the stream (after a handshake).
   */
  constructor(source: ByteSource, options: MessageReaderOptions = {}, initial?: Uint8Array) {
    this.#source = source;
    this.#options = options;
    this.#pieceCount = options.pieceCount;
    this.#buffer = new Uint8Array(Math.max(options.bufferSize ?? 64 * 1024, 64));
    if (initial?.length) {
      if (initial.length > this.#buffer.length) this.#buffer = new Uint8Array(initial.length);
      this.#buffer.set(initial);
      this.#end = initial.length;
    }
  }

  /**
   * The torrent's piece count, once known (it fixes the bitfield's size
   * from the next message on).
   */
  set pieceCount(count: number) {
    this.#pieceCount = count;
  }

  #decode(payload: Uint8Array): PeerMessage {
    return decodeMessage(payload, this.#pieceCount ?? MAX_PIECES, this.#pieceCount !== undefined);
  }

  /**
   * Reads and dispatches messages until the stream ends (resolves) or a
   * protocol error or read error occurs (rejects). Views handed to `handle`
   * are valid only until it returns.
   *
   * @param handle Called with each message, in order.
   */
  async run(handle: (message: ReceivedMessage) => void): Promise<void> {
    while (true) {
      await this.#dispatchBuffered(handle);
      if (!(await this.#fill())) return;
    }
  }

  async #dispatchBuffered(handle: (message: ReceivedMessage) => void): Promise<void> {
    const buffer = this.#buffer;
    while (this.#end - this.#start >= 4) {
      const start = this.#start;
      const length = (buffer[start] << 24 | buffer[start + 1] << 16 | buffer[start + 2] << 8 |
        buffer[start + 3]) >>> 0;
      if (length === 0) {
        this.#start += 4;
        handle({ type: "keep-alive" });
        continue;
      }
      if (this.#end - start < 5) break;
      const id = buffer[start + 4];
      const limit = maxMessageLength(id, this.#pieceCount ?? MAX_PIECES);
      if (length > limit) {
        throw protocolError(
          `The peer sent a message of ${length} bytes (id ${id}; at most ${limit} allowed)`,
        );
      }
      if (id === MessageId.Piece && this.#options.blockTarget && length >= 9) {
        if (this.#end - start < 13) break;
        await this.#placeBlock(length, handle);
        continue;
      }
      if (this.#end - start >= 4 + length) {
        this.#start += 4 + length;
        handle(this.#decode(buffer.subarray(start + 4, start + 4 + length)));
        continue;
      }
      if (4 + length > buffer.length) {
        // Larger than the whole buffer (a big bitfield): read it into its own array.
        const payload = new Uint8Array(length);
        const have = this.#end - start - 4;
        payload.set(buffer.subarray(start + 4, this.#end));
        this.#start = this.#end = 0;
        await this.#readExactly(payload.subarray(have));
        handle(this.#decode(payload));
        continue;
      }
      break;
    }
  }

  /** A piece message whose 13-byte header is buffered: move its block to the target. */
  async #placeBlock(length: number, handle: (message: ReceivedMessage) => void): Promise<void> {
    const buffer = this.#buffer;
    const start = this.#start;
    const view = new DataView(buffer.buffer, buffer.byteOffset + start + 5, 8);
    const index = view.getUint32(0);
    const begin = view.getUint32(4);
    const blockLength = length - 9;
    const available = Math.min(this.#end - start - 13, blockLength);
    const target = this.#options.blockTarget!(index, begin, blockLength);
    if (target === undefined && available === blockLength) {
      this.#start = start + 13 + blockLength;
      handle({ type: "piece", index, begin, block: buffer.subarray(start + 13, this.#start) });
      return;
    }
    const destination = target ?? new Uint8Array(blockLength);
    if (destination.length !== blockLength) {
      throw new RangeError("blockTarget returned a wrong-sized view");
    }
    destination.set(buffer.subarray(start + 13, start + 13 + available));
    this.#start = start + 13 + available;
    if (available < blockLength) {
      this.#start = this.#end = 0;
      await this.#readExactly(destination.subarray(available));
    }
    if (target) handle({ type: "piece", index, begin, block: destination, inPlace: true });
    else handle({ type: "piece", index, begin, block: destination });
  }

  async #readExactly(destination: Uint8Array): Promise<void> {
    let filled = 0;
    while (filled < destination.length) {
      const n = await this.#source.read(destination.subarray(filled));
      if (n === null) throw new PeerError("closed", "The peer closed the connection mid-message");
      this.#options.onRead?.(n);
      filled += n;
      if (this.#options.throttle) await this.#options.throttle(n);
    }
  }

  /** Reads more bytes; false at end of stream. */
  async #fill(): Promise<boolean> {
    if (this.#start === this.#end) {
      this.#start = this.#end = 0;
    } else if (this.#start > 0) {
      this.#buffer.copyWithin(0, this.#start, this.#end);
      this.#end -= this.#start;
      this.#start = 0;
    }
    const n = await this.#source.read(this.#buffer.subarray(this.#end));
    if (n === null) {
      if (this.#end > 0) {
        throw new PeerError("closed", "The peer closed the connection mid-message");
      }
      return false;
    }
    this.#options.onRead?.(n);
    this.#end += n;
    if (this.#options.throttle) await this.#options.throttle(n);
    return true;
  }
}
